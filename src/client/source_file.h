// SourceFile reads a backup source (regular file or block device) sequentially in full blocks.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

class SourceFile {
 public:
  // Opens `path` read-only. NotFound / PermissionDenied naming the path; InvalidArgument for a
  // directory or other non-file.
  static Result<SourceFile> Open(const std::string& path);
  SourceFile(SourceFile&& other) noexcept;
  SourceFile& operator=(SourceFile&&) = delete;
  ~SourceFile();

  // Size in bytes (block devices: the device size).
  uint64_t size() const { return size_; }

  // Reads up to `n` bytes into `buffer` (resized to the count read), fewer only at end of file.
  // An empty buffer means end of file. Reusing a buffer of size `n` avoids reallocation.
  Status ReadBlock(size_t n, Bytes& buffer);

 private:
  SourceFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

// Reads a whole regular file of at most `max_size` bytes (InvalidArgument if larger).
Result<Bytes> ReadSmallFile(const std::string& path, uint64_t max_size);

}  // namespace cairn

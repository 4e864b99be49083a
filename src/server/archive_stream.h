// ArchiveStream writes a zip or a zstd-compressed tar (pax) to a ByteSink while entries are
// added, through libarchive: a directory of a backup leaves as one download, made on the fly
// from the snapshot's chunks, never extracted anywhere first.
//
// Ownership: borrows the sink, which must outlive the stream.
// Thread-safety: one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/stream.h"

struct archive;

namespace cairn::server {

class ArchiveStream {
 public:
  enum class Format { kZip, kTarZstd };

  // Errors of libarchive's setup (Internal).
  static Result<std::unique_ptr<ArchiveStream>> Open(Format format, ByteSink& out);
  ~ArchiveStream();
  ArchiveStream(const ArchiveStream&) = delete;
  ArchiveStream& operator=(const ArchiveStream&) = delete;

  // `path` is relative ("etc/hosts"); mtimes are Unix seconds. Errors of the sink, or
  // InvalidArgument from libarchive.
  Status AddDirectory(const std::string& path, int64_t mtime);
  Status AddSymlink(const std::string& path, const std::string& target, int64_t mtime);
  // Adds a regular file of `size` bytes whose content `write_content` writes to the sink it is
  // given. InvalidArgument if it writes another amount.
  Status AddFile(const std::string& path, uint64_t size, int64_t mtime,
                 const std::function<Status(ByteSink&)>& write_content);
  // Writes the archive's end. Nothing may be added after.
  Status Finish();

 private:
  ArchiveStream();
  Status Check(int result, const std::string& what);
  Status AddEntry(const std::string& path, unsigned type, unsigned perm, int64_t mtime,
                  uint64_t size, const std::string& symlink);

  struct ::archive* archive_ = nullptr;
  std::unique_ptr<std::pair<ByteSink*, Status*>> binding_;  // libarchive's client data
  Status sink_error_;  // the sink's error, which libarchive reports only as a failed write
  bool finished_ = false;
};

}  // namespace cairn::server

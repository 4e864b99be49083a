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

  // InvalidArgument if libarchive cannot be set up for `format`.
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
  // What libarchive's write callback reaches (public for the callback only).
  struct Binding {
    ByteSink* sink = nullptr;
    Status error;            // the sink's error, which libarchive reports only as a failed write
    bool abandoned = false;  // the stream failed: nothing more goes to the sink
  };

  // Writes the archive's end. Nothing may be added after. A stream destroyed without a
  // successful Finish writes no end: a broken download never looks like a whole archive.
  Status Finish();

 private:
  ArchiveStream();
  Status Check(int result, const std::string& what);
  Status AddEntry(const std::string& path, unsigned type, unsigned perm, int64_t mtime,
                  uint64_t size, const std::string& symlink);

  struct ::archive* archive_ = nullptr;
  std::unique_ptr<Binding> binding_;  // libarchive's client data
  bool finished_ = false;             // Finish succeeded
};

}  // namespace cairn::server

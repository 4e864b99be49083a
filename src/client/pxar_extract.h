// Extracts a pxar archive (read through a pxar::Decoder) into a directory.
//
// Safety against hostile archives: every file is created relative to its parent directory's
// descriptor (openat / mkdirat / symlinkat / mknodat / linkat), directories are entered with
// O_NOFOLLOW, files are created with O_EXCL, so nothing is ever written through a symlink or
// outside the target, and an entry that would replace another (a duplicate name) is an error.
// Hard links may only point to regular files this extraction created. The decoder has already
// rejected names with '/', "." or "..".
//
// Metadata is applied per fs_metadata.h; a directory's after its children (so its mtime and a
// read-only mode stick). Not running as root, ownership is not restored (one warning) and device
// nodes are skipped with a warning. A file whose content fails to arrive is removed before the
// error is returned, so no partial file is left behind. Everything is flushed (syncfs) before
// success is reported.
//
// Thread-safety: one extraction per call; concurrent calls need different targets.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "format/pxar/decoder.h"

namespace cairn {

struct ExtractOptions {
  // Only the entry at this path (relative to the archive root, e.g. "etc/hosts") and, for a
  // directory, everything below it; "" for the whole archive.
  std::string subtree;
  std::function<void(const std::string&)> warn;
  std::function<void(uint64_t)> progress;  // content bytes written so far, now and then
};

struct ExtractStats {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t special = 0;  // devices, FIFOs
  uint64_t skipped = 0;  // entries not restored (warned)
  uint64_t bytes = 0;    // file content written
};

// Extracts into `target`, which must not exist or be an empty directory (InvalidArgument
// otherwise). NotFound if `subtree` is not in the archive. Corruption from the decoder names the
// entry; IOError names the file being written.
Result<ExtractStats> ExtractArchive(pxar::Decoder& decoder, const std::string& target,
                                    const ExtractOptions& options);

}  // namespace cairn

// Browsing a file archive of a snapshot without restoring it: list a directory, find paths by
// pattern, and read one file. Legacy (.pxar) archives are listed from the snapshot's
// catalog.pcat1.didx, split ones from their .mpxar metadata archive; neither reads file
// contents. Reading a file (Dump) uses the archive's GOODBYE tables to reach it directly,
// fetching only the chunks that hold it.
//
// Thread-safety: one thread per browser.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "client/repository.h"
#include "format/crypt_config.h"

namespace cairn {

struct BrowseEntry {
  char type = 'f';          // catalog letters: d f l h b c p s
  std::string path;         // relative to the archive root
  uint64_t size = 0;        // regular files
  int64_t mtime = 0;        // regular files (and everything, for split archives)
  std::string link_target;  // symlinks (split archives)
};

class ArchiveBrowser {
 public:
  // Opens file archive `name` ("root.pxar") of the snapshot `reader` reads (borrowed, must
  // outlive the browser). `crypt`: the key checked for the snapshot, or null. NotFound if the
  // snapshot has no such archive (or, for a legacy archive, no catalog).
  static Result<std::unique_ptr<ArchiveBrowser>> Open(SnapshotReader& reader,
                                                      const Manifest& manifest,
                                                      const std::string& name,
                                                      const CryptConfig* crypt);
  virtual ~ArchiveBrowser() = default;

  // The entries of directory `path` ("" or "/" for the root), or the entry itself if `path` is
  // not a directory. NotFound naming the path.
  virtual Result<std::vector<BrowseEntry>> List(std::string_view path) = 0;
  // Every entry whose path matches `pattern` (exclude-pattern syntax, exclude.h: "*.conf" at
  // any depth, "/etc/*" anchored), in archive order.
  virtual Result<std::vector<BrowseEntry>> Find(std::string_view pattern) = 0;
  // Writes the content of the regular file at `path` (a hard link is followed) to `out`.
  // InvalidArgument if it is not a regular file; NotFound if absent.
  virtual Status Dump(std::string_view path, ByteSink& out) = 0;
};

}  // namespace cairn

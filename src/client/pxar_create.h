// Walks a directory tree and writes it into a pxar::Encoder, as PBS's client does: children
// sorted bytewise by name, metadata per fs_metadata.h, hard links (same device and inode, more
// than one link) as HARDLINK entries to the first occurrence, other filesystems' mount points
// kept as empty directories (one-file-system, the default), excludes (exclude.h; `--exclude`
// patterns plus a `.pxarexclude` file in any directory).
//
// Problems with single entries do not fail the backup: a file that vanishes or cannot be read,
// a socket (not archived), or a file whose size changes while it is read (its announced size is
// kept: padded with zeros or cut) each produce one warning and the walk goes on. Errors of the
// archive itself (the encoder's sinks, i.e. the store) stop it.
//
// Thread-safety: one walk per ArchiveCreator; different creators are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/exclude.h"
#include "client/payload_reuse.h"
#include "format/pxar/catalog.h"
#include "format/pxar/encoder.h"

namespace cairn {

struct CreateOptions {
  bool one_file_system = true;
  ExcludeList excludes;  // --exclude patterns (anchored at the archive root)
  // Called for every skipped or damaged entry with a one-line message.
  std::function<void(const std::string&)> warn;
  // Called (split archives) before a file's content is written to the payload stream, so the
  // payload chunker can start a chunk there (ChunkStream::CutIfAtLeast).
  std::function<Status()> before_payload;
  // Called with the bytes read so far, now and then.
  std::function<void(uint64_t)> progress;
  // Metadata change detection: consulted for every regular file before it is read (borrowed).
  PayloadReuse* reuse = nullptr;
  // If set, every archived entry is also recorded here, inside a directory the caller opened
  // for this archive (borrowed).
  CatalogWriter* catalog = nullptr;
  // If set, every regular file archived (read or reused) is recorded with its inode and ctime
  // as fstat saw them before the file was read (borrowed).
  FileStateRecorder* file_state = nullptr;
};

struct CreateStats {
  uint64_t files = 0;        // regular files archived (hard links not counted)
  uint64_t directories = 0;  // root included
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t devices = 0;
  uint64_t fifos = 0;
  uint64_t excluded = 0;
  uint64_t warnings = 0;
  uint64_t bytes_read = 0;    // file content read
  uint64_t files_read = 0;    // regular files whose content was read
  uint64_t reused_files = 0;  // regular files referenced in the previous payload, not read
};

// Archives the tree at `root` (a directory) into a new encoder over `archive` / `payload`
// (payload null: unified v1). Returns the stats; errors name the path at fault.
Result<CreateStats> CreateArchive(const std::string& root, ByteSink* archive, ByteSink* payload,
                                  CreateOptions options);

}  // namespace cairn

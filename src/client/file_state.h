// The client's record of what pxar does not store about the files of a split file archive:
// each regular file's inode and ctime, as seen when the archive was written. Metadata change
// detection (payload_reuse.h) reuses a file's previous payload only if, besides the metadata and
// size in the previous .mpxar, its inode and ctime are unchanged too, as borg's files cache does:
// a file rewritten with its old mtime restored (rsync -t, tar x, touch -d) changes its ctime.
//
// One state file per (store, namespace, group, archive) lives in the client's cache directory
// (docs/file-archives.md). It names the archive it describes by a digest of its two index
// checksums (the caller's), so it is used only against exactly that previous snapshot: a state
// file from a backup that did not finish, from another client, or of another snapshot is
// ignored, and every file is read.
//
// Format (little endian): "CAIRNFS1", the 32-byte archive id, u64 entry count, then
// per entry sorted by key: the first 16 bytes of SHA-256(path), u64 inode, i64 ctime seconds,
// u32 ctime nanoseconds; last, SHA-256 of everything before it. 36 bytes per file.
//
// Thread-safety: a FileStateTable is immutable and thread-safe; a FileStateRecorder is used by one
// thread (the tree walker).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "format/digest.h"

namespace cairn {

struct FileIdentity {
  uint64_t inode = 0;
  int64_t ctime_sec = 0;
  uint32_t ctime_nsec = 0;
  bool operator==(const FileIdentity&) const = default;
};

using FileStateKey = std::array<uint8_t, 16>;

// The previous backup's identities, looked up by path (relative to the archive root).
class FileStateTable {
 public:
  // Loads `path` if it describes the archive with id `archive_csum`;
  // nullopt if the file is missing or describes another archive. Corruption if it is damaged
  // (the caller reads every file rather than trusting it).
  static Result<std::optional<FileStateTable>> Load(const std::string& path,
                                                    const Digest& archive_csum);

  // The identity recorded for `path`, nullopt if the file was not in the archive.
  std::optional<FileIdentity> Find(std::string_view path) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    FileStateKey key;
    FileIdentity identity;
  };
  friend class FileStateRecorder;
  std::vector<Entry> entries_;  // sorted by key
};

// Collects the identities of the files written into a new archive, then saves them.
//
// Racy files: a file changed again within the same timestamp tick after the walker's fstat
// keeps the ctime (and mtime and maybe size) that was recorded, so its change would never be
// seen. As git does for its index, a file whose ctime is not clearly older than the backup's
// start is therefore not recorded, and the next backup reads it. "Clearly older": by 100 ms for
// a ctime with nanoseconds (the kernel stamps files from a clock that lags by at most one tick,
// 1-10 ms, so any change after the walk started gets a later ctime), by 2 s for a ctime in
// whole seconds (a filesystem that may keep only seconds, or two as FAT does).
class FileStateRecorder {
 public:
  // `backup_start`: wall-clock time when the walk began.
  explicit FileStateRecorder(const struct timespec& backup_start);

  // Records `path` (relative to the archive root) unless its identity is racy.
  void Add(std::string_view path, const FileIdentity& identity);

  // Writes the state atomically (temporary file, fsync, rename) to `path`, creating its
  // directory; `archive_csum` is the new archive's id.
  Status Save(const std::string& path, const Digest& archive_csum);

  // Files left out as racy so far.
  uint64_t racy_files() const { return racy_files_; }

 private:
  FileIdentity racy_from_fine_;    // racy from this ctime on (ctimes with nanoseconds)
  FileIdentity racy_from_coarse_;  // the same for whole-second ctimes
  uint64_t racy_files_ = 0;
  FileStateTable table_;
};

// The state file of archive `stem` ("root") of `group` in namespace `ns`, under `dir` (which the
// caller makes specific to one store).
std::string FileStatePath(const std::string& dir, std::string_view ns, std::string_view group,
                          std::string_view stem);

}  // namespace cairn

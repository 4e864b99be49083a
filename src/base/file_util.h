// Filesystem helpers with errno mapped to Status once, here. Every write that replaces a file
// goes through WriteFileAtomic: temp name in the same directory, write, fsync, rename, fsync of
// the directory, so a crash leaves either the old file or the new one, never a partial file.
//
// Thread-safety: all functions are safe to call concurrently (they share no state).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

// Maps an errno value to a Status naming `context` (usually "verb path"):
// ENOENT -> NotFound, EEXIST -> AlreadyExists, EACCES/EPERM/EROFS -> PermissionDenied,
// EWOULDBLOCK -> Busy, EINTR -> Aborted, EINVAL/ENAMETOOLONG -> InvalidArgument,
// anything else (ENOSPC, EIO, ...) -> IOError.
Status ErrnoStatus(std::string_view context, int err);

// Reads a whole file. NotFound if absent; IOError on read failures.
Result<Bytes> ReadFile(const std::string& path);

enum class SyncMode {
  kNone,  // no fsync (tests, throwaway files)
  kFile,  // fsync the file and its directory (default for anything durable)
};

// Writes `data` to `path` atomically with permissions `mode`; replaces an existing file.
// On any failure the temp file is removed and `path` is untouched.
Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode = 0644,
                       SyncMode sync = SyncMode::kFile);

// Like WriteFileAtomic but fails with AlreadyExists if `path` exists (link(2) based, so two
// racing creators cannot both succeed).
Status WriteFileCreateOnly(const std::string& path, ByteView data, mode_t mode = 0644,
                           SyncMode sync = SyncMode::kFile);

// Reads from `fd` until `n` bytes are in `buf` or end of file; returns the count read.
// `what` names the file in errors.
Result<size_t> ReadFull(int fd, uint8_t* buf, size_t n, const std::string& what);

// fsync of a directory, making renames and creations in it durable.
Status FsyncDir(const std::string& dir);

// mkdir -p. OK if the directory exists already.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// mkdir -p for the part of `path` below `base`, which must exist: NotFound if it does not (or
// vanishes meanwhile), so that a tree being removed is never brought back.
// REQUIRES: `path` is `base` or a path below it.
Status MakeDirsBelow(const std::string& base, const std::string& path, mode_t mode = 0755);

// Removes a file; NotFound if it did not exist.
Status RemoveFile(const std::string& path);

// rename(2), through the fault seam (file_faults.h). Errors name both paths.
Status RenameFile(const std::string& from, const std::string& to);

// utimensat(2) of `path` (following symlinks), through the fault seam.
Status SetFileTimes(const std::string& path, const struct timespec times[2]);

// Removes a directory tree (does not follow symlinks). OK if it did not exist.
Status RemoveTree(const std::string& path);

// True if `path` exists (any type). Errors other than ENOENT are returned as a Status.
Result<bool> PathExists(const std::string& path);

// Returns the unique temp-file name used for an atomic write of `path` in the same directory.
std::string TempPathFor(const std::string& path);

struct DirEntry {
  std::string name;
  bool is_dir = false;
};

// Entries of a directory except "." and "..", sorted by name. NotFound if it does not exist.
Result<std::vector<DirEntry>> ListDir(const std::string& path);

// "a/b" + "c" -> "a/b/c".
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace cairn

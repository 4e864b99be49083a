// FileLock is an flock(2) lock on a lock file, held for the lifetime of the object (RAII).
// Shared locks may be held by many holders at once; an exclusive lock by one, and none shared.
// flock locks belong to the open file description, so two FileLocks in one process on the same
// path conflict just as two processes do; a crashed process's locks vanish with it.
//
// After locking, the file's inode is compared with the path's so a lock file that was removed
// and re-created meanwhile is detected (the lock is retried) rather than silently not excluding.
//
// Thread-safety: a FileLock object is not shared between threads; distinct objects are
// independent.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace cairn {

enum class LockMode { kShared, kExclusive };

class FileLock {
 public:
  // Opens (creating with mode 0660, parent directories too) and locks `path`.
  // timeout 0 = try once. Busy if the lock is still held by someone else after `timeout`;
  // IOError/PermissionDenied if the file cannot be opened. `what` names the locked object in
  // error messages ("group vm/100"). With `base`, only parent directories below `base` are
  // created and NotFound is returned if `base` does not exist (a removed tree stays removed).
  static Result<FileLock> Acquire(const std::string& path, LockMode mode,
                                  std::chrono::milliseconds timeout, const std::string& what,
                                  const std::string& base = "");

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  const std::string& path() const { return path_; }
  LockMode mode() const { return mode_; }

 private:
  FileLock(int fd, std::string path, LockMode mode)
      : fd_(fd), path_(std::move(path)), mode_(mode) {}
  int fd_ = -1;
  std::string path_;
  LockMode mode_ = LockMode::kShared;
};

}  // namespace cairn

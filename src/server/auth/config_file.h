// How the auth layer reads and replaces its config files (user.cfg, acl.cfg, shadow.json,
// token.shadow): readers take no lock (every write is an atomic rename, so a reader sees the
// old file or the new one); writers hold an exclusive FileLock on `<file>.lock` across
// read-modify-write and replace the file with WriteFileAtomic. A file's `digest` is the hex
// SHA-256 of its bytes; callers pass the digest they last read to detect concurrent edits, as
// PBS's update calls do.
//
// Thread-safety: all functions may be called concurrently; the lock serialises writers of a
// file across threads and processes alike.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/file_lock.h"
#include "base/result.h"

namespace cairn::server {

struct ConfigText {
  std::string text;    // the file's bytes; empty if it does not exist
  std::string digest;  // hex SHA-256 of `text`
  bool exists = false;
};

// Reads `path`. A missing file is not an error (empty text). IOError / PermissionDenied from
// the filesystem otherwise.
Result<ConfigText> ReadConfigText(const std::string& path);

// Takes the exclusive lock `<path>.lock`, waiting up to 10 s (Busy after that).
Result<FileLock> LockConfig(const std::string& path);

// Atomically replaces `path` with `text`, permissions `mode`.
// REQUIRES: the caller holds LockConfig(path).
Status WriteConfig(const std::string& path, std::string_view text, mode_t mode);

// OK if `expected` is empty or equals `actual` (compared case-insensitively); otherwise
// InvalidArgument "detected modified configuration - file changed by other user? Try again."
Status CheckDigest(std::string_view expected, std::string_view actual);

}  // namespace cairn::server

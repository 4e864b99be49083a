// ShadowFile is one of the two files that hold crypt(3) hashes of secrets (spec 4.1):
//
//   shadow.json   passwords of realm `pbs`:  {"<user name without @pbs>": "<hash>"}   mode 0600
//   token.shadow  API token secrets:          {"<user@realm!token>": "<hash>"}        mode 0640
//
// Each is a JSON object of strings, replaced atomically under the exclusive lock
// `<file>.lock`. Hashes are made by password.h: new ones yescrypt; a "$5$" hash that verifies
// is replaced by a yescrypt hash of the same secret (best effort: a failed re-hash does not
// fail the check). A missing file holds no entries.
//
// The token file may keep a cache of secrets that verified (as SHA-256, never the secret), so
// that an API token's yescrypt cost is paid once per secret, not per request. The cache is
// keyed by the file's inode, size and modification time, and dropped whenever they change, so
// a removed token or a new secret takes effect at the next check.
//
// Thread-safety: a ShadowFile may be used from many threads at once; writers serialise on the
// file lock, the cache on an internal mutex.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/result.h"

namespace cairn::server {

inline constexpr char kPasswordShadowFile[] = "shadow.json";
inline constexpr char kTokenShadowFile[] = "token.shadow";

using ShadowMap = std::map<std::string, std::string>;

// Parses the JSON text of a shadow file (empty text = no entries). Corruption naming the
// problem unless it is an object whose values are all strings.
Result<ShadowMap> ParseShadow(std::string_view text);
// Pretty-printed JSON object, keys sorted, newline-terminated.
std::string SerializeShadow(const ShadowMap& entries);

// A new API token secret: a random UUIDv4, 36 lowercase characters. Shown to the user once.
Result<std::string> GenerateTokenSecret();

class ShadowFile {
 public:
  enum class Kind { kPasswords, kTokens };

  ShadowFile(const std::string& config_dir, Kind kind);
  ShadowFile(const ShadowFile&) = delete;
  ShadowFile& operator=(const ShadowFile&) = delete;

  const std::string& path() const { return path_; }
  mode_t mode() const { return mode_; }

  // The entries. Corruption if the file is malformed; IOError if unreadable.
  Result<ShadowMap> ReadAll() const;

  // Stores a new hash of `secret` under `key`, replacing any old one.
  // InvalidArgument if `secret` is empty or has a NUL byte.
  Status Set(const std::string& key, std::string_view secret);

  // Removes `key` if present (OK if it was not).
  Status Remove(const std::string& key);

  // True if `secret` matches the hash stored under `key`; false if it does not or there is no
  // such key (after the same hashing work, so absence takes as long as a mismatch). Errors
  // only if the file cannot be read or parsed.
  Result<bool> Verify(const std::string& key, std::string_view secret);

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  Result<Stamp> StatFile() const;
  // Replaces the hash of `key` if it is still `old_hash`.
  Status Rehash(const std::string& key, const std::string& old_hash, std::string_view secret);

  const std::string path_;
  const mode_t mode_;
  const bool cache_enabled_;
  Mutex mu_;
  Stamp cache_stamp_ CAIRN_GUARDED_BY(mu_);
  ShadowMap cache_ CAIRN_GUARDED_BY(mu_);  // key -> hex SHA-256 of a secret that verified
};

}  // namespace cairn::server

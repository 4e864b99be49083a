#include "server/auth/shadow.h"

#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "server/auth/config_file.h"
#include "server/auth/crypto_util.h"
#include "server/auth/password.h"

namespace cairn::server {
namespace {

// A yescrypt hash of nothing anyone knows, verified against when a key is absent so that
// "no such key" costs as much time as a wrong secret.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto h = HashPassword("cairn-dummy-secret-for-timing");
    return h.ok() ? *h : std::string("$y$j9T$invalid");
  }();
  return hash;
}

}  // namespace

Result<ShadowMap> ParseShadow(std::string_view text) {
  ShadowMap out;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::Corruption("shadow file is not valid JSON");
  if (!json.is_object()) return Status::Corruption("shadow file is not a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) {
      return Status::Corruption("shadow entry " + nlohmann::json(key).dump() + " is not a string");
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

std::string SerializeShadow(const ShadowMap& entries) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, hash] : entries) json[key] = hash;
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::string> GenerateTokenSecret() {
  return NewUuidV4();
}

ShadowFile::ShadowFile(const std::string& config_dir, Kind kind)
    : path_(
          JoinPath(config_dir, kind == Kind::kPasswords ? kPasswordShadowFile : kTokenShadowFile)),
      mode_(kind == Kind::kPasswords ? 0600 : 0640),
      cache_enabled_(kind == Kind::kTokens) {}

Result<ShadowMap> ShadowFile::ReadAll() const {
  CAIRN_ASSIGN_OR_RETURN(ConfigText file, ReadConfigText(path_));
  auto entries = ParseShadow(file.text);
  if (!entries.ok()) return entries.status().WithContext(path_);
  return entries;
}

Status ShadowFile::Set(const std::string& key, std::string_view secret) {
  if (secret.empty()) return Status::InvalidArgument("empty secret");
  CAIRN_ASSIGN_OR_RETURN(std::string hash, HashPassword(secret));
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(path_));
  CAIRN_ASSIGN_OR_RETURN(ShadowMap entries, ReadAll());
  entries[key] = std::move(hash);
  return WriteConfig(path_, SerializeShadow(entries), mode_);
}

Status ShadowFile::Remove(const std::string& key) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(path_));
  CAIRN_ASSIGN_OR_RETURN(ShadowMap entries, ReadAll());
  if (entries.erase(key) == 0) return Status::OK();
  return WriteConfig(path_, SerializeShadow(entries), mode_);
}

Result<ShadowFile::Stamp> ShadowFile::StatFile() const {
  Stamp stamp;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return stamp;
    return ErrnoStatus("stat " + path_, errno);
  }
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return stamp;
}

Result<bool> ShadowFile::Verify(const std::string& key, std::string_view secret) {
  const std::string secret_digest = Sha256Hex(AsBytes(secret));
  CAIRN_ASSIGN_OR_RETURN(Stamp stamp, StatFile());
  if (cache_enabled_) {
    MutexLock lock(mu_);
    if (stamp == cache_stamp_) {
      auto it = cache_.find(key);
      if (it != cache_.end() && ConstantTimeEqual(it->second, secret_digest)) return true;
    }
  }
  CAIRN_ASSIGN_OR_RETURN(ShadowMap entries, ReadAll());
  auto it = entries.find(key);
  const bool known = it != entries.end();
  const PasswordCheck check = VerifyPassword(secret, known ? it->second : DummyHash());
  if (!known || !check.ok) return false;
  if (check.needs_rehash) (void)Rehash(key, it->second, secret);
  if (cache_enabled_) {
    MutexLock lock(mu_);
    if (!(stamp == cache_stamp_)) {
      cache_.clear();
      cache_stamp_ = stamp;
    }
    // A re-hash changed the file: the entry is dropped at the next check, which re-verifies.
    cache_[key] = secret_digest;
  }
  return true;
}

Status ShadowFile::Rehash(const std::string& key, const std::string& old_hash,
                          std::string_view secret) {
  CAIRN_ASSIGN_OR_RETURN(std::string hash, HashPassword(secret));
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(path_));
  CAIRN_ASSIGN_OR_RETURN(ShadowMap entries, ReadAll());
  auto it = entries.find(key);
  if (it == entries.end() || it->second != old_hash) return Status::OK();  // changed meanwhile
  it->second = std::move(hash);
  return WriteConfig(path_, SerializeShadow(entries), mode_);
}

}  // namespace cairn::server

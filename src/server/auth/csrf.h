// CSRF prevention tokens, as PBS (spec 4.2): required in the `CSRFPreventionToken` header of
// every non-GET request that a ticket cookie authenticates.
//
//   <HEX>:<base64 without padding of HMAC-SHA3-256(key, "<HEX>:<userid>:")>
//
// <HEX> is the creation time (ticket.h FormatHexTime); the token is valid in the same age
// window as a ticket. The key is `csrf.key` in the config directory: 64 random bytes in
// base64, mode 0600, generated on first use.
//
// Thread-safety: a CsrfKey is immutable after creation and may be used from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "server/auth/auth_id.h"

namespace cairn::server {

inline constexpr char kCsrfKeyFile[] = "csrf.key";

class CsrfKey {
 public:
  // Loads csrf.key from `config_dir`, generating it if missing (create-only, so racing
  // processes agree). Corruption if the file is not base64 of at least 16 bytes.
  static Result<CsrfKey> LoadOrCreate(const std::string& config_dir);
  explicit CsrfKey(Bytes key) : key_(std::move(key)) {}

  // A token for `user` created at `now`. REQUIRES: now >= 0.
  std::string CreateToken(const Userid& user, int64_t now) const;

  // OK if `token` was made by this key for `user` and its age is within the ticket window.
  // PermissionDenied "invalid csrf token - <reason>" otherwise.
  Status VerifyToken(const Userid& user, std::string_view token, int64_t now) const;

 private:
  std::string Digest(const Userid& user, int64_t time) const;
  Bytes key_;
};

}  // namespace cairn::server

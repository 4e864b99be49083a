// Identities as PBS names them (spec 4.1):
//
//   Userid  "name@realm"             a user of realm `realm` (pam, pbs, ...)
//   Authid  "name@realm"             a user acting as itself, or
//           "name@realm!tokenname"   one of that user's API tokens
//
// A user name is 1..64 bytes of UTF-8 without ASCII whitespace, control characters,
// ':', '/', '@' or '!' (PBS's PROXMOX_USER_NAME_REGEX plus the separators this grammar needs).
// A realm is a SAFE_ID of 2..32 characters and a token name a SAFE_ID of 1..64 characters
// (SAFE_ID = [A-Za-z0-9_][A-Za-z0-9._-]*). So an identity never contains ':' (it is a field
// separator in acl.cfg and tickets), '/' or NUL, and cannot name a path.
//
// Thread-safety: immutable values.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::server {

// InvalidArgument (naming the input) unless `name` is a valid user name / realm / token name.
Status ValidateUserName(std::string_view name);
Status ValidateRealm(std::string_view realm);
Status ValidateTokenName(std::string_view name);

class Userid {
 public:
  // Parses "name@realm" (split at the last '@'). InvalidArgument if malformed.
  static Result<Userid> Parse(std::string_view text);
  static Result<Userid> Make(std::string_view name, std::string_view realm);
  // root@pam, the superuser.
  static Userid Root();

  const std::string& name() const { return name_; }
  const std::string& realm() const { return realm_; }
  std::string ToString() const { return name_ + "@" + realm_; }
  bool IsRoot() const { return name_ == "root" && realm_ == "pam"; }

  bool operator==(const Userid&) const = default;
  auto operator<=>(const Userid&) const = default;

 private:
  Userid(std::string name, std::string realm) : name_(std::move(name)), realm_(std::move(realm)) {}
  std::string name_;
  std::string realm_;
};

class Authid {
 public:
  Authid(Userid user) : user_(std::move(user)) {}  // NOLINT: a user is an auth id
  // Parses "name@realm" or "name@realm!tokenname". InvalidArgument if malformed.
  static Result<Authid> Parse(std::string_view text);
  // The token `token_name` of `user`. InvalidArgument if the name is not a valid token name.
  static Result<Authid> MakeToken(const Userid& user, std::string_view token_name);

  const Userid& user() const { return user_; }
  const std::string& realm() const { return user_.realm(); }
  bool is_token() const { return !token_.empty(); }
  // Empty unless is_token().
  const std::string& token_name() const { return token_; }
  std::string ToString() const;
  // root@pam itself; its tokens are not the superuser.
  bool IsSuperuser() const { return !is_token() && user_.IsRoot(); }

  bool operator==(const Authid&) const = default;
  auto operator<=>(const Authid&) const = default;

 private:
  Authid(Userid user, std::string token) : user_(std::move(user)), token_(std::move(token)) {}
  Userid user_;
  std::string token_;
};

}  // namespace cairn::server

// Authenticator is the auth layer's facade over one config directory (e.g. /etc/cairn):
// it checks passwords and API token secrets, and performs the user, token and ACL changes
// behind PBS's /access API and the CLI.
//
//   user.cfg      users and tokens              (user_config.h)
//   shadow.json   passwords of realm `pbs`      (shadow.h)
//   token.shadow  API token secrets             (shadow.h)
//   acl.cfg       access control list           (acl.h)
//
// Realms: `pbs` (shadow.json) and `pam` (PAM service cairn-auth, pam_auth.h). Others (LDAP,
// AD, OpenID) are not supported: their users cannot log in or be created.
//
// Checks fail with PermissionDenied "authentication failed" whatever went wrong with the
// credentials (unknown user, inactive user, wrong password, unknown realm), so a caller
// cannot tell which. Damaged config files are reported as the errors they are. Callers add
// PBS's 3 s delay after a failure.
//
// Each change is a read-modify-write under the file locks, taken in the order user.cfg,
// shadow.json, token.shadow, acl.cfg, with atomic replacement. `digest` parameters, if not
// empty, must equal the digest of user.cfg (acl.cfg for UpdateAcl) as last read, else the
// change fails with InvalidArgument (config_file.h CheckDigest). Permission checks of the
// caller (who may change whom) belong to the API layer, not here.
//
// Thread-safety: all methods may be called concurrently, from several processes too.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/auth/acl.h"
#include "server/auth/auth_id.h"
#include "server/auth/shadow.h"
#include "server/auth/user_config.h"

namespace cairn::server {

// Checks a realm-pam password for the system user `user`; OK if accepted.
using PamFunction = std::function<Status(std::string_view user, std::string_view password)>;

// Changes of PUT /access/users/{userid}: fields to set, and property names to clear
// ("comment", "firstname", "lastname", "email").
struct UserUpdate {
  std::optional<std::string> comment, firstname, lastname, email;
  std::optional<bool> enable;
  std::optional<int64_t> expire;
  std::optional<std::string> password;  // realm pbs only
  std::vector<std::string> delete_props;
};

// Changes of PUT /access/users/{userid}/token/{name}; delete_props may name "comment".
struct TokenUpdate {
  std::optional<std::string> comment;
  std::optional<bool> enable;
  std::optional<int64_t> expire;
  std::vector<std::string> delete_props;
  bool regenerate = false;  // replace the secret; the new one is returned
};

// The one-time answer of POST /access/users/{userid}/token/{name}.
struct NewTokenSecret {
  std::string tokenid;  // "user@realm!name"
  std::string value;    // the secret, shown once
};

// PUT /access/acl: grant (or, with `remove`, revoke) `role` at `path` to an auth id or group.
struct AclUpdate {
  std::string path;
  std::string role;
  bool propagate = true;
  std::optional<Authid> authid;
  std::optional<std::string> group;
  bool remove = false;
};

class Authenticator {
 public:
  // `pam` defaults to PamAuthenticate with service kPamService.
  explicit Authenticator(std::string config_dir, PamFunction pam = nullptr);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  const std::string& config_dir() const { return config_dir_; }

  // OK if `user` exists, is active at `now` and `password` is right for its realm; pbs
  // passwords with an old "$5$" hash are re-hashed. PermissionDenied otherwise.
  Status Authenticate(const Userid& user, std::string_view password, int64_t now);

  // The token of a valid `tokenid` ("user@realm!name") / `secret` pair: the token and its
  // user exist and are active at `now`, and the secret matches token.shadow.
  // PermissionDenied otherwise.
  Result<Authid> AuthenticateToken(std::string_view tokenid, std::string_view secret, int64_t now);

  // Current users and tokens (user.cfg, root@pam included) with its digest.
  Result<UserConfig> ReadUsers() const;

  // Adds a user. AlreadyExists; InvalidArgument for a realm other than pam/pbs, a password
  // for realm pam, or a password outside 5..64 bytes.
  Status CreateUser(const UserEntry& entry, const std::optional<std::string>& password,
                    std::string_view digest = "");
  // NotFound if there is no such user; InvalidArgument for an unknown delete_props name.
  Status UpdateUser(const Userid& user, const UserUpdate& update, std::string_view digest = "");
  // Removes the user, its tokens, their secrets, its password and their ACL entries.
  // NotFound; InvalidArgument for root@pam.
  Status DeleteUser(const Userid& user, std::string_view digest = "");
  // Sets a realm-pbs password (5..64 bytes). NotFound if there is no such user;
  // InvalidArgument for other realms.
  Status SetPassword(const Userid& user, std::string_view password);

  // Adds a token (its user must exist) with a fresh secret, returned once.
  // AlreadyExists / NotFound / InvalidArgument.
  Result<NewTokenSecret> CreateToken(const TokenEntry& entry, std::string_view digest = "");
  // The new secret if update.regenerate, else nullopt. NotFound if there is no such token.
  Result<std::optional<std::string>> UpdateToken(const Authid& tokenid, const TokenUpdate& update,
                                                 std::string_view digest = "");
  // Removes the token, its secret and its ACL entries. NotFound if there is no such token.
  Status DeleteToken(const Authid& tokenid, std::string_view digest = "");

  // Applies a PUT /access/acl. Adding needs an existing user or token (NotFound otherwise);
  // group grants can be removed but not added (InvalidArgument, as groups are never applied).
  // InvalidArgument for an invalid path or role, or neither/both of authid and group.
  Status UpdateAcl(const AclUpdate& update, std::string_view digest = "");

 private:
  // Loads user.cfg under its lock, checks `digest`, runs `change`, saves if it returned OK.
  Status ModifyUsers(std::string_view digest, const std::function<Status(UserConfig&)>& change);

  const std::string config_dir_;
  const PamFunction pam_;
  ShadowFile passwords_;
  ShadowFile tokens_;
};

}  // namespace cairn::server

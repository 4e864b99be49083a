// AccessControl answers "who is calling and what may they do" for the server, over the files of
// the config directory (docs/server.md): user.cfg and the two shadow files (users, tokens and
// their secrets), acl.cfg, the ticket signing key and the CSRF key. Files edited by the CLI or
// another server process are picked up on the next call (each is re-read when its size or
// modification time changes).
//
// Ownership: owns its keys and caches. Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "http/server.h"
#include "server/auth/acl.h"
#include "server/auth/auth_id.h"
#include "server/auth/authenticator.h"
#include "server/auth/csrf.h"
#include "server/auth/ticket.h"
#include "server/auth/user_config.h"
#include "server/auth/user_info.h"
#include "server/cached_file.h"

namespace cairn::server {

// How a request proved who it is.
struct Credentials {
  Authid auth_id;
  bool by_ticket = false;  // a ticket cookie (non-GET requests then need the CSRF header)
};

struct LoginResult {
  Userid user;
  std::string ticket;
  std::string csrf_token;
};

class AccessControl {
 public:
  // Loads or creates the ticket and CSRF keys in `config_dir`. Errors of the key files.
  static Result<std::unique_ptr<AccessControl>> Open(const std::string& config_dir);

  // The request's credentials: a ticket cookie (__Host-PBSAuthCookie wins over PBSAuthCookie),
  // else an `Authorization: PBSAPIToken <id>:<secret>` header (' ' or '='). nullopt if it
  // carries none; PermissionDenied for invalid, expired or disabled ones.
  Result<std::optional<Credentials>> Authenticate(const http::ServerRequest& request, int64_t now);
  // The ticket of the request's cookie (as Authenticate picks it), unchecked; nullopt if none.
  static std::optional<std::string> TicketCookie(const http::ServerRequest& request);
  // PermissionDenied unless `token` is a valid CSRF token of `user` at `now`.
  Status CheckCsrf(const Userid& user, std::string_view token, int64_t now) const;

  // Logs in with a password, or renews a valid ticket given as the password. PermissionDenied
  // (one message for every reason) otherwise.
  Result<LoginResult> Login(std::string_view username, std::string_view password, int64_t now);

  // The privileges of `auth_id` on `acl_path` ("/datastore/s1/ns"): root@pam everything; a
  // token its own ACL roles AND its user's; a disabled or expired user or token nothing.
  uint64_t Privileges(const Authid& auth_id, std::string_view acl_path, int64_t now);
  // Whether `auth_id` holds any of `privs` on `acl_path` or any path below it.
  bool AnyPrivilegesBelow(const Authid& auth_id, std::string_view acl_path, uint64_t privs,
                          int64_t now);
  // GET /access/permissions (UserInfo::ListPermissions). Errors of the config files.
  Result<std::map<std::string, std::map<std::string, bool>>> ListPermissions(
      const Authid& auth_id, const std::optional<std::string>& path, int64_t now);
  // NotFound / PermissionDenied unless `auth_id` exists and is enabled and not expired.
  Status CheckUserActive(const Authid& auth_id, int64_t now);

  // A stable id for this server: hex SHA-256 of `seed`.
  std::string InstanceId(std::string_view seed) const;

  Authenticator& authenticator() { return *authenticator_; }
  const std::string& config_dir() const { return config_dir_; }

 private:
  AccessControl(std::string config_dir, std::unique_ptr<TicketKey> ticket_key, CsrfKey csrf_key,
                std::unique_ptr<Authenticator> authenticator);
  // UserInfo over the current user.cfg and acl.cfg (re-read when changed on disk).
  Result<UserInfo> Info(int64_t now);

  const std::string config_dir_;
  const std::unique_ptr<TicketKey> ticket_key_;
  const CsrfKey csrf_key_;
  const std::unique_ptr<Authenticator> authenticator_;
  CachedFile<UserConfig> users_;
  CachedFile<AclTree> acls_;
};

}  // namespace cairn::server

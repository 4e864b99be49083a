// UserInfo answers permission questions from a snapshot of user.cfg and acl.cfg taken at time
// `now` (PBS's CachedUserInfo, spec 4.3):
//
//  - root@pam (not its tokens) has every privilege;
//  - anyone else has the OR of the privileges of their ACL roles at the path (AclTree::Roles);
//  - an API token has its own ACL privileges AND those of its user;
//  - an auth id that is not active at `now` (missing, disabled, expired; for a token also its
//    user) has none.
//
// A UserInfo never changes; build a new one when the files change (or per request). It shares
// the parsed files it is built from (the server's caches hand out the same ones to every
// request), so building one costs no copy.
//
// Thread-safety: immutable; may be shared between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "server/auth/acl.h"
#include "server/auth/auth_id.h"
#include "server/auth/user_config.h"
#include "types/backup_names.h"

namespace cairn::server {

// The result of a namespace check that passed.
enum class NamespaceAccess {
  kFull,              // a `full` privilege: every group in the namespace
  kPartialOwnedOnly,  // only a `partial` privilege: groups the caller owns (IsOwner)
};

class UserInfo {
 public:
  UserInfo(std::shared_ptr<const UserConfig> users, std::shared_ptr<const AclTree> acl, int64_t now)
      : users_(std::move(users)), acl_(std::move(acl)), now_(now) {}
  UserInfo(UserConfig users, AclTree acl, int64_t now)
      : UserInfo(std::make_shared<const UserConfig>(std::move(users)),
                 std::make_shared<const AclTree>(std::move(acl)), now) {}
  // Loads user.cfg and acl.cfg from `config_dir`. Errors of either file.
  static Result<UserInfo> Load(const std::string& config_dir, int64_t now);

  const UserConfig& users() const { return *users_; }
  const AclTree& acl() const { return *acl_; }
  int64_t now() const { return now_; }

  bool IsActive(const Authid& authid) const { return users_->IsActive(authid, now_); }

  struct Privs {
    uint64_t privs = 0;       // all privileges at the path
    uint64_t propagated = 0;  // those that also hold below it
  };
  Privs LookupPrivsDetails(const Authid& authid, std::span<const std::string> path) const;
  uint64_t LookupPrivs(const Authid& authid, std::span<const std::string> path) const {
    return LookupPrivsDetails(authid, path).privs;
  }

  // OK if `authid` has all of `required` (or, with `any`, at least one) at `path`.
  // PermissionDenied "missing permissions 'A&B' on '/path'" ('A|B' with `any`) otherwise.
  Status CheckPrivs(const Authid& authid, std::span<const std::string> path, uint64_t required,
                    bool any = false) const;

  // PBS check_ns_privs_full on ["datastore", store, ns...]: any of `full` -> kFull; else any
  // of `partial` -> kPartialOwnedOnly; else PermissionDenied
  // "permission check failed - missing <A|B> on /datastore/<store>[/<ns>]".
  Result<NamespaceAccess> CheckNamespacePrivs(std::string_view store, const BackupNamespace& ns,
                                              const Authid& authid, uint64_t full,
                                              uint64_t partial) const;

  // True if `authid` has any of `privs` at or below `path` (AclTree::AnyPrivsBelow; true for
  // the superuser, false if inactive).
  bool AnyPrivsBelow(const Authid& authid, std::span<const std::string> path, uint64_t privs) const;

  // Whether `auth` may act on a backup group owned by `owner`: it is the owner, or the owner
  // is one of auth's tokens. A token does not own its user's groups.
  static bool IsOwner(const Authid& owner, const Authid& auth);

  // GET /access/permissions: for `path`, or (if absent) for "/", "/access", "/datastore",
  // "/remote", "/system" and every path in acl.cfg: the privileges `authid` has there, each
  // mapped to whether it propagates. Paths without privileges are left out.
  std::map<std::string, std::map<std::string, bool>> ListPermissions(
      const Authid& authid, const std::optional<std::string>& path) const;

 private:
  std::shared_ptr<const UserConfig> users_;
  std::shared_ptr<const AclTree> acl_;
  int64_t now_;
};

}  // namespace cairn::server

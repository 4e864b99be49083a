#include "server/auth/user_info.h"

#include <set>

#include "server/auth/privileges.h"

namespace cairn::server {

Result<UserInfo> UserInfo::Load(const std::string& config_dir, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir));
  CAIRN_ASSIGN_OR_RETURN(AclTree acl, AclTree::Load(config_dir));
  return UserInfo(std::move(users), std::move(acl), now);
}

UserInfo::Privs UserInfo::LookupPrivsDetails(const Authid& authid,
                                             std::span<const std::string> path) const {
  Privs out;
  if (!IsActive(authid)) return out;
  if (authid.IsSuperuser()) return {UINT64_MAX, UINT64_MAX};
  for (const auto& [role, propagate] : acl_->Roles(authid, path)) {
    const uint64_t privs = RolePrivileges(role).value_or(0);
    out.privs |= privs;
    if (propagate) out.propagated |= privs;
  }
  if (authid.is_token()) {
    const Privs user = LookupPrivsDetails(Authid(authid.user()), path);
    out.privs &= user.privs;
    out.propagated &= user.propagated;
  }
  return out;
}

Status UserInfo::CheckPrivs(const Authid& authid, std::span<const std::string> path,
                            uint64_t required, bool any) const {
  const uint64_t privs = LookupPrivs(authid, path);
  const bool allowed = any ? (privs & required) != 0 : (privs & required) == required;
  if (allowed) return Status::OK();
  return Status::PermissionDenied("missing permissions '" +
                                  PrivilegeNames(required, any ? "|" : "&") + "' on '" +
                                  JoinAclPath(path) + "'");
}

Result<NamespaceAccess> UserInfo::CheckNamespacePrivs(std::string_view store,
                                                      const BackupNamespace& ns,
                                                      const Authid& authid, uint64_t full,
                                                      uint64_t partial) const {
  const std::vector<std::string> path = NamespaceAclPath(store, ns);
  const uint64_t privs = LookupPrivs(authid, path);
  if ((privs & full) != 0) return NamespaceAccess::kFull;
  if ((privs & partial) != 0) return NamespaceAccess::kPartialOwnedOnly;
  return Status::PermissionDenied("permission check failed - missing " +
                                  PrivilegeNames(full | partial, "|") + " on " + JoinAclPath(path));
}

bool UserInfo::AnyPrivsBelow(const Authid& authid, std::span<const std::string> path,
                             uint64_t privs) const {
  if (!IsActive(authid)) return false;
  if (authid.IsSuperuser()) return privs != 0;
  return acl_->AnyPrivsBelow(authid, path, privs);
}

bool UserInfo::IsOwner(const Authid& owner, const Authid& auth) {
  if (owner == auth) return true;
  return owner.is_token() && !auth.is_token() && owner.user() == auth.user();
}

std::map<std::string, std::map<std::string, bool>> UserInfo::ListPermissions(
    const Authid& authid, const std::optional<std::string>& path) const {
  std::set<std::string> paths;
  if (path) {
    paths.insert(*path);
  } else {
    paths = {"/", "/access", "/datastore", "/remote", "/system"};
    for (std::string& p : acl_->NodePaths()) paths.insert(std::move(p));
  }
  std::map<std::string, std::map<std::string, bool>> out;
  for (const std::string& p : paths) {
    const Privs privs = LookupPrivsDetails(authid, SplitAclPath(p));
    if (privs.privs == 0) continue;  // do not reveal paths without privileges
    auto& entry = out[p];
    for (const PrivilegeInfo& info : AllPrivilegeInfos()) {
      if (privs.privs & info.bit)
        entry[std::string(info.name)] = (privs.propagated & info.bit) != 0;
    }
  }
  return out;
}

}  // namespace cairn::server

#include "server/api/api_call.h"

#include <fmt/format.h>

#include "server/access_control.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {

std::string DatastoreAclPath(std::string_view store, const BackupNamespace& ns) {
  std::string path = "/datastore/" + std::string(store);
  for (const std::string& component : ns.components()) path += "/" + component;
  return path;
}

uint64_t ApiCall::Privileges(std::string_view acl_path) const {
  if (!auth_id_) return 0;
  return context_.access().Privileges(*auth_id_, acl_path, context_.Now());
}

Status ApiCall::Require(std::string_view acl_path, uint64_t any_of) const {
  if ((Privileges(acl_path) & any_of) != 0) return Status::OK();
  return Status::PermissionDenied(fmt::format("permission check failed - missing {} on {}",
                                              PrivilegeNames(any_of, "|"), acl_path));
}

Result<NamespaceAccess> ApiCall::CheckNamespace(std::string_view store, const BackupNamespace& ns,
                                                uint64_t full, uint64_t partial) const {
  std::string path = DatastoreAclPath(store, ns);
  uint64_t privs = Privileges(path);
  if ((privs & full) != 0) return NamespaceAccess::kFull;
  if ((privs & partial) != 0) return NamespaceAccess::kPartialOwnedOnly;
  return Status::PermissionDenied(fmt::format("permission check failed - missing {} on {}",
                                              PrivilegeNames(full | partial, "|"), path));
}

bool ApiCall::IsOwner(std::string_view owner, const Authid& auth) {
  auto parsed = Authid::Parse(owner);
  return parsed.ok() && UserInfo::IsOwner(*parsed, auth);
}

bool ApiCall::Owns(std::string_view owner) const {
  return auth_id_ && IsOwner(owner, *auth_id_);
}

Status ApiCall::RequireOwner(NamespaceAccess access, std::string_view owner) const {
  if (access == NamespaceAccess::kFull || Owns(owner)) return Status::OK();
  return Status::PermissionDenied(fmt::format("permission check failed - owned by {}, not by {}",
                                              owner, auth_id_ ? auth_id_->ToString() : "nobody"));
}

}  // namespace cairn::server

// ACL paths (spec 4.3): "/" or "/"-joined SAFE_IDs, at most 128 characters, naming one of the
// objects PBS guards: /access/..., /datastore/{store}/{namespace...}, /remote/..., /system/...,
// /tape/.... A namespace's path is ["datastore", store, ns components...].
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "types/backup_names.h"

namespace cairn::server {

inline constexpr size_t kMaxAclPathLength = 128;

// "/a/b" -> {"a", "b"}; "/" -> {}. Empty components are skipped.
std::vector<std::string> SplitAclPath(std::string_view path);
// {"a", "b"} -> "/a/b"; {} -> "/".
std::string JoinAclPath(std::span<const std::string> components);

// InvalidArgument naming the path unless it matches ^(/|(/SAFE_ID)+)$, has at most 128
// characters and one of these shapes (those of PBS's check_acl_path):
//   /  /access  /access/{acl,users,domains}  /access/openid/{id}
//   /datastore/{store}/{up to 7 namespace components}
//   /remote/{remote}/{store}/{up to 7 namespace components}
//   /system  /system/{certificates,disks,log,notifications,status,tasks,time}
//   /system/services/{svc}  /system/network[/dns | /interfaces[/{iface}]]
//   /system/s3-endpoint/{id}  /system/encryption-keys/{id}
//   /tape  /tape/{device,pool,job}/{name}
Status ValidateAclPath(std::string_view path);

// ["datastore", store, ns components...] (PBS BackupNamespace::acl_path).
std::vector<std::string> NamespaceAclPath(std::string_view store, const BackupNamespace& ns);

}  // namespace cairn::server

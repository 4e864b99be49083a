#include "server/api/snapshot_access.h"

#include "server/api/datastore_params.h"
#include "server/server_context.h"

namespace cairn::server {

Result<SnapshotTarget> OpenSnapshot(ApiCall& call, uint64_t full, uint64_t partial) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotFrom(params));
  CAIRN_ASSIGN_OR_RETURN(NamespaceAccess access, call.CheckNamespace(store, ns, full, partial));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kRead));
  if (access == NamespaceAccess::kPartialOwnedOnly) {
    CAIRN_ASSIGN_OR_RETURN(std::string owner, opened.store->GetOwner(ns, snap.group));
    CAIRN_RETURN_IF_ERROR(call.RequireOwner(access, owner));
  }
  return SnapshotTarget{std::move(opened), std::move(ns), std::move(snap)};
}

}  // namespace cairn::server

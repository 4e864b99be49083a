// Opening the snapshot a route's parameters name (store, ns, backup-type, backup-id,
// backup-time) after the caller's access is checked: the namespace check with full or
// owned-groups-only privileges, then the owner rule.
//
// Thread-safety: as ApiCall.
#pragma once

#include "server/api/api_call.h"
#include "server/store_registry.h"

namespace cairn::server {

// A snapshot the caller may read, with its store kept open for reading.
struct SnapshotTarget {
  OpenStore opened;
  BackupNamespace ns;
  SnapshotRef snap;
};

// With `full` privileges on the namespace any snapshot; with `partial` (Datastore.Backup) only
// snapshots of groups the caller owns. PermissionDenied otherwise; NotFound for an unknown
// store; InvalidArgument for bad names.
Result<SnapshotTarget> OpenSnapshot(ApiCall& call, uint64_t full, uint64_t partial);

}  // namespace cairn::server

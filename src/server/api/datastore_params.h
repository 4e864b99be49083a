// The parameters that name things in a datastore, shared by the admin/datastore routes:
// store (path), ns, backup-type, backup-id, backup-time, with their checks. A name that is not
// valid (path tricks such as "..", "/", NUL, overlong) is InvalidArgument naming the parameter,
// before any file is touched.
//
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "base/result.h"
#include "server/rest/params.h"
#include "types/backup_names.h"

namespace cairn::server {

ParamSpec StoreParam();
ParamSpec NamespaceParam(std::string name = "ns");
ParamSpec BackupTypeParam(bool optional = false);
ParamSpec BackupIdParam(bool optional = false);
ParamSpec BackupTimeParam(bool optional = false);
// store, ns, backup-type, backup-id (+ backup-time with `snapshot`), all required but ns.
std::vector<ParamSpec> GroupParams(std::vector<ParamSpec> more = {});
std::vector<ParamSpec> SnapshotParams(std::vector<ParamSpec> more = {});

Result<BackupNamespace> NamespaceFrom(const Params& params, std::string_view name = "ns");
// REQUIRES: backup-type and backup-id present.
Result<BackupGroup> GroupFrom(const Params& params);
// REQUIRES: backup-type, backup-id and backup-time present.
Result<SnapshotRef> SnapshotFrom(const Params& params);

}  // namespace cairn::server

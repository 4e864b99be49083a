#include "server/api/datastore_params.h"

namespace cairn::server {

ParamSpec StoreParam() {
  return ParamSpec::String("store", "Datastore name.", 32).Required();
}

ParamSpec NamespaceParam(std::string name) {
  return ParamSpec::String(std::move(name),
                           "Namespace, components separated by '/' (root if absent).", 256);
}

ParamSpec BackupTypeParam(bool optional) {
  ParamSpec spec = ParamSpec::String("backup-type", "Backup type: vm, ct or host.", 8);
  return optional ? spec : spec.Required();
}

ParamSpec BackupIdParam(bool optional) {
  ParamSpec spec = ParamSpec::String("backup-id", "Backup ID.", 128);
  return optional ? spec : spec.Required();
}

ParamSpec BackupTimeParam(bool optional) {
  ParamSpec spec = ParamSpec::Integer("backup-time", "Backup time (Unix epoch).", 1);
  return optional ? spec : spec.Required();
}

std::vector<ParamSpec> GroupParams(std::vector<ParamSpec> more) {
  std::vector<ParamSpec> out{StoreParam(), NamespaceParam(), BackupTypeParam(), BackupIdParam()};
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<ParamSpec> SnapshotParams(std::vector<ParamSpec> more) {
  more.insert(more.begin(), BackupTimeParam());
  return GroupParams(std::move(more));
}

Result<BackupNamespace> NamespaceFrom(const Params& params, std::string_view name) {
  auto ns = BackupNamespace::Parse(params.OptString(name).value_or(""));
  if (!ns.ok()) return ns.status().WithContext(std::string(name));
  return ns;
}

Result<BackupGroup> GroupFrom(const Params& params) {
  auto type = ParseBackupType(params.String("backup-type"));
  if (!type.ok()) return type.status().WithContext("backup-type");
  auto group = BackupGroup::Make(*type, params.String("backup-id"));
  if (!group.ok()) return group.status().WithContext("backup-id");
  return group;
}

Result<SnapshotRef> SnapshotFrom(const Params& params) {
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, GroupFrom(params));
  auto snap = SnapshotRef::Make(std::move(group), params.Integer("backup-time", 0));
  if (!snap.ok()) return snap.status().WithContext("backup-time");
  return snap;
}

}  // namespace cairn::server

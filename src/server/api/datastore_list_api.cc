// GET routes that list what a datastore holds: the datastores themselves, groups, snapshots,
// a snapshot's files and their download, and the store's usage (PBS's admin/datastore).
#include <sys/statvfs.h>

#include "base/file_util.h"
#include "datastore/jobs/gc.h"
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/api/snapshot_access.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

using nlohmann::json;

std::string FirstLine(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string MaintenanceText(const MaintenanceMode& mode) {
  std::string out = "type=" + std::string(MaintenanceTypeName(mode.type));
  if (!mode.message.empty()) out += ",message=" + mode.message;
  return out;
}

Result<ApiReply> ListDatastores(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  json out = json::array();
  for (const auto& [name, entry] : config.datastores()) {
    std::string acl = DatastoreAclPath(name);
    bool visible = (call.Privileges(acl) & (priv::kDatastoreAudit | priv::kDatastoreBackup)) != 0 ||
                   call.context().access().AnyPrivilegesBelow(
                       call.auth_id(), acl, kNamespacePrivsOk, call.context().Now());
    if (!visible) continue;
    json item = {
        {"store", name}, {"mount-status", "nonremovable"}, {"backend-type", entry.backend}};
    auto opened = call.context().stores().Open(name, Operation::kLookup);
    if (opened.ok()) {
      auto mode = opened->store->GetMaintenanceMode();
      if (mode.ok() && mode->type != MaintenanceType::kNone) {
        item["maintenance"] = MaintenanceText(*mode);
      }
    }
    out.push_back(std::move(item));
  }
  return ApiReply(std::move(out));
}

// The files of a snapshot as PBS lists them: the manifest's, then the manifest itself.
json SnapshotFiles(const Manifest& manifest) {
  json files = json::array();
  for (const ManifestFile& f : manifest.files()) {
    files.push_back(
        {{"filename", f.filename}, {"crypt-mode", CryptModeName(f.crypt_mode)}, {"size", f.size}});
  }
  files.push_back({{"filename", "index.json.blob"},
                   {"crypt-mode", manifest.signature() ? "sign-only" : "none"}});
  return files;
}

Result<ApiReply> ListGroups(ApiCall& call) {
  std::string store = call.params().String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(call.params()));
  CAIRN_ASSIGN_OR_RETURN(
      NamespaceAccess access,
      call.CheckNamespace(store, ns, priv::kDatastoreAudit, priv::kDatastoreBackup));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(auto groups, opened.store->ListGroups(ns));
  json out = json::array();
  for (const BackupGroup& group : groups) {
    auto info = opened.store->GetGroupInfo(ns, group);
    if (!info.ok() && info.status().IsNotFound()) continue;  // removed meanwhile
    CAIRN_RETURN_IF_ERROR(info.status());
    if (info->snapshot_count == 0 || !info->last_backup) continue;
    if (access == NamespaceAccess::kPartialOwnedOnly && !call.Owns(info->owner)) continue;
    json files = json::array();
    if (auto manifest = opened.store->LoadManifest(ns, {group, *info->last_backup});
        manifest.ok()) {
      for (const ManifestFile& f : manifest->files()) files.push_back(f.filename);
    }
    json item = {{"backup-type", BackupTypeName(group.type)},
                 {"backup-id", group.id},
                 {"last-backup", *info->last_backup},
                 {"backup-count", info->snapshot_count},
                 {"files", std::move(files)}};
    if (!info->owner.empty()) item["owner"] = info->owner;
    auto notes = opened.store->GetGroupNotes(ns, group);
    if (notes.ok() && !notes->empty()) item["comment"] = FirstLine(*notes);
    out.push_back(std::move(item));
  }
  return ApiReply(std::move(out));
}

json SnapshotItem(const BackupGroup& group, const SnapshotInfo& info, const std::string* owner) {
  json item = {{"backup-type", BackupTypeName(group.type)},
               {"backup-id", group.id},
               {"backup-time", info.ref.time},
               {"protected", info.is_protected}};
  if (owner) item["owner"] = *owner;
  if (!info.manifest) {
    item["files"] = json::array();
    return item;  // damaged manifest: no size, as a backup still running
  }
  const Manifest& manifest = *info.manifest;
  item["files"] = SnapshotFiles(manifest);
  item["size"] = info.size;
  if (auto notes = manifest.notes(); notes && !notes->empty()) {
    item["comment"] = FirstLine(*notes);
  }
  if (auto verify = manifest.verify_state()) {
    item["verification"] = {{"state", verify->state}, {"upid", verify->upid}};
  }
  if (auto fingerprint = manifest.key_fingerprint()) item["fingerprint"] = *fingerprint;
  return item;
}

Result<ApiReply> ListSnapshots(ApiCall& call) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(
      NamespaceAccess access,
      call.CheckNamespace(store, ns, priv::kDatastoreAudit, priv::kDatastoreBackup));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kRead));
  std::optional<BackupType> type_filter;
  if (auto type = params.OptString("backup-type")) {
    auto parsed = ParseBackupType(*type);
    if (!parsed.ok()) return parsed.status().WithContext("backup-type");
    type_filter = *parsed;
  }
  auto id_filter = params.OptString("backup-id");
  CAIRN_ASSIGN_OR_RETURN(auto groups, opened.store->ListGroups(ns));
  json out = json::array();
  for (const BackupGroup& group : groups) {
    if ((type_filter && group.type != *type_filter) || (id_filter && group.id != *id_filter)) {
      continue;
    }
    auto owner = opened.store->GetOwner(ns, group);
    if (access == NamespaceAccess::kPartialOwnedOnly && (!owner.ok() || !call.Owns(*owner)))
      continue;
    auto snapshots = opened.store->ListSnapshots(ns, group);
    if (!snapshots.ok() && snapshots.status().IsNotFound()) continue;
    CAIRN_RETURN_IF_ERROR(snapshots.status());
    for (const SnapshotInfo& info : *snapshots) {
      out.push_back(SnapshotItem(group, info, owner.ok() ? &*owner : nullptr));
    }
  }
  return ApiReply(std::move(out));
}

Result<ApiReply> ListFiles(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(
      SnapshotTarget target,
      OpenSnapshot(call, priv::kDatastoreAudit | priv::kDatastoreRead, priv::kDatastoreBackup));
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest,
                         target.opened.store->LoadManifest(target.ns, target.snap));
  return ApiReply(SnapshotFiles(manifest));
}

Result<ApiReply> Download(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotTarget target,
                         OpenSnapshot(call, priv::kDatastoreRead, priv::kDatastoreBackup));
  std::string name = call.params().String("file-name");
  Bytes data;
  if (name == "index.json.blob") {
    CAIRN_ASSIGN_OR_RETURN(data, target.opened.store->ReadManifestBlob(target.ns, target.snap));
  } else {  // a file the manifest lists, or the client log (NotFound otherwise)
    CAIRN_ASSIGN_OR_RETURN(data,
                           target.opened.store->ReadSnapshotFile(target.ns, target.snap, name));
  }
  http::ServerResponse raw;
  raw.headers.emplace_back("Content-Type", "application/octet-stream");
  raw.body.assign(data.begin(), data.end());
  ApiReply reply;
  reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
  return reply;
}

Result<ApiReply> DatastoreStatus(ApiCall& call) {
  std::string store = call.params().String("store");
  uint64_t privs = call.Privileges(DatastoreAclPath(store));
  bool full = (privs & (priv::kDatastoreAudit | priv::kDatastoreBackup)) != 0;
  if (!full && (privs & priv::kDatastoreRead) == 0) {
    CAIRN_RETURN_IF_ERROR(
        call.Require(DatastoreAclPath(store), priv::kDatastoreAudit | priv::kDatastoreBackup));
  }
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kLookup));
  json out = {{"backend-type", opened.entry.backend}};
  if (full) {
    struct statvfs vfs;
    if (::statvfs(opened.store->path().c_str(), &vfs) != 0) {
      return ErrnoStatus("statvfs " + opened.store->path(), errno);
    }
    uint64_t unit = vfs.f_frsize;
    out["total"] = vfs.f_blocks * unit;
    out["avail"] = vfs.f_bavail * unit;
    out["used"] = (vfs.f_blocks - vfs.f_bfree) * unit;
    CAIRN_ASSIGN_OR_RETURN(auto gc, LoadGcStatus(*opened.store));
    if (gc) out["gc-status"] = GcStatusToJson(*gc);
    // What the store asked of its bucket since the server started (what the provider bills).
    BackendStats stats = opened.store->backend().Stats();
    if (stats.requests) out["s3-statistics"] = stats.requests->ToJson();
  }
  if (call.params().Boolean("verbose", false)) {
    json counts = json::object();
    CAIRN_ASSIGN_OR_RETURN(auto groups, opened.store->ListGroups(BackupNamespace()));
    for (const BackupGroup& group : groups) {
      auto info = opened.store->GetGroupInfo(BackupNamespace(), group);  // no manifest parsed
      if (!info.ok()) continue;
      json& bucket = counts[std::string(BackupTypeName(group.type))];
      if (bucket.is_null()) bucket = {{"groups", 0}, {"snapshots", 0}};
      bucket["groups"] = bucket["groups"].get<uint64_t>() + 1;
      bucket["snapshots"] = bucket["snapshots"].get<uint64_t>() + info->snapshot_count;
    }
    out["counts"] = std::move(counts);
  }
  return ApiReply(std::move(out));
}

constexpr char kBase[] = "/admin/datastore/{store}";

}  // namespace

void AddDatastoreListRoutes(Router& router) {
  router.Add({.method = "GET",
              .path = "/admin/datastore",
              .description = "List the datastores the caller may see.",
              .params = {},
              .access = Access::Handler("Datastore.Audit or Datastore.Backup on /datastore/{store},"
                                        " or any namespace privilege below it (per store)"),
              .handler = ListDatastores});
  router.Add({.method = "GET",
              .path = std::string(kBase) + "/groups",
              .description = "List the backup groups of a namespace.",
              .params = {StoreParam(), NamespaceParam()},
              .access = Access::Handler("Datastore.Audit on the namespace, or Datastore.Backup "
                                        "for owned groups"),
              .handler = ListGroups});
  router.Add(
      {.method = "GET",
       .path = std::string(kBase) + "/snapshots",
       .description = "List snapshots (optionally of one type or group).",
       .params = {StoreParam(), NamespaceParam(), BackupTypeParam(true), BackupIdParam(true)},
       .access = Access::Handler("Datastore.Audit on the namespace, or Datastore.Backup "
                                 "for owned groups"),
       .handler = ListSnapshots});
  router.Add({.method = "GET",
              .path = std::string(kBase) + "/files",
              .description = "List the files of a snapshot.",
              .params = SnapshotParams(),
              .access = Access::Handler("Datastore.Audit or Datastore.Read on the namespace, or "
                                        "Datastore.Backup for owned groups"),
              .handler = ListFiles});
  router.Add(
      {.method = "GET",
       .path = std::string(kBase) + "/download",
       .description = "Download a file of a snapshot, as stored.",
       .params = SnapshotParams({ParamSpec::String("file-name", "File name.", 128).Required()}),
       .access = Access::Handler("Datastore.Read on the namespace, or Datastore.Backup for "
                                 "owned groups"),
       .handler = Download,
       .query_only = true});
  router.Add({.method = "GET",
              .path = std::string(kBase) + "/status",
              .description = "Datastore usage, last GC, S3 requests and bytes since the server "
                             "started (S3 stores) and (verbose) snapshot counts.",
              .params = {StoreParam(), ParamSpec::Boolean("verbose", "Include counts.")},
              .access = Access::Handler("Datastore.Audit or Datastore.Backup on /datastore/{store}"
                                        " (Datastore.Read: counts only)"),
              .handler = DatastoreStatus});
}

}  // namespace cairn::server

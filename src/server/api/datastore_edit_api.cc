// Routes that change what a datastore holds without a task: forgetting snapshots and groups,
// notes, protection, group owners and namespaces (PBS's admin/datastore).
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/auth/auth_id.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

using nlohmann::json;

// A group of a store, opened after the namespace check: callers with one of `full` act on any
// group, callers with only one of `partial` on groups they own.
struct GroupTarget {
  OpenStore opened;
  BackupNamespace ns;
  BackupGroup group;
  NamespaceAccess access;
};

Result<GroupTarget> OpenGroup(ApiCall& call, uint64_t full, uint64_t partial, Operation op) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, GroupFrom(params));
  CAIRN_ASSIGN_OR_RETURN(NamespaceAccess access, call.CheckNamespace(store, ns, full, partial));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, op));
  if (access == NamespaceAccess::kPartialOwnedOnly) {
    CAIRN_ASSIGN_OR_RETURN(std::string owner, opened.store->GetOwner(ns, group));
    CAIRN_RETURN_IF_ERROR(call.RequireOwner(access, owner));
  }
  return GroupTarget{std::move(opened), std::move(ns), std::move(group), access};
}

Result<SnapshotRef> SnapshotOf(ApiCall& call) {
  return SnapshotFrom(call.params());
}

Result<ApiReply> DeleteGroup(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastorePrune, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(auto snapshots,
                         target.opened.store->ListSnapshots(target.ns, target.group));
  uint64_t protected_count = 0;
  for (const SnapshotInfo& info : snapshots) protected_count += info.is_protected ? 1 : 0;
  if (protected_count > 0 && call.params().Boolean("error-on-protected", true)) {
    return Status::InvalidArgument(
        fmt::format("group {} has {} protected snapshot(s); nothing was removed",
                    target.group.ToString(), protected_count));
  }
  CAIRN_RETURN_IF_ERROR(target.opened.store->RemoveGroup(target.ns, target.group));
  return ApiReply(json{{"removed-groups", protected_count == 0 ? 1 : 0},
                       {"removed-snapshots", snapshots.size() - protected_count},
                       {"protected-snapshots", protected_count}});
}

Result<ApiReply> DeleteSnapshot(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastorePrune, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  CAIRN_RETURN_IF_ERROR(target.opened.store->ForgetSnapshot(target.ns, snap));
  return ApiReply(json());
}

Result<ApiReply> GetNotes(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreAudit,
                                                       priv::kDatastoreBackup, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest, target.opened.store->LoadManifest(target.ns, snap));
  return ApiReply(manifest.notes().value_or(""));
}

Result<ApiReply> SetNotes(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastoreBackup, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  std::string notes = call.params().String("notes");
  CAIRN_RETURN_IF_ERROR(target.opened.store->UpdateManifest(target.ns, snap, [&](Manifest& m) {
    m.SetNotes(notes);
    return Status::OK();
  }));
  return ApiReply(json());
}

Result<ApiReply> GetGroupNotes(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreAudit,
                                                       priv::kDatastoreBackup, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(std::string notes,
                         target.opened.store->GetGroupNotes(target.ns, target.group));
  return ApiReply(notes);
}

Result<ApiReply> SetGroupNotes(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastoreBackup, Operation::kWrite));
  CAIRN_RETURN_IF_ERROR(
      target.opened.store->SetGroupNotes(target.ns, target.group, call.params().String("notes")));
  return ApiReply(json());
}

Result<ApiReply> GetProtected(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreAudit,
                                                       priv::kDatastoreBackup, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  CAIRN_ASSIGN_OR_RETURN(bool value, target.opened.store->IsProtected(target.ns, snap));
  return ApiReply(value);
}

Result<ApiReply> SetProtected(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastoreBackup, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  CAIRN_RETURN_IF_ERROR(
      target.opened.store->SetProtected(target.ns, snap, call.params().Boolean("protected", true)));
  return ApiReply(json());
}

Result<ApiReply> ChangeOwner(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target, OpenGroup(call, priv::kDatastoreModify,
                                                       priv::kDatastoreBackup, Operation::kWrite));
  auto new_owner = Authid::Parse(call.params().String("new-owner"));
  if (!new_owner.ok()) return new_owner.status().WithContext("new-owner");
  if (target.access == NamespaceAccess::kPartialOwnedOnly) {
    // A non-admin may only hand a group between themselves and their own tokens (as PBS).
    bool own_token = new_owner->user() == call.auth_id().user();
    if (!own_token) {
      return Status::PermissionDenied(
          "permission check failed - only Datastore.Modify may hand "
          "a group to another user");
    }
  }
  CAIRN_RETURN_IF_ERROR(call.context().access().CheckUserActive(*new_owner, call.context().Now()));
  CAIRN_RETURN_IF_ERROR(
      target.opened.store->SetOwner(target.ns, target.group, new_owner->ToString()));
  return ApiReply(json());
}

Result<ApiReply> ListNamespaces(ApiCall& call) {
  std::string store = call.params().String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace parent, NamespaceFrom(call.params(), "parent"));
  int64_t max_depth = call.params().Integer("max-depth", 7);
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(auto all, opened.store->ListNamespaces(parent, /*recursive=*/true));
  json out = json::array();
  std::vector<BackupNamespace> candidates{parent};
  candidates.insert(candidates.end(), all.begin(), all.end());
  for (const BackupNamespace& ns : candidates) {
    if (static_cast<int64_t>(ns.depth() - parent.depth()) > max_depth) continue;
    if ((call.Privileges(DatastoreAclPath(store, ns)) & kNamespacePrivsOk) == 0) continue;
    out.push_back({{"ns", ns.ToString()}});
  }
  return ApiReply(std::move(out));
}

Result<ApiReply> CreateNamespace(ApiCall& call) {
  std::string store = call.params().String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace parent, NamespaceFrom(call.params(), "parent"));
  CAIRN_RETURN_IF_ERROR(call.Require(DatastoreAclPath(store, parent), priv::kDatastoreModify));
  auto ns = parent.Child(call.params().String("name"));
  if (!ns.ok()) return ns.status().WithContext("name");
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kWrite));
  CAIRN_RETURN_IF_ERROR(opened.store->CreateNamespace(*ns));
  return ApiReply(json{{"ns", ns->ToString()}});
}

Result<ApiReply> DeleteNamespace(ApiCall& call) {
  std::string store = call.params().String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(call.params()));
  if (ns.IsRoot()) return Status::InvalidArgument("the root namespace cannot be removed");
  CAIRN_RETURN_IF_ERROR(call.Require(DatastoreAclPath(store, ns.Parent()), priv::kDatastoreModify));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kWrite));
  CAIRN_RETURN_IF_ERROR(
      opened.store->RemoveNamespace(ns, call.params().Boolean("delete-groups", false)));
  return ApiReply(json());
}

const std::string kBase = "/admin/datastore/{store}";
const char kOwnedWithBackup[] = " on the namespace, or Datastore.Backup for owned groups";

// POST upload-backup-log: the client's log (a DataBlob body) added to its finished snapshot.
Result<ApiReply> UploadBackupLog(ApiCall& call) {
  // Datastore.Backup and the group's ownership, for everyone (PBS).
  CAIRN_ASSIGN_OR_RETURN(GroupTarget target,
                         OpenGroup(call, 0, priv::kDatastoreBackup, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotOf(call));
  CAIRN_RETURN_IF_ERROR(
      target.opened.store->AddClientLog(target.ns, snap, AsBytes(call.request().body)));
  return ApiReply(json());
}

Route GroupRoute(std::string method, std::string path, std::string what, std::string privs,
                 std::vector<ParamSpec> params, ApiHandler handler) {
  return Route{.method = std::move(method),
               .path = kBase + path,
               .description = std::move(what),
               .params = std::move(params),
               .access = Access::Handler(std::move(privs)),
               .handler = std::move(handler)};
}

}  // namespace

void AddDatastoreEditRoutes(Router& router) {
  Route upload_log = GroupRoute(
      "POST", "/upload-backup-log",
      "Add the client's log (a DataBlob, the request body) to a snapshot as client.log.blob; "
      "once per snapshot.",
      "Datastore.Backup on the namespace and ownership of the group", SnapshotParams(),
      UploadBackupLog);
  upload_log.query_only = true;
  router.Add(std::move(upload_log));
  router.Add(GroupRoute(
      "DELETE", "/groups", "Remove a group's unprotected snapshots, and the group if none is left.",
      "Datastore.Modify on the namespace, or Datastore.Prune for owned groups",
      GroupParams({ParamSpec::Boolean("error-on-protected",
                                      "Fail (removing nothing) if a snapshot is protected "
                                      "(default true).")}),
      DeleteGroup));
  router.Add(GroupRoute("DELETE", "/snapshots", "Remove a snapshot.",
                        "Datastore.Modify on the namespace, or Datastore.Prune for owned groups",
                        SnapshotParams(), DeleteSnapshot));
  router.Add(GroupRoute("GET", "/notes", "A snapshot's notes.",
                        std::string("Datastore.Audit") + kOwnedWithBackup, SnapshotParams(),
                        GetNotes));
  router.Add(GroupRoute(
      "PUT", "/notes", "Set a snapshot's notes.",
      std::string("Datastore.Modify") + kOwnedWithBackup,
      SnapshotParams({ParamSpec::String("notes", "The notes.", 64 * 1024).Required()}), SetNotes));
  router.Add(GroupRoute("GET", "/group-notes", "A group's notes.",
                        std::string("Datastore.Audit") + kOwnedWithBackup, GroupParams(),
                        GetGroupNotes));
  router.Add(
      GroupRoute("PUT", "/group-notes", "Set a group's notes.",
                 std::string("Datastore.Modify") + kOwnedWithBackup,
                 GroupParams({ParamSpec::String("notes", "The notes.", 64 * 1024).Required()}),
                 SetGroupNotes));
  router.Add(GroupRoute("GET", "/protected", "Whether a snapshot is protected.",
                        std::string("Datastore.Audit") + kOwnedWithBackup, SnapshotParams(),
                        GetProtected));
  router.Add(
      GroupRoute("PUT", "/protected", "Protect a snapshot from prune and removal, or not.",
                 std::string("Datastore.Modify") + kOwnedWithBackup,
                 SnapshotParams({ParamSpec::Boolean("protected", "Protection state.").Required()}),
                 SetProtected));
  router.Add(GroupRoute(
      "POST", "/change-owner", "Change a group's owner.",
      "Datastore.Modify on the namespace, or Datastore.Backup for an owned group handed to the "
      "same user or one of their tokens",
      GroupParams(
          {ParamSpec::String("new-owner", "The new owner (user or token).", 128).Required()}),
      ChangeOwner));
  router.Add(Route{
      .method = "GET",
      .path = kBase + "/namespace",
      .description = "List namespaces below a parent (itself included).",
      .params = {StoreParam(), NamespaceParam("parent"),
                 ParamSpec::Integer("max-depth", "How deep to descend (default 7).", 0, 7)},
      .access = Access::Handler("lists the namespaces on which the caller has Datastore.Audit, "
                                "Modify, Read or Backup"),
      .handler = ListNamespaces});
  router.Add(
      Route{.method = "POST",
            .path = kBase + "/namespace",
            .description = "Create a namespace.",
            .params = {StoreParam(), NamespaceParam("parent"),
                       ParamSpec::String("name", "The new namespace's name.", 32).Required()},
            .access = Access::Handler("Datastore.Modify on the parent namespace"),
            .handler = CreateNamespace});
  router.Add(Route{
      .method = "DELETE",
      .path = kBase + "/namespace",
      .description = "Remove a namespace (with delete-groups, its groups too).",
      .params = {StoreParam(), NamespaceParam().Required(),
                 ParamSpec::Boolean("delete-groups", "Also remove groups and sub-namespaces."),
                 ParamSpec::Boolean("error-on-protected",
                                    "Refuse if a snapshot is protected "
                                    "(always the case in Cairn).")},
      .access = Access::Handler("Datastore.Modify on the parent namespace"),
      .handler = DeleteNamespace});
}

}  // namespace cairn::server

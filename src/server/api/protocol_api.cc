// The upgrades into PBS's protocols (docs/protocol.md):
//  - GET /backup with `Upgrade: proxmox-backup-protocol-v1` (spec 2.1);
//  - GET /reader with `Upgrade: proxmox-backup-reader-protocol-v1` (spec 3).
// Everything that can refuse a session is checked before the answer, so a refusal is a plain
// HTTP error: privileges, the store and its maintenance mode, the protocol name, the namespace,
// the owner, and for a backup the time and the group lock (SnapshotWriter::Begin), for a
// reader the snapshot. Then a task (`backup` / `reader`) starts, the answer is 101, and the
// connection speaks HTTP/2 with the session until it ends.
#include <fmt/format.h>

#include "datastore/snapshot_writer.h"
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/auth/privileges.h"
#include "server/protocol/backup_session.h"
#include "server/protocol/reader_session.h"
#include "server/protocol/session_service.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

constexpr char kBackupProtocol[] = "proxmox-backup-protocol-v1";
constexpr char kReaderProtocol[] = "proxmox-backup-reader-protocol-v1";

// The checks the HTTP layer leaves to the protocol: the Upgrade token and HTTP/1.x.
Status CheckUpgrade(const http::ServerRequest& request, std::string_view protocol) {
  if (request.Header("upgrade") != protocol)
    return Status::InvalidArgument("invalid protocol name");
  return Status::OK();
}

// Starts the session's task and answers 101 with the session as the connection's service.
Result<ApiReply> Upgrade(ApiCall& call, std::string_view protocol, std::string_view worker_type,
                         const std::string& worker_id, std::shared_ptr<SessionService> service) {
  CAIRN_RETURN_IF_ERROR(
      call.context()
          .tasks()
          .Spawn(worker_type, worker_id, call.auth_id().ToString(),
                 [service](const JobControl& job) { return service->RunUntilClosed(job); })
          .status());
  auto response = std::make_unique<http::ServerResponse>();
  response->status = 101;
  response->headers.emplace_back("Upgrade", std::string(protocol));
  response->headers.emplace_back("Connection", "upgrade");
  response->h2 = std::move(service);
  ApiReply reply;
  reply.raw = std::move(response);
  return reply;
}

constexpr char kBenchmarkId[] = "benchmark";

Result<ApiReply> StartBackup(ApiCall& call) {
  const Params& params = call.params();
  std::string store_name = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, GroupFrom(params));
  int64_t time = params.Integer("backup-time", 0);
  // All of Datastore.Backup on the namespace (PBS: partial = false).
  std::string acl_path = DatastoreAclPath(store_name, ns);
  if ((call.Privileges(acl_path) & priv::kDatastoreBackup) == 0) {
    return Status::PermissionDenied(
        fmt::format("permission check failed - missing Datastore.Backup on {}", acl_path));
  }
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened,
                         call.context().stores().Open(store_name, Operation::kWrite));
  CAIRN_RETURN_IF_ERROR(CheckUpgrade(call.request(), kBackupProtocol));
  CAIRN_ASSIGN_OR_RETURN(bool ns_exists, opened.store->NamespaceExists(ns));
  if (!ns_exists) return Status::NotFound("namespace not found");
  // host/benchmark is for benchmark sessions (upload speed tests) and they for it alone.
  const bool benchmark = params.Boolean("benchmark", false);
  if (benchmark != (group.type == BackupType::kHost && group.id == kBenchmarkId)) {
    return Status::InvalidArgument(benchmark
                                       ? "benchmark sessions are only allowed on host/benchmark"
                                       : "host/benchmark is reserved for benchmark sessions");
  }
  // The owner rule: a group owned by one of the caller's tokens is the caller's too. Benchmark
  // sessions, which store nothing, skip it (as PBS).
  std::string owner = call.auth_id().ToString();
  auto existing = opened.store->GetOwner(ns, group);
  if (existing.ok()) {
    if (!benchmark && !call.Owns(*existing)) {
      return Status::PermissionDenied(
          fmt::format("backup owner check failed ({} != {})", owner, *existing));
    }
    owner = *existing;
  }
  ChunkCaching caching =
      params.Boolean("no-cache", false) ? ChunkCaching::kMarkerOnly : ChunkCaching::kCache;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotWriter> writer,
                         SnapshotWriter::Begin(*opened.store, ns, group, time, owner, caching));

  auto service = std::make_shared<SessionService>();
  auto shared_store = std::make_shared<OpenStore>(std::move(opened));
  auto session = std::make_shared<BackupSession>(*shared_store->store, std::move(writer),
                                                 service->log(), benchmark);
  service->log().Info("starting backup of {} in {}{}", session->snapshot().ToString(), store_name,
                      ns.IsRoot() ? "" : " namespace " + ns.ToString());
  service->SetSession(
      [session, shared_store](const http::ServerRequest& request) {
        return session->Handle(request);
      },
      [session, benchmark](const Status& closed) -> Status {
        // PBS: a session that reached `finish` succeeded, however the connection then ended;
        // a benchmark session, by ending.
        if (session->finished() || (benchmark && closed.ok())) return Status::OK();
        return Status::Aborted(fmt::format("backup ended without finish ({})",
                                           closed.ok() ? "connection closed" : closed.ToString()));
      });
  return Upgrade(call, kBackupProtocol, benchmark ? "benchmark" : "backup",
                 fmt::format("{}:{}", store_name, group.ToString()), service);
}

Result<ApiReply> StartReader(ApiCall& call) {
  const Params& params = call.params();
  std::string store_name = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotFrom(params));
  // Datastore.Read, or Datastore.Backup and the group's ownership.
  std::string acl_path = DatastoreAclPath(store_name, ns);
  uint64_t privs = call.Privileges(acl_path);
  bool may_read = (privs & priv::kDatastoreRead) != 0;
  if (!may_read && (privs & priv::kDatastoreBackup) == 0) {
    return Status::PermissionDenied(fmt::format("no permissions on {}", acl_path));
  }
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened,
                         call.context().stores().Open(store_name, Operation::kRead));
  CAIRN_RETURN_IF_ERROR(CheckUpgrade(call.request(), kReaderProtocol));
  CAIRN_ASSIGN_OR_RETURN(bool ns_exists, opened.store->NamespaceExists(ns));
  if (!ns_exists) return Status::NotFound("namespace not found");
  if (!may_read) {
    auto owner = opened.store->GetOwner(ns, snap.group);
    if (!owner.ok() || !call.Owns(*owner)) {
      return Status::PermissionDenied("backup owner check failed!");
    }
  }
  auto service = std::make_shared<SessionService>();
  auto shared_store = std::make_shared<OpenStore>(std::move(opened));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ReaderSession> reader,
                         ReaderSession::Open(*shared_store->store, ns, snap, service->log()));
  std::shared_ptr<ReaderSession> session = std::move(reader);
  service->log().Info("starting reader session on {} in {}{}", snap.ToString(), store_name,
                      ns.IsRoot() ? "" : " namespace " + ns.ToString());
  service->SetSession([session, shared_store](
                          const http::ServerRequest& request) { return session->Handle(request); },
                      [session](const Status& closed) { return closed; });
  return Upgrade(call, kReaderProtocol, "reader",
                 fmt::format("{}:{}/{:08X}", store_name, snap.group.ToString(), snap.time),
                 service);
}

}  // namespace

void AddProtocolRoutes(Router& router) {
  router.Add(
      {.method = "GET",
       .path = "/backup",
       .description = "Upgrade to PBS's backup protocol (Upgrade: proxmox-backup-protocol-v1): "
                      "HTTP/2 on the same connection, a task `backup` (docs/protocol.md).",
       .params = {ParamSpec::String("store", "Datastore name.", 32).Required(), NamespaceParam(),
                  BackupTypeParam(), BackupIdParam(), BackupTimeParam(),
                  ParamSpec::Boolean("debug", "Ignored (the client's debug mode)."),
                  ParamSpec::Boolean("benchmark", "A benchmark session (host/benchmark)."),
                  ParamSpec::Boolean("no-cache",
                                     "Do not keep new chunks in the local cache of "
                                     "an S3 store.")},
       .access = Access::Handler("Datastore.Backup on the namespace, and ownership of the group"),
       .handler = StartBackup});
  router.Add({.method = "GET",
              .path = "/reader",
              .description =
                  "Upgrade to PBS's reader protocol (Upgrade: "
                  "proxmox-backup-reader-protocol-v1): HTTP/2 on the same connection, a task "
                  "`reader` (docs/protocol.md).",
              .params = {ParamSpec::String("store", "Datastore name.", 32).Required(),
                         NamespaceParam(), BackupTypeParam(), BackupIdParam(), BackupTimeParam(),
                         ParamSpec::Boolean("debug", "Ignored (the client's debug mode).")},
              .access = Access::Handler("Datastore.Read on the namespace, or Datastore.Backup and "
                                        "ownership of the group"),
              .handler = StartReader});
}

}  // namespace cairn::server

// Routes that start jobs on a datastore as tasks: garbage collection, verify, prune and the S3
// metadata refresh. Each answers the task's UPID at once; the job's lines go to its task log
// and an abort (DELETE nodes/localhost/tasks/{upid}) stops it between units of work.
#include <fmt/format.h>

#include "config/datastore_tuning.h"
#include "datastore/jobs/gc.h"
#include "datastore/jobs/prune.h"
#include "datastore/jobs/verify.h"
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

using nlohmann::json;

// Opens `store` for `op` (failing fast: unknown store, maintenance mode) and runs `work` on it as
// a task; the store stays open, its operation running, until the task ends.
Result<ApiReply> SpawnStoreTask(ApiCall& call, const std::string& store, Operation op,
                                std::string_view worker_type, std::string_view worker_id,
                                std::function<Status(Datastore&, const JobControl&)> work,
                                bool unique = false) {
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, op));
  auto shared = std::make_shared<OpenStore>(std::move(opened));
  CAIRN_ASSIGN_OR_RETURN(Upid upid, call.context().tasks().Spawn(
                                        worker_type, worker_id, call.auth_id().ToString(),
                                        [shared, work = std::move(work)](const JobControl& job) {
                                          return work(*shared->store, job);
                                        },
                                        unique));
  return ApiReply(upid.ToString());
}

Result<ApiReply> StartGc(ApiCall& call) {
  std::string store = call.params().String("store");
  if (call.context().tasks().IsRunning("garbage_collection", store)) {
    return Status::Busy("garbage collection already running");
  }
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, call.context().stores().LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreEntry entry, config.Get(store));
  GcOptions tuned;
  config::ApplyTuning(entry.tuning, tuned);
  return SpawnStoreTask(
      call, store, Operation::kWrite, "garbage_collection", store,
      [store, tuned](Datastore& ds, const JobControl& job) -> Status {
        GcOptions options = tuned;
        options.store_name = store;
        options.job = job;
        job.Info("starting garbage collection on store {} (atime cutoff {} minutes)", store,
                 options.atime_cutoff_minutes);
        CAIRN_ASSIGN_OR_RETURN(GcStatus status, RunGarbageCollection(ds, options));
        job.Info("Removed garbage: {} chunks, {} bytes", status.sweep.removed_chunks,
                 status.sweep.removed_bytes);
        job.Info("Pending removals: {} chunks (younger than the cutoff)",
                 status.sweep.pending_chunks);
        job.Info("Original data usage: {} bytes in {} index files", status.index_data_bytes,
                 status.index_file_count);
        job.Info("On-disk chunks: {}", status.sweep.disk_chunks);
        return Status::OK();
      },
      /*unique=*/true);
}

Result<ApiReply> GcStatusOf(ApiCall& call) {
  std::string store = call.params().String("store");
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kLookup));
  CAIRN_ASSIGN_OR_RETURN(auto status, LoadGcStatus(*opened.store));
  json out = status ? GcStatusToJson(*status) : json::object();
  out["store"] = store;
  return ApiReply(std::move(out));
}

std::string NsPart(const BackupNamespace& ns) {
  return ns.IsRoot() ? "" : ns.ToString() + ":";
}

Result<ApiReply> StartVerify(ApiCall& call) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(
      NamespaceAccess access,
      call.CheckNamespace(store, ns, priv::kDatastoreVerify, priv::kDatastoreBackup));
  VerifyTarget target;
  target.ns = ns;
  std::string worker_type = "verify";
  std::string worker_id = store + (ns.IsRoot() ? "" : ":" + ns.ToString());
  if (params.Has("backup-type") || params.Has("backup-id")) {
    CAIRN_ASSIGN_OR_RETURN(BackupGroup group, GroupFrom(params));
    target.group = group;
    worker_type = "verify_group";
    worker_id = fmt::format("{}:{}{}", store, NsPart(ns), group.ToString());
    if (params.Has("backup-time")) {
      CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotFrom(params));
      target.snapshot = snap;
      worker_type = "verify_snapshot";
      worker_id = fmt::format("{}:{}{}/{:08X}", store, NsPart(ns), group.ToString(), snap.time);
    }
  } else if (params.Has("backup-time")) {
    return Status::InvalidArgument("backup-time needs backup-type and backup-id");
  }
  if (access == NamespaceAccess::kPartialOwnedOnly && !target.group) {
    return Status::PermissionDenied(
        "permission check failed - verifying a whole namespace needs Datastore.Verify");
  }
  CAIRN_ASSIGN_OR_RETURN(OpenStore probe, call.context().stores().Open(store, Operation::kLookup));
  if (target.group) {
    CAIRN_ASSIGN_OR_RETURN(std::string owner, probe.store->GetOwner(ns, *target.group));
    CAIRN_RETURN_IF_ERROR(call.RequireOwner(access, owner));
  }
  VerifyOptions options;
  options.ignore_verified = params.Boolean("ignore-verified", true);
  if (auto days = params.OptInteger("outdated-after")) options.outdated_after_days = *days;
  options.read_threads = static_cast<unsigned>(params.Integer("read-threads", 0));
  options.verify_threads = static_cast<unsigned>(params.Integer("verify-threads", 4));
  options.node = call.context().node();
  options.auth_id = call.auth_id().ToString();
  options.worker_id = worker_id;
  CAIRN_RETURN_IF_ERROR(ValidateVerifyOptions(options));
  return SpawnStoreTask(
      call, store, Operation::kRead, worker_type, worker_id,
      [target, options](Datastore& ds, const JobControl& job) mutable -> Status {
        options.job = job;
        options.on_snapshot = [&job](const SnapshotVerifyResult& result) {
          job.Info("verify {}: {}", result.snapshot.ToString(), VerifyVerdictName(result.verdict));
          // A skipped snapshot's "problems" say why it was skipped (verified recently, in
          // use): not warnings, or every verify after the first would end with some.
          for (const std::string& problem : result.problems) {
            if (result.verdict == VerifyVerdict::kSkipped) {
              job.Info("  {}", problem);
            } else {
              job.Warn("  {}", problem);
            }
          }
        };
        CAIRN_ASSIGN_OR_RETURN(VerifyReport report, RunVerify(ds, target, options));
        size_t failed = report.Count(VerifyVerdict::kFailed);
        job.Info("verified {} snapshot(s), {} chunks ({} bytes)", report.snapshots.size(),
                 report.chunks_checked, report.bytes_read);
        if (failed > 0) {
          return Status::Corruption(fmt::format("verification failed on {} snapshot(s)", failed));
        }
        return Status::OK();
      });
}

std::vector<ParamSpec> KeepParams() {
  std::vector<ParamSpec> out;
  for (const char* period : {"last", "hourly", "daily", "weekly", "monthly", "yearly"}) {
    out.push_back(ParamSpec::Integer(std::string("keep-") + period,
                                     std::string("Number of ") + period + " backups to keep.", 1,
                                     1000000));
  }
  return out;
}

KeepOptions KeepFrom(const Params& params) {
  KeepOptions keep;
  keep.last = static_cast<uint64_t>(params.Integer("keep-last", 0));
  keep.hourly = static_cast<uint64_t>(params.Integer("keep-hourly", 0));
  keep.daily = static_cast<uint64_t>(params.Integer("keep-daily", 0));
  keep.weekly = static_cast<uint64_t>(params.Integer("keep-weekly", 0));
  keep.monthly = static_cast<uint64_t>(params.Integer("keep-monthly", 0));
  keep.yearly = static_cast<uint64_t>(params.Integer("keep-yearly", 0));
  return keep;
}

json PruneEntriesJson(const std::vector<PruneEntry>& entries) {
  json out = json::array();
  for (const PruneEntry& entry : entries) {
    out.push_back({{"backup-type", BackupTypeName(entry.snapshot.group.type)},
                   {"backup-id", entry.snapshot.group.id},
                   {"backup-time", entry.snapshot.time},
                   {"keep", IsKept(entry.mark)},
                   {"protected", entry.mark == PruneMark::kProtected}});
  }
  return out;
}

void LogPrune(const JobControl& job, const std::vector<PruneEntry>& entries, bool dry_run) {
  for (const PruneEntry& entry : entries) {
    job.Info("{} {}", entry.snapshot.ToString(),
             IsKept(entry.mark) ? "keep" : (dry_run ? "would remove" : "remove"));
  }
}

Result<ApiReply> PruneGroupRoute(ApiCall& call) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, GroupFrom(params));
  CAIRN_ASSIGN_OR_RETURN(
      NamespaceAccess access,
      call.CheckNamespace(store, ns, priv::kDatastoreModify, priv::kDatastorePrune));
  CAIRN_ASSIGN_OR_RETURN(OpenStore opened, call.context().stores().Open(store, Operation::kWrite));
  CAIRN_ASSIGN_OR_RETURN(std::string owner, opened.store->GetOwner(ns, group));
  CAIRN_RETURN_IF_ERROR(call.RequireOwner(access, owner));
  KeepOptions keep = KeepFrom(params);
  bool dry_run = params.Boolean("dry-run", false);
  if (!params.Boolean("use-task", false)) {
    std::vector<PruneEntry> entries;
    CAIRN_RETURN_IF_ERROR(
        PruneGroup(*opened.store, ns, group, keep, dry_run, &entries, JobControl()));
    return ApiReply(PruneEntriesJson(entries));
  }
  std::string worker_id = fmt::format("{}:{}{}", store, NsPart(ns), group.ToString());
  return SpawnStoreTask(call, store, Operation::kWrite, "prune", worker_id,
                        [ns, group, keep, dry_run](Datastore& ds, const JobControl& job) {
                          std::vector<PruneEntry> entries;
                          Status status = PruneGroup(ds, ns, group, keep, dry_run, &entries, job);
                          LogPrune(job, entries, dry_run);
                          return status;
                        });
}

Result<ApiReply> PruneDatastore(ApiCall& call) {
  const Params& params = call.params();
  std::string store = params.String("store");
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, NamespaceFrom(params));
  CAIRN_ASSIGN_OR_RETURN(
      NamespaceAccess access,
      call.CheckNamespace(store, ns, priv::kDatastoreModify, priv::kDatastorePrune));
  KeepOptions keep = KeepFrom(params);
  if (!keep.KeepsSomething()) {
    return Status::InvalidArgument("prune-datastore needs at least one keep option");
  }
  bool dry_run = params.Boolean("dry-run", false);
  int64_t max_depth = params.Integer("max-depth", 7);
  std::string worker_id = store + (ns.IsRoot() ? "" : ":" + ns.ToString());
  // Which groups the caller may prune is decided now, from who they are.
  std::function<bool(const std::string&)> may_prune = [](const std::string&) { return true; };
  if (access == NamespaceAccess::kPartialOwnedOnly) {
    Authid caller = call.auth_id();
    may_prune = [caller](const std::string& owner) { return ApiCall::IsOwner(owner, caller); };
  }
  return SpawnStoreTask(
      call, store, Operation::kWrite, "prune", worker_id,
      [ns, keep, dry_run, max_depth, may_prune](Datastore& ds, const JobControl& job) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto below, ds.ListNamespaces(ns, /*recursive=*/true));
        std::vector<BackupNamespace> namespaces{ns};
        for (const BackupNamespace& child : below) {
          if (static_cast<int64_t>(child.depth() - ns.depth()) <= max_depth) {
            namespaces.push_back(child);
          }
        }
        for (const BackupNamespace& current : namespaces) {
          CAIRN_ASSIGN_OR_RETURN(auto groups, ds.ListGroups(current));
          for (const BackupGroup& group : groups) {
            CAIRN_RETURN_IF_ERROR(job.CheckCancelled("prune"));
            auto owner = ds.GetOwner(current, group);
            if (!owner.ok() || !may_prune(*owner)) continue;
            job.Info("pruning group {} in namespace '{}'", group.ToString(), current.ToString());
            std::vector<PruneEntry> entries;
            Status status = PruneGroup(ds, current, group, keep, dry_run, &entries, job);
            LogPrune(job, entries, dry_run);
            if (status.IsBusy()) {
              job.Warn("skipped group {}: {}", group.ToString(), status.message());
              continue;
            }
            if (!status.ok() && !status.IsNotFound()) return status;
          }
        }
        return Status::OK();
      });
}

Result<ApiReply> S3Refresh(ApiCall& call) {
  std::string store = call.params().String("store");
  return SpawnStoreTask(
      call, store, Operation::kLookup, "s3-refresh", store,
      [](Datastore& ds, const JobControl& job) -> Status {
        job.Info("refreshing the local metadata from the bucket");
        CAIRN_ASSIGN_OR_RETURN(RefreshReport report,
                               ds.RefreshFromBackend(std::chrono::seconds(60)));
        job.Info("{} metadata files written, {} namespaces, in {:.1f} s", report.download.files,
                 report.download.namespaces, report.seconds);
        for (const std::string& key : report.download.skipped) {
          job.Warn("skipped invalid key {}", key);
        }
        return Status::OK();
      },
      /*unique=*/true);
}

const std::string kBase = "/admin/datastore/{store}";

}  // namespace

void AddDatastoreJobRoutes(Router& router) {
  router.Add({.method = "GET",
              .path = kBase + "/gc",
              .description = "The result of the last garbage collection.",
              .params = {StoreParam()},
              .access = Access::Privileges("/datastore/{store}", priv::kDatastoreAudit),
              .handler = GcStatusOf});
  router.Add({.method = "POST",
              .path = kBase + "/gc",
              .description = "Start garbage collection (task garbage_collection).",
              .params = {StoreParam()},
              .access = Access::Privileges("/datastore/{store}", priv::kDatastoreModify),
              .handler = StartGc});
  router.Add({.method = "POST",
              .path = kBase + "/verify",
              .description = "Verify a namespace, group or snapshot (task verify, verify_group or "
                             "verify_snapshot).",
              .params = {StoreParam(), NamespaceParam(), BackupTypeParam(true), BackupIdParam(true),
                         BackupTimeParam(true),
                         ParamSpec::Boolean("ignore-verified",
                                            "Skip snapshots verified ok before (default true)."),
                         ParamSpec::Integer("outdated-after",
                                            "Re-verify snapshots verified more than this many "
                                            "days ago.",
                                            0),
                         ParamSpec::Integer("read-threads", "Chunks read at once.", 1, 32),
                         ParamSpec::Integer("verify-threads", "Chunks checked at once.", 1, 32)},
              .access = Access::Handler("Datastore.Verify on the namespace, or Datastore.Backup "
                                        "for an owned group or snapshot"),
              .handler = StartVerify});
  std::vector<ParamSpec> prune_params = GroupParams(KeepParams());
  prune_params.push_back(ParamSpec::Boolean("dry-run", "Only report what would be removed."));
  prune_params.push_back(ParamSpec::Boolean("use-task", "Run as a task and answer its UPID."));
  router.Add({.method = "POST",
              .path = kBase + "/prune",
              .description = "Prune a group by the keep options.",
              .params = prune_params,
              .access = Access::Handler("Datastore.Modify on the namespace, or Datastore.Prune "
                                        "for owned groups"),
              .handler = PruneGroupRoute});
  std::vector<ParamSpec> store_prune = KeepParams();
  store_prune.insert(store_prune.begin(), {StoreParam(), NamespaceParam()});
  store_prune.push_back(ParamSpec::Boolean("dry-run", "Only report what would be removed."));
  store_prune.push_back(
      ParamSpec::Integer("max-depth", "Namespace levels to descend (default 7).", 0, 7));
  router.Add({.method = "POST",
              .path = kBase + "/prune-datastore",
              .description = "Prune every group of a namespace and those below (task prune).",
              .params = store_prune,
              .access = Access::Handler("Datastore.Modify on the namespace, or Datastore.Prune "
                                        "(then owned groups only)"),
              .handler = PruneDatastore});
  router.Add({.method = "PUT",
              .path = kBase + "/s3-refresh",
              .description = "Rebuild an S3 datastore's local metadata from its bucket (task "
                             "s3-refresh).",
              .params = {StoreParam()},
              .access = Access::Privileges("/datastore/{store}", priv::kDatastoreModify),
              .handler = S3Refresh});
}

}  // namespace cairn::server

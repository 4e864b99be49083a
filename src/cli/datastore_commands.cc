// cairn datastore create|list|show|remove|maintenance|s3-refresh

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/units.h"
#include "cli/context.h"
#include "config/datastore_admin.h"
#include "types/backup_names.h"

namespace cairn::cli {
namespace {

Result<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path[0] == '/') return path;
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return Status::IOError("cannot determine cwd");
  return JoinPath(buf, path);
}

struct CreateArgs {
  std::string name, path, backend = "filesystem", s3_endpoint, bucket, max_cache_size, tuning;
  bool reuse = false, overwrite_in_use = false;
};

Status CreateDatastore(const Context& ctx, const CreateArgs& args) {
  // The command's own flags are named in its errors; the library checks the rest.
  if (args.backend == "filesystem" &&
      (!args.s3_endpoint.empty() || !args.bucket.empty() || args.reuse)) {
    return Status::InvalidArgument("--s3-endpoint, --bucket and --reuse need --backend s3");
  }
  if (args.backend == "s3" && (args.s3_endpoint.empty() || args.bucket.empty())) {
    return Status::InvalidArgument("--backend s3 needs --s3-endpoint and --bucket");
  }
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
  config::CreateDatastoreRequest request;
  request.name = args.name;
  CAIRN_ASSIGN_OR_RETURN(request.path, AbsolutePath(args.path));
  request.backend = args.backend;
  request.s3_endpoint = args.s3_endpoint;
  request.bucket = args.bucket;
  if (!args.max_cache_size.empty()) {
    if (args.backend != "s3") return Status::InvalidArgument("--max-cache-size needs --backend s3");
    CAIRN_ASSIGN_OR_RETURN(request.max_cache_size, ParseByteSize(args.max_cache_size));
  }
  CAIRN_ASSIGN_OR_RETURN(request.tuning, config::ParseDatastoreTuning(args.tuning));
  request.reuse = args.reuse;
  request.overwrite_in_use = args.overwrite_in_use;
  request.hostname = HostName();
  CAIRN_ASSIGN_OR_RETURN(config::CreateDatastoreOutcome outcome,
                         config::CreateDatastore(config, request));
  ctx.Emit(outcome.report, outcome.summary);
  return Status::OK();
}

Status ShowDatastore(const Context& ctx, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(name, Operation::kRead));
  CAIRN_ASSIGN_OR_RETURN(auto namespaces, store->ListNamespaces({}, true));
  namespaces.insert(namespaces.begin(), BackupNamespace());
  size_t groups = 0, snapshots = 0;
  for (const auto& ns : namespaces) {
    CAIRN_ASSIGN_OR_RETURN(auto list, store->ListGroups(ns));
    groups += list.size();
    for (const auto& g : list) {
      CAIRN_ASSIGN_OR_RETURN(auto snaps, store->ListSnapshots(ns, g));
      snapshots += snaps.size();
    }
  }
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode mode, store->GetMaintenanceMode());
  const std::string where = store->backend().Describe();
  ctx.Emit({{"name", name},
            {"path", store->path()},
            {"backend", store->backend().Kind()},
            {"location", where},
            {"maintenance-mode", MaintenanceTypeName(mode.type)},
            {"namespaces", namespaces.size() - 1},
            {"groups", groups},
            {"snapshots", snapshots}},
           fmt::format("name:        {}\npath:        {}\nbackend:     {}\nlocation:    {}\n"
                       "maintenance: {}\nnamespaces:  {}\ngroups:      {}\nsnapshots:   {}",
                       name, store->path(), store->backend().Kind(), where,
                       MaintenanceTypeName(mode.type), namespaces.size() - 1, groups, snapshots));
  return Status::OK();
}

Status RemoveDatastore(const Context& ctx, const std::string& name, bool destroy,
                       unsigned wait_seconds) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreEntry entry, config.Get(name));
  CAIRN_RETURN_IF_ERROR(config::RemoveDatastore(config, name, destroy,
                                                std::chrono::seconds(wait_seconds), JobControl()));
  ctx.Emit({{"name", name}, {"data-destroyed", destroy}},
           fmt::format("removed datastore '{}'{}", name,
                       destroy ? " and its data" : " (data kept at " + entry.path + ")"));
  return Status::OK();
}

}  // namespace

void AddDatastoreCommands(CLI::App& app, Context& ctx) {
  auto* ds = app.add_subcommand("datastore", "Manage datastores");
  ds->require_subcommand(1);

  auto c = std::make_shared<CreateArgs>();
  auto* create =
      ds->add_subcommand("create", "Create (or with --reuse attach) a datastore and register it");
  create->add_option("NAME", c->name, "Datastore name (also the key prefix in a bucket)")
      ->required();
  create->add_option("PATH", c->path, "Directory (created; must be empty); the cache for S3")
      ->required();
  create->add_option("--backend", c->backend, "filesystem (default) or s3")
      ->check(CLI::IsMember({"filesystem", "s3"}));
  create->add_option("--s3-endpoint", c->s3_endpoint, "S3 endpoint id (cairn s3 endpoint create)");
  create->add_option("--bucket", c->bucket, "Bucket (several datastores may share one)");
  create->add_option("--max-cache-size", c->max_cache_size,
                     "Bound of the local chunk cache, e.g. 64G (default: half the free space)");
  create->add_option("--tuning", c->tuning,
                     "Job settings: gc-atime-cutoff=MINUTES,gc-atime-safety-check=BOOL,"
                     "gc-cache-capacity=DIGESTS (any of them)");
  create->add_flag("--reuse", c->reuse, "Attach to the datastore already in the bucket");
  create->add_flag("--overwrite-in-use", c->overwrite_in_use,
                   "Take over a bucket prefix another host marked as in use");
  create->callback([&ctx, c] { ctx.action = [&ctx, c] { return CreateDatastore(ctx, *c); }; });

  auto* list = ds->add_subcommand("list", "List configured datastores");
  list->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
      nlohmann::json out = nlohmann::json::array();
      std::vector<std::vector<std::string>> rows;
      for (const auto& [name, entry] : config.datastores()) {
        nlohmann::json item = {{"name", name}, {"path", entry.path}, {"backend", entry.backend}};
        std::string where = entry.path;
        if (entry.backend == "s3") {
          item["s3-endpoint"] = entry.s3_endpoint;
          item["bucket"] = entry.bucket;
          where = fmt::format("s3://{}/{}/{}/ (cache {})", entry.s3_endpoint, entry.bucket, name,
                              entry.path);
        }
        if (!entry.tuning.empty()) item["tuning"] = config::FormatDatastoreTuning(entry.tuning);
        out.push_back(std::move(item));
        rows.push_back({name, entry.backend, where});
      }
      ctx.Emit(out, rows.empty() ? "no datastores configured"
                                 : FormatTable({"NAME", "BACKEND", "LOCATION"}, rows));
      return Status::OK();
    };
  });

  auto show_name = std::make_shared<std::string>();
  auto* show = ds->add_subcommand("show", "Show a datastore's configuration and contents");
  show->add_option("NAME", *show_name, "Datastore name")->required();
  show->callback([&ctx, show_name] {
    ctx.action = [&ctx, show_name] { return ShowDatastore(ctx, *show_name); };
  });

  struct RemoveArgs {
    std::string name;
    bool destroy = false;
    unsigned wait_seconds = 0;
  };
  auto remove_args = std::make_shared<RemoveArgs>();
  auto* remove = ds->add_subcommand("remove", "Unregister a datastore (data is kept)");
  remove->add_option("NAME", remove_args->name, "Datastore name")->required();
  remove->add_flag("--destroy-data", remove_args->destroy,
                   "Also delete the datastore's data (directory, and objects in the bucket)");
  remove->add_option("--wait", remove_args->wait_seconds,
                     "Seconds to wait for running operations to end (default 0: refuse at once)");
  remove->callback([&ctx, remove_args] {
    ctx.action = [&ctx, remove_args] {
      return RemoveDatastore(ctx, remove_args->name, remove_args->destroy,
                             remove_args->wait_seconds);
    };
  });

  struct MaintenanceArgs {
    std::string name, mode, message;
  };
  auto m = std::make_shared<MaintenanceArgs>();
  auto* maintenance =
      ds->add_subcommand("maintenance", "Show or set a datastore's maintenance mode");
  maintenance->add_option("NAME", m->name, "Datastore name")->required();
  maintenance->add_option("--mode", m->mode, "none, read-only or offline");
  maintenance->add_option("--message", m->message, "Why (shown to blocked commands)");
  maintenance->callback([&ctx, m] {
    ctx.action = [&ctx, m]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(m->name, Operation::kLookup));
      if (!m->mode.empty()) {
        CAIRN_ASSIGN_OR_RETURN(MaintenanceType type, ParseMaintenanceType(m->mode));
        CAIRN_RETURN_IF_ERROR(store->SetMaintenanceMode({type, m->message}));
      }
      CAIRN_ASSIGN_OR_RETURN(MaintenanceMode mode, store->GetMaintenanceMode());
      ctx.Emit(
          {{"name", m->name}, {"mode", MaintenanceTypeName(mode.type)}, {"message", mode.message}},
          fmt::format("datastore '{}': maintenance mode {}{}", m->name,
                      MaintenanceTypeName(mode.type),
                      mode.message.empty() ? "" : " (" + mode.message + ")"));
      return Status::OK();
    };
  });

  struct TuningArgs {
    std::string name, set;
    bool clear = false;
  };
  auto t = std::make_shared<TuningArgs>();
  auto* tuning = ds->add_subcommand(
      "tuning", "Show or set a datastore's job settings (garbage collection's atime cutoff...)");
  tuning->add_option("NAME", t->name, "Datastore name")->required();
  auto* set = tuning->add_option(
      "--set", t->set,
      "gc-atime-cutoff=MINUTES (1..2880),gc-atime-safety-check=BOOL,gc-cache-capacity=DIGESTS "
      "(0..8388608); keys left out keep their defaults");
  tuning->add_flag("--clear", t->clear, "Back to the defaults")->excludes(set);
  tuning->callback([&ctx, t] {
    ctx.action = [&ctx, t]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
      CAIRN_ASSIGN_OR_RETURN(config::DatastoreEntry entry, config.Get(t->name));
      if (!t->set.empty() || t->clear) {
        CAIRN_ASSIGN_OR_RETURN(entry.tuning, config::ParseDatastoreTuning(t->set));
        CAIRN_RETURN_IF_ERROR(config.SetTuning(t->name, entry.tuning));
      }
      GcOptions effective;
      config::ApplyTuning(entry.tuning, effective);
      std::string text = config::FormatDatastoreTuning(entry.tuning);
      ctx.Emit(
          {{"name", t->name},
           {"tuning", text},
           {"gc-atime-cutoff", effective.atime_cutoff_minutes},
           {"gc-atime-safety-check", effective.atime_safety_check},
           {"gc-cache-capacity", effective.cache_capacity}},
          fmt::format("datastore '{}': tuning {}\n  gc-atime-cutoff {} minutes, "
                      "gc-atime-safety-check {}, gc-cache-capacity {}",
                      t->name, text.empty() ? "(defaults)" : text, effective.atime_cutoff_minutes,
                      effective.atime_safety_check ? "on" : "off", effective.cache_capacity));
      return Status::OK();
    };
  });

  struct RefreshArgs {
    std::string name;
    unsigned wait_seconds = 600;
  };
  auto r = std::make_shared<RefreshArgs>();
  auto* refresh = ds->add_subcommand(
      "s3-refresh", "Rebuild the local metadata of an S3 datastore from its bucket");
  refresh->add_option("NAME", r->name, "Datastore name")->required();
  refresh->add_option("--wait", r->wait_seconds,
                      "Seconds to wait for running operations to end (default 600)");
  refresh->callback([&ctx, r] {
    ctx.action = [&ctx, r]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(r->name, Operation::kLookup));
      CAIRN_ASSIGN_OR_RETURN(RefreshReport report,
                             store->RefreshFromBackend(std::chrono::seconds(r->wait_seconds)));
      std::string text =
          fmt::format("refreshed datastore '{}': {} metadata files, {} namespaces in {:.2f}s",
                      r->name, report.download.files, report.download.namespaces, report.seconds);
      for (const auto& key : report.download.skipped) text += "\n  skipped invalid key: " + key;
      ctx.Emit({{"name", r->name},
                {"files", report.download.files},
                {"namespaces", report.download.namespaces},
                {"skipped", report.download.skipped},
                {"duration", report.seconds}},
               text);
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

// cairn datastore create|list|show|remove

#include <fmt/format.h>

#include "base/file_util.h"
#include "cli/context.h"
#include "datastore/names.h"

namespace cairn::cli {
namespace {

Result<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path[0] == '/') return path;
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return Status::IOError("cannot determine cwd");
  return JoinPath(buf, path);
}

}  // namespace

void AddDatastoreCommands(CLI::App& app, Context& ctx) {
  auto* ds = app.add_subcommand("datastore", "Manage datastores");
  ds->require_subcommand(1);

  struct CreateArgs { std::string name, path; };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = ds->add_subcommand("create", "Create a local datastore and register it");
  create->add_option("NAME", create_args->name, "Datastore name")->required();
  create->add_option("PATH", create_args->path, "Directory (created; must be empty)")->required();
  create->callback([&ctx, create_args] {
    ctx.action = [&ctx, create_args]() -> Status {
      CAIRN_RETURN_IF_ERROR(ValidateDatastoreName(create_args->name));
      CAIRN_ASSIGN_OR_RETURN(std::string path, AbsolutePath(create_args->path));
      CAIRN_ASSIGN_OR_RETURN(Config config, ctx.LoadConfig());
      if (config.datastores().count(create_args->name)) {
        return Status::AlreadyExists(fmt::format("datastore '{}' is already configured", create_args->name));
      }
      CAIRN_RETURN_IF_ERROR(Datastore::CreateFilesystem(path).status());
      CAIRN_RETURN_IF_ERROR(config.Add(create_args->name, DatastoreEntry{path, "filesystem"}));
      ctx.Emit({{"name", create_args->name}, {"path", path}, {"backend", "filesystem"}},
               fmt::format("created datastore '{}' at {}", create_args->name, path));
      return Status::OK();
    };
  });

  auto* list = ds->add_subcommand("list", "List configured datastores");
  list->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(Config config, ctx.LoadConfig());
      nlohmann::json out = nlohmann::json::array();
      std::vector<std::vector<std::string>> rows;
      for (const auto& [name, entry] : config.datastores()) {
        out.push_back({{"name", name}, {"path", entry.path}, {"backend", entry.backend}});
        rows.push_back({name, entry.backend, entry.path});
      }
      ctx.Emit(out, rows.empty() ? "no datastores configured"
                                 : FormatTable({"NAME", "BACKEND", "PATH"}, rows));
      return Status::OK();
    };
  });

  auto show_name = std::make_shared<std::string>();
  auto* show = ds->add_subcommand("show", "Show a datastore's configuration and contents");
  show->add_option("NAME", *show_name, "Datastore name")->required();
  show->callback([&ctx, show_name] {
    ctx.action = [&ctx, show_name]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(*show_name));
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
      ctx.Emit({{"name", *show_name}, {"path", store->path()},
                {"backend", store->backend().Kind()}, {"namespaces", namespaces.size() - 1},
                {"groups", groups}, {"snapshots", snapshots}},
               fmt::format("name:       {}\npath:       {}\nbackend:    {}\nnamespaces: {}\n"
                           "groups:     {}\nsnapshots:  {}",
                           *show_name, store->path(), store->backend().Kind(),
                           namespaces.size() - 1, groups, snapshots));
      return Status::OK();
    };
  });

  struct RemoveArgs { std::string name; bool destroy = false; };
  auto remove_args = std::make_shared<RemoveArgs>();
  auto* remove = ds->add_subcommand("remove", "Unregister a datastore (data is kept)");
  remove->add_option("NAME", remove_args->name, "Datastore name")->required();
  remove->add_flag("--destroy-data", remove_args->destroy, "Also delete the datastore's directory");
  remove->callback([&ctx, remove_args] {
    ctx.action = [&ctx, remove_args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(Config config, ctx.LoadConfig());
      CAIRN_ASSIGN_OR_RETURN(DatastoreEntry entry, config.Get(remove_args->name));
      if (remove_args->destroy) {
        // Only delete what is verifiably a datastore.
        CAIRN_RETURN_IF_ERROR(Datastore::OpenFilesystem(entry.path).status());
        CAIRN_RETURN_IF_ERROR(RemoveTree(entry.path));
      }
      CAIRN_RETURN_IF_ERROR(config.Remove(remove_args->name));
      ctx.Emit({{"name", remove_args->name}, {"data-destroyed", remove_args->destroy}},
               fmt::format("removed datastore '{}'{}", remove_args->name,
                           remove_args->destroy ? " and its data" : " (data kept at " + entry.path + ")"));
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

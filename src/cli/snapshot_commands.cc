// cairn snapshot list|files|forget|notes|protect, cairn group list|notes|remove,
// cairn namespace create|list|remove

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/time.h"
#include "cli/context.h"
#include "cli/remote.h"

namespace cairn::cli {
namespace {

// Options every command here shares.
struct Target {
  std::string store = config::kDefaultStoreName;
  std::string ns;
  std::string object;  // GROUP or SNAPSHOT, depending on the command
};

void AddTargetOptions(CLI::App* cmd, Target& t) {
  cmd->add_option("--store", t.store, "Datastore name");
  cmd->add_option("--ns", t.ns, "Namespace");
}

// Registers a subcommand whose action receives the opened store, the namespace and `Target`,
// or, with --repository, the server's client (remote.h).
using Body =
    std::function<Status(const Context&, Datastore&, const BackupNamespace&, const Target&)>;
using RemoteBody = std::function<Status(const Context&, client::ApiClient&, const BackupNamespace&,
                                        const Target&)>;
CLI::App* AddCommand(CLI::App* parent, Context& ctx, const std::string& name,
                     const std::string& help, Operation op, std::shared_ptr<Target> t, Body body,
                     RemoteBody remote) {
  auto* cmd = parent->add_subcommand(name, help);
  AddTargetOptions(cmd, *t);
  cmd->callback([&ctx, op, t, body, remote] {
    ctx.action = [&ctx, op, t, body, remote]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(t->ns));
      if (ctx.remote()) {
        if (t->store != config::kDefaultStoreName) {
          return Status::InvalidArgument(
              "--store and --repository exclude each other (the repository names the store)");
        }
        CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
        return remote(ctx, *api, ns, *t);
      }
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(t->store, op));
      return body(ctx, *store, ns, *t);
    };
  });
  return cmd;
}

Status ListSnapshots(const Context& ctx, Datastore& store, const BackupNamespace& ns,
                     const Target& t) {
  std::vector<BackupGroup> groups;
  if (t.object.empty()) {
    CAIRN_ASSIGN_OR_RETURN(groups, store.ListGroups(ns));
  } else {
    CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(t.object));
    groups.push_back(g);
  }
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups) {
    CAIRN_ASSIGN_OR_RETURN(auto snaps, store.ListSnapshots(ns, g));
    for (const auto& s : snaps) {
      nlohmann::json item = {{"backup-type", BackupTypeName(g.type)},
                             {"backup-id", g.id},
                             {"backup-time", s.ref.time},
                             {"snapshot", s.ref.ToString()},
                             {"files", s.files},
                             {"size", s.size},
                             {"protected", s.is_protected}};
      if (!s.error.empty()) item["error"] = s.error;
      out.push_back(std::move(item));
      rows.push_back(
          {s.ref.ToString(), HumanBytes(s.size), s.is_protected ? "yes" : "",
           s.error.empty() ? fmt::format("{}", fmt::join(s.files, " ")) : "DAMAGED: " + s.error});
    }
  }
  ctx.Emit(out, rows.empty() ? "no snapshots"
                             : FormatTable({"SNAPSHOT", "SIZE", "PROTECTED", "FILES"}, rows));
  return Status::OK();
}

Status ListFiles(const Context& ctx, Datastore& store, const BackupNamespace& ns, const Target& t) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(t.object));
  CAIRN_ASSIGN_OR_RETURN(Manifest m, store.LoadManifest(ns, snap));
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : m.files()) {
    out.push_back({{"filename", f.filename},
                   {"size", f.size},
                   {"crypt-mode", CryptModeName(f.crypt_mode)},
                   {"csum", DigestToHex(f.csum)}});
    rows.push_back({f.filename, HumanBytes(f.size), std::string(CryptModeName(f.crypt_mode))});
  }
  ctx.Emit(out, FormatTable({"FILE", "SIZE", "CRYPT-MODE"}, rows));
  return Status::OK();
}

Status ListGroups(const Context& ctx, Datastore& store, const BackupNamespace& ns, const Target&) {
  CAIRN_ASSIGN_OR_RETURN(auto groups, store.ListGroups(ns));
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups) {
    CAIRN_ASSIGN_OR_RETURN(GroupInfo info, store.GetGroupInfo(ns, g));
    std::string last = info.last_backup ? *FormatRfc3339Utc(*info.last_backup) : "-";
    out.push_back(
        {{"backup-type", BackupTypeName(g.type)},
         {"backup-id", g.id},
         {"backup-count", info.snapshot_count},
         {"owner", info.owner},
         {"last-backup", info.last_backup ? nlohmann::json(*info.last_backup) : nlohmann::json()}});
    rows.push_back({g.ToString(), std::to_string(info.snapshot_count), last, info.owner});
  }
  ctx.Emit(out, rows.empty() ? "no groups"
                             : FormatTable({"GROUP", "SNAPSHOTS", "LAST BACKUP", "OWNER"}, rows));
  return Status::OK();
}

}  // namespace

void AddSnapshotCommands(CLI::App& app, Context& ctx) {
  auto* snapshot = app.add_subcommand("snapshot", "List and manage snapshots");
  snapshot->require_subcommand(1);

  auto list = std::make_shared<Target>();
  AddCommand(snapshot, ctx, "list", "List finished snapshots", Operation::kRead, list,
             ListSnapshots,
             [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                const Target& t) { return RemoteListSnapshots(ctx, api, ns, t.object); })
      ->add_option("GROUP", list->object, "Only this group, e.g. vm/100");

  auto files = std::make_shared<Target>();
  AddCommand(snapshot, ctx, "files", "List a snapshot's archives", Operation::kRead, files,
             ListFiles,
             [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                const Target& t) { return RemoteSnapshotFiles(ctx, api, ns, t.object); })
      ->add_option("SNAPSHOT", files->object, "e.g. host/web1/2026-11-23T10:00:00Z")
      ->required();

  auto forget = std::make_shared<Target>();
  AddCommand(
      snapshot, ctx, "forget", "Remove a snapshot (space is freed by GC)", Operation::kWrite,
      forget,
      [](const Context& ctx, Datastore& store, const BackupNamespace& ns,
         const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(t.object));
        CAIRN_RETURN_IF_ERROR(store.ForgetSnapshot(ns, snap));
        ctx.Emit({{"removed", snap.ToString()}}, "removed snapshot " + snap.ToString());
        return Status::OK();
      },
      [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns, const Target& t) {
        return RemoteForget(ctx, api, ns, t.object);
      })
      ->add_option("SNAPSHOT", forget->object, "Snapshot to remove")
      ->required();

  auto notes = std::make_shared<Target>();
  auto notes_text = std::make_shared<std::optional<std::string>>();
  auto* notes_cmd = AddCommand(
      snapshot, ctx, "notes", "Show or set (--set) a snapshot's notes", Operation::kRead, notes,
      [notes_text](const Context& ctx, Datastore& store, const BackupNamespace& ns,
                   const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(t.object));
        if (*notes_text) {
          CAIRN_ASSIGN_OR_RETURN(OperationGuard writing, store.BeginOperation(Operation::kWrite));
          CAIRN_RETURN_IF_ERROR(store.UpdateManifest(ns, snap, [&](Manifest& m) {
            m.SetNotes(**notes_text);
            return Status::OK();
          }));
        }
        CAIRN_ASSIGN_OR_RETURN(Manifest m, store.LoadManifest(ns, snap));
        std::string value = m.notes().value_or("");
        ctx.Emit({{"snapshot", snap.ToString()}, {"notes", value}}, value);
        return Status::OK();
      },
      [notes_text](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                   const Target& t) { return RemoteNotes(ctx, api, ns, t.object, *notes_text); });
  notes_cmd->add_option("SNAPSHOT", notes->object, "Snapshot")->required();
  notes_cmd->add_option("--set", *notes_text, "New notes");

  auto protect = std::make_shared<Target>();
  auto unprotect = std::make_shared<bool>(false);
  auto* protect_cmd = AddCommand(
      snapshot, ctx, "protect", "Protect a snapshot from prune and forget (--off to undo)",
      Operation::kWrite, protect,
      [unprotect](const Context& ctx, Datastore& store, const BackupNamespace& ns,
                  const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(t.object));
        CAIRN_RETURN_IF_ERROR(store.SetProtected(ns, snap, !*unprotect));
        ctx.Emit({{"snapshot", snap.ToString()}, {"protected", !*unprotect}},
                 fmt::format("snapshot {} is {}protected", snap.ToString(),
                             *unprotect ? "no longer " : ""));
        return Status::OK();
      },
      [unprotect](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                  const Target& t) { return RemoteProtect(ctx, api, ns, t.object, !*unprotect); });
  protect_cmd->add_option("SNAPSHOT", protect->object, "Snapshot")->required();
  protect_cmd->add_flag("--off", *unprotect, "Remove the protection");

  auto* group = app.add_subcommand("group", "List and manage backup groups");
  group->require_subcommand(1);
  AddCommand(group, ctx, "list", "List groups in a namespace", Operation::kRead,
             std::make_shared<Target>(), ListGroups,
             [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                const Target&) { return RemoteListGroups(ctx, api, ns); });
  auto gnotes = std::make_shared<Target>();
  auto gnotes_text = std::make_shared<std::optional<std::string>>();
  auto* gnotes_cmd = AddCommand(
      group, ctx, "notes", "Show or set (--set) a group's notes", Operation::kRead, gnotes,
      [gnotes_text](const Context& ctx, Datastore& store, const BackupNamespace& ns,
                    const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(t.object));
        if (*gnotes_text) {
          CAIRN_ASSIGN_OR_RETURN(OperationGuard writing, store.BeginOperation(Operation::kWrite));
          CAIRN_RETURN_IF_ERROR(store.SetGroupNotes(ns, g, **gnotes_text));
        }
        CAIRN_ASSIGN_OR_RETURN(std::string value, store.GetGroupNotes(ns, g));
        ctx.Emit({{"group", g.ToString()}, {"notes", value}}, value);
        return Status::OK();
      },
      [gnotes_text](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                    const Target& t) {
        return RemoteGroupNotes(ctx, api, ns, t.object, *gnotes_text);
      });
  gnotes_cmd->add_option("GROUP", gnotes->object, "Group, e.g. vm/100")->required();
  gnotes_cmd->add_option("--set", *gnotes_text, "New notes");
  auto gremove = std::make_shared<Target>();
  AddCommand(
      group, ctx, "remove", "Remove a group's unprotected snapshots (and the group)",
      Operation::kWrite, gremove,
      [](const Context& ctx, Datastore& store, const BackupNamespace& ns,
         const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(t.object));
        CAIRN_RETURN_IF_ERROR(store.RemoveGroup(ns, g));
        ctx.Emit({{"removed", g.ToString()}}, "removed group " + g.ToString());
        return Status::OK();
      },
      [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns, const Target& t) {
        return RemoteGroupRemove(ctx, api, ns, t.object);
      })
      ->add_option("GROUP", gremove->object, "Group")
      ->required();

  auto* nscmd = app.add_subcommand("namespace", "Manage namespaces");
  nscmd->require_subcommand(1);
  auto nscreate = std::make_shared<Target>();
  AddCommand(
      nscmd, ctx, "create", "Create a namespace (its parent must exist)", Operation::kWrite,
      nscreate,
      [](const Context& ctx, Datastore& store, const BackupNamespace&, const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(t.object));
        if (ns.IsRoot()) return Status::InvalidArgument("namespace name is empty");
        CAIRN_RETURN_IF_ERROR(store.CreateNamespace(ns));
        ctx.Emit({{"created", ns.ToString()}}, "created namespace " + ns.ToString());
        return Status::OK();
      },
      [](const Context& ctx, client::ApiClient& api, const BackupNamespace&, const Target& t) {
        return RemoteNamespaceCreate(ctx, api, t.object);
      })
      ->add_option("NAMESPACE", nscreate->object, "e.g. site/a")
      ->required();
  AddCommand(
      nscmd, ctx, "list", "List namespaces below --ns (recursively)", Operation::kRead,
      std::make_shared<Target>(),
      [](const Context& ctx, Datastore& store, const BackupNamespace& ns, const Target&) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto list, store.ListNamespaces(ns, true));
        nlohmann::json out = nlohmann::json::array();
        std::string text;
        for (const auto& n : list) {
          out.push_back(n.ToString());
          text += n.ToString() + "\n";
        }
        ctx.Emit(out, text.empty() ? "no namespaces" : text);
        return Status::OK();
      },
      [](const Context& ctx, client::ApiClient& api, const BackupNamespace& ns, const Target&) {
        return RemoteNamespaces(ctx, api, ns);
      });
  auto nsremove = std::make_shared<Target>();
  auto delete_groups = std::make_shared<bool>(false);
  auto* nsremove_cmd = AddCommand(
      nscmd, ctx, "remove", "Remove a namespace", Operation::kWrite, nsremove,
      [delete_groups](const Context& ctx, Datastore& store, const BackupNamespace&,
                      const Target& t) -> Status {
        CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(t.object));
        CAIRN_RETURN_IF_ERROR(store.RemoveNamespace(ns, *delete_groups));
        ctx.Emit({{"removed", ns.ToString()}}, "removed namespace " + ns.ToString());
        return Status::OK();
      },
      [delete_groups](const Context& ctx, client::ApiClient& api, const BackupNamespace&,
                      const Target& t) {
        return RemoteNamespaceRemove(ctx, api, t.object, *delete_groups);
      });
  nsremove_cmd->add_option("NAMESPACE", nsremove->object, "Namespace")->required();
  nsremove_cmd->add_flag("--delete-groups", *delete_groups, "Also remove its groups and snapshots");
}

}  // namespace cairn::cli

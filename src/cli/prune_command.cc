// cairn prune: removes the snapshots of a group, or of every group of a namespace, that the
// retention options do not keep (datastore/jobs/prune.h).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/context.h"
#include "cli/remote.h"
#include "datastore/jobs/prune.h"

namespace cairn::cli {
namespace {

struct PruneArgs {
  std::string store = config::kDefaultStoreName, ns, group;
  bool ns_given = false;  // --ns was given, even as "" (the root namespace)
  KeepOptions keep;
  bool dry_run = false;
};

// `st` naming the snapshots removed before it stopped the prune.
Status Interrupted(const Status& st, const std::vector<PruneEntry>& entries) {
  std::vector<std::string> removed;
  for (const PruneEntry& e : entries) {
    if (e.removed) removed.push_back(e.snapshot.ToString());
  }
  if (removed.empty()) return st;
  return Status(st.code(), fmt::format("{} (prune stopped after removing {})", st.message(),
                                       fmt::join(removed, ", ")));
}

std::string Summary(const PruneArgs& args, size_t removed, size_t total) {
  if (!args.keep.KeepsSomething()) return "no keep options given: nothing is pruned";
  if (args.dry_run) return fmt::format("dry run: would remove {} of {} snapshots", removed, total);
  return fmt::format("removed {} of {} snapshots (garbage collection frees their space)", removed,
                     total);
}

nlohmann::json KeepParams(const KeepOptions& keep) {
  nlohmann::json params = nlohmann::json::object();
  const std::pair<const char*, uint64_t> counts[] = {
      {"keep-last", keep.last},     {"keep-hourly", keep.hourly},   {"keep-daily", keep.daily},
      {"keep-weekly", keep.weekly}, {"keep-monthly", keep.monthly}, {"keep-yearly", keep.yearly}};
  for (const auto& [name, count] : counts) {
    if (count > 0) params[name] = count;
  }
  return params;
}

// Against a server: a group is pruned by one call that answers the decisions; a namespace by
// the prune-datastore task, whose log is followed.
Status RunRemotePrune(const Context& ctx, const PruneArgs& args, const BackupNamespace& ns) {
  CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
  nlohmann::json params = KeepParams(args.keep);
  params["dry-run"] = args.dry_run;
  if (!ns.IsRoot()) params["ns"] = ns.ToString();
  if (args.group.empty()) {
    params["max-depth"] = 0;
    CAIRN_ASSIGN_OR_RETURN(client::ApiAnswer started,
                           api->Call("POST", StorePath(*api) + "/prune-datastore", params));
    std::string upid = started.data.get<std::string>();
    CAIRN_RETURN_IF_ERROR(FollowTask(*api, upid));
    ctx.Emit({{"upid", upid}}, "prune finished: " + upid);
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, BackupGroup::Parse(args.group));
  params.update(GroupParams(ns, group));
  CAIRN_ASSIGN_OR_RETURN(client::ApiAnswer answer,
                         api->Call("POST", StorePath(*api) + "/prune", params));
  std::vector<std::vector<std::string>> rows;
  size_t removed = 0;
  for (const nlohmann::json& entry : answer.data) {
    SnapshotRef snap{group, entry.value("backup-time", int64_t{0})};
    const bool keep = entry.value("keep", true);
    rows.push_back({snap.ToString(), keep ? "keep" : "remove",
                    entry.value("protected", false) ? "protected" : "-"});
    removed += keep ? 0 : 1;
  }
  ctx.Emit(answer.data,
           (rows.empty() ? "no snapshots\n" : FormatTable({"SNAPSHOT", "ACTION", "NOTE"}, rows)) +
               Summary(args, removed, answer.data.size()));
  return Status::OK();
}

Status RunPrune(const Context& ctx, const PruneArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(args.ns));
  if (ctx.remote()) {
    if (args.group.empty() && !args.ns_given) {
      return Status::InvalidArgument("prune needs a GROUP, or --ns NS to prune every group of NS");
    }
    return RunRemotePrune(ctx, args, ns);
  }
  std::vector<BackupGroup> groups;
  if (!args.group.empty()) {
    CAIRN_ASSIGN_OR_RETURN(BackupGroup group, BackupGroup::Parse(args.group));
    groups.push_back(group);
  } else if (!args.ns_given) {
    return Status::InvalidArgument("prune needs a GROUP, or --ns NS to prune every group of NS");
  }
  CAIRN_ASSIGN_OR_RETURN(
      auto store, ctx.OpenStore(args.store, args.dry_run ? Operation::kRead : Operation::kWrite));
  if (groups.empty()) {
    CAIRN_ASSIGN_OR_RETURN(groups, store->ListGroups(ns));
  }

  std::vector<PruneEntry> all;
  for (const BackupGroup& group : groups) {
    std::vector<PruneEntry> entries;
    Status st = PruneGroup(*store, ns, group, args.keep, args.dry_run, &entries, JobControl());
    all.insert(all.end(), entries.begin(), entries.end());
    if (!st.ok()) return Interrupted(st, all);
  }

  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  size_t removed = 0;
  for (const PruneEntry& e : all) {
    const bool keep = IsKept(e.mark);
    const std::string reason(keep ? PruneMarkName(e.mark) : "");
    out.push_back({{"backup-type", BackupTypeName(e.snapshot.group.type)},
                   {"backup-id", e.snapshot.group.id},
                   {"backup-time", e.snapshot.time},
                   {"keep", keep},
                   {"reason", keep ? nlohmann::json(reason) : nlohmann::json()}});
    rows.push_back({e.snapshot.ToString(), keep ? "keep" : "remove", keep ? reason : "-"});
    removed += keep ? 0 : 1;
  }
  ctx.Emit(out,
           (rows.empty() ? "no snapshots\n" : FormatTable({"SNAPSHOT", "ACTION", "REASON"}, rows)) +
               Summary(args, removed, all.size()));
  return Status::OK();
}

}  // namespace

void AddPruneCommands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<PruneArgs>();
  auto* cmd = app.add_subcommand(
      "prune",
      "Remove the snapshots of a group (or of every group of --ns) that no keep option keeps");
  cmd->add_option("--store", a->store, "Datastore name");
  auto* ns =
      cmd->add_option("--ns", a->ns, "Namespace of GROUP; without GROUP, prune all its groups");
  cmd->add_option("GROUP", a->group, "Group to prune, e.g. vm/100");
  const struct {
    const char* name;
    uint64_t KeepOptions::*count;
    const char* what;
  } keep_options[] = {
      {"--keep-last", &KeepOptions::last, "the N newest snapshots"},
      {"--keep-hourly", &KeepOptions::hourly, "the newest snapshot of each of N hours"},
      {"--keep-daily", &KeepOptions::daily, "the newest snapshot of each of N days"},
      {"--keep-weekly", &KeepOptions::weekly, "the newest snapshot of each of N ISO weeks"},
      {"--keep-monthly", &KeepOptions::monthly, "the newest snapshot of each of N months"},
      {"--keep-yearly", &KeepOptions::yearly, "the newest snapshot of each of N years"},
  };
  // CLI11 would read "-1" as a huge unsigned count.
  const CLI::Validator whole_number(
      [](std::string& text) {
        const bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        return ok ? std::string() : "expected a whole number, got '" + text + "'";
      },
      "N");
  for (const auto& option : keep_options) {
    cmd->add_option(option.name, a->keep.*option.count, std::string("Keep ") + option.what)
        ->check(whole_number);
  }
  cmd->add_flag("--dry-run", a->dry_run, "Only show what would be removed");
  cmd->callback([&ctx, a, ns] {
    a->ns_given = ns->count() > 0;
    ctx.action = [&ctx, a] { return RunPrune(ctx, *a); };
  });
}

}  // namespace cairn::cli

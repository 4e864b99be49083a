#include "cli/remote.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "base/time.h"
#include "base/units.h"

namespace cairn::cli {

using nlohmann::json;

json GroupParams(const BackupNamespace& ns, const BackupGroup& group) {
  json params = {{"backup-type", BackupTypeName(group.type)}, {"backup-id", group.id}};
  if (!ns.IsRoot()) params["ns"] = ns.ToString();
  return params;
}

json SnapshotParams(const BackupNamespace& ns, const SnapshotRef& snap) {
  json params = GroupParams(ns, snap.group);
  params["backup-time"] = snap.time;
  return params;
}

std::string StorePath(const client::ApiClient& api) {
  return "/admin/datastore/" + api.repository().store;
}

namespace {

std::string TaskPath(const std::string& upid, const std::string& what = "") {
  std::string escaped;
  for (unsigned char c : upid) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      escaped += static_cast<char>(c);
    } else {
      escaped += fmt::format("%{:02X}", c);
    }
  }
  return "/nodes/localhost/tasks/" + escaped + what;
}

std::string Time(int64_t epoch) {
  auto text = FormatRfc3339Utc(epoch);
  return text.ok() ? *text : std::to_string(epoch);
}

}  // namespace

Status FollowTask(client::ApiClient& api, const std::string& upid) {
  uint64_t shown = 0;  // lines printed; PBS numbers lines from 1, so the next is shown + 1
  // Polls at a growing interval (50 ms to 1 s): a short task ends quickly, a long one costs a
  // request a second.
  auto interval = std::chrono::milliseconds(50);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(
        std::string body, api.GetRaw(TaskPath(upid, "/log"),
                                     json{{"start", shown + 1}, {"limit", 0}, {"test-status", 1}}));
    json page = json::parse(body, nullptr, false);
    if (page.is_discarded()) return Status::Corruption("task log answer is not JSON");
    for (const json& line : page.value("data", json::array())) {
      std::fprintf(stderr, "%s\n", line.value("t", "").c_str());
      ++shown;
    }
    if (!page.value("active", false)) break;
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 2, std::chrono::milliseconds(1000));
  }
  CAIRN_ASSIGN_OR_RETURN(json status, api.Get(TaskPath(upid, "/status")));
  std::string exit = status.value("exitstatus", "unknown");
  if (exit == "OK" || exit.starts_with("WARNINGS")) return Status::OK();
  return Status::IOError(fmt::format("task {} failed: {}", upid, exit));
}

Status RemoteListSnapshots(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                           const std::string& group) {
  json params = json::object();
  if (!ns.IsRoot()) params["ns"] = ns.ToString();
  if (!group.empty()) {
    CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(group));
    params["backup-type"] = BackupTypeName(g.type);
    params["backup-id"] = g.id;
  }
  CAIRN_ASSIGN_OR_RETURN(json items, api.Get(StorePath(api) + "/snapshots", params));
  std::vector<std::vector<std::string>> rows;
  for (const json& item : items) {
    std::string snapshot =
        fmt::format("{}/{}/{}", item.value("backup-type", ""), item.value("backup-id", ""),
                    Time(item.value("backup-time", int64_t{0})));
    std::vector<std::string> files;
    for (const json& f : item.value("files", json::array())) {
      files.push_back(f.value("filename", ""));
    }
    rows.push_back(
        {snapshot, item.contains("size") ? HumanBytes(item["size"].get<uint64_t>()) : "-",
         item.value("protected", false) ? "yes" : "", fmt::format("{}", fmt::join(files, " "))});
  }
  ctx.Emit(items, rows.empty() ? "no snapshots"
                               : FormatTable({"SNAPSHOT", "SIZE", "PROTECTED", "FILES"}, rows));
  return Status::OK();
}

Status RemoteSnapshotFiles(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                           const std::string& snapshot) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(snapshot));
  CAIRN_ASSIGN_OR_RETURN(json files, api.Get(StorePath(api) + "/files", SnapshotParams(ns, snap)));
  std::vector<std::vector<std::string>> rows;
  for (const json& f : files) {
    rows.push_back({f.value("filename", ""),
                    f.contains("size") ? HumanBytes(f["size"].get<uint64_t>()) : "-",
                    f.value("crypt-mode", "")});
  }
  ctx.Emit(files, FormatTable({"FILE", "SIZE", "CRYPT-MODE"}, rows));
  return Status::OK();
}

Status RemoteForget(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                    const std::string& snapshot) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(snapshot));
  CAIRN_RETURN_IF_ERROR(
      api.Call("DELETE", StorePath(api) + "/snapshots", SnapshotParams(ns, snap)).status());
  ctx.Emit({{"removed", snap.ToString()}}, "removed snapshot " + snap.ToString());
  return Status::OK();
}

Status RemoteNotes(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                   const std::string& snapshot, const std::optional<std::string>& set) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(snapshot));
  json params = SnapshotParams(ns, snap);
  if (set) {
    json update = params;
    update["notes"] = *set;
    CAIRN_RETURN_IF_ERROR(api.Call("PUT", StorePath(api) + "/notes", update).status());
  }
  CAIRN_ASSIGN_OR_RETURN(json notes, api.Get(StorePath(api) + "/notes", params));
  std::string value = notes.is_string() ? notes.get<std::string>() : "";
  ctx.Emit({{"snapshot", snap.ToString()}, {"notes", value}}, value);
  return Status::OK();
}

Status RemoteProtect(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                     const std::string& snapshot, bool value) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(snapshot));
  json params = SnapshotParams(ns, snap);
  params["protected"] = value;
  CAIRN_RETURN_IF_ERROR(api.Call("PUT", StorePath(api) + "/protected", params).status());
  ctx.Emit({{"snapshot", snap.ToString()}, {"protected", value}},
           fmt::format("snapshot {} is {}protected", snap.ToString(), value ? "" : "no longer "));
  return Status::OK();
}

Status RemoteGroupNotes(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                        const std::string& group, const std::optional<std::string>& set) {
  CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(group));
  json params = GroupParams(ns, g);
  if (set) {
    json update = params;
    update["notes"] = *set;
    CAIRN_RETURN_IF_ERROR(api.Call("PUT", StorePath(api) + "/group-notes", update).status());
  }
  CAIRN_ASSIGN_OR_RETURN(json notes, api.Get(StorePath(api) + "/group-notes", params));
  std::string value = notes.is_string() ? notes.get<std::string>() : "";
  ctx.Emit({{"group", g.ToString()}, {"notes", value}}, value);
  return Status::OK();
}

Status RemoteGroupRemove(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns,
                         const std::string& group) {
  CAIRN_ASSIGN_OR_RETURN(BackupGroup g, BackupGroup::Parse(group));
  json params = GroupParams(ns, g);
  params["error-on-protected"] = false;  // as the local command: protected snapshots stay
  CAIRN_RETURN_IF_ERROR(api.Call("DELETE", StorePath(api) + "/groups", params).status());
  ctx.Emit({{"removed", g.ToString()}}, "removed group " + g.ToString());
  return Status::OK();
}

Status RemoteNamespaceCreate(const Context& ctx, client::ApiClient& api, const std::string& ns) {
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace parsed, BackupNamespace::Parse(ns));
  if (parsed.IsRoot()) return Status::InvalidArgument("namespace name is empty");
  json params = {{"name", parsed.components().back()}};
  if (parsed.depth() > 1) params["parent"] = parsed.Parent().ToString();
  CAIRN_RETURN_IF_ERROR(api.Call("POST", StorePath(api) + "/namespace", params).status());
  ctx.Emit({{"created", parsed.ToString()}}, "created namespace " + parsed.ToString());
  return Status::OK();
}

Status RemoteNamespaceRemove(const Context& ctx, client::ApiClient& api, const std::string& ns,
                             bool delete_groups) {
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace parsed, BackupNamespace::Parse(ns));
  CAIRN_RETURN_IF_ERROR(api.Call("DELETE", StorePath(api) + "/namespace",
                                 {{"ns", parsed.ToString()}, {"delete-groups", delete_groups}})
                            .status());
  ctx.Emit({{"removed", parsed.ToString()}}, "removed namespace " + parsed.ToString());
  return Status::OK();
}

Status RemoteListGroups(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns) {
  json params = json::object();
  if (!ns.IsRoot()) params["ns"] = ns.ToString();
  CAIRN_ASSIGN_OR_RETURN(json items, api.Get(StorePath(api) + "/groups", params));
  std::vector<std::vector<std::string>> rows;
  for (const json& item : items) {
    rows.push_back({item.value("backup-type", "") + "/" + item.value("backup-id", ""),
                    std::to_string(item.value("backup-count", 0)),
                    Time(item.value("last-backup", int64_t{0})), item.value("owner", "")});
  }
  ctx.Emit(items, rows.empty() ? "no groups"
                               : FormatTable({"GROUP", "SNAPSHOTS", "LAST BACKUP", "OWNER"}, rows));
  return Status::OK();
}

Status RemoteNamespaces(const Context& ctx, client::ApiClient& api, const BackupNamespace& ns) {
  json params = json::object();
  if (!ns.IsRoot()) params["parent"] = ns.ToString();
  CAIRN_ASSIGN_OR_RETURN(json items, api.Get(StorePath(api) + "/namespace", params));
  std::string text;
  json out = json::array();
  for (const json& item : items) {
    std::string name = item.value("ns", "");
    if (name == ns.ToString()) continue;  // the parent itself, listed by the API
    out.push_back(name);
    text += name + "\n";
  }
  ctx.Emit(out, text.empty() ? "no namespaces" : text);
  return Status::OK();
}

namespace {

Status ListTasks(const Context& ctx, bool all, uint64_t limit) {
  CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
  json params = {{"limit", limit}};
  if (!all) params["store"] = api->repository().store;
  CAIRN_ASSIGN_OR_RETURN(client::ApiAnswer answer,
                         api->Call("GET", "/nodes/localhost/tasks", params));
  std::vector<std::vector<std::string>> rows;
  for (const json& task : answer.data) {
    rows.push_back({task.value("upid", ""), Time(task.value("starttime", int64_t{0})),
                    task.contains("endtime") ? Time(task["endtime"].get<int64_t>()) : "-",
                    task.value("status", "running")});
  }
  ctx.Emit(answer.data,
           rows.empty() ? "no tasks" : FormatTable({"UPID", "STARTED", "ENDED", "STATUS"}, rows));
  return Status::OK();
}

}  // namespace

void AddTaskCommands(CLI::App& app, Context& ctx) {
  auto* task = app.add_subcommand("task", "Follow the tasks of a server (--repository)");
  task->require_subcommand(1);
  struct Args {
    std::string upid;
    bool all = false;
    uint64_t limit = 50;
  };
  auto args = std::make_shared<Args>();
  auto* list = task->add_subcommand("list", "List recent tasks of the repository's datastore");
  list->add_flag("--all", args->all, "Tasks of every datastore and none");
  list->add_option("--limit", args->limit, "How many (default 50, 0 = all)");
  list->callback([&ctx, args] {
    ctx.action = [&ctx, args] { return ListTasks(ctx, args->all, args->limit); };
  });
  auto* log = task->add_subcommand("log", "Print a task's log (following it while it runs)");
  log->add_option("UPID", args->upid, "Task id")->required();
  log->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
      return FollowTask(*api, args->upid);
    };
  });
  auto* status = task->add_subcommand("status", "Show a task's status");
  status->add_option("UPID", args->upid, "Task id")->required();
  status->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
      CAIRN_ASSIGN_OR_RETURN(json data, api->Get(TaskPath(args->upid, "/status")));
      std::string text = data.value("status", "");
      if (data.contains("exitstatus")) text += ": " + data["exitstatus"].get<std::string>();
      ctx.Emit(data, text);
      return Status::OK();
    };
  });
  auto* stop = task->add_subcommand("stop", "Ask a running task to stop");
  stop->add_option("UPID", args->upid, "Task id")->required();
  stop->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
      CAIRN_RETURN_IF_ERROR(api->Call("DELETE", TaskPath(args->upid)).status());
      ctx.Emit({{"stopped", args->upid}}, "asked task " + args->upid + " to stop");
      return Status::OK();
    };
  });

  auto* status_cmd =
      app.add_subcommand("status", "Usage of the repository's datastore (--repository)");
  status_cmd->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
      CAIRN_ASSIGN_OR_RETURN(json data, api->Get(StorePath(*api) + "/status"));
      uint64_t total = data.value("total", uint64_t{0}), used = data.value("used", uint64_t{0});
      ctx.Emit(data, fmt::format("{} of {} used ({:.1f}%), {} available", HumanBytes(used),
                                 HumanBytes(total), total ? 100.0 * used / total : 0.0,
                                 HumanBytes(data.value("avail", uint64_t{0}))));
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

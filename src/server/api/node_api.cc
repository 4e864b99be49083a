// Server-wide routes: version, ping, the node identity, and the task API of
// /nodes/{node}/tasks (list, status, log, abort) with PBS's access rules.
#include <fmt/format.h>

#include "base/file_util.h"
#include "server/api/api_call.h"
#include "server/api/routes.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"
#include "server/tasks/task_filter.h"
#include "server/tasks/task_json.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "0.1.0"
#endif

namespace cairn::server {
namespace {

using nlohmann::json;

constexpr char kTasksAcl[] = "/system/tasks";

Result<ApiReply> Version(ApiCall&) {
  return ApiReply(json{{"version", CAIRN_VERSION}, {"release", "0"}, {"repoid", "cairn"}});
}

Result<ApiReply> Ping(ApiCall&) {
  return ApiReply(json{{"pong", true}});
}

// PBS derives its instance id from /etc/machine-id; so does Cairn, hashed with the config
// directory so two servers on one host differ.
Status CheckNode(const ApiCall& call);

Result<ApiReply> Identity(ApiCall& call) {
  CAIRN_RETURN_IF_ERROR(CheckNode(call));
  std::string seed = call.context().config_dir();
  if (auto machine = ReadFile("/etc/machine-id"); machine.ok()) {
    seed.append(machine->begin(), machine->end());
  }
  return ApiReply(json{{"pbs-instance-id", call.context().access().InstanceId(seed)}});
}

std::string StoreOfTask(const Upid& upid) {
  std::string id = UnescapeWorkerId(upid.worker_id);
  return id.substr(0, id.find(':'));
}

// Whether the caller may see (and read the log of) task `upid`.
bool MayAudit(const ApiCall& call, const Upid& upid) {
  if (ApiCall::IsOwner(upid.auth_id, call.auth_id())) return true;
  if (call.Privileges(kTasksAcl) & priv::kSysAudit) return true;
  const std::string& type = upid.worker_type;
  uint64_t needed = 0;
  if (type == "garbage_collection" || type == "prune" || type == "prunejob" ||
      type == "s3-refresh") {
    needed = priv::kDatastoreModify;
  } else if (type.starts_with("verify")) {
    needed = priv::kDatastoreVerify;
  } else {
    return false;
  }
  return (call.Privileges(DatastoreAclPath(StoreOfTask(upid))) & needed) != 0;
}

Status CheckNode(const ApiCall& call) {
  std::string node = call.params().String("node");
  if (node != "localhost" && node != call.context().node()) {
    return Status::NotFound(fmt::format("no such node '{}'", node));
  }
  return Status::OK();
}

Result<Upid> TaskFromParams(const ApiCall& call) {
  CAIRN_RETURN_IF_ERROR(CheckNode(call));
  auto upid = Upid::Parse(call.params().String("upid"));
  if (!upid.ok()) return upid.status().WithContext("upid");
  if (!MayAudit(call, *upid)) {
    return Status::PermissionDenied("permission check failed - task belongs to another user");
  }
  return upid;
}

Result<ApiReply> ListTasks(ApiCall& call) {
  CAIRN_RETURN_IF_ERROR(CheckNode(call));
  const Params& params = call.params();
  TaskListFilter filter;
  filter.start = static_cast<uint64_t>(params.Integer("start", 0));
  filter.limit = static_cast<uint64_t>(params.Integer("limit", 50));
  filter.running = params.Boolean("running", false);
  filter.errors = params.Boolean("errors", false);
  filter.userfilter = params.OptString("userfilter").value_or("");
  filter.since = params.OptInteger("since");
  filter.until = params.OptInteger("until");
  filter.typefilter = params.OptString("typefilter").value_or("");
  filter.store = params.OptString("store").value_or("");
  for (const std::string& name : params.StringArray("statusfilter")) {
    auto type = ParseTaskStateType(name);
    if (!type.ok()) return type.status().WithContext("statusfilter");
    filter.statusfilter.push_back(*type);
  }
  CAIRN_ASSIGN_OR_RETURN(TaskList list, call.context().tasks().List(filter, [&](const Upid& upid) {
    return MayAudit(call, upid);
  }));
  json items = json::array();
  for (const TaskListEntry& entry : list.items) items.push_back(TaskListItemJson(entry));
  ApiReply reply(std::move(items));
  reply.attributes["total"] = list.total;
  return reply;
}

Result<ApiReply> TaskStatusRoute(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, TaskFromParams(call));
  CAIRN_ASSIGN_OR_RETURN(TaskStatus status, call.context().tasks().GetStatus(upid.ToString()));
  return ApiReply(TaskStatusJson(status));
}

Result<ApiReply> TaskLog(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, TaskFromParams(call));
  const Params& params = call.params();
  TaskManager& tasks = call.context().tasks();
  if (params.Boolean("download", false)) {
    CAIRN_ASSIGN_OR_RETURN(TaskLogPage page, tasks.ReadLog(upid.ToString(), 0, 0));
    http::ServerResponse raw;
    raw.headers.emplace_back("Content-Type", "text/plain");
    raw.headers.emplace_back("Content-Disposition", "attachment; filename=\"task-" + upid.node +
                                                        "-" + upid.worker_type + ".log\"");
    for (const TaskLogLine& line : page.lines) raw.body += line.text + "\n";
    ApiReply reply;
    reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
    return reply;
  }
  uint64_t start = static_cast<uint64_t>(params.Integer("start", 0));
  uint64_t limit = static_cast<uint64_t>(params.Integer("limit", 50));
  CAIRN_ASSIGN_OR_RETURN(TaskLogPage page, tasks.ReadLog(upid.ToString(), start, limit));
  std::optional<bool> active;
  if (params.Boolean("test-status", false)) {
    CAIRN_ASSIGN_OR_RETURN(TaskStatus status, tasks.GetStatus(upid.ToString()));
    active = status.running;
  }
  // PBS builds this body by hand: data, total, success (and active), whatever the format.
  http::ServerResponse raw;
  raw.headers.emplace_back("Content-Type", kJsonContentType);
  raw.body = TaskLogJson(page, active).dump();
  ApiReply reply;
  reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
  return reply;
}

Result<ApiReply> AbortTask(ApiCall& call) {
  CAIRN_RETURN_IF_ERROR(CheckNode(call));
  auto upid = Upid::Parse(call.params().String("upid"));
  if (!upid.ok()) return upid.status().WithContext("upid");
  if (upid->auth_id != call.auth_id().ToString()) {
    CAIRN_RETURN_IF_ERROR(call.Require(kTasksAcl, priv::kSysModify));
  }
  CAIRN_RETURN_IF_ERROR(call.context().tasks().Abort(upid->ToString()));
  return ApiReply(json());
}

ParamSpec NodeParam() {
  return ParamSpec::String("node", "Node name (or localhost).", 64).Required();
}
ParamSpec UpidParam() {
  return ParamSpec::String("upid", "Task UPID.", 512).Required();
}

constexpr char kTaskAccess[] =
    "own tasks and those of one's tokens; others with Sys.Audit on /system/tasks, or the job's "
    "privilege on its datastore (Datastore.Modify for GC and prune, Datastore.Verify for verify)";

}  // namespace

void AddNodeRoutes(Router& router) {
  router.Add({.method = "GET",
              .path = "/version",
              .description = "Server version.",
              .access = Access::Authenticated(),
              .handler = Version});
  router.Add({.method = "GET",
              .path = "/ping",
              .description = "Liveness check: {\"pong\": true}.",
              .access = Access::World(),
              .handler = Ping});
  router.Add({.method = "GET",
              .path = "/nodes/{node}/identity",
              .description = "This server's instance id.",
              .params = {NodeParam()},
              .access = Access::Authenticated(),
              .handler = Identity});
  router.Add(
      {.method = "GET",
       .path = "/nodes/{node}/tasks",
       .description = "List tasks, newest first (attribute total).",
       .params = {NodeParam(), ParamSpec::Integer("start", "Items to skip.", 0),
                  ParamSpec::Integer("limit", "Items to return (0 = all, default 50).", 0),
                  ParamSpec::Boolean("running", "Only running tasks."),
                  ParamSpec::Boolean("errors", "Only failed tasks."),
                  ParamSpec::String("userfilter", "Only tasks of auth ids containing this.", 128),
                  ParamSpec::Integer("since", "Only tasks started since (epoch)."),
                  ParamSpec::Integer("until", "Only tasks started until (epoch)."),
                  ParamSpec::String("typefilter", "Only worker types containing this.", 64),
                  ParamSpec::StringArray("statusfilter",
                                         "Only these results: ok, warning, error, unknown."),
                  ParamSpec::String("store", "Only tasks of this datastore.", 32)},
       .access = Access::Handler(kTaskAccess),
       .handler = ListTasks});
  router.Add({.method = "GET",
              .path = "/nodes/{node}/tasks/{upid}/status",
              .description = "A task's status.",
              .params = {NodeParam(), UpidParam()},
              .access = Access::Handler(kTaskAccess),
              .handler = TaskStatusRoute});
  router.Add({.method = "GET",
              .path = "/nodes/{node}/tasks/{upid}/log",
              .description = "A page of a task's log ({data: [{n, t}], total}), or all of it as a "
                             "text attachment with download=1.",
              .params = {NodeParam(), UpidParam(), ParamSpec::Integer("start", "First line.", 0),
                         ParamSpec::Integer("limit", "Lines (0 = all, default 50).", 0),
                         ParamSpec::Boolean("download", "The whole log as text/plain."),
                         ParamSpec::Boolean("test-status", "Add 'active'.")},
              .access = Access::Handler(kTaskAccess),
              .handler = TaskLog,
              .query_only = true});
  router.Add({.method = "DELETE",
              .path = "/nodes/{node}/tasks/{upid}",
              .description = "Abort a running task.",
              .params = {NodeParam(), UpidParam()},
              .access = Access::Handler("the task's own auth id; others need Sys.Modify on "
                                        "/system/tasks"),
              .handler = AbortTask});
}

}  // namespace cairn::server

#include "server/metrics.h"

#include <sys/statvfs.h>

#include <fmt/format.h>

#include <map>

#include "datastore/jobs/gc.h"
#include "server/access_control.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"
#include "server/tasks/task_filter.h"

namespace cairn::server {
namespace {

// Label values escaped as the exposition format wants.
std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(std::string_view name, const std::map<std::string, std::string>& labels,
              double value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += '{';
      bool first = true;
      for (const auto& [key, label] : labels) {
        text_ += fmt::format("{}{}=\"{}\"", first ? "" : ",", key, Label(label));
        first = false;
      }
      text_ += '}';
    }
    text_ += fmt::format(" {}\n", value);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

bool IsLoopback(std::string_view address) {
  return address == "127.0.0.1" || address == "::1" || address.starts_with("127.");
}

void DatastoreMetrics(ServerContext& context, Exposition& out) {
  auto config = context.stores().LoadConfig();
  if (!config.ok()) return;
  out.Family("cairn_datastore_up", "gauge", "1 if the datastore could be opened.");
  std::map<std::string, std::string> families = {
      {"cairn_datastore_size_bytes", "Size of the file system holding the datastore."},
      {"cairn_datastore_used_bytes", "Used bytes of that file system."},
      {"cairn_datastore_avail_bytes", "Available bytes of that file system."},
      {"cairn_datastore_chunks", "Chunks stored, as of the last garbage collection."},
      {"cairn_datastore_dedup_factor", "Referenced bytes per stored byte (last GC)."},
      {"cairn_datastore_last_gc_timestamp_seconds", "When the last garbage collection started."},
      {"cairn_datastore_last_gc_removed_bytes", "Bytes the last garbage collection removed."},
  };
  std::map<std::string, std::vector<std::pair<std::string, double>>> values;
  std::map<std::pair<std::string, std::string>, double> s3_requests;
  std::map<std::pair<std::string, std::string>, double> s3_bytes;
  for (const auto& [name, entry] : config->datastores()) {
    auto opened = context.stores().Open(name, Operation::kLookup);
    out.Sample("cairn_datastore_up", {{"store", name}}, opened.ok() ? 1 : 0);
    if (!opened.ok()) continue;
    struct statvfs vfs;
    if (::statvfs(opened->store->path().c_str(), &vfs) == 0) {
      values["cairn_datastore_size_bytes"].emplace_back(name, double(vfs.f_blocks) * vfs.f_frsize);
      values["cairn_datastore_used_bytes"].emplace_back(
          name, double(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize);
      values["cairn_datastore_avail_bytes"].emplace_back(name, double(vfs.f_bavail) * vfs.f_frsize);
    }
    auto gc = LoadGcStatus(*opened->store);
    if (gc.ok() && *gc) {
      const GcStatus& status = **gc;
      values["cairn_datastore_chunks"].emplace_back(name, double(status.sweep.disk_chunks));
      if (status.sweep.disk_bytes > 0) {
        values["cairn_datastore_dedup_factor"].emplace_back(
            name, double(status.index_data_bytes) / double(status.sweep.disk_bytes));
      }
      values["cairn_datastore_last_gc_timestamp_seconds"].emplace_back(name,
                                                                       double(status.started));
      values["cairn_datastore_last_gc_removed_bytes"].emplace_back(
          name, double(status.sweep.removed_bytes));
    }
    BackendStats stats = opened->store->backend().Stats();
    if (stats.requests) {
      for (size_t kind = 0; kind < kRequestKinds; ++kind) {
        s3_requests[{name, std::string(RequestKindName(static_cast<RequestKind>(kind)))}] =
            double(stats.requests->requests[kind]);
      }
      s3_bytes[{name, "in"}] = double(stats.requests->bytes_in);
      s3_bytes[{name, "out"}] = double(stats.requests->bytes_out);
    }
  }
  for (const auto& [family, help] : families) {
    auto it = values.find(family);
    if (it == values.end()) continue;
    out.Family(family, "gauge", help);
    for (const auto& [store, value] : it->second) out.Sample(family, {{"store", store}}, value);
  }
  if (!s3_requests.empty()) {
    out.Family("cairn_s3_requests_total", "counter", "S3 requests sent since the server started.");
    for (const auto& [key, value] : s3_requests) {
      out.Sample("cairn_s3_requests_total", {{"store", key.first}, {"kind", key.second}}, value);
    }
    out.Family("cairn_s3_bytes_total", "counter", "S3 body bytes since the server started.");
    for (const auto& [key, value] : s3_bytes) {
      out.Sample("cairn_s3_bytes_total", {{"store", key.first}, {"direction", key.second}}, value);
    }
  }
}

void TaskMetrics(ServerContext& context, Exposition& out) {
  TaskListFilter all;
  all.limit = 0;
  auto list = context.tasks().List(all);
  if (!list.ok()) return;
  std::map<std::pair<std::string, std::string>, double> counts;
  std::map<std::string, std::pair<int64_t, bool>> last_verify;  // store -> (end time, ok)
  for (const TaskListEntry& entry : list->items) {
    std::string result =
        entry.state ? std::string(TaskStateTypeName(entry.state->type)) : "running";
    counts[{entry.upid.worker_type, result}] += 1;
    if (entry.state && entry.upid.worker_type.starts_with("verify")) {
      std::string id = UnescapeWorkerId(entry.upid.worker_id);
      std::string store = id.substr(0, id.find(':'));
      auto& last = last_verify[store];
      if (entry.state->endtime >= last.first) {
        last = {entry.state->endtime, entry.state->type == TaskStateType::kOk};
      }
    }
  }
  out.Family("cairn_tasks", "gauge", "Tasks in the task list by type and result.");
  for (const auto& [key, value] : counts) {
    out.Sample("cairn_tasks", {{"type", key.first}, {"result", key.second}}, value);
  }
  if (!last_verify.empty()) {
    out.Family("cairn_datastore_last_verify_timestamp_seconds", "gauge",
               "When the last verify task of the datastore ended.");
    for (const auto& [store, last] : last_verify) {
      out.Sample("cairn_datastore_last_verify_timestamp_seconds", {{"store", store}},
                 double(last.first));
    }
    out.Family("cairn_datastore_last_verify_ok", "gauge", "1 if that verify task ended OK.");
    for (const auto& [store, last] : last_verify) {
      out.Sample("cairn_datastore_last_verify_ok", {{"store", store}}, last.second ? 1 : 0);
    }
  }
}

}  // namespace

http::ServerResponse ServeMetrics(ServerContext& context, const ApiDispatcher& dispatcher,
                                  const http::ServerRequest& request) {
  http::ServerResponse response;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  if (!IsLoopback(request.peer_address)) {
    auto credentials = context.access().Authenticate(request, context.Now());
    if (!credentials.ok() || !*credentials) {
      response.status = 401;
      response.body = "authentication failed\n";
      response.delay = std::chrono::seconds(3);
      return response;
    }
    uint64_t privs =
        context.access().Privileges((*credentials)->auth_id, "/system/status", context.Now());
    if ((privs & priv::kSysAudit) == 0) {
      response.status = 403;
      response.body = "permission check failed - missing Sys.Audit on /system/status\n";
      return response;
    }
  }
  Exposition out;
  DatastoreMetrics(context, out);
  TaskMetrics(context, out);
  out.Family("cairn_http_responses_total", "counter", "API answers by HTTP status.");
  for (const auto& [status, count] : dispatcher.StatusCounts()) {
    out.Sample("cairn_http_responses_total", {{"status", std::to_string(status)}}, double(count));
  }
  response.body = out.Take();
  return response;
}

}  // namespace cairn::server

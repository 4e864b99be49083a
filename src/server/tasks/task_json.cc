#include "server/tasks/task_json.h"

#include "server/tasks/task_filter.h"

namespace cairn::server {

using nlohmann::json;

json TaskListItemJson(const TaskListEntry& entry) {
  const Upid& upid = entry.upid;
  json item = {
      {"upid", entry.upid_str}, {"node", "localhost"},         {"pid", upid.pid},
      {"pstart", upid.pstart},  {"starttime", upid.starttime}, {"worker_type", upid.worker_type},
      {"user", upid.auth_id}};
  if (!upid.worker_id.empty()) item["worker_id"] = UnescapeWorkerId(upid.worker_id);
  if (entry.state) {
    item["endtime"] = entry.state->endtime;
    item["status"] = entry.state->ToString();
  }
  return item;
}

json TaskStatusJson(const TaskStatus& status) {
  const Upid& upid = status.upid;
  const size_t bang = upid.auth_id.find('!');
  json out = {{"upid", upid.ToString()},
              {"node", upid.node},
              {"pid", upid.pid},
              {"pstart", upid.pstart},
              {"starttime", upid.starttime},
              {"type", upid.worker_type},
              {"id", upid.worker_id.empty() ? json() : json(UnescapeWorkerId(upid.worker_id))},
              {"user", upid.auth_id.substr(0, bang)},
              {"status", status.running ? "running" : "stopped"}};
  if (bang != std::string::npos) out["tokenid"] = upid.auth_id.substr(bang + 1);
  if (!status.running && status.state) {
    out["exitstatus"] = status.state->ToString();
    out["endtime"] = status.state->endtime;
  }
  return out;
}

json TaskLogJson(const TaskLogPage& page, std::optional<bool> active) {
  json data = json::array();
  for (const TaskLogLine& line : page.lines) data.push_back({{"n", line.n}, {"t", line.text}});
  json out = {{"data", std::move(data)}, {"total", page.total}, {"success", 1}};
  if (active) out["active"] = *active;
  return out;
}

}  // namespace cairn::server

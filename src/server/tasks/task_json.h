// The JSON bodies of PBS's task API (src/api2/node/tasks.rs), built from TaskManager results so
// the HTTP layer only routes and checks access:
//
//   GET tasks               TaskListItemJson per item: {upid, node: "localhost", pid, pstart,
//                           starttime, worker_type, worker_id?, user, endtime?, status?}
//   GET tasks/{upid}/status TaskStatusJson: {upid, node, pid, pstart, starttime, type, id, user,
//                           tokenid?, status: "running"|"stopped", exitstatus?, endtime?}
//   GET tasks/{upid}/log    TaskLogJson: {data: [{n, t}...], total, success: 1, active?}
//
// worker_id/id are unescaped (PBS parses them so); "user" of the status is the user part of
// the auth id, a token's name going to "tokenid".
//
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "server/tasks/task_list_files.h"
#include "server/tasks/task_log.h"
#include "server/tasks/task_manager.h"

namespace cairn::server {

nlohmann::json TaskListItemJson(const TaskListEntry& entry);
// REQUIRES: status.state is set when !status.running.
nlohmann::json TaskStatusJson(const TaskStatus& status);
// `active` (test-status=1) adds the "active" attribute.
nlohmann::json TaskLogJson(const TaskLogPage& page, std::optional<bool> active = std::nullopt);

}  // namespace cairn::server

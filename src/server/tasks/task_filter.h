// TaskListFilter holds the parameters of PBS's task list (GET /nodes/{node}/tasks, tasks.rs
// list_tasks) and decides which tasks they select; paging (start, limit) is left to the caller.
//
//   running       only running tasks
//   errors        no task that ended OK (running ones stay)
//   userfilter    the auth id contains this
//   since, until  bounds of the start time (inclusive)
//   typefilter    the worker type contains this
//   statusfilter  the task ended in one of these (running tasks are then excluded)
//   store         the task works on this datastore (TaskBelongsToStore)
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/tasks/task_list_files.h"
#include "server/tasks/task_state.h"
#include "types/upid.h"

namespace cairn::server {

struct TaskListFilter {
  uint64_t start = 0;   // items to skip
  uint64_t limit = 50;  // items to return; 0 = all
  bool running = false;
  bool errors = false;
  std::string userfilter;
  std::optional<int64_t> since;
  std::optional<int64_t> until;
  std::string typefilter;
  std::vector<TaskStateType> statusfilter;  // empty = any
  std::string store;                        // empty = any
};

// True if `entry` passes every condition of `filter` except start and limit.
bool MatchesTaskFilter(const TaskListEntry& entry, const TaskListFilter& filter);

// PBS's check_job_store, on the unescaped worker id: garbage_collection, backup, prune and
// prunejob tasks belong to `store` if their id is `store` or starts with "<store>:"; verify*
// tasks if their id is "<store>:..." or exactly `store`; syncjob tasks if their local store (the
// third ':' field of "<remote>:<remote store>:<local store>[:<ns>]:<job>") is `store`. No other
// type belongs to a store (PBS lists reader and other tasks only without a store filter).
bool TaskBelongsToStore(const Upid& upid, std::string_view store);

// The inverse of EscapeWorkerId: "\xNN" becomes the byte, '-' becomes '/'. Text that is not a
// valid escape is kept as it is.
std::string UnescapeWorkerId(std::string_view escaped);

}  // namespace cairn::server

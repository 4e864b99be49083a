// TaskManager runs the worker tasks of one Cairn server, PBS's WorkerTask: a job (garbage
// collection, verify, prune, a backup session) is spawned under a UPID, writes its task log
// (task_log.h) and is listed in the task directory's `active`/`archive` files
// (task_list_files.h), where the task API (list, status, log, abort) finds it.
//
// Each task runs on a thread of its own, as in PBS: a long verify never delays a short task.
// Its work function gets a JobControl whose sink writes the task log and whose flag Abort and
// Shutdown set. When the work returns, the log gets its result line (TASK OK, TASK WARNINGS: n,
// TASK ERROR: <status message>; an Aborted status reads "TASK ERROR: <what> cancelled") and
// the task moves from `active` to `archive`.
//
// Opening the manager cleans up after a server that died: every task in `active` whose process
// is gone (or is this process, which runs none yet) is finished with the state its log shows,
// normally "unknown" at the time of its last log line; its log is left as it is (as PBS does).
//
// Functions taking a UPID text parse it (Upid::Parse) and build paths from its fields only;
// text naming another node or not usable as a file name is refused (InvalidArgument).
//
// Ownership: the caller owns the manager; the manager owns the task threads, which the
// destructor (Shutdown) cancels and joins. Thread-safety: thread-safe. A work function must not
// Wait for its own task, nor call Shutdown.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/job_control.h"
#include "base/mutex.h"
#include "base/result.h"
#include "server/tasks/task_filter.h"
#include "server/tasks/task_list_files.h"
#include "server/tasks/task_log.h"
#include "server/tasks/task_state.h"
#include "types/upid.h"

namespace cairn::server {

struct TaskManagerOptions {
  std::string task_dir;  // e.g. <state>/tasks; created (0755) if missing
  std::string node;      // the node name in the UPIDs, the short host name
  TaskArchiveOptions archive;
};

struct TaskStatus {
  Upid upid;
  bool running = false;
  std::optional<TaskState> state;  // set when stopped
};

struct TaskList {
  std::vector<TaskListEntry> items;  // newest first, after start and limit
  uint64_t total = 0;                // matching tasks before start and limit
};

class TaskManager {
 public:
  using Work = std::function<Status(const JobControl& control)>;
  // Whether the caller of List may see a task (the API's access rules); null = all.
  using Visible = std::function<bool(const Upid& upid)>;

  // Creates the task directory if needed and finishes the stale entries of `active` (above).
  // InvalidArgument for an empty or unusable node name; file system errors as Status.
  static Result<std::unique_ptr<TaskManager>> Open(TaskManagerOptions options);
  ~TaskManager();  // Shutdown()
  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  // Starts `work` on a new thread as the task `worker_type` on `worker_id` (escaped into the
  // UPID) for `auth_id`, and returns its UPID once its log exists and it is listed in `active`.
  // With `unique`, Busy if a task of the same type and id is running. Unavailable after
  // Shutdown; InvalidArgument if the type or auth id is empty or holds ':', '/', white space
  // or control characters, or the UPID would be too long; file system errors as Status.
  // A work function that throws ends "TASK ERROR: task panicked: <what>".
  Result<Upid> Spawn(std::string_view worker_type, std::string_view worker_id,
                     std::string_view auth_id, Work work, bool unique = false);

  // True if a task of this process with this type and (unescaped) id is running.
  bool IsRunning(std::string_view worker_type, std::string_view worker_id) const;

  // Asks a running task to stop (its control's flag; the log notes "received abort request
  // ..." once). NotFound if the task does not run in this process.
  Status Abort(std::string_view upid_text);

  // Whether the task runs (here, or in another live process sharing the directory) and, if
  // not, how it ended (from its log). NotFound if it has no log.
  Result<TaskStatus> GetStatus(std::string_view upid_text) const;

  // A page of the task's log (ReadTaskLog). NotFound if it has no log.
  Result<TaskLogPage> ReadLog(std::string_view upid_text, uint64_t start, uint64_t limit) const;

  // The tasks that pass `filter` and `visible`, newest first (running ones first).
  Result<TaskList> List(const TaskListFilter& filter, const Visible& visible = nullptr);

  // Blocks while the task runs in this process, then returns its state from its log (its result
  // line is written and its entry archived by then). NotFound if it has no log. A task of
  // another process is not waited for (its state may be Unknown while it runs).
  Result<TaskState> Wait(std::string_view upid_text);

  // Cancels every running task (its log notes "server shutting down: stopping the task"),
  // waits until all have finished and refuses new ones
  // (Unavailable). Idempotent.
  void Shutdown();

 private:
  struct Running;

  explicit TaskManager(TaskManagerOptions options);
  Result<Upid> ParseLocal(std::string_view upid_text) const;
  // The state of a stopped `entry`, or none while it runs (TaskListFiles::StoppedState).
  std::optional<TaskState> StoppedState(const TaskListEntry& entry) const;
  bool RunsHere(const Upid& upid) const;
  void Run(Running* task);
  // Writes the result line, archives the entry, forgets the task and wakes waiters.
  void Finish(Running* task, const TaskState& state);
  void ReapThreads();

  const TaskManagerOptions options_;
  TaskListFiles files_;
  mutable Mutex mu_;
  CondVar finished_cv_;
  std::map<std::string, std::unique_ptr<Running>> running_ CAIRN_GUARDED_BY(mu_);  // by UPID
  std::vector<std::thread> finished_threads_ CAIRN_GUARDED_BY(mu_);                // to be joined
  bool shut_down_ CAIRN_GUARDED_BY(mu_) = false;
};

}  // namespace cairn::server

// TaskListFiles keeps the two lists of a task directory, in PBS's format (worker_task.rs):
//
//   active    tasks that are running, one UPID per line:            "<UPID>"
//   archive   finished tasks, oldest first (appended as they end):  "<UPID> <ENDTIME> <status>"
//
// ENDTIME is 8 upper-case hex digits (Unix seconds), status the TaskState text. `active` may also
// hold finished entries (older PBS wrote them there); Update moves them. Every change happens
// under an exclusive flock of `.active.lock`, so the server and other processes sharing the
// directory (a CLI running a local task) never lose each other's entries; `active` is replaced
// atomically (temp file + rename, not fsynced: PBS does not either, a lost update costs a task
// list entry, never a log), `archive` is appended with one write.
//
// A finished task is appended to `archive` before it leaves `active`: a crash in between lists
// it twice on disk, which ReadAll hides, rather than losing it.
//
// Rotation: when `archive` grows past `max_bytes` it becomes `archive.1` (`archive.1` becomes
// `archive.2`, ...) and a new one starts; `archive.<keep_rotated>` is dropped, so at most
// (keep_rotated + 1) * max_bytes are kept. Task logs of dropped entries stay on disk (PBS
// removes them in a separate clean-up, which Cairn does not have yet).
//
// Lines that do not parse are skipped with a warning through spdlog and dropped from `active`
// when it is next written.
//
// Thread-safety: thread-safe; calls of one object are serialized by a mutex before the file lock
// (which would otherwise make threads of one process poll for it).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/result.h"
#include "server/tasks/task_state.h"
#include "types/upid.h"

namespace cairn::server {

struct TaskListEntry {
  std::string upid_str;            // the UPID as written
  Upid upid;                       // parsed from upid_str
  std::optional<TaskState> state;  // none while the task runs
};

// Parses one line (without its newline) of `active` or `archive`. InvalidArgument if the UPID
// or the end time does not parse, or the line has two fields.
Result<TaskListEntry> ParseTaskListLine(std::string_view line);
// The line for `entry`, newline included.
std::string RenderTaskListLine(const TaskListEntry& entry);

struct TaskArchiveOptions {
  uint64_t max_bytes = 1 << 20;
  int keep_rotated = 3;
};

class TaskListFiles {
 public:
  // Given an `active` entry without a state: none if its task still runs, its final state if
  // it has stopped (so the entry moves to `archive`).
  using StoppedState = std::function<std::optional<TaskState>(const TaskListEntry&)>;

  // REQUIRES: `task_dir` exists.
  explicit TaskListFiles(std::string task_dir, TaskArchiveOptions options = {});

  // Adds `add` (unless null) to `active` and moves every finished entry of `active` to
  // `archive`, asking `stopped` about the entries without a state. `stopped` is called with
  // the lock held and must not call this object. Busy if the lock file stays locked for 15 s;
  // IOError/PermissionDenied on file system errors.
  Status Update(const Upid* add, const StoppedState& stopped);

  // Every listed task, newest first: `active` (last line first), then `archive`,
  // `archive.1`, ... (last line first), each task once. Moves finished entries first, as
  // Update(nullptr, stopped). Errors as Update.
  Result<std::vector<TaskListEntry>> ReadAll(const StoppedState& stopped);

  std::string active_path() const;
  std::string archive_path() const;

 private:
  Result<std::vector<TaskListEntry>> UpdateLocked(const Upid* add, const StoppedState& stopped)
      CAIRN_REQUIRES(mu_);
  Status AppendArchiveLocked(std::string_view lines) CAIRN_REQUIRES(mu_);

  const std::string dir_;
  const TaskArchiveOptions options_;
  Mutex mu_;
};

}  // namespace cairn::server

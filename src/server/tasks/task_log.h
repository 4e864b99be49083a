// A task log is the text file a worker task writes and a user reads through the task API, as
// PBS keeps it (proxmox-rest-server worker_task.rs, proxmox-log FileLogger):
//
//   <task dir>/<pstart & 0xFF as 2 upper-case hex digits>/<UPID>
//   2026-12-07T01:02:03+00:00: starting garbage collection on store 'store1'
//   2026-12-07T01:02:04+00:00: WARN: chunk 0f3a... is missing
//   2026-12-07T01:02:05+00:00: TASK WARNINGS: 1
//
// Every line starts with the local time (RFC 3339 with offset) and ": ". The last line is the
// task's result (TaskState::ResultLine); a log without one belongs to a task that is running or
// died. Warning lines are prefixed "WARN: " and error lines "ERROR: " (PBS 2.x's task_warn!;
// newer PBS writes them unprefixed): both count as warnings for "TASK WARNINGS: n".
//
// TaskLogWriter owns the open file of one running task. Thread-safety: TaskLogWriter is
// thread-safe (a job's threads log concurrently); the functions are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/job_control.h"
#include "base/mutex.h"
#include "base/result.h"
#include "server/tasks/task_state.h"
#include "types/upid.h"

namespace cairn::server {

// "2026-12-07T01:02:03+01:00": `epoch` in the local time zone with its offset.
std::string FormatLogTime(int64_t epoch);
// Parses "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM"/"-HH:MM". InvalidArgument otherwise.
Result<int64_t> ParseLogTime(std::string_view text);

// The log's path below `task_dir`, built from the UPID's fields. InvalidArgument if the UPID's
// text could leave its directory (holds '/', is "." or "..") or is longer than a file name
// may be (255 bytes).
Result<std::string> TaskLogPath(const std::string& task_dir, const Upid& upid);

class TaskLogWriter {
 public:
  // Creates the log at `path` (its directory with mode 0755, the file 0644).
  // AlreadyExists if the file exists; IOError/PermissionDenied on file system errors.
  static Result<std::unique_ptr<TaskLogWriter>> Create(const std::string& path);
  ~TaskLogWriter();
  TaskLogWriter(const TaskLogWriter&) = delete;
  TaskLogWriter& operator=(const TaskLogWriter&) = delete;

  // Appends `message` as one line per text line, each with the current time. Warnings and
  // errors are prefixed and counted. Write errors are reported once through spdlog and
  // otherwise ignored: a full disk must not fail the job whose log it is.
  void Log(JobLogLevel level, std::string_view message);
  // Warning and error lines logged so far.
  uint64_t warnings() const;

  // Writes `state`'s result line, stamped with its end time, and closes the file; later Log
  // calls are dropped. IOError if the line could not be written.
  Status Finish(const TaskState& state);

 private:
  TaskLogWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void WriteLocked(int64_t epoch, std::string_view message) CAIRN_REQUIRES(mu_);

  mutable Mutex mu_;
  int fd_ CAIRN_GUARDED_BY(mu_);
  const std::string path_;
  uint64_t warnings_ CAIRN_GUARDED_BY(mu_) = 0;
  bool write_failed_ CAIRN_GUARDED_BY(mu_) = false;
};

// How the task of the log at `path` ended, from its last 8 KiB (PBS's upid_read_status): the
// state of the last stamped line if it is a result line; Unknown at that line's time if it is
// another line; Unknown at `starttime` if no line has a time stamp. NotFound if there is no
// log; IOError if it cannot be read.
Result<TaskState> ReadTaskState(const std::string& path, int64_t starttime);

struct TaskLogLine {
  uint64_t n = 0;  // 1-based line number
  std::string text;
};

struct TaskLogPage {
  std::vector<TaskLogLine> lines;
  uint64_t total = 0;  // lines in the whole log
};

// The lines numbered `start` and later (so 0 and 1 both mean from the first line), at most
// `limit` of them (0 = all): PBS's read_task_log paging. NotFound if there is no log.
Result<TaskLogPage> ReadTaskLog(const std::string& path, uint64_t start, uint64_t limit);

}  // namespace cairn::server

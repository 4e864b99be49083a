// TaskState is how a finished worker task ended, as PBS records it: OK, with warnings (and how
// many), with an error (and its message), or unknown (the server died before the task could say).
// Every state carries its end time (Unix seconds).
//
// Two text forms exist, both PBS's:
//   - the status text of the `active` and `archive` files and of the task list's `status`
//     field: "OK", "WARNINGS: 3", "unknown", or the bare error message;
//   - the result line that ends a task log: "TASK OK", "TASK WARNINGS: 3", "TASK ERROR: <msg>",
//     "TASK unknown".
// An error message that would read back as another state ("OK", "unknown", "WARNINGS: 1") is
// written as "ERROR: <msg>", a prefix the parser strips, so every state round-trips.
//
// TaskStateType names the four kinds for filters ("ok", "warning", "error", "unknown", PBS's
// TaskStateType).
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::server {

enum class TaskStateType { kOk, kWarning, kError, kUnknown };

// "ok", "warning", "error", "unknown".
std::string_view TaskStateTypeName(TaskStateType type);
// The inverse of TaskStateTypeName; InvalidArgument for anything else.
Result<TaskStateType> ParseTaskStateType(std::string_view name);

struct TaskState {
  TaskStateType type = TaskStateType::kUnknown;
  int64_t endtime = 0;
  uint64_t warnings = 0;  // kWarning only
  std::string message;    // kError only; one line, never empty

  static TaskState Ok(int64_t endtime);
  static TaskState Warnings(int64_t endtime, uint64_t count);
  // Line breaks and other control characters in `message` become spaces; an empty message
  // becomes "unknown error".
  static TaskState Error(int64_t endtime, std::string_view message);
  static TaskState Unknown(int64_t endtime);

  // Parses the status text (first form above). InvalidArgument if empty or "WARNINGS: " is not
  // followed by a number.
  static Result<TaskState> Parse(int64_t endtime, std::string_view text);

  // The status text: "OK", "WARNINGS: n", "unknown" or the error message.
  std::string ToString() const;
  // The log's result line without its time stamp: "TASK OK", "TASK ERROR: msg", ...
  std::string ResultLine() const;

  friend bool operator==(const TaskState&, const TaskState&) = default;
};

}  // namespace cairn::server

#include "server/tasks/task_state.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace cairn::server {
namespace {

constexpr std::string_view kWarningsPrefix = "WARNINGS: ";
constexpr std::string_view kErrorPrefix = "ERROR: ";

// True if `message` as bare status text would parse as something other than this error.
bool IsAmbiguousErrorText(std::string_view message) {
  return message == "OK" || message == "unknown" || message.starts_with(kWarningsPrefix) ||
         message.starts_with(kErrorPrefix);
}

}  // namespace

std::string_view TaskStateTypeName(TaskStateType type) {
  switch (type) {
    case TaskStateType::kOk: return "ok";
    case TaskStateType::kWarning: return "warning";
    case TaskStateType::kError: return "error";
    case TaskStateType::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<TaskStateType> ParseTaskStateType(std::string_view name) {
  for (TaskStateType type : {TaskStateType::kOk, TaskStateType::kWarning, TaskStateType::kError,
                             TaskStateType::kUnknown}) {
    if (name == TaskStateTypeName(type)) return type;
  }
  return Status::InvalidArgument(
      fmt::format("'{}' is not a task status (ok, warning, error, unknown)", name));
}

TaskState TaskState::Ok(int64_t endtime) {
  return TaskState{TaskStateType::kOk, endtime, 0, ""};
}

TaskState TaskState::Warnings(int64_t endtime, uint64_t count) {
  return TaskState{TaskStateType::kWarning, endtime, count, ""};
}

TaskState TaskState::Error(int64_t endtime, std::string_view message) {
  std::string text;
  for (char c : message) {
    text += std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c;
  }
  if (text.empty()) text = "unknown error";
  return TaskState{TaskStateType::kError, endtime, 0, std::move(text)};
}

TaskState TaskState::Unknown(int64_t endtime) {
  return TaskState{TaskStateType::kUnknown, endtime, 0, ""};
}

Result<TaskState> TaskState::Parse(int64_t endtime, std::string_view text) {
  if (text == "OK") return Ok(endtime);
  if (text == "unknown") return Unknown(endtime);
  if (text.starts_with(kWarningsPrefix)) {
    std::string_view digits = text.substr(kWarningsPrefix.size());
    uint64_t count = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return Status::InvalidArgument(fmt::format("bad task status '{}'", text));
    }
    return Warnings(endtime, count);
  }
  if (text.starts_with(kErrorPrefix)) text.remove_prefix(kErrorPrefix.size());
  if (text.empty()) return Status::InvalidArgument("empty task status");
  return Error(endtime, text);
}

std::string TaskState::ToString() const {
  switch (type) {
    case TaskStateType::kOk: return "OK";
    case TaskStateType::kWarning: return fmt::format("{}{}", kWarningsPrefix, warnings);
    case TaskStateType::kError:
      return IsAmbiguousErrorText(message) ? fmt::format("{}{}", kErrorPrefix, message) : message;
    case TaskStateType::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string TaskState::ResultLine() const {
  if (type == TaskStateType::kError) return fmt::format("TASK {}{}", kErrorPrefix, message);
  return "TASK " + ToString();
}

}  // namespace cairn::server

#include "server/tasks/task_list_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "base/file_lock.h"
#include "base/file_util.h"
#include "base/log.h"

namespace cairn::server {
namespace {

constexpr auto kLockTimeout = std::chrono::seconds(15);

// The parsed lines of the list file `path` holding `text`, in file order.
std::vector<TaskListEntry> ParseListFile(const std::string& path, std::string_view text) {
  std::vector<TaskListEntry> entries;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    Result<TaskListEntry> entry = ParseTaskListLine(line);
    if (!entry.ok()) {
      spdlog::warn("{}: skipping a malformed line: {}", path, entry.status().message());
      continue;
    }
    entries.push_back(std::move(entry).value());
  }
  return entries;
}

// The contents of a list file; empty if it does not exist.
Result<std::string> ReadListText(const std::string& path) {
  Result<Bytes> data = ReadFile(path);
  if (!data.ok() && data.status().IsNotFound()) return std::string();
  if (!data.ok()) return data.status();
  return std::string(AsString(*data));
}

}  // namespace

Result<TaskListEntry> ParseTaskListLine(std::string_view line) {
  std::string_view fields[2];
  std::string_view rest = line;
  int n = 0;
  size_t space;
  while (n < 2 && (space = rest.find(' ')) != std::string_view::npos) {
    fields[n++] = rest.substr(0, space);
    rest.remove_prefix(space + 1);
  }
  TaskListEntry entry;
  const std::string_view upid_text = n == 0 ? rest : fields[0];
  CAIRN_ASSIGN_OR_RETURN(entry.upid, Upid::Parse(upid_text));
  entry.upid_str = std::string(upid_text);
  if (n == 0) return entry;
  if (n == 1) {
    return Status::InvalidArgument(fmt::format("task list line '{}' has two fields", line));
  }
  const std::string_view hex = fields[1];
  uint64_t endtime = 0;
  auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), endtime, 16);
  if (hex.empty() || hex.size() > 16 || ec != std::errc() || end != hex.data() + hex.size()) {
    return Status::InvalidArgument(fmt::format("task list line '{}': bad end time", line));
  }
  CAIRN_ASSIGN_OR_RETURN(entry.state, TaskState::Parse(static_cast<int64_t>(endtime), rest));
  return entry;
}

std::string RenderTaskListLine(const TaskListEntry& entry) {
  if (!entry.state) return entry.upid_str + "\n";
  return fmt::format("{} {:08X} {}\n", entry.upid_str, static_cast<uint64_t>(entry.state->endtime),
                     entry.state->ToString());
}

TaskListFiles::TaskListFiles(std::string task_dir, TaskArchiveOptions options)
    : dir_(std::move(task_dir)), options_(options) {}

std::string TaskListFiles::active_path() const {
  return JoinPath(dir_, "active");
}
std::string TaskListFiles::archive_path() const {
  return JoinPath(dir_, "archive");
}

Status TaskListFiles::Update(const Upid* add, const StoppedState& stopped) {
  MutexLock lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(FileLock file_lock,
                         FileLock::Acquire(JoinPath(dir_, ".active.lock"), LockMode::kExclusive,
                                           kLockTimeout, "task list " + dir_));
  return UpdateLocked(add, stopped).status();
}

Result<std::vector<TaskListEntry>> TaskListFiles::ReadAll(const StoppedState& stopped) {
  MutexLock lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(FileLock file_lock,
                         FileLock::Acquire(JoinPath(dir_, ".active.lock"), LockMode::kExclusive,
                                           kLockTimeout, "task list " + dir_));
  CAIRN_ASSIGN_OR_RETURN(std::vector<TaskListEntry> active, UpdateLocked(nullptr, stopped));
  std::vector<TaskListEntry> all;
  std::set<std::string> seen;
  auto take_newest_first = [&](std::vector<TaskListEntry>& entries) {
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (seen.insert(it->upid_str).second) all.push_back(std::move(*it));
    }
  };
  take_newest_first(active);
  for (int i = 0; i <= options_.keep_rotated; ++i) {
    const std::string path = i == 0 ? archive_path() : fmt::format("{}.{}", archive_path(), i);
    CAIRN_ASSIGN_OR_RETURN(std::string text, ReadListText(path));
    std::vector<TaskListEntry> archived = ParseListFile(path, text);
    take_newest_first(archived);
  }
  return all;
}

Result<std::vector<TaskListEntry>> TaskListFiles::UpdateLocked(const Upid* add,
                                                               const StoppedState& stopped) {
  CAIRN_ASSIGN_OR_RETURN(const std::string old_text, ReadListText(active_path()));
  std::vector<TaskListEntry> entries = ParseListFile(active_path(), old_text);
  std::vector<TaskListEntry> active;
  std::string finished;
  for (TaskListEntry& entry : entries) {
    if (!entry.state) entry.state = stopped(entry);
    if (entry.state) {
      finished += RenderTaskListLine(entry);
    } else {
      active.push_back(std::move(entry));
    }
  }
  if (add != nullptr) active.push_back(TaskListEntry{add->ToString(), *add, std::nullopt});
  std::string text;
  for (const TaskListEntry& entry : active) text += RenderTaskListLine(entry);
  if (!finished.empty()) CAIRN_RETURN_IF_ERROR(AppendArchiveLocked(finished));
  // Rewritten only on change (a dropped malformed line is one).
  if (text != old_text) {
    CAIRN_RETURN_IF_ERROR(WriteFileAtomic(active_path(), AsBytes(text), 0660, SyncMode::kNone));
  }
  return active;
}

Status TaskListFiles::AppendArchiveLocked(std::string_view lines) {
  const std::string path = archive_path();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0660);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  const ssize_t n = ::write(fd, lines.data(), lines.size());
  const int write_err = errno;
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (n < 0) return ErrnoStatus("append " + path, write_err);
  if (static_cast<size_t>(n) != lines.size()) return Status::IOError("short append to " + path);
  if (!stat_ok || static_cast<uint64_t>(st.st_size) <= options_.max_bytes) return Status::OK();
  // Rotate: archive.<k> -> archive.<k+1>, the oldest dropped.
  if (options_.keep_rotated <= 0) return RemoveFile(path);
  Status dropped = RemoveFile(fmt::format("{}.{}", path, options_.keep_rotated));
  if (!dropped.ok() && !dropped.IsNotFound()) return dropped;
  for (int i = options_.keep_rotated - 1; i >= 0; --i) {
    const std::string from = i == 0 ? path : fmt::format("{}.{}", path, i);
    Status moved = RenameFile(from, fmt::format("{}.{}", path, i + 1));
    if (!moved.ok() && !moved.IsNotFound()) return moved;
  }
  return Status::OK();
}

}  // namespace cairn::server

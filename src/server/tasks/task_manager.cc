#include "server/tasks/task_manager.h"

#include <unistd.h>

#include <cctype>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"

namespace cairn::server {
namespace {

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); none if there is no such
// process (or /proc cannot be read).
std::optional<uint64_t> ProcessStartTicks(uint32_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  if (!in) return std::nullopt;
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t after_comm = stat.rfind(')');  // the command name may hold spaces
  if (after_comm == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(after_comm + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return std::nullopt;
}

// A UPID field we write: not empty, no ':', '/', white space or control characters.
bool IsPlainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ':' || c == '/' || std::isspace(u) || std::iscntrl(u)) return false;
  }
  return true;
}

}  // namespace

struct TaskManager::Running {
  Upid upid;
  std::string upid_str;
  std::shared_ptr<TaskLogWriter> log;  // shared with the control's sink
  JobControl control;
  Work work;
  std::thread thread;         // guarded by mu_
  bool abort_logged = false;  // guarded by mu_
};

Result<std::unique_ptr<TaskManager>> TaskManager::Open(TaskManagerOptions options) {
  if (!IsPlainName(options.node)) {
    return Status::InvalidArgument(fmt::format("'{}' is not a usable node name", options.node));
  }
  CAIRN_RETURN_IF_ERROR(MakeDirs(options.task_dir, 0755));
  std::unique_ptr<TaskManager> manager(new TaskManager(std::move(options)));
  CAIRN_RETURN_IF_ERROR(manager->files_.Update(
      nullptr, [&](const TaskListEntry& entry) { return manager->StoppedState(entry); }));
  return manager;
}

TaskManager::TaskManager(TaskManagerOptions options)
    : options_(std::move(options)),
      files_(options_.task_dir, options_.archive),
      finished_cv_(&mu_) {}

TaskManager::~TaskManager() {
  Shutdown();
}

bool TaskManager::RunsHere(const Upid& upid) const {
  static const uint32_t pid = static_cast<uint32_t>(::getpid());
  static const uint64_t pstart = ProcessStartTicks(pid).value_or(0);
  return upid.pid == pid && upid.pstart == pstart;
}

std::optional<TaskState> TaskManager::StoppedState(const TaskListEntry& entry) const {
  if (RunsHere(entry.upid)) {
    MutexLock lock(mu_);
    if (running_.count(entry.upid.ToString()) != 0) return std::nullopt;
  } else if (ProcessStartTicks(entry.upid.pid) == entry.upid.pstart) {
    return std::nullopt;  // another live process's task
  }
  Result<std::string> path = TaskLogPath(options_.task_dir, entry.upid);
  Result<TaskState> state =
      path.ok() ? ReadTaskState(*path, entry.upid.starttime) : Result<TaskState>(path.status());
  if (!state.ok()) return TaskState::Unknown(NowEpoch());
  return *state;
}

Result<Upid> TaskManager::Spawn(std::string_view worker_type, std::string_view worker_id,
                                std::string_view auth_id, Work work, bool unique) {
  if (!IsPlainName(worker_type) || !IsPlainName(auth_id)) {
    return Status::InvalidArgument(fmt::format(
        "task type '{}' or auth id '{}' cannot be part of a UPID", worker_type, auth_id));
  }
  ReapThreads();
  Upid upid = Upid::ForThisProcess(options_.node, worker_type, worker_id, auth_id);
  const std::string upid_str = upid.ToString();
  // Checked before any file exists and again when the task is entered in running_.
  auto refused = [&]() -> Status {
    mu_.AssertHeld();
    if (shut_down_) return Status::Unavailable("the task manager is shut down");
    if (!unique) return Status::OK();
    for (const auto& [key, other] : running_) {
      if (other->upid.worker_type == upid.worker_type && other->upid.worker_id == upid.worker_id) {
        return Status::Busy(fmt::format("task {} {} is already running", upid.worker_type,
                                        UnescapeWorkerId(upid.worker_id)));
      }
    }
    return Status::OK();
  };
  {
    MutexLock lock(mu_);
    CAIRN_RETURN_IF_ERROR(refused());
  }
  CAIRN_ASSIGN_OR_RETURN(const std::string path, TaskLogPath(options_.task_dir, upid));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<TaskLogWriter> log, TaskLogWriter::Create(path));
  auto owned = std::make_unique<Running>();
  Running* task = owned.get();
  task->upid = upid;
  task->upid_str = upid_str;
  task->log = log;
  task->control =
      JobControl([log](JobLogLevel level, std::string_view line) { log->Log(level, line); });
  task->work = std::move(work);
  {
    MutexLock lock(mu_);
    if (Status status = refused(); !status.ok()) {
      (void)RemoveFile(path);
      return status;
    }
    running_.emplace(upid_str, std::move(owned));
  }
  Status listed =
      files_.Update(&upid, [this](const TaskListEntry& entry) { return StoppedState(entry); });
  if (!listed.ok()) {
    (void)log->Finish(TaskState::Error(NowEpoch(), listed.message()));
    MutexLock lock(mu_);
    running_.erase(upid_str);
    finished_cv_.SignalAll();
    return listed;
  }
  std::string thread_error;
  {
    MutexLock lock(mu_);
    try {
      task->thread = std::thread(&TaskManager::Run, this, task);
      return upid;
    } catch (const std::system_error& e) {
      thread_error = fmt::format("cannot start a thread: {}", e.what());
    }
  }
  Finish(task, TaskState::Error(NowEpoch(), thread_error));
  return Status::Unavailable(thread_error);
}

void TaskManager::Run(Running* task) {
  Status status;
  try {
    status = task->work(task->control);
  } catch (const std::exception& e) {
    status = Status::Aborted(fmt::format("task panicked: {}", e.what()));
  } catch (...) {
    status = Status::Aborted("task panicked");
  }
  task->work = nullptr;  // releases what the work captured before anyone learns it ended
  const int64_t end = NowEpoch();
  if (!status.ok()) {
    Finish(task,
           TaskState::Error(end, status.message().empty() ? std::string(CodeName(status.code()))
                                                          : status.message()));
  } else if (const uint64_t warnings = task->log->warnings(); warnings > 0) {
    Finish(task, TaskState::Warnings(end, warnings));
  } else {
    Finish(task, TaskState::Ok(end));
  }
}

void TaskManager::Finish(Running* task, const TaskState& state) {
  Status logged = task->log->Finish(state);
  if (!logged.ok()) spdlog::error("task {}: {}", task->upid_str, logged.ToString());
  Status listed = files_.Update(nullptr, [&](const TaskListEntry& entry) {
    if (entry.upid.ToString() == task->upid_str) return std::optional<TaskState>(state);
    return StoppedState(entry);
  });
  if (!listed.ok()) spdlog::error("task {}: {}", task->upid_str, listed.ToString());
  MutexLock lock(mu_);
  if (task->thread.joinable()) finished_threads_.push_back(std::move(task->thread));
  running_.erase(task->upid_str);  // destroys *task
  finished_cv_.SignalAll();
}

void TaskManager::ReapThreads() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    threads.swap(finished_threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

bool TaskManager::IsRunning(std::string_view worker_type, std::string_view worker_id) const {
  const std::string escaped = EscapeWorkerId(worker_id);
  MutexLock lock(mu_);
  for (const auto& [key, task] : running_) {
    if (task->upid.worker_type == worker_type && task->upid.worker_id == escaped) return true;
  }
  return false;
}

Result<Upid> TaskManager::ParseLocal(std::string_view upid_text) const {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, Upid::Parse(upid_text));
  if (upid.node != options_.node) {
    return Status::InvalidArgument(
        fmt::format("task {} belongs to node '{}', not '{}'", upid_text, upid.node, options_.node));
  }
  CAIRN_RETURN_IF_ERROR(TaskLogPath(options_.task_dir, upid).status());
  return upid;
}

Status TaskManager::Abort(std::string_view upid_text) {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, ParseLocal(upid_text));
  MutexLock lock(mu_);
  auto it = running_.find(upid.ToString());
  if (it == running_.end()) {
    return Status::NotFound(fmt::format("task {} is not running", upid.ToString()));
  }
  Running& task = *it->second;
  if (!task.abort_logged) {
    task.abort_logged = true;
    task.log->Log(JobLogLevel::kInfo, "received abort request ...");
  }
  task.control.Cancel();
  return Status::OK();
}

Result<TaskStatus> TaskManager::GetStatus(std::string_view upid_text) const {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, ParseLocal(upid_text));
  CAIRN_ASSIGN_OR_RETURN(const std::string path, TaskLogPath(options_.task_dir, upid));
  CAIRN_ASSIGN_OR_RETURN(const bool exists, PathExists(path));
  if (!exists) return Status::NotFound(fmt::format("task {} has no log", upid.ToString()));
  TaskStatus status;
  status.upid = upid;
  if (RunsHere(upid)) {
    MutexLock lock(mu_);
    status.running = running_.count(upid.ToString()) != 0;
  } else {
    status.running = ProcessStartTicks(upid.pid) == upid.pstart;
  }
  if (!status.running) {
    CAIRN_ASSIGN_OR_RETURN(status.state, ReadTaskState(path, upid.starttime));
  }
  return status;
}

Result<TaskLogPage> TaskManager::ReadLog(std::string_view upid_text, uint64_t start,
                                         uint64_t limit) const {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, ParseLocal(upid_text));
  CAIRN_ASSIGN_OR_RETURN(const std::string path, TaskLogPath(options_.task_dir, upid));
  return ReadTaskLog(path, start, limit);
}

Result<TaskList> TaskManager::List(const TaskListFilter& filter, const Visible& visible) {
  CAIRN_ASSIGN_OR_RETURN(
      std::vector<TaskListEntry> entries,
      files_.ReadAll([this](const TaskListEntry& entry) { return StoppedState(entry); }));
  TaskList list;
  for (TaskListEntry& entry : entries) {
    if (!MatchesTaskFilter(entry, filter)) continue;
    if (visible && !visible(entry.upid)) continue;
    const uint64_t index = list.total++;
    if (index < filter.start) continue;
    if (filter.limit != 0 && list.items.size() >= filter.limit) continue;
    list.items.push_back(std::move(entry));
  }
  return list;
}

Result<TaskState> TaskManager::Wait(std::string_view upid_text) {
  CAIRN_ASSIGN_OR_RETURN(Upid upid, ParseLocal(upid_text));
  const std::string key = upid.ToString();
  {
    MutexLock lock(mu_);
    while (running_.count(key) != 0) finished_cv_.Wait();
  }
  CAIRN_ASSIGN_OR_RETURN(const std::string path, TaskLogPath(options_.task_dir, upid));
  return ReadTaskState(path, upid.starttime);
}

void TaskManager::Shutdown() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    shut_down_ = true;
    for (auto& [key, task] : running_) {
      task->log->Log(JobLogLevel::kInfo, "server shutting down: stopping the task");
      task->control.Cancel();
    }
    while (!running_.empty()) finished_cv_.Wait();
    threads.swap(finished_threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace cairn::server

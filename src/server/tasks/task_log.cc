#include "server/tasks/task_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"

namespace cairn::server {
namespace {

constexpr size_t kStatusTail = 8192;
constexpr size_t kMaxFileName = 255;

bool ParseDigits(std::string_view text, size_t pos, size_t len, int* value) {
  if (pos + len > text.size()) return false;
  std::string_view digits = text.substr(pos, len);
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(digits.data(), digits.data() + len, *value);
  return true;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

std::string FormatLogTime(int64_t epoch) {
  const time_t t = static_cast<time_t>(epoch);
  struct tm tm {};
  localtime_r(&t, &tm);
  const long offset = tm.tm_gmtoff;
  const long abs_offset = offset < 0 ? -offset : offset;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     offset < 0 ? '-' : '+', abs_offset / 3600, abs_offset / 60 % 60);
}

Result<int64_t> ParseLogTime(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument(fmt::format("'{}' is not an RFC 3339 time", text));
  };
  struct tm tm {};
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || !ParseDigits(text, 0, 4, &year) || !ParseDigits(text, 5, 2, &month) ||
      !ParseDigits(text, 8, 2, &day) || !ParseDigits(text, 11, 2, &hour) ||
      !ParseDigits(text, 14, 2, &minute) || !ParseDigits(text, 17, 2, &second) || month < 1 ||
      month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return invalid();
  }
  int64_t offset = 0;
  std::string_view zone = text.substr(19);
  if (zone != "Z") {
    int oh, om;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
        !ParseDigits(zone, 1, 2, &oh) || !ParseDigits(zone, 4, 2, &om) || oh > 23 || om > 59) {
      return invalid();
    }
    offset = (zone[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

Result<std::string> TaskLogPath(const std::string& task_dir, const Upid& upid) {
  const std::string name = upid.ToString();
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos || name == "." ||
      name == ".." || name.size() > kMaxFileName) {
    return Status::InvalidArgument(fmt::format("UPID '{}' cannot name a task log", name));
  }
  return JoinPath(JoinPath(task_dir, fmt::format("{:02X}", upid.pstart & 0xFF)), name);
}

Result<std::unique_ptr<TaskLogWriter>> TaskLogWriter::Create(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos) CAIRN_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), 0755));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create task log " + path, errno);
  return std::unique_ptr<TaskLogWriter>(new TaskLogWriter(fd, path));
}

TaskLogWriter::~TaskLogWriter() {
  MutexLock lock(mu_);
  if (fd_ >= 0) ::close(fd_);
}

void TaskLogWriter::Log(JobLogLevel level, std::string_view message) {
  std::string text;
  switch (level) {
    case JobLogLevel::kInfo: text = message; break;
    case JobLogLevel::kWarning: text = fmt::format("WARN: {}", message); break;
    case JobLogLevel::kError: text = fmt::format("ERROR: {}", message); break;
  }
  const int64_t now = NowEpoch();
  MutexLock lock(mu_);
  if (level != JobLogLevel::kInfo) ++warnings_;
  WriteLocked(now, text);
}

uint64_t TaskLogWriter::warnings() const {
  MutexLock lock(mu_);
  return warnings_;
}

void TaskLogWriter::WriteLocked(int64_t epoch, std::string_view message) {
  if (fd_ < 0) return;
  const std::string stamp = FormatLogTime(epoch);
  while (message.ends_with('\n')) message.remove_suffix(1);
  std::string lines;
  size_t pos = 0;
  do {
    const size_t nl = message.find('\n', pos);
    std::string_view line = message.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines += fmt::format("{}: {}\n", stamp, line);
    pos = nl == std::string_view::npos ? message.size() + 1 : nl + 1;
  } while (pos <= message.size());
  Status status = WriteAll(fd_, lines, path_);
  if (!status.ok() && !write_failed_) {
    write_failed_ = true;
    spdlog::error("task log: {}", status.ToString());
  }
}

Status TaskLogWriter::Finish(const TaskState& state) {
  MutexLock lock(mu_);
  if (fd_ < 0) return Status::IOError("task log " + path_ + " is already closed");
  const std::string line =
      fmt::format("{}: {}\n", FormatLogTime(state.endtime), state.ResultLine());
  Status status = WriteAll(fd_, line, path_);
  ::close(fd_);
  fd_ = -1;
  return status;
}

Result<TaskState> ReadTaskState(const std::string& path, int64_t starttime) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open task log " + path, errno);
  struct stat st {};
  std::string tail;
  if (::fstat(fd, &st) == 0) {
    const off_t size = st.st_size;
    const off_t from = size > static_cast<off_t>(kStatusTail) ? size - kStatusTail : 0;
    tail.resize(static_cast<size_t>(size - from));
    ssize_t got = ::pread(fd, tail.data(), tail.size(), from);
    const int err = errno;
    ::close(fd);
    if (got < 0) return ErrnoStatus("read task log " + path, err);
    tail.resize(static_cast<size_t>(got));
  } else {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("stat task log " + path, err);
  }
  std::string_view rest = tail;
  while (rest.ends_with('\n')) rest.remove_suffix(1);
  while (!rest.empty()) {
    const size_t nl = rest.rfind('\n');
    std::string_view line = nl == std::string_view::npos ? rest : rest.substr(nl + 1);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(0, nl);
    const size_t sep = line.find(": ");
    if (sep == std::string_view::npos) continue;
    Result<int64_t> endtime = ParseLogTime(line.substr(0, sep));
    if (!endtime.ok()) continue;
    std::string_view message = line.substr(sep + 2);
    if (!message.starts_with("TASK ")) return TaskState::Unknown(*endtime);
    Result<TaskState> state = TaskState::Parse(*endtime, message.substr(5));
    if (state.ok()) return state;
  }
  return TaskState::Unknown(starttime);
}

Result<TaskLogPage> ReadTaskLog(const std::string& path, uint64_t start, uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(path));
    if (!exists) return Status::NotFound("task log " + path + " does not exist");
    return Status::IOError("cannot open task log " + path);
  }
  TaskLogPage page;
  std::string line;
  while (std::getline(in, line)) {
    ++page.total;
    if (page.total < start) continue;
    if (limit != 0 && page.lines.size() >= limit) continue;
    page.lines.push_back({page.total, line});
  }
  if (in.bad()) return Status::IOError("read task log " + path);
  return page;
}

}  // namespace cairn::server

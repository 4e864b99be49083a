#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/file_util.h"

namespace cairn {
namespace {

std::string ParentDir(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos || pos == 0 ? "/" : path.substr(0, pos);
}

}  // namespace

Result<FileLock> FileLock::Acquire(const std::string& path, LockMode mode,
                                   std::chrono::milliseconds timeout, const std::string& what,
                                   const std::string& base) {
  CAIRN_RETURN_IF_ERROR(base.empty() ? MakeDirs(ParentDir(path), 0755)
                                     : MakeDirsBelow(base, ParentDir(path), 0755));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int op = (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (fd < 0) return ErrnoStatus("open lock " + path, errno);
    if (::flock(fd, op) == 0) {
      struct stat by_fd, by_path;
      if (::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 &&
          by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev) {
        return FileLock(fd, path, mode);
      }
      ::close(fd);  // the lock file was replaced under us: lock the new one
      continue;
    }
    int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK && err != EINTR) return ErrnoStatus("lock " + path, err);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Busy(what + " is locked by another operation");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::exchange(other.path_, {})),
      mode_(other.mode_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::exchange(other.path_, {});
    mode_ = other.mode_;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last fd releases the flock
}

}  // namespace cairn

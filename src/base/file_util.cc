#include "base/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/file_faults.h"

namespace cairn {
namespace {

// Asks the fault seam about mutation `op` of `path`; on an injected failure sets errno and
// returns true, so call sites read `if (Injected(...) || ::syscall(...) != 0)`.
bool Injected(FileOp op, const std::string& path, size_t* length = nullptr) {
  const int err = FileFaults::Check(op, path, length);
  if (err == 0) return false;
  errno = err;
  return true;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string DirName(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status WriteAll(int fd, ByteView data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    size_t length = data.size() - done;
    if (Injected(FileOp::kWrite, what, &length)) return ErrnoStatus("write " + what, errno);
    ssize_t n = ::write(fd, data.data() + done, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + what, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// Writes `data` to a fresh temp file next to `path`; returns the temp name.
Result<std::string> WriteTemp(const std::string& path, ByteView data, mode_t mode, SyncMode sync) {
  std::string tmp = TempPathFor(path);
  if (Injected(FileOp::kCreate, tmp)) return ErrnoStatus("create " + tmp, errno);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoStatus("create " + tmp, errno);
  Status st = WriteAll(fd.get(), data, tmp);
  if (st.ok() && sync == SyncMode::kFile &&
      (Injected(FileOp::kFsync, tmp) || ::fsync(fd.get()) != 0)) {
    st = ErrnoStatus("fsync " + tmp, errno);
  }
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) st = ErrnoStatus("chmod " + tmp, errno);
  int raw = fd.release();
  if (::close(raw) != 0 && st.ok()) st = ErrnoStatus("close " + tmp, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return tmp;
}

}  // namespace

Status ErrnoStatus(std::string_view context, int err) {
  std::string msg = fmt::format("{}: {}", context, std::strerror(err));
  switch (err) {
    case ENOENT: return Status::NotFound(std::move(msg));
    case EEXIST: return Status::AlreadyExists(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS: return Status::PermissionDenied(std::move(msg));
    case EWOULDBLOCK: return Status::Busy(std::move(msg));
    case EINTR: return Status::Aborted(std::move(msg));
    case EINVAL:
    case ENAMETOOLONG: return Status::InvalidArgument(std::move(msg));
    default: return Status::IOError(std::move(msg));
  }
}

std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{}.tmp_{}_{}", path, ::getpid(), counter.fetch_add(1));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

Result<Bytes> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  Bytes out;
  out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path, errno);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<size_t> ReadFull(int fd, uint8_t* buf, size_t n, const std::string& what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, buf + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + what, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open dir " + dir, errno);
  if (Injected(FileOp::kFsync, dir) || ::fsync(fd.get()) != 0) {
    return ErrnoStatus("fsync dir " + dir, errno);
  }
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode, SyncMode sync) {
  CAIRN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data, mode, sync));
  if (Injected(FileOp::kRename, path) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = ErrnoStatus("rename to " + path, errno);
    ::unlink(tmp.c_str());
    return st;
  }
  if (sync == SyncMode::kFile) return FsyncDir(DirName(path));
  return Status::OK();
}

Status WriteFileCreateOnly(const std::string& path, ByteView data, mode_t mode, SyncMode sync) {
  CAIRN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data, mode, sync));
  int rc = Injected(FileOp::kRename, path) ? -1 : ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) return ErrnoStatus("create " + path, err);
  if (sync == SyncMode::kFile) return FsyncDir(DirName(path));
  return Status::OK();
}

namespace {

// mkdir of one directory; OK if it exists. The fault seam sees only directories that are
// created (on a full disk, mkdir of an existing directory still answers EEXIST).
Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) {
    if (Injected(FileOp::kMkdir, path)) {
      const int err = errno;
      ::rmdir(path.c_str());
      return ErrnoStatus("mkdir " + path, err);
    }
    return Status::OK();
  }
  return errno == EEXIST ? Status::OK() : ErrnoStatus("mkdir " + path, errno);
}

}  // namespace

Status MakeDirs(const std::string& path, mode_t mode) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    CAIRN_RETURN_IF_ERROR(MakeDir(cur, mode));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Status::AlreadyExists(path + " exists and is not a directory");
  return Status::OK();
}

Status MakeDirsBelow(const std::string& base, const std::string& path, mode_t mode) {
  struct stat st;
  if (::stat(base.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound(base + " does not exist");
  }
  size_t pos = base.size();
  while (pos < path.size()) {
    pos = path.find('/', pos + 1);
    const std::string cur = path.substr(0, pos);
    Status made = MakeDir(cur, mode);
    if (made.IsNotFound()) return Status::NotFound(base + " does not exist any more");
    CAIRN_RETURN_IF_ERROR(made);
  }
  return Status::OK();
}

Status RemoveFile(const std::string& path) {
  if (Injected(FileOp::kRemove, path) || ::unlink(path.c_str()) != 0) {
    return ErrnoStatus("remove " + path, errno);
  }
  return Status::OK();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (Injected(FileOp::kRename, to) || ::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus("rename " + from + " to " + to, errno);
  }
  return Status::OK();
}

Status SetFileTimes(const std::string& path, const struct timespec times[2]) {
  if (Injected(FileOp::kTouch, path) || ::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    return ErrnoStatus("touch " + path, errno);
  }
  return Status::OK();
}

namespace {

// Empties the directory open as `dir` (named `path` in errors). Subdirectories are first removed
// with one rmdir, which succeeds for the empty ones (65,536 of them in a chunk store, where
// opening and listing each one would make the removal four times slower); only the others are
// opened (never through a symlink) and emptied first. Names are read in full before anything is
// removed, so the listing is not disturbed by the removals.
Status RemoveContents(int dir, const std::string& path) {
  std::vector<std::pair<std::string, unsigned char>> entries;
  {
    int list_fd = ::dup(dir);  // closedir closes it; `dir` stays open for the removals
    DIR* d = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
    if (d == nullptr) {
      int err = errno;
      if (list_fd >= 0) ::close(list_fd);
      return ErrnoStatus("list " + path, err);
    }
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") entries.emplace_back(std::string(name), e->d_type);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("list " + path, err);
  }
  for (const auto& [name, type] : entries) {
    std::string child = JoinPath(path, name);
    if (Injected(FileOp::kRemove, child)) return ErrnoStatus("remove " + child, errno);
    if (type == DT_DIR || type == DT_UNKNOWN) {
      if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
      if (errno == ENOTEMPTY || errno == EEXIST) {
        Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub.get() < 0) return ErrnoStatus("open " + child, errno);
        CAIRN_RETURN_IF_ERROR(RemoveContents(sub.get(), child));
        if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
          return ErrnoStatus("remove " + child, errno);
        }
        continue;
      }
      if (errno != ENOTDIR) return ErrnoStatus("remove " + child, errno);
    }
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove " + child, errno);
    }
  }
  return Status::OK();
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::OK() : ErrnoStatus("remove " + path, errno);
  }
  if (Injected(FileOp::kRemove, path)) return ErrnoStatus("remove " + path, errno);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path, errno);
    return Status::OK();
  }
  Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return ErrnoStatus("open " + path, errno);
  CAIRN_RETURN_IF_ERROR(RemoveContents(dir.get(), path));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path, errno);
  return Status::OK();
}

Result<std::vector<DirEntry>> ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return ErrnoStatus("list " + path, errno);
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::lstat(JoinPath(path, name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({std::move(name), is_dir});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus("list " + path, err);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<bool> PathExists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoStatus("stat " + path, errno);
}

}  // namespace cairn

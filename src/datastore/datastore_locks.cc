#include "datastore/datastore_locks.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"

namespace cairn {

DatastoreLocks::DatastoreLocks(std::string root)
    : root_(std::move(root)), locks_dir_(JoinPath(root_, ".locks")) {}

Result<FileLock> DatastoreLocks::Acquire(const std::string& path, LockMode mode,
                                         std::chrono::milliseconds timeout,
                                         const std::string& what) const {
  auto lock = FileLock::Acquire(path, mode, timeout, what, root_);
  if (!lock.ok() && lock.status().IsNotFound()) {
    return Status::NotFound(fmt::format("datastore at {} was removed", root_));
  }
  return lock;
}

std::string DatastoreLocks::GroupDir(const BackupNamespace& ns, const BackupGroup& group) const {
  std::string dir = locks_dir_;
  if (!ns.IsRoot()) dir = JoinPath(dir, ns.RelativePath());
  return JoinPath(dir, group.ToString());
}

Result<FileLock> DatastoreLocks::LockGroup(const BackupNamespace& ns, const BackupGroup& group,
                                           LockMode mode, std::chrono::milliseconds timeout) const {
  std::string what = "group " + group.ToString();
  if (!ns.IsRoot()) what += " in namespace " + ns.ToString();
  return Acquire(JoinPath(GroupDir(ns, group), "group.lck"), mode, timeout, what);
}

Result<FileLock> DatastoreLocks::LockSnapshot(const BackupNamespace& ns, const SnapshotRef& snap,
                                              LockMode mode,
                                              std::chrono::milliseconds timeout) const {
  std::string what = "snapshot " + snap.ToString();
  return Acquire(JoinPath(GroupDir(ns, snap.group), snap.TimeString() + ".lck"), mode, timeout,
                 what);
}

Result<FileLock> DatastoreLocks::LockManifest(const BackupNamespace& ns,
                                              const SnapshotRef& snap) const {
  return Acquire(JoinPath(GroupDir(ns, snap.group), snap.TimeString() + ".manifest.lck"),
                 LockMode::kExclusive, std::chrono::seconds(5), "manifest of " + snap.ToString());
}

Result<FileLock> DatastoreLocks::LockOperations(LockMode mode,
                                                std::chrono::milliseconds timeout) const {
  return Acquire(JoinPath(locks_dir_, "operations.lck"), mode, timeout,
                 mode == LockMode::kShared ? "datastore (a refresh is running)"
                                           : "datastore (operations are running)");
}

Result<FileLock> DatastoreLocks::LockRefresh() const {
  return Acquire(JoinPath(locks_dir_, "refresh.lck"), LockMode::kExclusive,
                 std::chrono::milliseconds(0), "datastore refresh");
}

Result<FileLock> DatastoreLocks::LockGarbageCollection() const {
  return Acquire(JoinPath(locks_dir_, "gc.lck"), LockMode::kExclusive, std::chrono::milliseconds(0),
                 "garbage collection");
}

WriterRegistration::~WriterRegistration() {
  // Unlinked while still locked: a concurrent OldestActiveWriter either saw it locked or finds
  // it gone; it never mistakes a live writer for a dead one.
  if (!lock_.path().empty()) (void)RemoveFile(lock_.path());
}

Result<WriterRegistration> DatastoreLocks::RegisterWriter(int64_t start_epoch) const {
  static std::atomic<uint64_t> counter{0};
  std::string path =
      fmt::format("{}/writers/{}-{}-{}", locks_dir_, start_epoch, ::getpid(), counter.fetch_add(1));
  // OldestActiveWriter may hold a new file's lock shared for a moment while it probes: wait.
  CAIRN_ASSIGN_OR_RETURN(FileLock lock,
                         Acquire(path, LockMode::kExclusive, std::chrono::seconds(5), "writer"));
  return WriterRegistration(std::move(lock));
}

Result<std::optional<int64_t>> DatastoreLocks::OldestActiveWriter() const {
  const std::string dir = locks_dir_ + "/writers";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return std::optional<int64_t>();
    return ErrnoStatus("open " + dir, errno);
  }
  std::optional<int64_t> oldest;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    int64_t start = 0;
    try {
      start = std::stoll(name);
    } catch (...) {
      continue;  // not ours
    }
    std::string path = JoinPath(dir, name);
    auto probe = Acquire(path, LockMode::kShared, std::chrono::milliseconds(0), "writer");
    if (probe.ok()) {
      (void)RemoveFile(path);  // nobody holds it: its writer is gone
      continue;
    }
    if (probe.status().code() != Code::kBusy) {
      ::closedir(d);
      return probe.status();
    }
    if (!oldest || start < *oldest) oldest = start;
  }
  ::closedir(d);
  return oldest;
}

}  // namespace cairn

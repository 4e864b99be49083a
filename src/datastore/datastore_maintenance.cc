// Operations, maintenance modes and the metadata refresh of a Datastore.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"
#include "datastore/datastore.h"

namespace cairn {
namespace {

constexpr char kRefreshStaging[] = ".refresh-tmp";
// The local directories that hold metadata (pbs-reference 1.2): replaced as a whole by a refresh.
constexpr const char* kMetadataDirs[] = {"ct", "host", "vm", "ns"};

// Flushes everything written below `dir` (one syncfs instead of an fsync per file).
Status SyncFilesystemOf(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + dir, errno);
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus("syncfs " + dir, err);
}

// Replaces the local metadata directories with the staged ones.
Status SwapInMetadata(const std::string& root, const std::string& staging) {
  for (const char* name : kMetadataDirs) {
    const std::string live = JoinPath(root, name);
    const std::string staged = JoinPath(staging, name);
    CAIRN_RETURN_IF_ERROR(RemoveTree(live));
    CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(staged));
    if (exists && ::rename(staged.c_str(), live.c_str()) != 0) {
      return ErrnoStatus("rename " + staged + " to " + live, errno);
    }
  }
  return FsyncDir(root);
}

}  // namespace

Status Datastore::BeginOperation(Operation op) {
  operation_lock_.reset();
  if (op == Operation::kLookup) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockOperations(LockMode::kShared, {}));
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode mode, LoadMaintenanceMode(root_));
  CAIRN_RETURN_IF_ERROR(CheckOperationAllowed(mode, op));
  operation_lock_ = std::move(lock);
  return Status::OK();
}

Result<MaintenanceMode> Datastore::GetMaintenanceMode() const { return LoadMaintenanceMode(root_); }

Status Datastore::SetMaintenanceMode(const MaintenanceMode& mode) {
  if (mode.type == MaintenanceType::kS3Refresh) {
    return Status::InvalidArgument("maintenance mode s3-refresh is set by s3-refresh itself");
  }
  auto refresh = locks_.LockRefresh();
  if (!refresh.ok()) return refresh.status();
  return SaveMaintenanceMode(root_, mode);
}

Result<RefreshReport> Datastore::RefreshFromBackend(std::chrono::milliseconds wait) {
  const double started = MonotonicSeconds();
  CAIRN_ASSIGN_OR_RETURN(FileLock refresh_lock, locks_.LockRefresh());
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode previous, LoadMaintenanceMode(root_));
  if (previous.type == MaintenanceType::kS3Refresh) previous = {};  // an interrupted refresh
  CAIRN_RETURN_IF_ERROR(
      SaveMaintenanceMode(root_, {MaintenanceType::kS3Refresh, "refreshing metadata"}));
  auto restore_mode = [&](Status st) {
    Status saved = SaveMaintenanceMode(root_, previous);
    if (!saved.ok()) spdlog::warn("could not restore maintenance mode: {}", saved.ToString());
    return st;
  };
  operation_lock_.reset();
  auto alone = locks_.LockOperations(LockMode::kExclusive, wait);
  if (!alone.ok()) return restore_mode(alone.status());

  const std::string staging = JoinPath(root_, kRefreshStaging);
  RefreshReport report;
  Status st = RemoveTree(staging);
  if (st.ok()) st = MakeDirs(staging, 0755);
  if (st.ok()) {
    auto download = backend_->DownloadMetadata(staging);
    st = download.status();
    if (st.ok()) report.download = std::move(download).value();
  }
  if (st.ok()) st = SyncFilesystemOf(staging);
  if (!st.ok()) {
    (void)RemoveTree(staging);
    return restore_mode(st);
  }
  st = SwapInMetadata(root_, staging);
  if (!st.ok()) {
    // Half swapped: keep s3-refresh so nothing reads the mix; a new refresh repairs it.
    (void)SaveMaintenanceMode(root_, {MaintenanceType::kS3Refresh, "refresh interrupted; rerun"});
    return st;
  }
  CAIRN_RETURN_IF_ERROR(RemoveTree(staging));
  CAIRN_RETURN_IF_ERROR(restore_mode(Status::OK()));
  report.seconds = MonotonicSeconds() - started;
  return report;
}

}  // namespace cairn

// Operations, maintenance modes and the metadata refresh of a Datastore.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "base/file_faults.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/datastore.h"

namespace cairn {
namespace {

constexpr char kRefreshStaging[] = ".refresh-tmp";
// The local directories that hold metadata (docs/formats.md): replaced as a whole by a refresh.
constexpr const char* kMetadataDirs[] = {"ct", "host", "vm", "ns"};

// Flushes everything written below `dir` (one syncfs instead of an fsync per file).
Status SyncFilesystemOf(const std::string& dir) {
  if (int err = FileFaults::Check(FileOp::kFsync, dir)) return ErrnoStatus("syncfs " + dir, err);
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
    if (exists) CAIRN_RETURN_IF_ERROR(RenameFile(staged, live));
  }
  return FsyncDir(root);
}

Status RefuseIfBeingRemoved(const MaintenanceMode& mode) {
  if (mode.type != MaintenanceType::kDelete) return Status::OK();
  return Status::Busy(
      "the datastore is being removed (maintenance mode delete); only running "
      "the removal again changes that");
}

}  // namespace

Result<OperationGuard> Datastore::BeginOperation(Operation op) const {
  if (op == Operation::kLookup) return OperationGuard();
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockOperations(LockMode::kShared, {}));
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode mode, LoadMaintenanceMode(root_));
  CAIRN_RETURN_IF_ERROR(CheckOperationAllowed(mode, op));
  // A removal that ran between opening and locking has deleted (part of) the store.
  if (!ChunkStore(root_).Verify().ok()) {
    return Status::NotFound(fmt::format("datastore at {} was removed", root_));
  }
  return OperationGuard(op, std::move(lock));
}

Result<MaintenanceMode> Datastore::GetMaintenanceMode() const {
  return LoadMaintenanceMode(root_);
}

Status Datastore::SetMaintenanceMode(const MaintenanceMode& mode) {
  if (IsJobMode(mode.type)) {
    return Status::InvalidArgument(
        fmt::format("maintenance mode {} is set by {} itself", MaintenanceTypeName(mode.type),
                    mode.type == MaintenanceType::kDelete ? "datastore remove" : "s3-refresh"));
  }
  auto refresh = locks_.LockRefresh();
  if (!refresh.ok()) return refresh.status();
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode current, LoadMaintenanceMode(root_));
  CAIRN_RETURN_IF_ERROR(RefuseIfBeingRemoved(current));
  return SaveMaintenanceMode(root_, mode);
}

Status Datastore::Detach(bool destroy_data, std::chrono::milliseconds wait) {
  CAIRN_ASSIGN_OR_RETURN(FileLock refresh_lock, locks_.LockRefresh());
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode previous, LoadMaintenanceMode(root_));
  // An earlier removal that failed midway left delete set: this one finishes it.
  const bool resumed = previous.type == MaintenanceType::kDelete;
  if (resumed) previous = {};
  CAIRN_RETURN_IF_ERROR(SaveMaintenanceMode(
      root_,
      {MaintenanceType::kDelete, destroy_data ? "deleting all data" : "being unregistered"}));
  auto give_back = [&](Status st) {
    if (resumed) return st;
    Status saved = SaveMaintenanceMode(root_, previous);
    if (!saved.ok()) spdlog::warn("could not restore maintenance mode: {}", saved.ToString());
    return st;
  };
  auto alone = locks_.LockOperations(LockMode::kExclusive, wait);
  if (!alone.ok()) {
    return give_back(alone.status().IsBusy()
                         ? Status::Busy("operations (backups, restores, jobs) are running on "
                                        "the datastore; it was left as it was")
                         : alone.status());
  }
  Status st = backend_->Detach(destroy_data);
  if (!st.ok()) {
    // Until deleting starts nothing is lost: the store stays as it was. After that it stays
    // blocked (mode delete) so that nothing uses what is left; the removal is run again.
    if (!destroy_data) return give_back(st);
    return st.WithContext(
        "the datastore is partly deleted and stays in maintenance mode "
        "delete; run the removal again to finish it");
  }
  if (!destroy_data) return SaveMaintenanceMode(root_, previous);
  return Status::OK();
}

Result<RefreshReport> Datastore::RefreshFromBackend(std::chrono::milliseconds wait) {
  const double started = MonotonicSeconds();
  CAIRN_ASSIGN_OR_RETURN(FileLock refresh_lock, locks_.LockRefresh());
  CAIRN_ASSIGN_OR_RETURN(MaintenanceMode previous, LoadMaintenanceMode(root_));
  CAIRN_RETURN_IF_ERROR(RefuseIfBeingRemoved(previous));
  if (previous.type == MaintenanceType::kS3Refresh) previous = {};  // an interrupted refresh
  CAIRN_RETURN_IF_ERROR(
      SaveMaintenanceMode(root_, {MaintenanceType::kS3Refresh, "refreshing metadata"}));
  auto restore_mode = [&](Status st) {
    Status saved = SaveMaintenanceMode(root_, previous);
    if (!saved.ok()) spdlog::warn("could not restore maintenance mode: {}", saved.ToString());
    return st;
  };
  auto alone = locks_.LockOperations(LockMode::kExclusive, wait);
  if (!alone.ok()) return restore_mode(alone.status());

  const std::string staging = JoinPath(root_, kRefreshStaging);
  RefreshReport report;
  Status st = RemoveTree(staging);
  if (st.ok()) st = MakeDirs(staging, 0755);
  if (st.ok()) {
    auto download = backend_->metadata().DownloadMetadata(staging);
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

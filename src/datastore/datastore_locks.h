// DatastoreLocks hands out the file locks of one datastore. Lock files live under
// `<datastore>/.locks/` (not in /run as PBS does, so a datastore works for any user and its
// locks travel with it); their paths mirror the validated object names, so they cannot collide:
//
//   .locks/[ns/<a>/...]<type>/<id>/group.lck           group lock
//   .locks/[ns/<a>/...]<type>/<id>/<time>.lck          snapshot lock
//   .locks/[ns/<a>/...]<type>/<id>/<time>.manifest.lck manifest lock (updates of a manifest)
//   .locks/writers/<start-epoch>-<pid>-<n>             one per active writer, held exclusively
//   .locks/operations.lck    shared by every process running operations, exclusive by a refresh
//   .locks/refresh.lck       exclusive while a metadata refresh runs
//   .locks/gc.lck            exclusive while a garbage collection runs
//   .locks/chunks.lck        byte-range locks on chunk stripes (chunk_locks.h)
//
// The writer registry replaces PBS's in-process ProcessLocker timestamps: Cairn's writers may be
// separate processes, so each writer holds an exclusive lock on its own registry file whose name
// records its start time. OldestActiveWriter() lists the registry, treats locked files as live
// writers and removes unlocked ones (left by crashed processes). GC uses it for its cutoff.
// The full locking table is in docs/gc-and-locking.md.
//
// Thread-safety: thread-safe; the object holds only paths.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/file_lock.h"
#include "base/result.h"
#include "types/backup_names.h"

namespace cairn {

// A running writer's entry in the writer registry: holds the exclusive lock on its registry file
// and removes the file when destroyed (a crashed writer's file is removed by the next
// OldestActiveWriter call instead).
class WriterRegistration {
 public:
  explicit WriterRegistration(FileLock lock) : lock_(std::move(lock)) {}
  WriterRegistration(WriterRegistration&&) = default;
  WriterRegistration& operator=(WriterRegistration&&) = delete;
  ~WriterRegistration();

 private:
  FileLock lock_;
};

class DatastoreLocks {
 public:
  explicit DatastoreLocks(std::string root);

  // Group lock: exclusive for a backup or for removing the group, shared otherwise.
  // Busy (naming the group) if it conflicts after `timeout`.
  Result<FileLock> LockGroup(const BackupNamespace& ns, const BackupGroup& group, LockMode mode,
                             std::chrono::milliseconds timeout = {}) const;

  // Snapshot lock: exclusive while writing or removing it, shared while reading it.
  Result<FileLock> LockSnapshot(const BackupNamespace& ns, const SnapshotRef& snap, LockMode mode,
                                std::chrono::milliseconds timeout = {}) const;

  // Exclusive manifest lock for read-modify-write of a manifest; waits up to 5 s.
  Result<FileLock> LockManifest(const BackupNamespace& ns, const SnapshotRef& snap) const;

  // The active-operations lock: shared while operations run, exclusive for a refresh that must
  // have the store alone. Busy after `timeout`.
  Result<FileLock> LockOperations(LockMode mode, std::chrono::milliseconds timeout) const;
  // The refresh lock (exclusive, try once): Busy if a refresh is running.
  Result<FileLock> LockRefresh() const;
  // The GC lock (exclusive, try once): Busy if a garbage collection is running.
  Result<FileLock> LockGarbageCollection() const;

  // Registers an active writer that started at `start_epoch`; it stays registered while the
  // returned registration lives.
  Result<WriterRegistration> RegisterWriter(int64_t start_epoch) const;

  // Start time of the oldest live writer, or nullopt if none. Removes stale registry entries.
  Result<std::optional<int64_t>> OldestActiveWriter() const;

 private:
  std::string GroupDir(const BackupNamespace& ns, const BackupGroup& group) const;
  // FileLock::Acquire below the datastore root: NotFound once the datastore was removed.
  Result<FileLock> Acquire(const std::string& path, LockMode mode,
                           std::chrono::milliseconds timeout, const std::string& what) const;

  std::string root_;
  std::string locks_dir_;
};

}  // namespace cairn

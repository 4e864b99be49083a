// Datastore is one backup store: its local directory (layout in docs/formats.md) and the
// backend that persists chunks and metadata (see backend.h). It lists and manages namespaces,
// groups and snapshots, and opens snapshot writers (snapshot_writer.h).
//
// Visibility: a snapshot directory without `index.json.blob` is unfinished (a running or
// crashed backup) and is never listed as a snapshot. The manifest is written last.
//
// Ownership: a Datastore owns its backend and lock helper. Objects it returns (writers, locks)
// must not outlive it.
// Thread-safety: all methods are thread-safe; cross-process safety comes from file locks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "datastore/backend/backend.h"
#include "datastore/backend/content_path.h"
#include "datastore/backend/object_store_backend.h"
#include "datastore/datastore_locks.h"
#include "datastore/maintenance.h"
#include "format/archive_name.h"
#include "format/manifest.h"
#include "types/backup_names.h"

namespace cairn {

struct SnapshotInfo {
  SnapshotRef ref;
  bool is_protected = false;
  std::vector<std::string> files;    // archive file names from the manifest
  uint64_t size = 0;                 // sum of the manifest's file sizes
  std::string error;                 // non-empty if the manifest exists but cannot be read
  std::optional<Manifest> manifest;  // the parsed manifest, unless `error`
};

// How to create or attach a datastore kept in an object store.
struct ObjectStoreDatastoreOptions {
  ObjectStoreBackendOptions backend;
  std::string hostname;           // this host, recorded in the in-use marker
  bool overwrite_in_use = false;  // take over a prefix another host marked as in use
  bool reuse = false;             // attach to the datastore already under the prefix
};

struct RefreshReport {
  MetadataDownload download;
  double seconds = 0;
};

struct GroupInfo {
  BackupGroup group;
  std::string owner;
  size_t snapshot_count = 0;
  std::optional<int64_t> last_backup;
};

// One operation (a backup, a restore, a job) running on a datastore, from
// Datastore::BeginOperation until the guard is destroyed. While it lives the store's operations
// lock is held shared, so maintenance that needs the store alone (a metadata refresh, a removal)
// waits for it; a lookup holds nothing. Many guards, of this process or others, may be alive at
// once (a server runs many operations on one Datastore). The guard holds only its lock file:
// it may outlive the Datastore object that gave it.
//
// Thread-safety: a value; not shared between threads.
class OperationGuard {
 public:
  OperationGuard() = default;  // no operation
  OperationGuard(OperationGuard&&) = default;
  OperationGuard& operator=(OperationGuard&&) = default;

  Operation kind() const { return kind_; }

 private:
  friend class Datastore;
  OperationGuard(Operation kind, std::optional<FileLock> lock)
      : kind_(kind), lock_(std::move(lock)) {}
  Operation kind_ = Operation::kLookup;
  std::optional<FileLock> lock_;
};

// What a directory offers to a datastore about to be created there (Datastore::ExamineDirectory).
enum class DatastoreDirectoryState {
  kAvailable,   // absent, or empty (lost+found aside): a creation starts afresh
  kUnfinished,  // what a creation or attach killed midway left: the next one clears it
};

class Datastore {
 public:
  // Whether a datastore may be created at `path` without touching anything. AlreadyExists if
  // it holds a datastore or other files (the error names what it found).
  static Result<DatastoreDirectoryState> ExamineDirectory(const std::string& path);

  // Creates a filesystem datastore at `path` (created if missing; must be empty or absent):
  // `.chunks/0000..ffff`, `.lock`. AlreadyExists if `path` already holds a datastore or other
  // files.
  static Result<std::unique_ptr<Datastore>> CreateFilesystem(const std::string& path);

  // Opens an existing filesystem datastore. NotFound/InvalidArgument if `path` is not one.
  static Result<std::unique_ptr<Datastore>> OpenFilesystem(const std::string& path);

  // Creates a datastore kept in an object store, with its cache store at `path` (created if
  // missing; must be empty). Checks access to the store first (its error names the store), then
  // the in-use marker: AlreadyExists naming the host if another host uses the prefix, unless
  // `overwrite_in_use`. Without `reuse`, AlreadyExists if the prefix already holds data; with
  // it, NotFound if it holds none, and the local metadata is refreshed from the store.
  // Writes the in-use marker with `hostname`. Nothing is left behind locally on failure.
  static Result<std::unique_ptr<Datastore>> CreateOnObjectStore(
      const std::string& path, ObjectStoreDatastoreOptions options);

  // Opens the cache store at `path` of a datastore kept in an object store.
  static Result<std::unique_ptr<Datastore>> OpenOnObjectStore(const std::string& path,
                                                              ObjectStoreBackendOptions options);

  const std::string& path() const { return root_; }
  DatastoreBackend& backend() { return *backend_; }
  const DatastoreLocks& locks() const { return locks_; }

  // --- operations and maintenance (maintenance.h) ---
  // Starts an operation of kind `op`, running until the returned guard is destroyed. Busy if
  // the maintenance mode blocks `op` or a refresh or removal holds the store; NotFound if the
  // store was removed meanwhile.
  [[nodiscard]] Result<OperationGuard> BeginOperation(Operation op) const;
  Result<MaintenanceMode> GetMaintenanceMode() const;
  // Sets the mode. InvalidArgument for s3-refresh and delete (only their jobs set them); Busy
  // while a refresh runs or the store is being removed.
  Status SetMaintenanceMode(const MaintenanceMode& mode);
  // (RefreshFromBackend and Detach need the store alone: a guard the caller itself holds makes
  // them wait for it.)
  // Rebuilds the local metadata (namespaces, groups, owners, notes, snapshots, protected
  // markers; not chunks) from the backend's persisted copy, under maintenance mode s3-refresh:
  // waits up to `wait` for running operations of other processes to end (Busy after that,
  // with the mode restored). Invalid keys are reported in the result and skipped.
  // InvalidArgument for a backend without a remote copy; Busy while mode delete is set.
  Result<RefreshReport> RefreshFromBackend(std::chrono::milliseconds wait);
  // Lets go of the whole store (`datastore remove`): sets maintenance mode delete, so that no
  // operation of any process starts any more (they get Busy), and waits up to `wait` for the
  // running ones to end: Busy after that, with the previous mode back and nothing changed.
  // Then, with `destroy_data`, deletes all of the store's data (remote objects, then the local
  // directory, chunks first and its lock and mode files last); without it, releases any claim
  // on the persisted data (an object store's in-use marker) and restores the previous mode.
  // If deleting fails midway the mode stays delete (what is left must not be used) and the
  // error says to run the removal again, which finishes it. The object must not be used after
  // a successful call with `destroy_data`.
  Status Detach(bool destroy_data, std::chrono::milliseconds wait);

  // --- namespaces ---
  // Creates `ns`; its parent must exist (NotFound otherwise). OK if it exists.
  Status CreateNamespace(const BackupNamespace& ns);
  Result<bool> NamespaceExists(const BackupNamespace& ns) const;
  // Child namespaces of `parent` (all descendants if `recursive`), sorted.
  Result<std::vector<BackupNamespace>> ListNamespaces(const BackupNamespace& parent,
                                                      bool recursive) const;
  // Removes an empty namespace; with `delete_groups`, removes its groups and child namespaces
  // too, refusing (and keeping everything) if any snapshot below is protected.
  // Busy if a group below is locked. The root namespace cannot be removed.
  Status RemoveNamespace(const BackupNamespace& ns, bool delete_groups);

  // --- groups ---
  Result<std::vector<BackupGroup>> ListGroups(const BackupNamespace& ns) const;
  Result<GroupInfo> GetGroupInfo(const BackupNamespace& ns, const BackupGroup& group) const;
  // Owner (e.g. "root@pam"). NotFound if the group does not exist.
  Result<std::string> GetOwner(const BackupNamespace& ns, const BackupGroup& group) const;
  Status SetOwner(const BackupNamespace& ns, const BackupGroup& group, const std::string& owner);
  // Group notes ("" if none).
  Result<std::string> GetGroupNotes(const BackupNamespace& ns, const BackupGroup& group) const;
  Status SetGroupNotes(const BackupNamespace& ns, const BackupGroup& group,
                       const std::string& notes);
  // Removes every unprotected snapshot of the group, and the group itself if none is left.
  // Busy if a backup runs in the group.
  Status RemoveGroup(const BackupNamespace& ns, const BackupGroup& group);

  // --- snapshots ---
  // Finished snapshots of the group, oldest first. NotFound if the group does not exist. A
  // snapshot whose manifest exists but is damaged is listed with `error` set, so one bad
  // snapshot neither hides the others nor passes for a good one.
  Result<std::vector<SnapshotInfo>> ListSnapshots(const BackupNamespace& ns,
                                                  const BackupGroup& group) const;
  // The newest finished snapshot of the group, if any.
  Result<std::optional<SnapshotRef>> LatestSnapshot(const BackupNamespace& ns,
                                                    const BackupGroup& group) const;
  // The manifest blob (index.json.blob) as stored. NotFound if the snapshot does not exist or
  // is unfinished.
  Result<Bytes> ReadManifestBlob(const BackupNamespace& ns, const SnapshotRef& snap) const;
  // Loads and parses the manifest. NotFound if the snapshot does not exist or is unfinished;
  // Corruption (naming the file) if it does not decode.
  Result<Manifest> LoadManifest(const BackupNamespace& ns, const SnapshotRef& snap) const;
  // Raw bytes of a file of a finished snapshot, checked against the manifest's size and csum
  // (Corruption naming the file on mismatch). `filename` must be listed in the manifest, or be
  // the client log (kClientLogName, never listed; its CRC is checked instead).
  Result<Bytes> ReadSnapshotFile(const BackupNamespace& ns, const SnapshotRef& snap,
                                 const std::string& filename) const;
  // Read-modify-write of a manifest's unprotected section (notes, verify state) under the
  // manifest lock. `update` may only change unprotected data.
  Status UpdateManifest(const BackupNamespace& ns, const SnapshotRef& snap,
                        const std::function<Status(Manifest&)>& update);
  // Stores the client's log of a finished snapshot (kClientLogName, PBS's upload-backup-log):
  // once, outside the manifest. NotFound for a snapshot that is missing or unfinished,
  // AlreadyExists if it has a log, InvalidArgument unless `blob` is a DataBlob with a valid CRC.
  Status AddClientLog(const BackupNamespace& ns, const SnapshotRef& snap, ByteView blob);
  Result<bool> IsProtected(const BackupNamespace& ns, const SnapshotRef& snap) const;
  Status SetProtected(const BackupNamespace& ns, const SnapshotRef& snap, bool value);
  // Removes a finished or abandoned snapshot. PermissionDenied if protected, Busy if in use.
  Status ForgetSnapshot(const BackupNamespace& ns, const SnapshotRef& snap);

  // --- paths (relative to the datastore root) ---
  static std::string GroupRelPath(const BackupNamespace& ns, const BackupGroup& group);
  static std::string SnapshotRelPath(const BackupNamespace& ns, const SnapshotRef& snap);

 private:
  friend class SnapshotWriter;
  Datastore(std::string root, std::unique_ptr<DatastoreBackend> backend);

  std::string Local(const std::string& rel) const;
  // Snapshot directory names under a group (finished or not), sorted oldest first.
  Result<std::vector<SnapshotRef>> ListSnapshotDirs(const BackupNamespace& ns,
                                                    const BackupGroup& group) const;
  Result<bool> IsFinished(const BackupNamespace& ns, const SnapshotRef& snap) const;
  // Removes the snapshot directory; caller holds the snapshot lock exclusively.
  Status RemoveSnapshotLocked(const BackupNamespace& ns, const SnapshotRef& snap);
  // Removes unfinished snapshot directories nobody is writing. Caller holds the group lock.
  Status RemoveAbandonedSnapshots(const BackupNamespace& ns, const BackupGroup& group);

  std::string root_;
  std::unique_ptr<DatastoreBackend> backend_;
  DatastoreLocks locks_;
};

}  // namespace cairn

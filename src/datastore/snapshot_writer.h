// SnapshotWriter creates one new snapshot: the server side of a backup session. It holds, for
// its whole life, the group lock (exclusive: one backup per group at a time), the new
// snapshot's lock (exclusive), the base snapshot's lock (shared, so the chunks it reuses stay
// referenced) and a writer registration (so GC keeps every chunk inserted since
// the writer started). Archives (indexes and blobs) are written atomically into the snapshot
// directory as they close; the manifest is written by Finish, last, which is the moment the
// snapshot becomes visible. Destroying a writer without a successful Finish removes the
// snapshot directory; a writer killed outright leaves an unfinished directory that is never
// listed and is removed by the next backup of the group.
//
// Thread-safety: InsertChunk may be called from many threads at once; other methods from one
// thread. The Datastore must outlive the writer.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/file_lock.h"
#include "datastore/datastore.h"

namespace cairn {

struct ChunkUploadStats {
  std::atomic<uint64_t> count{0};            // chunks offered
  std::atomic<uint64_t> duplicates{0};       // already stored
  std::atomic<uint64_t> size{0};             // plaintext bytes of new chunks
  std::atomic<uint64_t> compressed_size{0};  // encoded bytes of new chunks
};

class SnapshotWriter {
 public:
  // Starts snapshot `time` in `group`. The namespace must exist (NotFound). The group is created
  // with `owner` if new; an existing group owned by someone else is PermissionDenied. `time`
  // must be newer than the group's newest finished snapshot (InvalidArgument) and the snapshot
  // must not exist (AlreadyExists). Busy if another backup of the group is running.
  // `caching` says whether new chunks are also kept in a cache store (no-cache backups).
  static Result<std::unique_ptr<SnapshotWriter>> Begin(Datastore& store, const BackupNamespace& ns,
                                                       const BackupGroup& group, int64_t time,
                                                       const std::string& owner,
                                                       ChunkCaching caching = ChunkCaching::kCache);
  ~SnapshotWriter();

  const BackupNamespace& ns() const { return ns_; }
  const SnapshotRef& snapshot() const { return snapshot_; }
  // The group's newest finished snapshot before this one (the incremental base), if any.
  const std::optional<SnapshotRef>& previous() const { return previous_; }

  // Marks (for GC, as WriteArchive does) chunks of the previous snapshot this backup means to
  // reference without uploading them, and returns those the store no longer holds in a usable
  // form: missing, or only damaged copies verify set aside. The client must upload those again
  // (InsertChunk stores them anew), so a damaged base never fails a backup. Each digest is
  // returned once.
  Result<std::vector<Digest>> RegisterKnownChunks(std::span<const Digest> digests);

  // Stores an encoded chunk (thread-safe). `plain_size` is the chunk's plaintext length.
  Result<ChunkInsertResult> InsertChunk(const Digest& digest, ByteView encoded,
                                        uint64_t plain_size);

  // Writes an archive file (`*.fidx`, `*.didx`, `*.blob`; not the manifest). InvalidArgument for
  // a bad name, AlreadyExists if written before. An index must parse (Corruption otherwise) and
  // every chunk it references is marked for GC now (InvalidArgument naming a chunk the store
  // does not have): a GC that has already walked past this group, and its base snapshot removed
  // once this backup ends, cannot make it lose the chunks it reuses.
  Status WriteArchive(const std::string& filename, ByteView content);

  // Completes the snapshot: every file the manifest lists must have been written with the
  // listed size and csum for blobs (InvalidArgument otherwise). Adds chunk_upload_stats to the
  // manifest's unprotected section and writes it, last. After an error the writer is unusable
  // and its destructor removes the snapshot.
  Status Finish(Manifest manifest);

  const ChunkUploadStats& stats() const { return stats_; }

 private:
  // Marks the chunks of an index being written (see WriteArchive).
  Status MarkIndexChunks(const std::string& filename, ByteView content);
  SnapshotWriter(Datastore& store, BackupNamespace ns, SnapshotRef snap, FileLock group_lock,
                 FileLock snapshot_lock, WriterRegistration writer_registration);

  Datastore& store_;
  BackupNamespace ns_;
  SnapshotRef snapshot_;
  std::optional<SnapshotRef> previous_;
  std::optional<FileLock> previous_lock_;  // shared: the base cannot be removed meanwhile
  FileLock group_lock_;
  FileLock snapshot_lock_;
  WriterRegistration writer_registration_;
  struct WrittenFile {
    uint64_t size;
    Digest sha256;
  };
  std::map<std::string, WrittenFile> written_;
  ChunkCaching caching_ = ChunkCaching::kCache;
  bool finished_ = false;
  ChunkUploadStats stats_;
};

}  // namespace cairn

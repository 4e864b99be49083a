// DatastoreBackend is the one seam between a datastore and where it persists data. A datastore
// always has a local directory: the store itself (filesystem backend) or the cache in front of
// an object store such as an S3 bucket (object store backend). The backend is chosen once, when
// the datastore is opened; nothing above it asks which kind it is.
//
// The seam is cut by concern into small capability interfaces, each with its own contract, so
// that a job depends only on what it uses:
//   ChunkIo         chunks in and out (backups, restores)
//   MetadataWriter  every mutation of metadata files and directories, and their download
//   ChunkCollector  garbage collection: reachability, mark, sweep, the atime probe
//   ChunkRepair     verify: the persisted copy of a chunk, setting a corrupt one aside
// A DatastoreBackend hands out one of each, plus what is about the whole backend (what it is,
// what it did, letting go of the data). Values crossing the seam are in backend_types.h.
//
// Contract shared by every implementation:
//  - Metadata (owner, notes, indexes, blobs, manifests, markers) is read from the local
//    directory by the datastore itself; every *mutation* goes through MetadataWriter, which
//    persists it durably wherever the backend keeps data *first* and then updates the local
//    directory atomically (temp + fsync + rename). Paths are relative to the datastore root and
//    already validated.
//  - Errors are never turned into "not found": a failed remote read is Unavailable/IOError.
//
// Thread-safety: implementations are thread-safe; many backup threads insert concurrently.
// Ownership: the capability objects belong to the backend and live as long as it does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/job_control.h"
#include "base/result.h"
#include "datastore/backend/backend_types.h"
#include "format/digest.h"

namespace cairn {

class ChunkIo {
 public:
  virtual ~ChunkIo() = default;

  // How many chunk transfers it pays to run at once (remote stores hide latency with more);
  // 0 = no preference (one per core is right).
  virtual unsigned PreferredParallelism() const = 0;

  // Stores an encoded chunk under `digest` (the caller computed the digest); an existing copy
  // is kept, replaced or the upload refused as chunk_insert_policy.h says (InvalidArgument for
  // an encrypted upload over an unencrypted chunk). `caching` only matters to backends with a
  // cache.
  virtual Result<ChunkInsertResult> InsertChunk(const Digest& digest, ByteView encoded,
                                                ChunkCaching caching) = 0;

  // Returns a chunk's encoded bytes with magic and CRC checked. NotFound if it is not stored,
  // Corruption if damaged.
  virtual Result<Bytes> ReadChunk(const Digest& digest) = 0;
};

class MetadataWriter {
 public:
  virtual ~MetadataWriter() = default;

  // Creates or replaces the file at `rel_path` with `content`.
  virtual Status WriteFile(const std::string& rel_path, ByteView content) = 0;

  // Removes the file at `rel_path`. OK if it did not exist.
  virtual Status RemoveFile(const std::string& rel_path) = 0;

  // Creates the local directory `rel_dir` (and parents) for files to come (a group or snapshot
  // directory). It persists through the files put in it. OK if it exists.
  virtual Status CreateDir(const std::string& rel_dir) = 0;

  // Creates the namespace directory `rel_dir` ("ns/a/ns/b"), persisted even while empty.
  virtual Status CreateNamespaceDir(const std::string& rel_dir) = 0;

  // Removes the directory `rel_dir` and everything below it. `rel_dir` names exactly that
  // directory: removing "vm/100" never touches "vm/1000". OK if it did not exist.
  virtual Status RemoveDir(const std::string& rel_dir) = 0;

  // Downloads every metadata file the backend persists (not chunks) into `target_dir`, which
  // mirrors the datastore's layout. Content that is not valid datastore metadata is reported in
  // `skipped` and never written. InvalidArgument for a backend that persists nothing beyond the
  // local directory.
  virtual Result<MetadataDownload> DownloadMetadata(const std::string& target_dir) = 0;
};

// gc.h runs these; docs/gc-and-locking.md has the rules.
class ChunkCollector {
 public:
  virtual ~ChunkCollector() = default;

  // Checks that wherever chunks are persisted can be reached (a bucket answers), before GC
  // marks anything. The error says what is wrong (NotFound, PermissionDenied, Unavailable).
  virtual Status CheckReachable() = 0;

  // Proves that MarkChunk moves a chunk's mark (its local atime) forward on this store, without
  // sleeping: stores the all-zero 4 MiB chunk, sets its mark two days back at `now` (Unix
  // seconds), marks it and checks. IOError saying why GC cannot run if the mark did not move
  // (a filesystem that ignores atime updates).
  virtual Status CheckMarksUpdateAtime(int64_t now) = 0;

  // Phase 1: marks a chunk an index references by touching its local file or marker. A
  // backend with a remote copy notes a chunk it has no local trace of for its sweep, which
  // decides by what the remote holds, and reports it kMarked.
  virtual Result<ChunkMark> MarkChunk(const Digest& digest) = 0;

  // Phase 2: removes every chunk (and bad copy) that `cutoff` judges unused and no insert
  // holds, and counts what it removed and kept; warnings go to `job`. Stops at the first error,
  // naming the chunk, or with Aborted when `job` is cancelled; what was removed until then
  // stays removed, and nothing still in use was touched.
  virtual Result<SweepCounts> SweepChunks(const GcCutoff& cutoff, const JobControl& job) = 0;
};

// verify.h runs these; docs/gc-and-locking.md has the locking.
class ChunkRepair {
 public:
  virtual ~ChunkRepair() = default;

  // The bytes of the chunk's persisted copy (the bucket's object, not a cached copy, which could
  // be good while the persisted one is damaged), unchecked. NotFound if nothing is stored.
  virtual Result<Bytes> ReadPersistedChunk(const Digest& digest) = 0;

  // Sets aside a chunk verify found corrupt: under the chunk's lock, reads the persisted copy
  // again and, unless `check` accepts it now, renames it to `<digest>.N.bad` (N as
  // NextBadCopyIndex; on an object store: copy, then delete, plus a local `.N.bad` marker that
  // GC's mark phase touches) and drops any cached copy or marker, so that the next backup
  // uploads a good copy instead of deduplicating against the damaged one.
  virtual Result<CorruptChunkOutcome> SetAsideCorruptChunk(const Digest& digest,
                                                           const ChunkCheck& check) = 0;
};

class DatastoreBackend {
 public:
  virtual ~DatastoreBackend() = default;

  // "filesystem", "s3", "memory"; for display and status output only.
  virtual std::string_view Kind() const = 0;
  // Where data is persisted, for messages ("/srv/store", "s3 endpoint 'x' bucket 'y' ...").
  virtual std::string Describe() const = 0;
  // What the backend did on behalf of this process so far.
  virtual BackendStats Stats() const = 0;

  // Lets go of the persisted data: with `destroy_data` deletes all of it (objects and the local
  // directory), otherwise only releases any claim on it so another host may attach.
  virtual Status Detach(bool destroy_data) = 0;

  virtual ChunkIo& chunks() = 0;
  virtual MetadataWriter& metadata() = 0;
  virtual ChunkCollector& collector() = 0;
  virtual ChunkRepair& repair() = 0;
};

// The filesystem backend: the local directory at `root` is the datastore.
std::unique_ptr<DatastoreBackend> NewFilesystemBackend(const std::string& root);

}  // namespace cairn

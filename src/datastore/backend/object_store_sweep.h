// GC's sweep for a datastore whose chunks live in an object store (PBS's S3 sweep, with Cairn's
// changes: docs/gc-and-locking.md). Phase 2 lists the chunk objects once, as 16 key ranges
// (`.chunks/0` to `.chunks/f`) at once on up to the store's concurrency in threads, and judges
// each by its local file or marker, which phase 1 touched if an index references the chunk:
//   local file or marker  -> its atime decides (chunk_sweep.h): every insert touches or writes
//                            it under the chunk lock, and phase 1 touches it;
//   only a `.using` note  -> phase 1 found it referenced: the note becomes a marker, kept;
//   nothing local         -> unused unless its LastModified is newer than the cutoff (kept as
//                            pending: it may be an upload this cache has no record of).
// Every decision is taken under the chunk's lock (try only: a chunk an insert holds is kept),
// and a stripe stays locked until the DeleteObjects request for its queued keys has returned,
// so no insert can find a chunk present that is about to be deleted (a batch is sent when it
// holds 1000 keys or its first key has waited 10 s, so inserts never wait long; the ranges'
// leftovers share requests, so a sweep sends ceil(deleted / 1000) of them unless the 10 s rule
// fires). The local file goes before the object, so a crash in between leaves an object GC
// deletes next time, never a marker for a missing object. Keys are deleted in batches of up to
// 1000 (the S3 limit); locks are byte ranges of one file, so a batch holds no file descriptors.
// Phase 3 sweeps the local directory: markers and copies of chunks no index references, and
// `.using` notes of chunks the bucket does not have (reported as missing).
//
// Thread-safety: one sweep per datastore at a time (gc.h's GC lock); safe against concurrent
// inserts, reads and evictions of any process.
#pragma once

#include <string>

#include "base/result.h"
#include "datastore/backend/chunk_cache.h"
#include "datastore/backend/chunk_locks.h"
#include "datastore/backend/chunk_sweep.h"
#include "storage/object_store.h"

namespace cairn {

inline constexpr size_t kDeleteBatchSize = 1000;

struct ObjectStoreChunks {
  ObjectStore& objects;
  std::string key_prefix;  // "<store>/.chunks/"
  const ChunkStore& local;
  ChunkCache& cache;
  ChunkLocks& locks;
  const JobControl& job;  // warnings; cancellation is checked per object and per local file
};

// Phases 2 and 3. Counts describe the bucket's chunks (sizes from the listing). A failed
// listing or a key DeleteObjects reports as failed ends the run with that error; a cancelled
// job ends it with Aborted (the deletions already queued are sent first).
Result<SweepCounts> SweepObjectStoreChunks(const ObjectStoreChunks& chunks, const GcCutoff& cutoff);

}  // namespace cairn

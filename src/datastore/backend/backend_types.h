// The values that cross the datastore backend seam (backend.h): what an insert did, what a
// backend did so far, what a metadata download found, what setting a corrupt chunk aside did,
// and GC's cutoff, marks and sweep counts.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "storage/object_store_stats.h"

namespace cairn {

// Whether a chunk inserted through a cache keeps a local copy. Either way a local marker
// records that the chunk was stored (so it is not uploaded twice and GC sees it).
enum class ChunkCaching { kCache, kMarkerOnly };

struct ChunkInsertResult {
  bool duplicate = false;    // an acceptable copy existed; nothing was written
  uint64_t stored_size = 0;  // encoded size now on disk
};

struct CacheStats {
  uint64_t hits = 0;       // reads served locally
  uint64_t misses = 0;     // reads that had to fetch the chunk
  uint64_t inserts = 0;    // chunks written into the cache
  uint64_t evictions = 0;  // chunks turned into markers to stay within capacity
  uint64_t bytes = 0;      // bytes of chunk files currently accounted
  uint64_t capacity = 0;   // the bound (0 until the cache is first used)
};

// What a backend did on behalf of one process so far.
struct BackendStats {
  std::optional<ObjectStoreStats> requests;  // remote requests by kind (backends with a remote)
  std::optional<CacheStats> cache;           // local chunk cache (backends with a cache)
};

// What a metadata download found.
struct MetadataDownload {
  uint64_t files = 0;                // metadata files written
  uint64_t namespaces = 0;           // namespace markers seen
  std::vector<std::string> skipped;  // keys that are not valid datastore content
};

// What SetAsideCorruptChunk did.
enum class CorruptChunkAction {
  kSetAside,  // the stored copy was renamed to a `.N.bad` name; the next backup stores it anew
  kRepaired,  // the stored copy passes the check now (an upload replaced it): left alone
  kMissing,   // nothing is stored under the digest (any local marker claiming it was dropped)
};

struct CorruptChunkOutcome {
  CorruptChunkAction action = CorruptChunkAction::kMissing;
  std::string bad_name;  // kSetAside: where the copy went (relative path or object key)
};

// Judges a stored chunk's encoded bytes: OK if good, Corruption saying what is wrong.
using ChunkCheck = std::function<Status(ByteView encoded)>;

// Times in Unix seconds. `min_atime`: a chunk last marked before it is unused. `oldest_writer`:
// the start of the oldest running backup (or of the GC run); a chunk marked before it but not
// before `min_atime` is kept as pending.
struct GcCutoff {
  int64_t min_atime = 0;
  int64_t oldest_writer = 0;
};

enum class ChunkAge {
  kUnused,   // not marked since min_atime: delete
  kPending,  // marked before the oldest writer started: keep, count as pending
  kInUse,    // marked since then
};

ChunkAge JudgeChunk(int64_t atime, const GcCutoff& cutoff);

// What GC's mark phase found for a referenced chunk.
enum class ChunkMark {
  kMarked,         // the chunk's local file or marker was touched
  kOnlyBadCopies,  // no chunk, but its `.bad` copies were touched (kept while referenced)
  kMissing,        // no trace of it here
};

// What a sweep removed and kept (PBS's GC status counters; bad copies are counted apart).
struct SweepCounts {
  uint64_t disk_chunks = 0;
  uint64_t disk_bytes = 0;
  uint64_t removed_chunks = 0;
  uint64_t removed_bytes = 0;
  uint64_t pending_chunks = 0;
  uint64_t pending_bytes = 0;
  uint64_t removed_bad = 0;
  uint64_t still_bad = 0;
  uint64_t missing_chunks = 0;  // referenced chunks the remote store turned out not to have

  // Counts one chunk (or bad copy, `bad`) of `size` bytes that the sweep judged `age` and
  // removed if unused.
  void Count(ChunkAge age, bool bad, uint64_t size);
  // Adds the counts of another part of the same sweep.
  void Add(const SweepCounts& other);
};

}  // namespace cairn

// The parts of garbage collection that every backend's sweep shares (gc.h drives the whole run):
// the cutoff that judges a chunk by the atime GC's mark phase gave it, the counts a sweep
// reports (pbs-reference 5.1), the names of the files a chunk directory may hold, and the walk
// over a datastore's local chunk directories.
//
// Local chunk directory entries (`.chunks/XXXX/`):
//   <hex64>          a chunk (for an object store backend: a cached copy or a zero-length marker)
//   <hex64>.<N>.bad  a chunk verify found corrupt and set aside (N = 0..9)
//   <hex64>.using    (object store backends) GC's mark found no local file for a referenced
//                    chunk; the sweep turns it into a marker if the object exists
//
// Thread-safety: pure functions and plain structs; the walk is as safe as the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "format/digest.h"

namespace cairn {

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

// What a sweep removed and kept (pbs-reference 5.1; bad copies are counted apart).
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

// What GC's mark phase found for a referenced chunk.
enum class ChunkMark {
  kMarked,         // the chunk's local file or marker was touched
  kOnlyBadCopies,  // no chunk, but its `.bad` copies were touched (kept while referenced)
  kMissing,        // no trace of it here
};

enum class ChunkFileKind { kChunk, kBad, kUsing };

struct ChunkFileName {
  Digest digest;
  ChunkFileKind kind;
};

// Parses a chunk directory entry or the last component of a chunk object key; nullopt for
// anything else (temp files, foreign names).
std::optional<ChunkFileName> ParseChunkFileName(std::string_view name);

// Calls `visit(path, name)` for every recognised entry of the 65,536 directories under
// `chunks_dir`, stopping at the first error `visit` returns. Missing directories are skipped.
Status ForEachLocalChunkFile(
    const std::string& chunks_dir,
    const std::function<Status(const std::string& path, const ChunkFileName& name)>& visit);

// Judges the local file `path` (a chunk or bad copy, not a `.using` note) by its atime, counts
// it with its size, and calls `remove` if it is unused. A file that vanished is skipped.
// Caller holds the chunk's lock.
Status SweepLocalChunkFile(const std::string& path, const ChunkFileName& name,
                           const GcCutoff& cutoff, SweepCounts& counts,
                           const std::function<Status()>& remove);

}  // namespace cairn

// The parts of garbage collection that every backend's sweep shares (gc.h drives the whole run):
// the cutoff that judges a chunk by the atime GC's mark phase gave it, the counts a sweep reports
// (those of PBS's GarbageCollectionStatus), the names of the files a chunk directory may hold, and
// the walk over a datastore's local chunk directories.
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
#include "datastore/backend/backend.h"
#include "datastore/backend/backend_types.h"
#include "format/digest.h"

namespace cairn {

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

// ChunkCollector::CheckMarksUpdateAtime for a backend whose marks are the atimes of the files
// under `root`/.chunks (every backend: the store's chunks, or the cache's copies and markers).
Status CheckLocalMarksUpdateAtime(const std::string& root, ChunkIo& chunks,
                                  ChunkCollector& collector, int64_t now);

}  // namespace cairn

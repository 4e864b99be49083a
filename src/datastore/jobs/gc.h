// Garbage collection of one datastore (PBS's mark and sweep, with Cairn's changes: see
// docs/gc-and-locking.md). It never blocks backups, restores or verify, and it never deletes a
// chunk that a finished or running backup references:
//
//  0. One GC per datastore (`.locks/gc.lck`, try once: Busy). The backend's remote, if any, must
//     answer. The atime safety check proves the filesystem records the marks GC relies on.
//  1. Mark: every `*.fidx` / `*.didx` below the datastore root (finished, unfinished and stray
//     snapshots alike; hidden directories skipped, symlinks not followed) is read and each chunk
//     it references is marked once (an in-memory digest cache saves repeated marks). An index
//     that does not parse stops GC with Corruption naming it: its chunks cannot be marked.
//  2. Sweep (the backend's): chunks not marked since the cutoff are removed. The cutoff is
//     `start - atime_cutoff`, moved to `oldest running writer - 5 min` when that is earlier, so a
//     chunk a running backup inserted (or reuses from a base snapshot it holds locked) is kept.
//
// The result is saved as `.gc-status` (JSON, the kebab-case fields of PBS's
// GarbageCollectionStatus plus Cairn's; docs/gc-and-locking.md) and returned.
//
// Thread-safety: runs on the calling thread; safe against every other operation of any process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/job_control.h"
#include "base/result.h"
#include "datastore/backend/backend_types.h"
#include "datastore/datastore.h"

namespace cairn {

inline constexpr char kGcStatusFile[] = ".gc-status";

struct GcOptions {
  int64_t atime_cutoff_minutes = 1445;  // gc-atime-cutoff: 1..2880 (24 h 5 min by default)
  uint64_t cache_capacity = 1048576;    // gc-cache-capacity: digests remembered; 0..8388608
  bool atime_safety_check = true;       // gc-atime-safety-check
  // The store's configured name, used in the commands an error suggests ("" if it has none).
  std::string store_name;
  // Where the run's warnings go, and its cancellation (checked per index file and chunk).
  JobControl job;
};

struct GcStatus {
  int64_t started = 0;  // Unix seconds
  double duration_seconds = 0;
  GcCutoff cutoff;
  uint64_t index_file_count = 0;
  uint64_t index_data_bytes = 0;  // bytes the indexes describe (before dedup)
  uint64_t marked_chunks = 0;     // distinct marks made (digest cache misses)
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t missing_chunks = 0;  // referenced, with no trace in the store
  SweepCounts sweep;
  std::optional<ObjectStoreStats> requests;  // what the run cost at a remote store

  // disk_bytes == 0 gives 0.
  double DedupFactor() const;
  double AverageChunkSize() const;
};

nlohmann::json GcStatusToJson(const GcStatus& status);
Result<GcStatus> GcStatusFromJson(const nlohmann::json& json);

// Checks the option ranges. InvalidArgument naming the option.
Status ValidateGcOptions(const GcOptions& options);

// Runs GC on `store`. Busy if another GC runs; the backend's reachability error if its remote
// does not answer; Corruption naming an unreadable index; IOError if the atime check fails.
Result<GcStatus> RunGarbageCollection(Datastore& store, const GcOptions& options);

// The status of the last GC that completed, or nullopt if none has. Corruption if the file is
// damaged.
Result<std::optional<GcStatus>> LoadGcStatus(const Datastore& store);

}  // namespace cairn

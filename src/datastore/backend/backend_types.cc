#include "datastore/backend/backend_types.h"

namespace cairn {

ChunkAge JudgeChunk(int64_t atime, const GcCutoff& cutoff) {
  if (atime < cutoff.min_atime) return ChunkAge::kUnused;
  if (atime < cutoff.oldest_writer) return ChunkAge::kPending;
  return ChunkAge::kInUse;
}

void SweepCounts::Count(ChunkAge age, bool bad, uint64_t size) {
  if (bad) {
    (age == ChunkAge::kUnused ? removed_bad : still_bad)++;
    return;
  }
  switch (age) {
    case ChunkAge::kUnused:
      removed_chunks++;
      removed_bytes += size;
      break;
    case ChunkAge::kPending:
      pending_chunks++;
      pending_bytes += size;
      break;
    case ChunkAge::kInUse:
      disk_chunks++;
      disk_bytes += size;
      break;
  }
}

void SweepCounts::Add(const SweepCounts& other) {
  disk_chunks += other.disk_chunks;
  disk_bytes += other.disk_bytes;
  removed_chunks += other.removed_chunks;
  removed_bytes += other.removed_bytes;
  pending_chunks += other.pending_chunks;
  pending_bytes += other.pending_bytes;
  removed_bad += other.removed_bad;
  still_bad += other.still_bad;
  missing_chunks += other.missing_chunks;
}

}  // namespace cairn

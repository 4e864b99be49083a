#include "datastore/backend/object_store_sweep.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "base/file_util.h"
#include "base/log.h"
#include "base/parallel.h"

namespace cairn {
namespace {

constexpr std::chrono::seconds kMaxDeleteDelay{10};

// Chunk keys queued for deletion, with the locks of their stripes held until they are gone.
// Requests carry kDeleteBatchSize keys each, except the last.
class DeleteBatch {
 public:
  explicit DeleteBatch(ObjectStore& objects) : objects_(objects) {}

  bool Holds(uint16_t stripe) const { return held_.count(stripe) != 0; }
  void Hold(ChunkLockGuard guard) { held_.emplace(guard.stripe(), std::move(guard)); }
  // Releases a stripe that has nothing queued.
  void Release(uint16_t stripe) {
    if (queued_.count(stripe) == 0) held_.erase(stripe);
  }

  Status Queue(const std::string& key, uint16_t stripe) {
    if (keys_.empty()) first_queued_ = std::chrono::steady_clock::now();
    keys_.push_back({key, stripe});
    queued_[stripe]++;
    return keys_.size() >= kDeleteBatchSize ? Send(kDeleteBatchSize) : Status::OK();
  }

  // Deletes what is queued if the first key has waited `kMaxDeleteDelay`: where garbage is
  // sparse, a batch would otherwise keep its stripes from inserts for a whole listing.
  Status FlushIfOld() {
    if (keys_.empty() || std::chrono::steady_clock::now() - first_queued_ < kMaxDeleteDelay) {
      return Status::OK();
    }
    return Flush();
  }

  Status Flush() { return Send(keys_.size()); }

  // Takes over everything `other` queued and holds (their stripes are disjoint), sending full
  // batches, so the leftovers of several batches share requests.
  Status Absorb(DeleteBatch& other) {
    if (!other.keys_.empty()) {
      if (keys_.empty() || other.first_queued_ < first_queued_) first_queued_ = other.first_queued_;
      keys_.insert(keys_.end(), other.keys_.begin(), other.keys_.end());
      for (const auto& [stripe, n] : other.queued_) queued_[stripe] += n;
      held_.merge(other.held_);
    }
    other.keys_.clear();
    other.queued_.clear();
    other.held_.clear();
    while (keys_.size() >= kDeleteBatchSize) CAIRN_RETURN_IF_ERROR(Send(kDeleteBatchSize));
    return FlushIfOld();
  }

 private:
  struct QueuedKey {
    std::string key;
    uint16_t stripe;
  };

  // Deletes the first `n` queued keys, then releases the stripes with nothing left queued
  // (also when the request failed: GC stops then, and nothing was deleted unlocked).
  Status Send(size_t n) {
    if (n == 0) return Status::OK();
    std::vector<std::string> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) keys.push_back(keys_[i].key);
    Status deleted = objects_.DeleteMany(keys);
    for (size_t i = 0; i < n; ++i) {
      const uint16_t stripe = keys_[i].stripe;
      if (--queued_[stripe] == 0) {
        queued_.erase(stripe);
        held_.erase(stripe);
      }
    }
    keys_.erase(keys_.begin(), keys_.begin() + static_cast<std::ptrdiff_t>(n));
    if (!keys_.empty()) first_queued_ = std::chrono::steady_clock::now();
    return deleted;
  }

  ObjectStore& objects_;
  std::deque<QueuedKey> keys_;
  std::map<uint16_t, int> queued_;  // stripe -> keys queued
  std::map<uint16_t, ChunkLockGuard> held_;
  std::chrono::steady_clock::time_point first_queued_;
};

// For a listed object with no local file: whether phase 1 left a `.using` note saying its
// chunk is referenced. If so the object gets a local marker (a chunk's note becomes its marker;
// a bad copy gets one of its own and the note stays, so phase 3 still reports the chunk missing)
// and the next mark touches it.
Result<bool> ClaimReferencedObject(const ObjectStoreChunks& chunks, const ChunkFileName& name,
                                   const std::string& local) {
  const std::string note = chunks.local.UsingMarkerPath(name.digest);
  if (name.kind == ChunkFileKind::kBad) {
    CAIRN_ASSIGN_OR_RETURN(bool referenced, PathExists(note));
    if (referenced) CAIRN_RETURN_IF_ERROR(WriteFileAtomic(local, {}, 0644, SyncMode::kNone));
    return referenced;
  }
  Status renamed = RenameFile(note, local);
  if (renamed.ok()) return true;
  if (!renamed.IsNotFound()) return renamed;
  return false;
}

// Judges one listed chunk object under its stripe's lock; queues it if unused.
Status SweepObject(const ObjectStoreChunks& chunks, const GcCutoff& cutoff,
                   const StoredObject& object, const ChunkFileName& name, DeleteBatch& batch,
                   SweepCounts& counts) {
  const std::string local =
      JoinPath(chunks.local.chunks_dir(), object.key.substr(chunks.key_prefix.size()));
  const bool bad = name.kind == ChunkFileKind::kBad;
  // Without a local trace only the object's age can tell a fresh upload from garbage.
  const bool recent = object.last_modified >= cutoff.min_atime;
  struct stat st;
  ChunkAge age;
  if (::lstat(local.c_str(), &st) == 0) {
    age = JudgeChunk(st.st_atim.tv_sec, cutoff);  // every insert and mark touches it
    if (age == ChunkAge::kUnused) {
      Status removed = bad ? RemoveFile(local) : chunks.cache.Forget(name.digest);
      if (!removed.ok() && !removed.IsNotFound()) return removed;
    }
  } else if (errno != ENOENT) {
    return ErrnoStatus("stat " + local, errno);
  } else {
    CAIRN_ASSIGN_OR_RETURN(bool referenced, ClaimReferencedObject(chunks, name, local));
    age = referenced ? ChunkAge::kInUse : recent ? ChunkAge::kPending : ChunkAge::kUnused;
  }
  counts.Count(age, bad, object.size);
  const uint16_t stripe = ChunkLocks::StripeOf(name.digest);
  if (age != ChunkAge::kUnused) {
    batch.Release(stripe);
    return Status::OK();
  }
  return batch.Queue(object.key, stripe);
}

// Phase 3: local markers and copies no index references; `.using` notes left by phase 1 for
// chunks the listing did not have.
Status SweepLocalFiles(const ObjectStoreChunks& chunks, const GcCutoff& cutoff, uint64_t* missing) {
  // A `.using` note whose chunk has a local file again was inserted after phase 1: not missing.
  SweepCounts ignored;  // phase 2 counted the bucket's chunks
  return ForEachLocalChunkFile(
      chunks.local.chunks_dir(), [&](const std::string& path, const ChunkFileName& name) -> Status {
        CAIRN_RETURN_IF_ERROR(chunks.job.CheckCancelled("garbage collection"));
        CAIRN_ASSIGN_OR_RETURN(std::optional<ChunkLockGuard> guard,
                               chunks.locks.TryLock(name.digest));
        if (!guard) return Status::OK();
        if (name.kind == ChunkFileKind::kUsing) {
          struct stat st;
          const bool inserted_since =
              ::lstat(chunks.local.ChunkPath(name.digest).c_str(), &st) == 0;
          if (!inserted_since && ++*missing <= 10) {
            chunks.job.Warn("chunk {} is referenced but missing in {}", DigestToHex(name.digest),
                            chunks.objects.Describe());
          }
          Status removed = RemoveFile(path);
          return removed.IsNotFound() ? Status::OK() : removed;
        }
        return SweepLocalChunkFile(path, name, cutoff, ignored, [&] {
          Status removed = name.kind == ChunkFileKind::kBad ? RemoveFile(path)
                                                            : chunks.cache.Forget(name.digest);
          return removed.IsNotFound() ? Status::OK() : removed;
        });
      });
}

// Phase 2 over the keys starting with `prefix`, in one listing, queueing into `batch`.
Status SweepRange(const ObjectStoreChunks& chunks, const GcCutoff& cutoff,
                  const std::string& prefix, DeleteBatch& batch, SweepCounts& counts,
                  uint64_t& foreign, const std::atomic<bool>& stop) {
  Status failed;
  Status listed = chunks.objects.List({prefix}, [&](const StoredObject& object) {
    if (stop) return false;
    failed = chunks.job.CheckCancelled("garbage collection");
    if (!failed.ok()) return false;
    const std::string_view rel = std::string_view(object.key).substr(chunks.key_prefix.size());
    const size_t slash = rel.find('/');
    std::optional<ChunkFileName> name;
    if (slash == 4) name = ParseChunkFileName(rel.substr(5));
    if (!name || name->kind == ChunkFileKind::kUsing ||
        rel.substr(0, 4) != DigestToHex(name->digest).substr(0, 4)) {
      foreign++;
      return true;
    }
    const uint16_t stripe = ChunkLocks::StripeOf(name->digest);
    if (!batch.Holds(stripe)) {
      auto guard = chunks.locks.TryLock(name->digest);
      if (!guard.ok()) {
        failed = guard.status();
        return false;
      }
      if (!*guard) {  // an insert is deciding about a chunk of this stripe right now: keep
        counts.Count(ChunkAge::kInUse, name->kind == ChunkFileKind::kBad, object.size);
        return true;
      }
      batch.Hold(std::move(**guard));
    }
    failed = SweepObject(chunks, cutoff, object, *name, batch, counts);
    if (failed.ok()) failed = batch.FlushIfOld();
    return failed.ok();
  });
  CAIRN_RETURN_IF_ERROR(listed);
  return failed;
}

}  // namespace

Result<SweepCounts> SweepObjectStoreChunks(const ObjectStoreChunks& chunks,
                                           const GcCutoff& cutoff) {
  // The 16 key ranges `.chunks/0...` to `.chunks/f...` are listed at once: listing is bound by
  // the store's latency, not by this host. Their stripes are disjoint, so each range has a
  // batch of its own; what is left in them at the end shares requests.
  static constexpr char kHexDigits[] = "0123456789abcdef";
  constexpr size_t kRanges = 16;
  std::vector<SweepCounts> range_counts(kRanges);
  std::vector<uint64_t> range_foreign(kRanges, 0);
  std::atomic<bool> stop{false};
  std::mutex leftovers_mu;
  DeleteBatch leftovers(chunks.objects);
  const unsigned threads = std::clamp(chunks.objects.Concurrency(), 1u, 16u);
  Status swept = ParallelFor(kRanges, threads, [&](size_t r) {
    DeleteBatch batch(chunks.objects);
    Status st = SweepRange(chunks, cutoff, chunks.key_prefix + kHexDigits[r], batch,
                           range_counts[r], range_foreign[r], stop);
    std::lock_guard lock(leftovers_mu);
    Status absorbed = leftovers.Absorb(batch);
    if (st.ok()) st = absorbed;
    if (!st.ok()) stop = true;
    return st;
  });
  Status flushed = leftovers.Flush();
  CAIRN_RETURN_IF_ERROR(swept);
  CAIRN_RETURN_IF_ERROR(flushed);
  SweepCounts counts;
  uint64_t foreign = 0;
  for (size_t r = 0; r < kRanges; ++r) {
    counts.Add(range_counts[r]);
    foreign += range_foreign[r];
  }
  if (foreign > 0) {
    chunks.job.Warn("{} objects under {} are not chunks; left alone", foreign, chunks.key_prefix);
  }
  CAIRN_RETURN_IF_ERROR(SweepLocalFiles(chunks, cutoff, &counts.missing_chunks));
  if (counts.missing_chunks > 0) {
    chunks.job.Warn("{} referenced chunks are missing in {} (verify names the snapshots)",
                    counts.missing_chunks, chunks.objects.Describe());
  }
  return counts;
}

}  // namespace cairn

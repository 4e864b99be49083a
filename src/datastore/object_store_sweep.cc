#include "datastore/object_store_sweep.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/file_util.h"
#include "base/log.h"

namespace cairn {
namespace {

constexpr std::chrono::seconds kMaxDeleteDelay{10};

// Chunk keys queued for deletion, with the locks of their stripes held until they are gone.
class DeleteBatch {
 public:
  explicit DeleteBatch(ObjectStore& objects) : objects_(objects) {}

  bool Holds(uint16_t stripe) const { return held_.count(stripe) != 0; }
  // Deletes what is queued if the first key has waited `kMaxDeleteDelay`: where garbage is
  // sparse, a batch would otherwise keep its stripes from inserts for a whole listing.
  Status FlushIfOld() {
    if (keys_.empty() || std::chrono::steady_clock::now() - first_queued_ < kMaxDeleteDelay) {
      return Status::OK();
    }
    return Flush();
  }
  void Hold(ChunkLockGuard guard) { held_.emplace(guard.stripe(), std::move(guard)); }
  // Releases a stripe that has nothing queued.
  void Release(uint16_t stripe) {
    if (queued_stripes_.count(stripe) == 0) held_.erase(stripe);
  }

  Status Queue(const std::string& key, uint16_t stripe) {
    if (keys_.empty()) first_queued_ = std::chrono::steady_clock::now();
    keys_.push_back(key);
    queued_stripes_.insert(stripe);
    return keys_.size() >= kDeleteBatchSize ? Flush() : Status::OK();
  }

  Status Flush() {
    Status deleted = keys_.empty() ? Status::OK() : objects_.DeleteMany(keys_);
    keys_.clear();
    queued_stripes_.clear();
    held_.clear();
    return deleted;
  }

 private:
  ObjectStore& objects_;
  std::vector<std::string> keys_;
  std::set<uint16_t> queued_stripes_;
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
  if (::rename(note.c_str(), local.c_str()) == 0) return true;
  if (errno != ENOENT) return ErrnoStatus("rename " + note, errno);
  return false;
}

// Judges one listed chunk object under its stripe's lock; queues it if unused.
Status SweepObject(const ObjectStoreChunks& chunks, const GcCutoff& cutoff,
                   const StoredObject& object, const ChunkFileName& name, DeleteBatch& batch,
                   SweepCounts& counts) {
  const std::string local = JoinPath(chunks.local.chunks_dir(),
                                     object.key.substr(chunks.key_prefix.size()));
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
Status SweepLocalFiles(const ObjectStoreChunks& chunks, const GcCutoff& cutoff,
                       uint64_t* missing) {
  // A `.using` note whose chunk has a local file again was inserted after phase 1: not missing.
  SweepCounts ignored;  // phase 2 counted the bucket's chunks
  return ForEachLocalChunkFile(
      chunks.local.chunks_dir(), [&](const std::string& path, const ChunkFileName& name) -> Status {
        CAIRN_ASSIGN_OR_RETURN(std::optional<ChunkLockGuard> guard, chunks.locks.TryLock(name.digest));
        if (!guard) return Status::OK();
        if (name.kind == ChunkFileKind::kUsing) {
          struct stat st;
          const bool inserted_since = ::lstat(chunks.local.ChunkPath(name.digest).c_str(), &st) == 0;
          if (!inserted_since && ++*missing <= 10) {
            spdlog::warn("chunk {} is referenced but missing in {}", DigestToHex(name.digest),
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

}  // namespace

Result<SweepCounts> SweepObjectStoreChunks(const ObjectStoreChunks& chunks,
                                           const GcCutoff& cutoff) {
  SweepCounts counts;
  DeleteBatch batch(chunks.objects);
  Status failed;
  uint64_t foreign = 0;
  Status listed = chunks.objects.List(chunks.key_prefix, [&](const StoredObject& object) {
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
  Status flushed = batch.Flush();
  CAIRN_RETURN_IF_ERROR(listed);
  CAIRN_RETURN_IF_ERROR(failed);
  CAIRN_RETURN_IF_ERROR(flushed);
  if (foreign > 0) {
    spdlog::warn("{} objects under {} are not chunks; left alone", foreign, chunks.key_prefix);
  }
  CAIRN_RETURN_IF_ERROR(SweepLocalFiles(chunks, cutoff, &counts.missing_chunks));
  if (counts.missing_chunks > 0) {
    spdlog::warn("{} referenced chunks are missing in {} (verify names the snapshots)",
                 counts.missing_chunks, chunks.objects.Describe());
  }
  return counts;
}

}  // namespace cairn

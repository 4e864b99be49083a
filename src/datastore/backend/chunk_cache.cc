#include "datastore/backend/chunk_cache.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/hex.h"
#include "base/log.h"
#include "datastore/backend/chunk_sweep.h"

namespace cairn {

ChunkCache::ChunkCache(const std::string& root, uint64_t capacity_bytes, ChunkLocks& locks)
    : store_(root), locks_(locks), configured_capacity_(capacity_bytes) {}

Result<bool> ChunkCache::Knows(const Digest& digest) {
  Status st = store_.Touch(digest);
  if (st.ok()) return true;
  if (st.IsNotFound()) return false;
  return st;
}

Result<std::optional<Bytes>> ChunkCache::Get(const Digest& digest) {
  auto data = store_.Read(digest);
  MutexLock lock(mu_);
  CAIRN_RETURN_IF_ERROR(LoadLocked());
  if (data.ok()) {
    stats_.hits++;
    auto it = entries_.find(digest);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.position);
    } else {
      AccountLocked(digest, data->size());  // cached by another process since we loaded
    }
    return std::optional<Bytes>(std::move(data).value());
  }
  stats_.misses++;
  if (data.status().IsNotFound()) return std::optional<Bytes>();
  if (!data.status().IsCorruption()) return data.status();
  spdlog::warn("dropping damaged cached copy: {}", data.status().message());
  UnaccountLocked(digest);
  CAIRN_RETURN_IF_ERROR(WriteMarker(digest));
  return std::optional<Bytes>();
}

Status ChunkCache::Put(const Digest& digest, ByteView encoded) {
  {
    // Load before writing: a scan must never find (and account) a file whose own Put is still
    // on its way to the lock, or that chunk could be evicted and then accounted again.
    MutexLock lock(mu_);
    CAIRN_RETURN_IF_ERROR(LoadLocked());
  }
  CAIRN_RETURN_IF_ERROR(WriteFileAtomic(store_.ChunkPath(digest), encoded, 0644, SyncMode::kNone));
  std::vector<Victim> victims;
  {
    MutexLock lock(mu_);
    stats_.inserts++;
    AccountLocked(digest, encoded.size());
    victims = PickVictimsLocked();
  }
  std::vector<Victim> kept;
  uint64_t evicted = 0;
  Status st = EvictFiles(victims, &kept, &evicted);
  MutexLock lock(mu_);
  SettleEvictionLocked(kept, evicted);
  return st;
}

Status ChunkCache::PutMarker(const Digest& digest) {
  auto known = Knows(digest);
  if (!known.ok()) return known.status();
  if (*known) return Status::OK();
  return WriteMarker(digest);
}

Status ChunkCache::Forget(const Digest& digest) {
  {
    MutexLock lock(mu_);
    UnaccountLocked(digest);
  }
  Status removed = RemoveFile(store_.ChunkPath(digest));
  return removed.IsNotFound() ? Status::OK() : removed;
}

Status ChunkCache::EvictFiles(const std::vector<Victim>& victims, std::vector<Victim>* kept,
                              uint64_t* evicted) {
  Status result;
  for (const Victim& victim : victims) {
    auto guard = locks_.TryLock(victim.digest);
    if (!guard.ok()) {
      result = guard.status();
      break;
    }
    if (!*guard) {  // being inserted, swept or read right now: not a victim after all
      kept->push_back(victim);
      continue;
    }
    struct stat st;
    const std::string path = store_.ChunkPath(victim.digest);
    if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) continue;  // gone meanwhile
    result = WriteMarker(victim.digest);
    if (!result.ok()) break;
    (*evicted)++;
  }
  return result;
}

void ChunkCache::SettleEvictionLocked(const std::vector<Victim>& kept, uint64_t evicted) {
  stats_.evictions += evicted;
  for (const Victim& victim : kept) AccountLocked(victim.digest, victim.size);
}

void ChunkCache::UnaccountLocked(const Digest& digest) {
  auto it = entries_.find(digest);
  if (it == entries_.end()) return;
  stats_.bytes -= it->second.size;
  lru_.erase(it->second.position);
  entries_.erase(it);
}

CacheStats ChunkCache::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

Status ChunkCache::WriteMarker(const Digest& digest) {
  return WriteFileAtomic(store_.ChunkPath(digest), {}, 0644, SyncMode::kNone);
}

void ChunkCache::AccountLocked(const Digest& digest, uint64_t size) {
  auto it = entries_.find(digest);
  if (it != entries_.end()) {
    stats_.bytes = stats_.bytes - it->second.size + size;
    it->second.size = size;
    lru_.splice(lru_.begin(), lru_, it->second.position);
    return;
  }
  lru_.push_front(digest);
  entries_.emplace(digest, Entry{lru_.begin(), size});
  stats_.bytes += size;
}

std::vector<ChunkCache::Victim> ChunkCache::PickVictimsLocked() {
  std::vector<Victim> victims;
  // The newest entry always stays: it was just put there to be used.
  while (stats_.bytes > stats_.capacity && lru_.size() > 1) {
    const Digest victim = lru_.back();
    auto it = entries_.find(victim);
    victims.push_back({victim, it->second.size});
    stats_.bytes -= it->second.size;
    entries_.erase(it);
    lru_.pop_back();
  }
  return victims;
}

Status ChunkCache::LoadLocked() {
  if (loaded_) return Status::OK();
  struct Found {
    int64_t atime_ns;
    Digest digest;
    uint64_t size;
  };
  std::vector<Found> found;
  const std::string& chunks_dir = store_.chunks_dir();
  CAIRN_RETURN_IF_ERROR(ForEachLocalChunkFile(
      chunks_dir, [&](const std::string& path, const ChunkFileName& name) -> Status {
        struct stat st;
        if (name.kind != ChunkFileKind::kChunk || ::stat(path.c_str(), &st) != 0 ||
            st.st_size == 0) {
          return Status::OK();
        }
        found.push_back({static_cast<int64_t>(st.st_atim.tv_sec) * 1000000000 + st.st_atim.tv_nsec,
                         name.digest, static_cast<uint64_t>(st.st_size)});
        return Status::OK();
      }));
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return std::tie(a.atime_ns, a.digest) < std::tie(b.atime_ns, b.digest);
  });
  for (const auto& f : found) AccountLocked(f.digest, f.size);  // oldest first: ends at the back
  if (configured_capacity_ != 0) {
    stats_.capacity = configured_capacity_;
  } else {
    struct statvfs vfs;
    if (::statvfs(chunks_dir.c_str(), &vfs) != 0)
      return ErrnoStatus("statvfs " + chunks_dir, errno);
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    stats_.capacity = (stats_.bytes + free_bytes) / 2;
  }
  loaded_ = true;
  // A smaller bound than last time may leave too much cached.
  std::vector<Victim> kept;
  uint64_t evicted = 0;
  Status st = EvictFiles(PickVictimsLocked(), &kept, &evicted);
  SettleEvictionLocked(kept, evicted);
  return st;
}

}  // namespace cairn

// ChunkCache is the local chunk store of a datastore whose chunks live in an object store: a
// bounded cache of chunk files in `.chunks/` with least-recently-used eviction (as PBS's
// LocalDatastoreLruCache, but bounded in bytes on disk where PBS counts chunks of 16 MiB;
// docs/s3-datastores.md). An evicted chunk's file is replaced by a zero-length marker, so "this
// chunk was stored" survives eviction (no second upload, and GC still finds and marks it).
//
// The LRU order is kept in memory. It is built lazily, the first time a chunk is read from or
// put into the cache, from the files present (oldest atime first), so commands that never touch
// chunks pay nothing. Capacity: `capacity_bytes`, or if 0 half of (bytes cached + bytes free
// on the cache's filesystem), a share that stays put as the cache itself fills the disk.
// The bound holds per process: concurrent processes sharing one cache directory each keep
// their own view and may together overshoot by what the others added.
//
// Races with other threads or processes only cost speed, never correctness: chunk files are
// replaced atomically, a reader that finds a marker treats it as a miss, and every hit is CRC
// checked. What must not race (an eviction writing a marker for a chunk GC has just deleted)
// is excluded by the chunk locks: callers of Get, Put, PutMarker and Forget hold the chunk's
// lock (chunk_locks.h), and eviction takes each victim's lock itself, skipping a victim whose
// lock is taken and leaving alone a file that is no longer there.
//
// Thread-safety: thread-safe. Borrows the ChunkLocks (which must outlive it); owns its
// ChunkStore (paths only).
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/bytes.h"
#include "base/mutex.h"
#include "base/result.h"
#include "datastore/backend/backend_types.h"
#include "datastore/backend/chunk_locks.h"
#include "datastore/backend/chunk_store.h"
#include "format/digest.h"

namespace cairn {

class ChunkCache {
 public:
  // The cache in `<root>/.chunks` (which must exist). 0 = default capacity.
  ChunkCache(const std::string& root, uint64_t capacity_bytes, ChunkLocks& locks);

  // True if the chunk is known locally, with content or as a marker; touches its atime (the
  // GC mark) when it is. Never false on an error.
  Result<bool> Knows(const Digest& digest);

  // The cached chunk (CRC checked) and an LRU touch, or nullopt if only a marker or nothing is
  // there. A damaged cached copy is dropped (back to a marker) and reported as a miss.
  Result<std::optional<Bytes>> Get(const Digest& digest);

  // Caches a chunk known to be stored remotely, then evicts least recently used chunks until
  // the cache fits its capacity again.
  Status Put(const Digest& digest, ByteView encoded);

  // Records that the chunk is stored remotely without caching it: a marker, unless a file is
  // there already.
  Status PutMarker(const Digest& digest);

  // Removes the chunk's local file or marker (GC found it unused). OK if it is gone already.
  Status Forget(const Digest& digest);

  CacheStats stats() const;

 private:
  struct Entry {
    std::list<Digest>::iterator position;
    uint64_t size;
  };
  // Builds the LRU from disk once.
  Status LoadLocked() CAIRN_REQUIRES(mu_);
  // Accounts a content file of `size` bytes as most recently used.
  void AccountLocked(const Digest& digest, uint64_t size) CAIRN_REQUIRES(mu_);
  struct Victim {
    Digest digest;
    uint64_t size;
  };
  // Drops least recently used entries until within capacity; returns them.
  std::vector<Victim> PickVictimsLocked() CAIRN_REQUIRES(mu_);
  Status WriteMarker(const Digest& digest);
  // Turns the victims' content files into markers, each under its chunk lock (try only). A
  // victim whose lock is taken goes to `kept`; `evicted` counts the others. Touches no state of
  // the object: SettleEvictionLocked accounts the outcome.
  Status EvictFiles(const std::vector<Victim>& victims, std::vector<Victim>* kept,
                    uint64_t* evicted);
  // Accounts an eviction: the kept victims stay cached, as most recently used.
  void SettleEvictionLocked(const std::vector<Victim>& kept, uint64_t evicted) CAIRN_REQUIRES(mu_);
  // Drops the accounting of `digest`, if any.
  void UnaccountLocked(const Digest& digest) CAIRN_REQUIRES(mu_);

  ChunkStore store_;
  ChunkLocks& locks_;
  const uint64_t configured_capacity_;

  mutable Mutex mu_;
  bool loaded_ CAIRN_GUARDED_BY(mu_) = false;
  std::list<Digest> lru_ CAIRN_GUARDED_BY(mu_);  // front = most recently used
  std::unordered_map<Digest, Entry, DigestHash> entries_ CAIRN_GUARDED_BY(mu_);
  CacheStats stats_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn

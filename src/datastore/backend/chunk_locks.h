// ChunkLocks serialises everything that decides about one chunk file or object: an insert
// (check, upload, write the local file or marker), GC's sweep (judge by atime, delete), cache
// eviction (content file to marker) and verify's rename of a corrupt chunk. Without it those
// races lose data: GC judges a chunk old, an insert finds it present and reports a duplicate,
// GC deletes it; or an eviction writes a marker for an object GC has just deleted.
//
// A lock covers a stripe of chunks: the 65,536 digests prefixes (the `.chunks/XXXX` directory),
// one byte each of `<datastore>/.locks/chunks.lck`. Across processes it is an open-file-
// description byte-range lock (F_OFD_SETLK) on that file; within a process, threads sharing
// this object are excluded by an in-memory set first (they share the file description, which
// would not exclude them). Separate ChunkLocks objects on one store (even in one process)
// exclude each other through the file. A crashed holder's locks vanish with its descriptor.
//
// Nobody but GC holds two stripes at once, and GC only try-locks, so waiting cannot deadlock.
//
// Thread-safety: thread-safe. Guards must not outlive the ChunkLocks object.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "base/mutex.h"
#include "base/result.h"
#include "format/digest.h"

namespace cairn {

class ChunkLocks;

// One held stripe; released when destroyed.
class ChunkLockGuard {
 public:
  ChunkLockGuard(ChunkLockGuard&& other) noexcept;
  ChunkLockGuard& operator=(ChunkLockGuard&&) = delete;
  ChunkLockGuard(const ChunkLockGuard&) = delete;
  ~ChunkLockGuard();

  uint16_t stripe() const { return stripe_; }

 private:
  friend class ChunkLocks;
  ChunkLockGuard(ChunkLocks* owner, uint16_t stripe) : owner_(owner), stripe_(stripe) {}
  ChunkLocks* owner_;
  uint16_t stripe_;
};

class ChunkLocks {
 public:
  // Locks in `<root>/.locks/chunks.lck`, opened (and created) on first use.
  explicit ChunkLocks(const std::string& root);
  ~ChunkLocks();

  // The stripe of `digest`.
  static uint16_t StripeOf(const Digest& digest);

  // Waits for the digest's stripe. IOError if the lock file cannot be opened or locked.
  Result<ChunkLockGuard> Lock(const Digest& digest);

  // Takes the stripe if nobody (no thread here, no other process) holds it; nullopt otherwise.
  Result<std::optional<ChunkLockGuard>> TryLock(const Digest& digest);

 private:
  friend class ChunkLockGuard;
  // Takes the stripe (waiting if `wait`); false if it is held and `wait` is not set.
  Result<bool> Acquire(uint16_t stripe, bool wait);
  Status OpenLocked() CAIRN_REQUIRES(mu_);
  void Release(uint16_t stripe);

  const std::string root_;
  const std::string path_;
  Mutex mu_;
  CondVar released_{&mu_};
  std::unordered_set<uint16_t> held_ CAIRN_GUARDED_BY(mu_);  // stripes held by threads here
  int fd_ CAIRN_GUARDED_BY(mu_) = -1;                        // opened lazily
};

}  // namespace cairn

// ParallelFor runs a function over the indexes 0..n-1 on a few threads: the shape of every
// "fetch these N objects" loop. Work is handed out one index at a time; the first error stops
// the handing out (indexes already running finish) and is returned. Slots bounds how many
// threads do one kind of work at once (a counting semaphore).
//
// Thread-safety: `fn` is called from several threads at once and must be thread-safe. Slots is
// thread-safe.
#pragma once

#include <cstddef>
#include <functional>

#include "base/mutex.h"
#include "base/status.h"

namespace cairn {

// Calls fn(i) for every i in [0, n) on min(threads, n) threads (at least one). Returns OK or
// the first error fn returned.
Status ParallelFor(size_t n, unsigned threads, const std::function<Status(size_t)>& fn);

// At most `count` holders at a time. (Not std::counting_semaphore: libstdc++ 12's can miss a
// wake-up and leave a waiter asleep for good, GCC bug 104928.)
class Slots {
 public:
  explicit Slots(unsigned count) : free_(count) {}
  // Waits for a free slot and takes it.
  void Acquire() {
    MutexLock lock(mu_);
    while (free_ == 0) freed_.Wait();
    free_--;
  }
  void Release() {
    {
      MutexLock lock(mu_);
      free_++;
    }
    freed_.Signal();
  }

 private:
  Mutex mu_;
  CondVar freed_{&mu_};
  unsigned free_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn

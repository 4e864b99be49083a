// ParallelFor runs a function over the indexes 0..n-1 on a few threads: the shape of every
// "fetch these N objects" loop. Work is handed out one index at a time; the first error stops
// the handing out (indexes already running finish) and is returned. Slots bounds how many
// threads do one kind of work at once (a counting semaphore).
//
// Thread-safety: `fn` is called from several threads at once and must be thread-safe. Slots is
// thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

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
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] { return free_ > 0; });
    free_--;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      free_++;
    }
    freed_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable freed_;
  unsigned free_;
};

}  // namespace cairn

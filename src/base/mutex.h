// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with clang's
// thread-safety annotations (thread_annotations.h), so that state a mutex guards is declared
// CAIRN_GUARDED_BY it and every access is checked at compile time. (libstdc++'s own types carry
// no annotations.) As leveldb's port::Mutex and port::CondVar.
//
// Thread-safety: that is their purpose. A CondVar is bound to one Mutex for its life.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace cairn {

class CAIRN_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() CAIRN_ACQUIRE() { mu_.lock(); }
  void Unlock() CAIRN_RELEASE() { mu_.unlock(); }
  // Tells the analysis the caller holds the lock (in a callback it cannot follow).
  void AssertHeld() const CAIRN_ASSERT_HELD() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class CAIRN_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) CAIRN_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() CAIRN_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// The analysis cannot tie a CondVar to its Mutex, so the waits are not annotated: call them with
// the CondVar's mutex held (REQUIRES), as leveldb's port::CondVar.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}

  // Releases the mutex, waits for a signal (or a spurious wakeup), takes the mutex again.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, until `deadline`. False if it passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    const bool signalled = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace cairn

// TokenBucket limits a rate: requests per second (put-rate-limit) or bytes per second
// (rate-in / rate-out). Tokens accrue at `rate` per second up to `burst`; Acquire(n) waits until
// the bucket holds tokens, then takes n, going into debt for n larger than the burst so a big
// transfer is never refused, only delayed. A rate of 0 means unlimited.
//
// Time comes from a Clock so tests can drive the bucket without sleeping.
//
// Thread-safety: thread-safe; concurrent Acquire calls are served in no particular order.
#pragma once

#include <cstdint>

#include "base/mutex.h"

namespace cairn::http {

// Monotonic time and sleeping; the real one uses steady_clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double Now() = 0;  // seconds, monotonic
  virtual void Sleep(double seconds) = 0;
  static Clock* Real();  // process-wide, never destroyed
};

class TokenBucket {
 public:
  // `burst` 0 means one second's worth of `rate`.
  TokenBucket(double rate, double burst, Clock* clock = Clock::Real());

  bool unlimited() const { return rate_ <= 0; }
  double burst() const { return burst_; }
  // Takes `n` tokens, blocking until the bucket (less the debt of earlier callers) could hold
  // min(n, burst) of them. Returns the seconds spent waiting.
  double Acquire(double n);

 private:
  const double rate_;
  const double burst_;
  Clock* const clock_;
  Mutex mu_;
  double tokens_ CAIRN_GUARDED_BY(mu_);   // may be negative (debt)
  double updated_ CAIRN_GUARDED_BY(mu_);  // clock time of the last refill
};

}  // namespace cairn::http

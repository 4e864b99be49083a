#include "http/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace cairn::http {
namespace {

class SteadyClock : public Clock {
 public:
  double Now() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Sleep(double seconds) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
};

}  // namespace

Clock* Clock::Real() {
  static SteadyClock* clock = new SteadyClock();
  return clock;
}

TokenBucket::TokenBucket(double rate, double burst, Clock* clock)
    : rate_(rate),
      burst_(burst > 0 ? burst : rate),
      clock_(clock),
      tokens_(burst_),
      updated_(clock->Now()) {}

double TokenBucket::Acquire(double n) {
  if (unlimited() || n <= 0) return 0;
  double wait;
  {
    MutexLock lock(mu_);
    double now = clock_->Now();
    tokens_ = std::min(burst_, tokens_ + (now - updated_) * rate_);
    updated_ = now;
    // Granted once the bucket holds what fits in it (all of n up to the burst). The tokens are
    // taken now, so later callers queue behind this one's debt.
    double needed = std::min(n, burst_);
    wait = tokens_ >= needed ? 0 : (needed - tokens_) / rate_;
    tokens_ -= n;
  }
  if (wait > 0) clock_->Sleep(wait);
  return wait;
}

}  // namespace cairn::http

// A clock for rate limits that records waits instead of sleeping, so limits are checked
// without timing: Sleep moves its time forward and adds to slept(). Header-only.
#pragma once

#include <mutex>

#include "http/rate_limiter.h"

namespace cairn::testing {

class RecordingClock : public http::Clock {
 public:
  double Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Sleep(double seconds) override {
    std::lock_guard lock(mu_);
    now_ += seconds;
    slept_ += seconds;
  }
  double slept() {
    std::lock_guard lock(mu_);
    return slept_;
  }

 private:
  std::mutex mu_;
  double now_ = 1000;
  double slept_ = 0;
};

}  // namespace cairn::testing

// RateLimitedObjectStore holds the requests that create objects (PUT and COPY, what providers
// rate-limit and bill highest) to at most `puts_per_second`, with a burst of one second's worth,
// for the store it wraps: an endpoint's put-rate-limit. A call waits for its turn; none is
// refused. (Byte rates are limited where the bytes move, in the HTTP transport.)
//
// Ownership: shares the wrapped store. Thread-safety: thread-safe; concurrent calls share the
// budget, served in no particular order.
#pragma once

#include <memory>

#include "http/rate_limiter.h"
#include "storage/object_store_wrapper.h"

namespace cairn {

class RateLimitedObjectStore final : public ObjectStoreWrapper {
 public:
  // REQUIRES: puts_per_second > 0. `clock` (not owned) drives the waits; tests pass a fake one.
  RateLimitedObjectStore(std::shared_ptr<ObjectStore> target, double puts_per_second,
                         http::Clock* clock = http::Clock::Real())
      : ObjectStoreWrapper(std::move(target)), puts_(puts_per_second, puts_per_second, clock) {}

  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override {
    puts_.Acquire(1);
    return ObjectStoreWrapper::Put(key, data, mode);
  }
  Status Copy(const std::string& source, const std::string& target) override {
    puts_.Acquire(1);
    return ObjectStoreWrapper::Copy(source, target);
  }

 private:
  http::TokenBucket puts_;
};

}  // namespace cairn

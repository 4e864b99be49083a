// RetryPolicy decides how often and how long to wait before repeating a request that failed
// with a retryable Status (Unavailable: connection errors, timeouts, 5xx, SlowDown, 409).
// Delays grow exponentially with "full jitter" (a uniform draw in [0, base * 2^attempt],
// capped), so many clients hitting a throttled provider spread out instead of retrying in step;
// a server's Retry-After wins when it asks for longer.
//
// Thread-safety: RetryPolicy is an immutable value; BackoffDelay is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cairn::s3 {

struct RetryPolicy {
  int max_attempts = 5;      // 1 = no retries
  double base_delay = 0.25;  // seconds
  double max_delay = 20.0;   // cap of one wait, seconds
};

// Seconds to wait before attempt `attempt` (2 = first retry). `random01` is a uniform draw in
// [0, 1); `retry_after` is the server's Retry-After in seconds, if it sent one.
double BackoffDelay(const RetryPolicy& policy, int attempt, double random01,
                    std::optional<double> retry_after);

// Parses a Retry-After value given in seconds ("3"); nullopt for anything else (HTTP dates are
// ignored: the exponential delay applies).
std::optional<double> ParseRetryAfter(std::string_view value);

}  // namespace cairn::s3

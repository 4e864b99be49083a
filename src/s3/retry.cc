#include "s3/retry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace cairn::s3 {

double BackoffDelay(const RetryPolicy& policy, int attempt, double random01,
                    std::optional<double> retry_after) {
  double ceiling = std::min(policy.max_delay, policy.base_delay * std::ldexp(1.0, attempt - 1));
  double delay = ceiling * std::clamp(random01, 0.0, 1.0);
  if (retry_after) delay = std::max(delay, std::min(*retry_after, policy.max_delay));
  return delay;
}

std::optional<double> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) return {};
  return static_cast<double>(seconds);
}

}  // namespace cairn::s3

#include "s3/meter.h"

namespace cairn::s3 {

std::string_view RequestKindName(RequestKind kind) {
  static constexpr std::string_view kNames[] = {"get", "put", "head", "list", "delete", "copy"};
  return kNames[static_cast<size_t>(kind)];
}

S3Stats S3Meter::Snapshot() const {
  S3Stats stats;
  for (size_t i = 0; i < kRequestKinds; ++i) stats.requests[i] = requests_[i].load();
  stats.retries = retries_.load();
  stats.failures = failures_.load();
  stats.bytes_in = bytes_in_.load();
  stats.bytes_out = bytes_out_.load();
  return stats;
}

}  // namespace cairn::s3

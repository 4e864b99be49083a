#include "s3/meter.h"

#include <fmt/format.h>

#include "base/units.h"

namespace cairn::s3 {

std::string_view RequestKindName(RequestKind kind) {
  static constexpr std::string_view kNames[] = {"get", "put", "head", "list", "delete", "copy"};
  return kNames[static_cast<size_t>(kind)];
}

uint64_t S3Stats::total_requests() const {
  uint64_t total = 0;
  for (uint64_t n : requests) total += n;
  return total;
}

nlohmann::json S3Stats::ToJson() const {
  nlohmann::json by_kind = nlohmann::json::object();
  for (size_t i = 0; i < kRequestKinds; ++i) {
    by_kind[std::string(RequestKindName(static_cast<RequestKind>(i)))] = requests[i];
  }
  return {{"requests", by_kind},  {"retries", retries},     {"failures", failures},
          {"bytes-in", bytes_in}, {"bytes-out", bytes_out}};
}

Result<S3Stats> S3Stats::FromJson(const nlohmann::json& json) {
  try {
    S3Stats stats;
    for (size_t i = 0; i < kRequestKinds; ++i) {
      stats.requests[i] = json.at("requests")
                              .at(std::string(RequestKindName(static_cast<RequestKind>(i))))
                              .get<uint64_t>();
    }
    stats.retries = json.at("retries").get<uint64_t>();
    stats.failures = json.at("failures").get<uint64_t>();
    stats.bytes_in = json.at("bytes-in").get<uint64_t>();
    stats.bytes_out = json.at("bytes-out").get<uint64_t>();
    return stats;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("request counters: ") + e.what());
  }
}

std::string S3Stats::ToText() const {
  std::string text;
  for (size_t i = 0; i < kRequestKinds; ++i) {
    if (requests[i] == 0) continue;
    std::string name(RequestKindName(static_cast<RequestKind>(i)));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", name, requests[i]);
  }
  if (text.empty()) text = "no requests";
  text += fmt::format("; in {}, out {}", HumanBytes(bytes_in), HumanBytes(bytes_out));
  if (retries > 0) text += fmt::format(", {} retries", retries);
  if (failures > 0) text += fmt::format(", {} failed", failures);
  return text;
}

S3Stats S3Stats::Since(const S3Stats& earlier) const {
  S3Stats diff = *this;
  for (size_t i = 0; i < kRequestKinds; ++i) diff.requests[i] -= earlier.requests[i];
  diff.retries -= earlier.retries;
  diff.failures -= earlier.failures;
  diff.bytes_in -= earlier.bytes_in;
  diff.bytes_out -= earlier.bytes_out;
  return diff;
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

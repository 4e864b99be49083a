#include "storage/object_store_stats.h"

#include <cctype>

#include <fmt/format.h>

#include "base/units.h"

namespace cairn {

uint64_t ObjectStoreStats::total_requests() const {
  uint64_t total = 0;
  for (uint64_t n : requests) total += n;
  return total;
}

nlohmann::json ObjectStoreStats::ToJson() const {
  nlohmann::json by_kind = nlohmann::json::object();
  for (size_t i = 0; i < kRequestKinds; ++i) {
    by_kind[std::string(RequestKindName(static_cast<RequestKind>(i)))] = requests[i];
  }
  return {{"requests", by_kind},
          {"retries", retries},
          {"failures", failures},
          {"bytes-in", bytes_in},
          {"bytes-out", bytes_out}};
}

Result<ObjectStoreStats> ObjectStoreStats::FromJson(const nlohmann::json& json) {
  try {
    ObjectStoreStats stats;
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

std::string ObjectStoreStats::ToText() const {
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

ObjectStoreStats ObjectStoreStats::Since(const ObjectStoreStats& earlier) const {
  ObjectStoreStats diff = *this;
  for (size_t i = 0; i < kRequestKinds; ++i) diff.requests[i] -= earlier.requests[i];
  diff.retries -= earlier.retries;
  diff.failures -= earlier.failures;
  diff.bytes_in -= earlier.bytes_in;
  diff.bytes_out -= earlier.bytes_out;
  return diff;
}

ObjectStoreStats ToObjectStoreStats(const s3::S3Stats& wire) {
  ObjectStoreStats stats;
  stats.requests = wire.requests;
  stats.retries = wire.retries;
  stats.failures = wire.failures;
  stats.bytes_in = wire.bytes_in;
  stats.bytes_out = wire.bytes_out;
  return stats;
}

}  // namespace cairn

#include "config/datastore_tuning.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace cairn::config {
namespace {

constexpr char kAtimeCutoff[] = "gc-atime-cutoff";
constexpr char kAtimeSafetyCheck[] = "gc-atime-safety-check";
constexpr char kCacheCapacity[] = "gc-cache-capacity";

Result<uint64_t> ParseNumber(std::string_view key, std::string_view value, uint64_t min,
                             uint64_t max) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
    return Status::InvalidArgument(
        fmt::format("tuning: {} must be a number, not '{}'", key, value));
  }
  if (number < min || number > max) {
    return Status::InvalidArgument(
        fmt::format("tuning: {} must be {}..{}, not {}", key, min, max, number));
  }
  return number;
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  for (std::string_view yes : {"1", "true", "yes", "on"}) {
    if (value == yes) return true;
  }
  for (std::string_view no : {"0", "false", "no", "off"}) {
    if (value == no) return false;
  }
  return Status::InvalidArgument(
      fmt::format("tuning: {} must be a boolean (1/0, true/false), not '{}'", key, value));
}

}  // namespace

Result<DatastoreTuning> ParseDatastoreTuning(std::string_view text) {
  DatastoreTuning tuning;
  std::vector<std::string_view> seen;
  if (text.empty()) return tuning;
  for (bool more = true; more;) {
    size_t comma = text.find(',');
    more = comma != std::string_view::npos;
    std::string_view item = text.substr(0, comma);
    text = more ? text.substr(comma + 1) : std::string_view();
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("tuning: '{}' is not key=value", item));
    }
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    for (std::string_view earlier : seen) {
      if (earlier == key)
        return Status::InvalidArgument(fmt::format("tuning: {} given twice", key));
    }
    seen.push_back(key);
    if (key == kAtimeCutoff) {
      CAIRN_ASSIGN_OR_RETURN(uint64_t minutes, ParseNumber(key, value, 1, 2880));
      tuning.gc_atime_cutoff_minutes = static_cast<int64_t>(minutes);
    } else if (key == kAtimeSafetyCheck) {
      CAIRN_ASSIGN_OR_RETURN(tuning.gc_atime_safety_check, ParseBool(key, value));
    } else if (key == kCacheCapacity) {
      CAIRN_ASSIGN_OR_RETURN(tuning.gc_cache_capacity, ParseNumber(key, value, 0, 8388608));
    } else {
      return Status::InvalidArgument(fmt::format("tuning: unknown key '{}' (known: {}, {}, {})",
                                                 key, kAtimeCutoff, kAtimeSafetyCheck,
                                                 kCacheCapacity));
    }
  }
  return tuning;
}

std::string FormatDatastoreTuning(const DatastoreTuning& tuning) {
  std::vector<std::string> items;
  if (tuning.gc_atime_cutoff_minutes) {
    items.push_back(fmt::format("{}={}", kAtimeCutoff, *tuning.gc_atime_cutoff_minutes));
  }
  if (tuning.gc_atime_safety_check) {
    items.push_back(fmt::format("{}={}", kAtimeSafetyCheck, *tuning.gc_atime_safety_check ? 1 : 0));
  }
  if (tuning.gc_cache_capacity) {
    items.push_back(fmt::format("{}={}", kCacheCapacity, *tuning.gc_cache_capacity));
  }
  return fmt::format("{}", fmt::join(items, ","));
}

void ApplyTuning(const DatastoreTuning& tuning, GcOptions& options) {
  if (tuning.gc_atime_cutoff_minutes)
    options.atime_cutoff_minutes = *tuning.gc_atime_cutoff_minutes;
  if (tuning.gc_atime_safety_check) options.atime_safety_check = *tuning.gc_atime_safety_check;
  if (tuning.gc_cache_capacity) options.cache_capacity = *tuning.gc_cache_capacity;
}

}  // namespace cairn::config

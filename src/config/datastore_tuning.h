// A datastore's tuning: the settings of the jobs that run on it which an administrator may
// change per store (PBS's datastore `tuning` property). Kept in datastore.json as a property
// string, e.g. "gc-atime-cutoff=30,gc-atime-safety-check=0,gc-cache-capacity=262144"; a key
// left out keeps the job's default. Garbage collection started by the server or by `cairn gc`
// uses them (the command's own flags win).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "datastore/jobs/gc.h"

namespace cairn::config {

struct DatastoreTuning {
  std::optional<int64_t> gc_atime_cutoff_minutes;  // 1..2880
  std::optional<bool> gc_atime_safety_check;
  std::optional<uint64_t> gc_cache_capacity;  // 0..8388608 digests

  bool empty() const {
    return !gc_atime_cutoff_minutes && !gc_atime_safety_check && !gc_cache_capacity;
  }
  bool operator==(const DatastoreTuning&) const = default;
};

// Parses "key=value,..." (empty: no tuning). InvalidArgument naming the key for an unknown key,
// a key given twice, a value that is not a number (booleans: 0/1/true/false/yes/no/on/off) or
// one out of its range.
Result<DatastoreTuning> ParseDatastoreTuning(std::string_view text);

// The property string of `tuning` in a fixed key order ("" when empty); parses back to it.
std::string FormatDatastoreTuning(const DatastoreTuning& tuning);

// `options` with the store's tuned values in place of the defaults.
void ApplyTuning(const DatastoreTuning& tuning, GcOptions& options);

}  // namespace cairn::config

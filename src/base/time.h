// Time helpers. Snapshot names are RFC3339 UTC with a `Z` and whole seconds
// ("2026-11-23T10:00:00Z"), exactly as PBS names snapshot directories.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

// Seconds since the Unix epoch, now.
int64_t NowEpoch();
// Wall-clock time as a timespec (nanoseconds), e.g. to compare with file timestamps.
struct timespec NowTimespec();

// "%Y-%m-%dT%H:%M:%SZ" for `epoch` (UTC). InvalidArgument outside years 0000-9999.
Result<std::string> FormatRfc3339Utc(int64_t epoch);

// Parses exactly the form FormatRfc3339Utc produces (20 characters, trailing `Z`) and rejects
// anything else (other lengths, offsets, out-of-range fields) with InvalidArgument.
Result<int64_t> ParseRfc3339Utc(std::string_view text);

// A monotonic clock reading in seconds, for durations and rates.
double MonotonicSeconds();

}  // namespace cairn

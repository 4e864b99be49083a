// Human-readable quantities for messages and reports.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

// "512 B", "1.5 KiB", "4.0 MiB", ... (binary units, one decimal).
std::string HumanBytes(uint64_t bytes);

// Parses a byte size: a whole number with an optional binary unit, K/M/G/T (optionally
// followed by "iB" or "B"), case-insensitive: "4096", "512K", "64GiB", "1t". InvalidArgument
// naming the text for anything else or on overflow.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace cairn

// Human-readable quantities for messages and reports.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

// "512 B", "1.5 KiB", "4.0 MiB", ... (binary units, one decimal).
std::string HumanBytes(uint64_t bytes);

}  // namespace cairn

#include "base/units.h"

#include <cctype>

#include <fmt/format.h>

namespace cairn {

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[unit]);
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument(
        fmt::format("invalid size '{}' (expected e.g. 4096, 512K, 64G, 1T)", text));
  };
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    const uint64_t d = static_cast<uint64_t>(text[digits] - '0');
    if (value > (UINT64_MAX - d) / 10) return invalid();
    value = value * 10 + d;
    ++digits;
  }
  if (digits == 0) return invalid();
  std::string unit;
  for (char c : text.substr(digits))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() == 3 && unit.substr(1) == "ib") unit.resize(1);
  if (unit.size() == 2 && unit[1] == 'b') unit.resize(1);
  int shift = 0;
  if (unit == "" || unit == "b") {
    shift = 0;
  } else if (unit == "k") {
    shift = 10;
  } else if (unit == "m") {
    shift = 20;
  } else if (unit == "g") {
    shift = 30;
  } else if (unit == "t") {
    shift = 40;
  } else {
    return invalid();
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return invalid();
  return value << shift;
}

}  // namespace cairn

#include "base/quote.h"

#include <fmt/format.h>

namespace cairn {

std::string QuoteForMessage(std::string_view text) {
  constexpr size_t kMaxShown = 300;
  std::string out = "'";
  for (char c : text.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

}  // namespace cairn

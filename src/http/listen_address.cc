#include "http/listen_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace cairn::http {
namespace {

Status Invalid(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(fmt::format("listen address '{}': {}", text, why));
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    out.host = "::";
    port_text = text;
  } else if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Invalid(text, "expected [IPv6]:PORT");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    in6_addr v6;
    if (inet_pton(AF_INET6, out.host.c_str(), &v6) != 1) return Invalid(text, "bad IPv6 address");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Invalid(text, "expected ADDR:PORT");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    in_addr v4;
    if (inet_pton(AF_INET, out.host.c_str(), &v4) != 1) {
      return Invalid(text, "bad IPv4 address (IPv6 goes in brackets)");
    }
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return Invalid(text, "bad port");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

}  // namespace cairn::http

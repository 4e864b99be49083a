// ListenAddress: where a server listens, parsed from "ADDR:PORT" ("127.0.0.1:8007",
// "[::1]:8007", "[::]:8007"; a bare port means "[::]:PORT"). Host names are not resolved: a
// server binds an address.
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::http {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 address, without brackets
  uint16_t port = 0;
};

// InvalidArgument naming `text` if it is not of the forms above.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace cairn::http

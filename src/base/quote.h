// Quoting of untrusted text for error messages: wraps it in single quotes, escapes control
// characters (NUL, newline, ESC, ...) as \xNN so an error stays one line and cannot drive the
// terminal, and cuts it after 300 bytes.
#pragma once

#include <string>
#include <string_view>

namespace cairn {

std::string QuoteForMessage(std::string_view text);

}  // namespace cairn

// Text encodings the auth layer needs: base64 (tickets, CSRF tokens, csrf.key) and percent
// encoding (ticket data, API token secrets). Both are exact about what they accept: decoders
// refuse anything that is not well-formed instead of skipping it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn::server {

// Standard base64 (RFC 4648 alphabet `A-Za-z0-9+/`) of `data`, with `=` padding if `pad`.
std::string Base64Encode(ByteView data, bool pad);

// Decodes standard base64 with or without `=` padding. InvalidArgument on any character
// outside the alphabet (whitespace included), on padding that is not at the end or does not
// complete a 4-character group, and on an impossible length (4n+1).
Result<Bytes> Base64Decode(std::string_view text);

// Percent-encodes control characters (0x00-0x1f, 0x7f), bytes >= 0x80, ':' and '%' as `%XX`
// (upper-case hex). That is PBS's ticket encoding plus '%', so that decoding is exact.
std::string PercentEncode(std::string_view text);

// Replaces every `%XX` by its byte. InvalidArgument on a '%' not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view text);

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). PBS's identities and config values are Rust strings, which must be.
bool IsValidUtf8(std::string_view text);

}  // namespace cairn::server

// Lowercase hexadecimal encoding of binary data.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

// The value of one hex digit (either case), or -1 if `c` is none.
int HexDigitValue(char c);

// Lowercase hex of `data`, two characters per byte.
std::string HexEncode(ByteView data);

// Decodes hex (either case). InvalidArgument on odd length or a non-hex character.
Result<Bytes> HexDecode(std::string_view hex);

// Decodes exactly `out.size()` bytes from hex of exactly twice that length.
// InvalidArgument otherwise.
Status HexDecodeInto(std::string_view hex, std::span<uint8_t> out);

}  // namespace cairn

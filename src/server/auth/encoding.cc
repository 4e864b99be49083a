#include "server/auth/encoding.h"

#include <openssl/evp.h>

#include "base/hex.h"
#include "base/quote.h"

namespace cairn::server {
namespace {

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string Base64Encode(ByteView data, bool pad) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

Result<Bytes> Base64Decode(std::string_view text) {
  size_t body = text.size();
  while (body > 0 && text[body - 1] == '=') --body;
  const size_t padding = text.size() - body;
  for (size_t i = 0; i < body; ++i) {
    if (!IsBase64Char(text[i])) {
      return Status::InvalidArgument("invalid base64 character at offset " + std::to_string(i) +
                                     " in " + QuoteForMessage(text));
    }
  }
  if (body % 4 == 1 || padding > 2 || (padding > 0 && (body + padding) % 4 != 0)) {
    return Status::InvalidArgument("invalid base64 length or padding: " + QuoteForMessage(text));
  }
  std::string padded(text.substr(0, body));
  while (padded.size() % 4 != 0) padded.push_back('=');
  Bytes out(padded.size() / 4 * 3);
  if (!padded.empty()) {
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                                  static_cast<int>(padded.size()));
    if (n < 0) return Status::InvalidArgument("invalid base64: " + QuoteForMessage(text));
  }
  // EVP_DecodeBlock counts the zero bytes the padding stands for; drop them.
  out.resize(out.size() - (padded.size() - body));
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == ':' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int hi = complete ? HexDigitValue(text[i + 1]) : -1;
    const int lo = complete ? HexDigitValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("invalid percent encoding in " + QuoteForMessage(text));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

}  // namespace cairn::server

#include "s3/object_key.h"

#include <fmt/format.h>

#include "base/quote.h"

namespace cairn::s3 {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not well formed (overlong
// forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

Status CheckText(std::string_view text, std::string_view what) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid S3 {} {}: {}", what, QuoteForMessage(text), why));
  };
  if (text.size() > kMaxKeyLength) {
    return invalid(fmt::format("longer than {} bytes", kMaxKeyLength));
  }
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return invalid("contains a control character");
    size_t len = Utf8SequenceLength(text, i);
    if (len == 0) return invalid("not valid UTF-8");
    i += len;
  }
  if (!text.empty() && text.front() == '/') return invalid("starts with '/'");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('/', start);
    bool last = end == std::string_view::npos;
    std::string_view segment = text.substr(start, last ? std::string_view::npos : end - start);
    if (segment.empty()) return invalid("has an empty path segment");
    if (segment == "." || segment == "..") return invalid("has a '.' or '..' segment");
    if (last) break;
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace

Result<ObjectKey> ObjectKey::Parse(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("invalid S3 key: empty");
  if (key.back() == '/') {
    return Status::InvalidArgument(
        fmt::format("invalid S3 key {}: ends with '/'", QuoteForMessage(key)));
  }
  CAIRN_RETURN_IF_ERROR(CheckText(key, "key"));
  return ObjectKey(std::string(key));
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  // A prefix is a key, optionally followed by one '/'.
  std::string_view key = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
  if (key.empty() || !ObjectKey::Parse(key).ok()) {
    return Status::InvalidArgument(
        fmt::format("invalid S3 prefix {}: must be a valid key, optionally followed by '/'",
                    QuoteForMessage(prefix)));
  }
  return Status::OK();
}

}  // namespace cairn::s3

// ObjectKey is a validated S3 object key: 1 to 1024 bytes of valid UTF-8, no control characters,
// no leading '/', and no empty, "." or ".." segments (which some providers normalise away, so
// two different keys could name one object). Every operation on an object takes an ObjectKey,
// so a malformed key is refused before any request is built.
//
// Listing prefixes are plain strings (they may be empty or end in '/'), checked by
// ValidatePrefix.
//
// Thread-safety: an immutable value.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::s3 {

inline constexpr size_t kMaxKeyLength = 1024;

class ObjectKey {
 public:
  // InvalidArgument naming the key and the rule it breaks.
  static Result<ObjectKey> Parse(std::string_view key);

  const std::string& str() const { return key_; }
  bool operator==(const ObjectKey& other) const = default;
  auto operator<=>(const ObjectKey& other) const = default;

 private:
  explicit ObjectKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// OK for "" and for any string that is a valid key or a valid key followed by '/'.
Status ValidatePrefix(std::string_view prefix);

}  // namespace cairn::s3

// S3's XML bodies, parsed and built with pugixml: error replies, ListBuckets, ListObjectsV2 and
// DeleteObjects. Parsers never trust the input: a reply that does not parse or lacks a required
// element is Corruption naming the operation.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn::s3 {

struct ErrorReply {
  std::string code;  // "NoSuchKey", "SlowDown", ... ("" when the body has none)
  std::string message;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified = 0;  // Unix seconds
  std::string etag;           // without quotes
};

struct BucketInfo {
  std::string name;
  int64_t created = 0;  // Unix seconds
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};

struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};

// Best effort: an empty ErrorReply when `body` is not an S3 error document.
ErrorReply ParseErrorReply(std::string_view body);
Result<std::vector<BucketInfo>> ParseListBuckets(std::string_view body);
// Keys are URL-decoded when the reply says <EncodingType>url</EncodingType>.
Result<ListPage> ParseListObjectsV2(std::string_view body);
// The per-key errors of a DeleteObjects reply (empty when every key was deleted).
Result<std::vector<DeleteError>> ParseDeleteResult(std::string_view body);
// The DeleteObjects request body for `keys`.
std::string BuildDeleteRequest(const std::vector<std::string>& keys);
// "2025-11-23T10:15:00.000Z" -> Unix seconds; Corruption when malformed.
Result<int64_t> ParseIsoTime(std::string_view text);
// Removes one pair of surrounding double quotes (ETag values).
std::string StripQuotes(std::string_view text);

}  // namespace cairn::s3

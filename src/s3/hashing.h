// The hashes the S3 protocol needs, on OpenSSL: SHA-256 of payloads (x-amz-content-sha256),
// HMAC-SHA256 (SigV4 key derivation) and base64 MD5 (Content-MD5).
//
// Thread-safety: pure functions; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"

namespace cairn::s3 {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(ByteView data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Base64 of the MD5 of `data` (Content-MD5 header value).
std::string Md5Base64(ByteView data);
// Lowercase hex MD5 of `data` (the ETag S3 gives a single-part upload).
std::string Md5Hex(ByteView data);

}  // namespace cairn::s3

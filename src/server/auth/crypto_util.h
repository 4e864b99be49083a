// Small OpenSSL wrappers shared by the auth layer: random bytes, SHA-256 digests of config
// files, constant-time comparison of secrets, and random UUIDs (API token secrets).
//
// Thread-safety: all functions may be called concurrently (OpenSSL's RNG is thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn::server {

// `n` bytes from OpenSSL's CSPRNG. IOError if the RNG fails (it should not).
Result<Bytes> RandomBytes(size_t n);

// Lowercase hex of SHA-256(data): the `digest` of a config file in PBS's API.
std::string Sha256Hex(ByteView data);

// True if `a` and `b` are equal. The time taken depends only on the lengths, never on where
// the contents differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// A random UUID (version 4) as 36 lowercase characters, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
Result<std::string> NewUuidV4();

}  // namespace cairn::server

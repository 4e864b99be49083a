// SHA-256 digests (OpenSSL EVP). A Digest names a chunk: SHA-256 of its uncompressed plaintext,
// or of plaintext || id_key for encrypted chunks (see CryptConfig::ComputeDigest).
//
// Thread-safety: free functions are thread-safe; a Sha256 object is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

using Digest = std::array<uint8_t, 32>;

// SHA-256 of `data`.
Digest Sha256Of(ByteView data);

// 64 lowercase hex characters.
std::string DigestToHex(const Digest& digest);

// Parses exactly 64 hex characters; InvalidArgument otherwise (names `what`).
Result<Digest> DigestFromHex(std::string_view hex);

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(ByteView data);
  // Returns the digest; the object must not be used afterwards.
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    static_assert(sizeof(h) <= sizeof(Digest));
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

}  // namespace cairn

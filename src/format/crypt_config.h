// CryptConfig holds a datastore client's 32-byte encryption key and what PBS derives from it
// (docs/format-blob-and-crypto.md): id_key = PBKDF2-HMAC-SHA256(key, "_id_key", 10 iterations,
// 32 bytes), the chunk digest SHA256(plaintext || id_key), the key fingerprint, HMAC-SHA256
// signatures (manifest), and AES-256-GCM encryption with a random 16-byte IV and empty AAD.
//
// Thread-safety: immutable after construction; all methods are const and thread-safe.
#pragma once

#include <array>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"

namespace cairn {

using EncryptionKey = std::array<uint8_t, 32>;

class CryptConfig {
 public:
  explicit CryptConfig(const EncryptionKey& key);
  CryptConfig(const CryptConfig&) = default;
  CryptConfig& operator=(const CryptConfig&) = default;
  ~CryptConfig();  // wipes the key material from memory

  // SHA256(data || id_key): the digest that names an encrypted chunk.
  Digest ComputeDigest(ByteView plaintext) const;

  // HMAC-SHA256(id_key, data), used to sign manifests.
  Digest ComputeAuthTag(ByteView data) const;

  // SHA256(FINGERPRINT_INPUT || id_key). Identifies the key without revealing it.
  Digest Fingerprint() const;
  // "aa:bb:...": 32 hex byte pairs joined with ':' (PBS's serialized form).
  std::string FingerprintString() const;
  // The same form for any fingerprint (e.g. one recorded in a key file or manifest).
  static std::string FingerprintToString(const Digest& fingerprint);

  // AES-256-GCM with a fresh random IV. Writes iv (16 bytes), tag (16 bytes) and returns the
  // ciphertext (same length as `plaintext`). IOError if the RNG or cipher fails.
  Status Encrypt(ByteView plaintext, uint8_t iv[16], uint8_t tag[16], Bytes* ciphertext) const;
  // Same, writing the ciphertext into `out` (which may not overlap `plaintext`), so a caller can
  // encrypt straight into its own buffer (DataBlob does, behind its header).
  // REQUIRES: out.size() == plaintext.size().
  Status Encrypt(ByteView plaintext, uint8_t iv[16], uint8_t tag[16], std::span<uint8_t> out) const;

  // Decrypts and authenticates. Corruption if the tag does not match (wrong key or tampered).
  Result<Bytes> Decrypt(ByteView ciphertext, const uint8_t iv[16], const uint8_t tag[16]) const;
  // Same, writing the plaintext into `out` (no overlap with `ciphertext`). On failure `out` is
  // zeroed, so unauthenticated plaintext never escapes. REQUIRES: out.size() == ciphertext.size().
  Status Decrypt(ByteView ciphertext, const uint8_t iv[16], const uint8_t tag[16],
                 std::span<uint8_t> out) const;

  const EncryptionKey& key() const { return key_; }

 private:
  EncryptionKey key_;
  std::array<uint8_t, 32> id_key_;
};

}  // namespace cairn

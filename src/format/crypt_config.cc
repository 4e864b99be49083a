#include "format/crypt_config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "base/hex.h"

namespace cairn {
namespace {

constexpr int kIvSize = 16;
constexpr int kTagSize = 16;
// OpenSSL's update calls take an int length; longer inputs are fed in pieces of this size.
constexpr size_t kMaxUpdate = size_t{1} << 30;

// SHA256("Proxmox Backup Encryption Key Fingerprint") (PBS FINGERPRINT_INPUT,
// pbs-tools/src/crypt_config.rs).
const Digest& FingerprintInput() {
  static const Digest input = Sha256Of(AsBytes("Proxmox Backup Encryption Key Fingerprint"));
  return input;
}

// AES-256-GCM, fetched from the default provider once instead of on every call.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* cipher = [] {
    const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return c != nullptr ? c : EVP_aes_256_gcm();
  }();
  return cipher;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Sets up `ctx` for AES-256-GCM with a 16-byte IV (PBS's choice; GCM hashes non-96-bit IVs).
bool InitGcm(EVP_CIPHER_CTX* ctx, bool encrypt, const uint8_t* key, const uint8_t* iv) {
  const int enc = encrypt ? 1 : 0;
  return EVP_CipherInit_ex(ctx, Aes256Gcm(), nullptr, nullptr, nullptr, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kIvSize, nullptr) == 1 &&
         EVP_CipherInit_ex(ctx, nullptr, nullptr, key, iv, enc) == 1;
}

// Runs `in` through the cipher into `out` (same length). No AAD is fed: PBS uses empty AAD.
bool UpdateAll(EVP_CIPHER_CTX* ctx, ByteView in, uint8_t* out) {
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t n = std::min(in.size() - pos, kMaxUpdate);
    int len = 0;
    if (EVP_CipherUpdate(ctx, out + pos, &len, in.data() + pos, static_cast<int>(n)) != 1 ||
        static_cast<size_t>(len) != n) {
      return false;
    }
    pos += n;
  }
  return true;
}

}  // namespace

CryptConfig::CryptConfig(const EncryptionKey& key) : key_(key) {
  static constexpr char kSalt[] = "_id_key";
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(key_.data()), static_cast<int>(key_.size()),
                        reinterpret_cast<const unsigned char*>(kSalt), sizeof(kSalt) - 1, 10,
                        EVP_sha256(), static_cast<int>(id_key_.size()), id_key_.data()) != 1) {
    // Only fails when OpenSSL cannot allocate; a CryptConfig without id_key must not exist.
    std::fprintf(stderr, "cairn: PBKDF2 derivation of id_key failed\n");
    std::abort();
  }
}

CryptConfig::~CryptConfig() {
  OPENSSL_cleanse(key_.data(), key_.size());
  OPENSSL_cleanse(id_key_.data(), id_key_.size());
}

Digest CryptConfig::ComputeDigest(ByteView plaintext) const {
  Sha256 h;
  h.Update(plaintext);
  h.Update(id_key_);  // appended, as PBS does (no length-extension on a prefix key)
  return h.Finish();
}

Digest CryptConfig::ComputeAuthTag(ByteView data) const {
  Digest out;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), id_key_.data(), static_cast<int>(id_key_.size()), data.data(), data.size(),
           out.data(), &len) == nullptr ||
      len != out.size()) {
    std::fprintf(stderr, "cairn: HMAC-SHA256 failed\n");
    std::abort();
  }
  return out;
}

Digest CryptConfig::Fingerprint() const {
  return ComputeDigest(FingerprintInput());
}

std::string CryptConfig::FingerprintString() const {
  return FingerprintToString(Fingerprint());
}

std::string CryptConfig::FingerprintToString(const Digest& fingerprint) {
  const std::string hex = HexEncode(fingerprint);
  std::string out;
  out.reserve(hex.size() / 2 * 3);
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i != 0) out += ':';
    out.append(hex, i, 2);
  }
  return out;
}

Status CryptConfig::Encrypt(ByteView plaintext, uint8_t iv[16], uint8_t tag[16],
                            Bytes* ciphertext) const {
  ciphertext->resize(plaintext.size());
  return Encrypt(plaintext, iv, tag, std::span<uint8_t>(*ciphertext));
}

Status CryptConfig::Encrypt(ByteView plaintext, uint8_t iv[16], uint8_t tag[16],
                            std::span<uint8_t> out) const {
  if (out.size() != plaintext.size()) {
    return Status::InvalidArgument("encrypt: output buffer size differs from input size");
  }
  if (RAND_bytes(iv, kIvSize) != 1) return Status::IOError("encrypt: random IV generation failed");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || !InitGcm(ctx.get(), true, key_.data(), iv) ||
      !UpdateAll(ctx.get(), plaintext, out.data()) ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + out.size(), &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    return Status::IOError("AES-256-GCM encryption failed");
  }
  return Status::OK();
}

Result<Bytes> CryptConfig::Decrypt(ByteView ciphertext, const uint8_t iv[16],
                                   const uint8_t tag[16]) const {
  Bytes plain(ciphertext.size());
  CAIRN_RETURN_IF_ERROR(Decrypt(ciphertext, iv, tag, std::span<uint8_t>(plain)));
  return plain;
}

Status CryptConfig::Decrypt(ByteView ciphertext, const uint8_t iv[16], const uint8_t tag[16],
                            std::span<uint8_t> out) const {
  if (out.size() != ciphertext.size()) {
    return Status::InvalidArgument("decrypt: output buffer size differs from input size");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  // OpenSSL's ctrl takes a non-const pointer but only reads the expected tag.
  uint8_t expected_tag[kTagSize];
  std::copy(tag, tag + kTagSize, expected_tag);
  if (!ctx || !InitGcm(ctx.get(), false, key_.data(), iv) ||
      !UpdateAll(ctx.get(), ciphertext, out.data()) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, expected_tag) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Status::IOError("AES-256-GCM decryption failed");
  }
  int len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + out.size(), &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Status::Corruption(
        "AES-256-GCM authentication tag mismatch (wrong key or tampered data)");
  }
  return Status::OK();
}

}  // namespace cairn

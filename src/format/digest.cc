#include "format/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/hex.h"

namespace cairn {

Digest Sha256Of(ByteView data) {
  Digest out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

std::string DigestToHex(const Digest& digest) {
  return HexEncode(digest);
}

Result<Digest> DigestFromHex(std::string_view hex) {
  Digest out;
  Status st = HexDecodeInto(hex, out);
  if (!st.ok())
    return Status::InvalidArgument("invalid digest '" + std::string(hex.substr(0, 80)) + "'");
  return out;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;

void Sha256::Update(ByteView data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

Digest Sha256::Finish() {
  Digest out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  return out;
}

}  // namespace cairn

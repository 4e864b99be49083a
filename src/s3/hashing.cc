#include "s3/hashing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/hex.h"

namespace cairn::s3 {
namespace {

Bytes Digest(const EVP_MD* md, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  out.resize(len);
  return out;
}

}  // namespace

std::string Sha256Hex(ByteView data) {
  return HexEncode(Digest(EVP_sha256(), data));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Md5Base64(ByteView data) {
  Bytes md5 = Digest(EVP_md5(), data);
  unsigned char out[32];
  int len = EVP_EncodeBlock(out, md5.data(), static_cast<int>(md5.size()));
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Md5Hex(ByteView data) {
  return HexEncode(Digest(EVP_md5(), data));
}

}  // namespace cairn::s3

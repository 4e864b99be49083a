#include "server/auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>
#include <memory>

#include "server/auth/crypto_util.h"

namespace cairn::server {
namespace {

constexpr char kYescryptPrefix[] = "$y$";
constexpr unsigned long kYescryptCost = 5;  // NOLINT(runtime/int): libxcrypt's type
constexpr size_t kSaltBytes = 32;

// crypt_rn of `password` with `setting`; an empty string on failure.
std::string Crypt(std::string_view password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_rn requires
  const std::string phrase(password);
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  std::string result = (out != nullptr && out[0] != '*') ? std::string(out) : std::string();
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return result;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("password contains a NUL byte");
  }
  CAIRN_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(kSaltBytes));
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(kYescryptPrefix, kYescryptCost, reinterpret_cast<const char*>(salt.data()),
                       static_cast<int>(salt.size()), setting, sizeof(setting)) == nullptr) {
    return Status::IOError("crypt_gensalt_rn failed");
  }
  std::string hash = Crypt(password, setting);
  if (hash.empty()) return Status::IOError("crypt_rn failed");
  return hash;
}

PasswordCheck VerifyPassword(std::string_view password, std::string_view stored_hash) {
  PasswordCheck check;
  if (password.find('\0') != std::string_view::npos || stored_hash.empty() ||
      stored_hash.find('\0') != std::string_view::npos) {
    return check;
  }
  const std::string computed = Crypt(password, std::string(stored_hash));
  check.ok = !computed.empty() && ConstantTimeEqual(computed, stored_hash);
  check.needs_rehash = check.ok && !stored_hash.starts_with(kYescryptPrefix);
  return check;
}

}  // namespace cairn::server

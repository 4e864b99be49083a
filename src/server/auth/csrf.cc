#include "server/auth/csrf.h"

#include <openssl/evp.h>

#include "base/file_util.h"
#include "server/auth/crypto_util.h"
#include "server/auth/encoding.h"
#include "server/auth/ticket.h"

namespace cairn::server {
namespace {

constexpr size_t kKeyBytes = 64;
constexpr size_t kMinKeyBytes = 16;

Status Refuse(const std::string& why) {
  return Status::PermissionDenied("invalid csrf token - " + why);
}

}  // namespace

Result<CsrfKey> CsrfKey::LoadOrCreate(const std::string& config_dir) {
  const std::string path = JoinPath(config_dir, kCsrfKeyFile);
  auto text = ReadFile(path);
  if (!text.ok() && !text.status().IsNotFound()) return text.status();
  if (!text.ok()) {
    CAIRN_ASSIGN_OR_RETURN(Bytes key, RandomBytes(kKeyBytes));
    const std::string encoded = Base64Encode(key, /*pad=*/true) + "\n";
    Status st = WriteFileCreateOnly(path, AsBytes(encoded), 0600);
    if (!st.ok() && !st.IsAlreadyExists()) return st;
    text = ReadFile(path);
    if (!text.ok()) return text.status();
  }
  std::string_view body = AsString(*text);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  auto key = Base64Decode(body);
  if (!key.ok() || key->size() < kMinKeyBytes) {
    return Status::Corruption(path + ": not a base64 key of at least 16 bytes");
  }
  return CsrfKey(std::move(*key));
}

std::string CsrfKey::Digest(const Userid& user, int64_t time) const {
  const std::string data = FormatHexTime(time) + ":" + user.ToString() + ":";
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA3-256", nullptr, key_.data(), key_.size(),
                reinterpret_cast<const uint8_t*>(data.data()), data.size(), mac, sizeof(mac),
                &len) == nullptr) {
    return std::string();  // never matches: verification compares against a non-empty token
  }
  return Base64Encode(ByteView(mac, len), /*pad=*/false);
}

std::string CsrfKey::CreateToken(const Userid& user, int64_t now) const {
  return FormatHexTime(now) + ":" + Digest(user, now);
}

Status CsrfKey::VerifyToken(const Userid& user, std::string_view token, int64_t now) const {
  const size_t colon = token.find(':');
  if (colon == token.npos) return Refuse("format error - wrong number of parts.");
  auto time = ParseHexTime(token.substr(0, colon));
  if (!time.ok()) return Refuse("timestamp format error");
  const std::string expected = Digest(user, *time);
  if (expected.empty() || !ConstantTimeEqual(token.substr(colon + 1), expected)) {
    return Refuse("invalid signature.");
  }
  switch (CheckTicketAge(*time, now)) {
    case TicketError::kExpired: return Refuse("timestamp too old.");
    case TicketError::kNotYetValid: return Refuse("timestamp newer than expected.");
    default: return Status::OK();
  }
}

}  // namespace cairn::server

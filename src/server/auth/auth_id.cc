#include "server/auth/auth_id.h"

#include "base/quote.h"
#include "server/auth/encoding.h"

namespace cairn::server {
namespace {

constexpr size_t kMaxUserNameLength = 64;
constexpr size_t kMinRealmLength = 2;
constexpr size_t kMaxRealmLength = 32;
constexpr size_t kMaxTokenNameLength = 64;

bool IsSafeIdText(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!(alnum || c == '_' || (i > 0 && (c == '.' || c == '-')))) return false;
  }
  return true;
}

}  // namespace

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameLength) {
    return Status::InvalidArgument("user name must be 1 to 64 bytes: " + QuoteForMessage(name));
  }
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == ':' || c == '/' || c == '@' || c == '!') {
      return Status::InvalidArgument("invalid character in user name " + QuoteForMessage(name));
    }
  }
  if (!IsValidUtf8(name)) {
    return Status::InvalidArgument("user name is not valid UTF-8: " + QuoteForMessage(name));
  }
  return Status::OK();
}

Status ValidateRealm(std::string_view realm) {
  if (realm.size() < kMinRealmLength || realm.size() > kMaxRealmLength || !IsSafeIdText(realm)) {
    return Status::InvalidArgument("invalid realm " + QuoteForMessage(realm));
  }
  return Status::OK();
}

Status ValidateTokenName(std::string_view name) {
  if (name.size() > kMaxTokenNameLength || !IsSafeIdText(name)) {
    return Status::InvalidArgument("invalid token name " + QuoteForMessage(name));
  }
  return Status::OK();
}

Result<Userid> Userid::Parse(std::string_view text) {
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    return Status::InvalidArgument("user id has no realm: " + QuoteForMessage(text));
  }
  return Make(text.substr(0, at), text.substr(at + 1));
}

Result<Userid> Userid::Make(std::string_view name, std::string_view realm) {
  CAIRN_RETURN_IF_ERROR(ValidateUserName(name));
  CAIRN_RETURN_IF_ERROR(ValidateRealm(realm));
  return Userid(std::string(name), std::string(realm));
}

Userid Userid::Root() {
  return Userid("root", "pam");
}

Result<Authid> Authid::Parse(std::string_view text) {
  const size_t bang = text.find('!');
  CAIRN_ASSIGN_OR_RETURN(Userid user, Userid::Parse(text.substr(0, bang)));
  if (bang == std::string_view::npos) return Authid(std::move(user));
  return MakeToken(user, text.substr(bang + 1));
}

Result<Authid> Authid::MakeToken(const Userid& user, std::string_view token_name) {
  CAIRN_RETURN_IF_ERROR(ValidateTokenName(token_name));
  return Authid(user, std::string(token_name));
}

std::string Authid::ToString() const {
  return is_token() ? user_.ToString() + "!" + token_ : user_.ToString();
}

}  // namespace cairn::server

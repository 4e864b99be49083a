#include "server/auth/user_config.h"

#include <charconv>
#include <set>

#include "base/file_util.h"
#include "base/quote.h"
#include "server/auth/config_file.h"
#include "server/auth/crypto_util.h"
#include "server/auth/encoding.h"
#include "server/auth/section_config.h"

namespace cairn::server {
namespace {

constexpr size_t kMaxTextLength = 1024;

bool Active(const std::optional<bool>& enable, const std::optional<int64_t>& expire, int64_t now) {
  if (!enable.value_or(true)) return false;
  return !expire || *expire == 0 || *expire > now;
}

Status ValidateText(std::string_view field, const std::string& value) {
  if (value.size() > kMaxTextLength) {
    return Status::InvalidArgument(std::string(field) + " is longer than 1024 bytes");
  }
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(field) +
                                     " contains a control character: " + QuoteForMessage(value));
    }
  }
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument(std::string(field) + " is not valid UTF-8");
  }
  return Status::OK();
}

Status ValidateExpire(const std::optional<int64_t>& expire) {
  if (expire && *expire < 0) return Status::InvalidArgument("expire must not be negative");
  return Status::OK();
}

Result<int64_t> ParseExpire(std::string_view text) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
    return Status::InvalidArgument("expected an epoch time >= 0, got " + QuoteForMessage(text));
  }
  return v;
}

// Sets the common fields (comment, enable, expire) or, for users, the name fields; refuses
// unknown and repeated keys.
template <typename Entry>
Status ApplyProperties(const Section& section, bool is_user, Entry* entry,
                       UserEntry* user = nullptr) {
  std::set<std::string> seen;
  for (const SectionProperty& p : section.properties) {
    Status st;
    if (!seen.insert(p.key).second) {
      st = Status::InvalidArgument("duplicate property " + QuoteForMessage(p.key));
    } else if (p.key == "comment") {
      entry->comment = p.value;
    } else if (p.key == "enable") {
      auto b = ParseBool(p.value);
      if (b.ok()) entry->enable = *b;
      st = b.status();
    } else if (p.key == "expire") {
      auto e = ParseExpire(p.value);
      if (e.ok()) entry->expire = *e;
      st = e.status();
    } else if (is_user && p.key == "firstname") {
      user->firstname = p.value;
    } else if (is_user && p.key == "lastname") {
      user->lastname = p.value;
    } else if (is_user && p.key == "email") {
      user->email = p.value;
    } else {
      st = Status::InvalidArgument("unknown property " + QuoteForMessage(p.key) + " in " +
                                   section.type + " section");
    }
    if (!st.ok()) return st.WithContext("line " + std::to_string(p.line));
  }
  return Status::OK();
}

void AppendCommon(std::vector<std::pair<std::string, std::string>>* props,
                  const std::optional<bool>& enable, const std::optional<int64_t>& expire) {
  if (enable) props->emplace_back("enable", *enable ? "true" : "false");
  if (expire) props->emplace_back("expire", std::to_string(*expire));
}

}  // namespace

bool UserEntry::IsActive(int64_t now) const {
  return Active(enable, expire, now);
}
bool TokenEntry::IsActive(int64_t now) const {
  return Active(enable, expire, now);
}

Status ValidateUserEntry(const UserEntry& e) {
  CAIRN_RETURN_IF_ERROR(ValidateText("comment", e.comment));
  CAIRN_RETURN_IF_ERROR(ValidateText("firstname", e.firstname));
  CAIRN_RETURN_IF_ERROR(ValidateText("lastname", e.lastname));
  CAIRN_RETURN_IF_ERROR(ValidateText("email", e.email));
  return ValidateExpire(e.expire);
}

Status ValidateTokenEntry(const TokenEntry& e) {
  if (!e.tokenid.is_token()) {
    return Status::InvalidArgument(e.tokenid.ToString() + " is not an API token id");
  }
  CAIRN_RETURN_IF_ERROR(ValidateText("comment", e.comment));
  return ValidateExpire(e.expire);
}

UserConfig::UserConfig() : digest_(Sha256Hex({})) {
  UserEntry root(Userid::Root());
  root.comment = "Superuser";
  users_.emplace(root.userid, std::move(root));
}

Result<UserConfig> UserConfig::Parse(std::string_view text) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Section> sections, ParseSections(text));
  UserConfig config;
  std::set<std::string> ids;
  for (const Section& s : sections) {
    const std::string where = "line " + std::to_string(s.line);
    if (!ids.insert(s.type + ":" + s.id).second) {
      return Status::InvalidArgument(where + ": duplicate section " + QuoteForMessage(s.id));
    }
    if (s.type == "user") {
      auto userid = Userid::Parse(s.id);
      if (!userid.ok()) return userid.status().WithContext(where);
      UserEntry entry(*userid);
      CAIRN_RETURN_IF_ERROR(ApplyProperties(s, true, &entry, &entry));
      CAIRN_RETURN_IF_ERROR(ValidateUserEntry(entry).WithContext(where));
      config.users_.insert_or_assign(entry.userid, std::move(entry));
    } else if (s.type == "token") {
      auto tokenid = Authid::Parse(s.id);
      if (!tokenid.ok()) return tokenid.status().WithContext(where);
      TokenEntry entry(*tokenid);
      CAIRN_RETURN_IF_ERROR(ApplyProperties(s, false, &entry));
      CAIRN_RETURN_IF_ERROR(ValidateTokenEntry(entry).WithContext(where));
      config.tokens_.emplace(entry.tokenid, std::move(entry));
    } else {
      return Status::InvalidArgument(where + ": unknown section type " + QuoteForMessage(s.type));
    }
  }
  // root@pam came from the default constructor unless the file has its own section.
  config.digest_ = Sha256Hex(AsBytes(text));
  return config;
}

Result<UserConfig> UserConfig::Load(const std::string& config_dir) {
  const std::string path = JoinPath(config_dir, kUserConfigFile);
  CAIRN_ASSIGN_OR_RETURN(ConfigText file, ReadConfigText(path));
  auto config = Parse(file.text);
  if (!config.ok()) return config.status().WithContext("parse " + path);
  return config;
}

std::string UserConfig::Serialize() const {
  std::string out;
  for (const auto& [id, u] : users_) {
    std::vector<std::pair<std::string, std::string>> props;  // keys in alphabetical order
    if (!u.comment.empty()) props.emplace_back("comment", u.comment);
    if (!u.email.empty()) props.emplace_back("email", u.email);
    AppendCommon(&props, u.enable, u.expire);
    if (!u.firstname.empty()) props.emplace_back("firstname", u.firstname);
    if (!u.lastname.empty()) props.emplace_back("lastname", u.lastname);
    AppendSection(&out, "user", id.ToString(), props);
  }
  for (const auto& [id, t] : tokens_) {
    std::vector<std::pair<std::string, std::string>> props;
    if (!t.comment.empty()) props.emplace_back("comment", t.comment);
    AppendCommon(&props, t.enable, t.expire);
    AppendSection(&out, "token", id.ToString(), props);
  }
  return out;
}

Status UserConfig::Save(const std::string& config_dir) const {
  return WriteConfig(JoinPath(config_dir, kUserConfigFile), Serialize(), kUserConfigMode);
}

const UserEntry* UserConfig::FindUser(const Userid& userid) const {
  auto it = users_.find(userid);
  return it == users_.end() ? nullptr : &it->second;
}

const TokenEntry* UserConfig::FindToken(const Authid& tokenid) const {
  auto it = tokens_.find(tokenid);
  return it == tokens_.end() ? nullptr : &it->second;
}

std::vector<TokenEntry> UserConfig::TokensOf(const Userid& userid) const {
  std::vector<TokenEntry> out;
  for (const auto& [id, t] : tokens_) {
    if (id.user() == userid) out.push_back(t);
  }
  return out;
}

bool UserConfig::IsActive(const Authid& authid, int64_t now) const {
  const UserEntry* user = FindUser(authid.user());
  if (user == nullptr || !user->IsActive(now)) return false;
  if (!authid.is_token()) return true;
  const TokenEntry* token = FindToken(authid);
  return token != nullptr && token->IsActive(now);
}

Status UserConfig::AddUser(UserEntry entry) {
  CAIRN_RETURN_IF_ERROR(ValidateUserEntry(entry));
  if (users_.count(entry.userid)) {
    return Status::AlreadyExists("user " + entry.userid.ToString() + " already exists");
  }
  users_.emplace(entry.userid, std::move(entry));
  return Status::OK();
}

Status UserConfig::ReplaceUser(UserEntry entry) {
  CAIRN_RETURN_IF_ERROR(ValidateUserEntry(entry));
  auto it = users_.find(entry.userid);
  if (it == users_.end()) return Status::NotFound("no such user " + entry.userid.ToString());
  it->second = std::move(entry);
  return Status::OK();
}

Status UserConfig::RemoveUser(const Userid& userid) {
  if (userid.IsRoot()) return Status::InvalidArgument("cannot remove the superuser root@pam");
  if (users_.erase(userid) == 0) return Status::NotFound("no such user " + userid.ToString());
  std::erase_if(tokens_, [&](const auto& kv) { return kv.first.user() == userid; });
  return Status::OK();
}

Status UserConfig::AddToken(TokenEntry entry) {
  CAIRN_RETURN_IF_ERROR(ValidateTokenEntry(entry));
  if (!users_.count(entry.tokenid.user())) {
    return Status::NotFound("no such user " + entry.tokenid.user().ToString());
  }
  if (tokens_.count(entry.tokenid)) {
    return Status::AlreadyExists("token " + entry.tokenid.ToString() + " already exists");
  }
  tokens_.emplace(entry.tokenid, std::move(entry));
  return Status::OK();
}

Status UserConfig::ReplaceToken(TokenEntry entry) {
  CAIRN_RETURN_IF_ERROR(ValidateTokenEntry(entry));
  auto it = tokens_.find(entry.tokenid);
  if (it == tokens_.end()) return Status::NotFound("no such token " + entry.tokenid.ToString());
  it->second = std::move(entry);
  return Status::OK();
}

Status UserConfig::RemoveToken(const Authid& tokenid) {
  if (tokens_.erase(tokenid) == 0) return Status::NotFound("no such token " + tokenid.ToString());
  return Status::OK();
}

}  // namespace cairn::server

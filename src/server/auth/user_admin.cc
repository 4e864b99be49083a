// Authenticator's user and token administration (authenticator.h).
#include <algorithm>

#include "base/file_util.h"
#include "base/quote.h"
#include "server/auth/authenticator.h"
#include "server/auth/config_file.h"

namespace cairn::server {
namespace {

constexpr size_t kMinPasswordLength = 5;
constexpr size_t kMaxPasswordLength = 64;

Status CheckRealm(const Userid& user) {
  if (user.realm() == "pbs" || user.realm() == "pam") return Status::OK();
  return Status::InvalidArgument("unknown or unsupported realm " + QuoteForMessage(user.realm()));
}

Status CheckPassword(const Userid& user, std::string_view password) {
  if (user.realm() != "pbs") {
    return Status::InvalidArgument("passwords can only be set for realm pbs, not " + user.realm());
  }
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return Status::InvalidArgument("password must be 5 to 64 bytes long");
  }
  return Status::OK();
}

Status CheckDeletable(const std::vector<std::string>& props,
                      std::initializer_list<std::string_view> allowed) {
  for (const std::string& p : props) {
    if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) {
      return Status::InvalidArgument("cannot delete property " + QuoteForMessage(p));
    }
  }
  return Status::OK();
}

bool Deletes(const std::vector<std::string>& props, std::string_view name) {
  return std::find(props.begin(), props.end(), name) != props.end();
}

}  // namespace

Status Authenticator::CreateUser(const UserEntry& entry, const std::optional<std::string>& password,
                                 std::string_view digest) {
  CAIRN_RETURN_IF_ERROR(CheckRealm(entry.userid));
  if (password) CAIRN_RETURN_IF_ERROR(CheckPassword(entry.userid, *password));
  bool password_set = false;
  Status st = ModifyUsers(digest, [&](UserConfig& users) {
    CAIRN_RETURN_IF_ERROR(users.AddUser(entry));
    if (password) {
      CAIRN_RETURN_IF_ERROR(passwords_.Set(entry.userid.name(), *password));
      password_set = true;
    }
    return Status::OK();
  });
  // A password stored for a user whose entry was not saved must not linger.
  if (!st.ok() && password_set) (void)passwords_.Remove(entry.userid.name());
  return st;
}

Status Authenticator::UpdateUser(const Userid& user, const UserUpdate& update,
                                 std::string_view digest) {
  CAIRN_RETURN_IF_ERROR(
      CheckDeletable(update.delete_props, {"comment", "firstname", "lastname", "email"}));
  if (update.password) CAIRN_RETURN_IF_ERROR(CheckPassword(user, *update.password));
  return ModifyUsers(digest, [&](UserConfig& users) {
    const UserEntry* found = users.FindUser(user);
    if (found == nullptr) return Status::NotFound("no such user " + user.ToString());
    UserEntry entry = *found;
    const auto& del = update.delete_props;
    if (Deletes(del, "comment")) entry.comment.clear();
    if (Deletes(del, "firstname")) entry.firstname.clear();
    if (Deletes(del, "lastname")) entry.lastname.clear();
    if (Deletes(del, "email")) entry.email.clear();
    if (update.comment) entry.comment = *update.comment;
    if (update.firstname) entry.firstname = *update.firstname;
    if (update.lastname) entry.lastname = *update.lastname;
    if (update.email) entry.email = *update.email;
    if (update.enable) entry.enable = *update.enable;
    if (update.expire) entry.expire = *update.expire;
    CAIRN_RETURN_IF_ERROR(users.ReplaceUser(std::move(entry)));
    if (update.password) CAIRN_RETURN_IF_ERROR(passwords_.Set(user.name(), *update.password));
    return Status::OK();
  });
}

Status Authenticator::DeleteUser(const Userid& user, std::string_view digest) {
  std::vector<TokenEntry> tokens;
  CAIRN_RETURN_IF_ERROR(ModifyUsers(digest, [&](UserConfig& users) {
    tokens = users.TokensOf(user);
    return users.RemoveUser(user);
  }));
  // The user can no longer log in; now remove what it leaves behind.
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(JoinPath(config_dir_, kUserConfigFile)));
  if (user.realm() == "pbs") CAIRN_RETURN_IF_ERROR(passwords_.Remove(user.name()));
  for (const TokenEntry& t : tokens) CAIRN_RETURN_IF_ERROR(tokens_.Remove(t.tokenid.ToString()));
  return ModifyAclConfig(config_dir_, "", [&](AclTree& tree) {
    tree.RemoveAuthid(Authid(user));
    for (const TokenEntry& t : tokens) tree.RemoveAuthid(t.tokenid);
    return Status::OK();
  });
}

Status Authenticator::SetPassword(const Userid& user, std::string_view password) {
  CAIRN_RETURN_IF_ERROR(CheckPassword(user, password));
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(JoinPath(config_dir_, kUserConfigFile)));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir_));
  if (users.FindUser(user) == nullptr) return Status::NotFound("no such user " + user.ToString());
  return passwords_.Set(user.name(), password);
}

Result<NewTokenSecret> Authenticator::CreateToken(const TokenEntry& entry,
                                                  std::string_view digest) {
  CAIRN_ASSIGN_OR_RETURN(std::string secret, GenerateTokenSecret());
  const std::string tokenid = entry.tokenid.ToString();
  bool secret_set = false;
  Status st = ModifyUsers(digest, [&](UserConfig& users) {
    CAIRN_RETURN_IF_ERROR(users.AddToken(entry));
    CAIRN_RETURN_IF_ERROR(tokens_.Set(tokenid, secret));
    secret_set = true;
    return Status::OK();
  });
  if (!st.ok()) {
    if (secret_set) (void)tokens_.Remove(tokenid);
    return st;
  }
  return NewTokenSecret{tokenid, std::move(secret)};
}

Result<std::optional<std::string>> Authenticator::UpdateToken(const Authid& tokenid,
                                                              const TokenUpdate& update,
                                                              std::string_view digest) {
  CAIRN_RETURN_IF_ERROR(CheckDeletable(update.delete_props, {"comment"}));
  std::optional<std::string> secret;
  if (update.regenerate) {
    CAIRN_ASSIGN_OR_RETURN(secret, GenerateTokenSecret());
  }
  CAIRN_RETURN_IF_ERROR(ModifyUsers(digest, [&](UserConfig& users) {
    const TokenEntry* found = users.FindToken(tokenid);
    if (found == nullptr) return Status::NotFound("no such token " + tokenid.ToString());
    TokenEntry entry = *found;
    if (Deletes(update.delete_props, "comment")) entry.comment.clear();
    if (update.comment) entry.comment = *update.comment;
    if (update.enable) entry.enable = *update.enable;
    if (update.expire) entry.expire = *update.expire;
    CAIRN_RETURN_IF_ERROR(users.ReplaceToken(std::move(entry)));
    if (secret) CAIRN_RETURN_IF_ERROR(tokens_.Set(tokenid.ToString(), *secret));
    return Status::OK();
  }));
  return secret;
}

Status Authenticator::DeleteToken(const Authid& tokenid, std::string_view digest) {
  return ModifyUsers(digest, [&](UserConfig& users) {
    CAIRN_RETURN_IF_ERROR(users.RemoveToken(tokenid));
    CAIRN_RETURN_IF_ERROR(tokens_.Remove(tokenid.ToString()));
    return ModifyAclConfig(config_dir_, "", [&](AclTree& tree) {
      tree.RemoveAuthid(tokenid);
      return Status::OK();
    });
  });
}

}  // namespace cairn::server

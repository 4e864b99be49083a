// UserConfig is `user.cfg`, PBS's section config of users and API tokens (spec 4.1):
//
//   user: root@pam
//   	comment Superuser
//   	enable true
//   	expire 0
//
//   token: root@pam!automation
//   	comment for the nightly sync
//
// A header line `<type>: <id>` opens a section (type `user` with a Userid, or `token` with a
// token Authid); indented `key value` lines follow. Keys of users: comment, email, enable,
// expire, firstname, lastname; of tokens: comment, enable, expire. `enable` is a boolean
// (true/false, 1/0, yes/no, on/off; absent = true), `expire` epoch seconds (absent or 0 =
// never). Text values are one line of UTF-8: no control characters. Blank lines separate sections;
// lines starting with '#' are comments. root@pam always exists: it is added when missing. A
// token whose user is missing is kept, but never active.
//
// Parse refuses unknown types and keys, duplicate sections or keys, malformed ids and values,
// naming the line. Serialize writes users then tokens, each sorted by id, keys in alphabetical
// order, and Parse(Serialize()) gives back an equal config. The file is written mode 0640.
//
// A UserConfig is an in-memory value; read-modify-write of the file goes through
// config_file.h's lock (see Authenticator). Thread-safety: a const UserConfig may be read
// concurrently; mutation needs external synchronisation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/auth/auth_id.h"

namespace cairn::server {

inline constexpr char kUserConfigFile[] = "user.cfg";
inline constexpr mode_t kUserConfigMode = 0640;

struct UserEntry {
  explicit UserEntry(Userid id) : userid(std::move(id)) {}

  Userid userid;
  std::string comment;
  std::optional<bool> enable;     // absent = enabled
  std::optional<int64_t> expire;  // absent or 0 = never
  std::string firstname;
  std::string lastname;
  std::string email;

  // Enabled, and not expired at `now` (an expire time <= now has passed).
  bool IsActive(int64_t now) const;
  bool operator==(const UserEntry&) const = default;
};

struct TokenEntry {
  explicit TokenEntry(Authid id) : tokenid(std::move(id)) {}

  Authid tokenid;  // always a token
  std::string comment;
  std::optional<bool> enable;
  std::optional<int64_t> expire;

  bool IsActive(int64_t now) const;
  bool operator==(const TokenEntry&) const = default;
};

// InvalidArgument if a text field has a control character, is not UTF-8 or has more than 1024
// bytes, or expire
// is negative; for tokens also if `tokenid` is not a token.
Status ValidateUserEntry(const UserEntry& entry);
Status ValidateTokenEntry(const TokenEntry& entry);

class UserConfig {
 public:
  // Just root@pam; the digest of an empty file.
  UserConfig();

  // Parses the text of user.cfg; see the file comment for what is refused.
  static Result<UserConfig> Parse(std::string_view text);
  // Loads `<config_dir>/user.cfg`; a missing file gives UserConfig(). The error of a malformed
  // file names the file and line.
  static Result<UserConfig> Load(const std::string& config_dir);

  std::string Serialize() const;
  // Writes `<config_dir>/user.cfg` atomically, mode 0640.
  // REQUIRES: the caller holds LockConfig() of that file.
  Status Save(const std::string& config_dir) const;

  // Hex SHA-256 of the text this config was parsed from (not updated by changes).
  const std::string& digest() const { return digest_; }

  const std::map<Userid, UserEntry>& users() const { return users_; }
  const std::map<Authid, TokenEntry>& tokens() const { return tokens_; }
  // Null if absent.
  const UserEntry* FindUser(const Userid& userid) const;
  const TokenEntry* FindToken(const Authid& tokenid) const;
  std::vector<TokenEntry> TokensOf(const Userid& userid) const;

  // A user: it exists and is active. A token: it and its user exist and are active.
  bool IsActive(const Authid& authid, int64_t now) const;

  // Changes. AlreadyExists / NotFound as the names say; InvalidArgument from Validate*.
  Status AddUser(UserEntry entry);
  Status ReplaceUser(UserEntry entry);
  // Also removes the user's tokens. InvalidArgument for root@pam.
  Status RemoveUser(const Userid& userid);
  // NotFound if the token's user does not exist.
  Status AddToken(TokenEntry entry);
  Status ReplaceToken(TokenEntry entry);
  Status RemoveToken(const Authid& tokenid);

 private:
  std::map<Userid, UserEntry> users_;
  std::map<Authid, TokenEntry> tokens_;
  std::string digest_;
};

}  // namespace cairn::server

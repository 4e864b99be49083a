#include "server/auth/authenticator.h"

#include "base/file_util.h"
#include "server/auth/config_file.h"
#include "server/auth/pam_auth.h"

namespace cairn::server {
namespace {

Status Denied() {
  return Status::PermissionDenied("authentication failed");
}

}  // namespace

Authenticator::Authenticator(std::string config_dir, PamFunction pam)
    : config_dir_(std::move(config_dir)),
      pam_(pam ? std::move(pam) : PamFunction([](std::string_view user, std::string_view password) {
        return PamAuthenticate(kPamService, user, password);
      })),
      passwords_(config_dir_, ShadowFile::Kind::kPasswords),
      tokens_(config_dir_, ShadowFile::Kind::kTokens) {}

Status Authenticator::Authenticate(const Userid& user, std::string_view password, int64_t now) {
  if (password.empty()) return Denied();
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir_));
  const bool active = users.IsActive(Authid(user), now);
  // The credentials are checked even for an inactive user, so timing does not tell.
  bool accepted = false;
  if (user.realm() == "pbs") {
    CAIRN_ASSIGN_OR_RETURN(accepted, passwords_.Verify(user.name(), password));
  } else if (user.realm() == "pam") {
    accepted = pam_(user.name(), password).ok();
  }
  return active && accepted ? Status::OK() : Denied();
}

Result<Authid> Authenticator::AuthenticateToken(std::string_view tokenid, std::string_view secret,
                                                int64_t now) {
  auto authid = Authid::Parse(tokenid);
  if (!authid.ok() || !authid->is_token() || secret.empty()) return Denied();
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir_));
  const bool active = users.IsActive(*authid, now);
  CAIRN_ASSIGN_OR_RETURN(bool accepted, tokens_.Verify(authid->ToString(), secret));
  if (!active || !accepted) return Denied();
  return *authid;
}

Result<UserConfig> Authenticator::ReadUsers() const {
  return UserConfig::Load(config_dir_);
}

Status Authenticator::ModifyUsers(std::string_view digest,
                                  const std::function<Status(UserConfig&)>& change) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(JoinPath(config_dir_, kUserConfigFile)));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir_));
  CAIRN_RETURN_IF_ERROR(CheckDigest(digest, users.digest()));
  CAIRN_RETURN_IF_ERROR(change(users));
  return users.Save(config_dir_);
}

Status Authenticator::UpdateAcl(const AclUpdate& update, std::string_view digest) {
  if (update.authid.has_value() == update.group.has_value()) {
    return Status::InvalidArgument("exactly one of auth-id and group is required");
  }
  CAIRN_RETURN_IF_ERROR(ValidateAclPath(update.path));
  if (update.remove) {
    return ModifyAclConfig(config_dir_, digest, [&](AclTree& tree) {
      if (update.authid) {
        tree.RemoveUserRole(update.path, *update.authid, update.role);
      } else {
        tree.RemoveGroupRole(update.path, *update.group, update.role);
      }
      return Status::OK();
    });
  }
  if (update.group) return Status::InvalidArgument("group ACLs are not supported");
  const Authid& authid = *update.authid;
  // Lock order: user.cfg before acl.cfg, so the user cannot vanish in between.
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, LockConfig(JoinPath(config_dir_, kUserConfigFile)));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, UserConfig::Load(config_dir_));
  const bool exists = authid.is_token() ? users.FindToken(authid) != nullptr
                                        : users.FindUser(authid.user()) != nullptr;
  if (!exists) {
    return Status::NotFound(std::string(authid.is_token() ? "no such token " : "no such user ") +
                            authid.ToString());
  }
  return ModifyAclConfig(config_dir_, digest, [&](AclTree& tree) {
    return tree.AddUserRole(update.path, authid, update.role, update.propagate);
  });
}

}  // namespace cairn::server

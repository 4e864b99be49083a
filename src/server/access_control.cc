#include "server/access_control.h"

#include "base/file_util.h"
#include "server/auth/acl_path.h"
#include "server/auth/api_token_header.h"
#include "server/auth/crypto_util.h"
#include "server/auth/encoding.h"
#include "server/auth/user_info.h"

namespace cairn::server {
namespace {

// The value of cookie `name` in a Cookie header ("a=1; b=2"), percent-decoded.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || item.substr(0, eq) != name) continue;
    auto value = PercentDecode(item.substr(eq + 1));
    if (value.ok()) return *value;
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<AccessControl>> AccessControl::Open(const std::string& config_dir) {
  CAIRN_ASSIGN_OR_RETURN(auto ticket_key, TicketKey::LoadOrCreate(config_dir));
  CAIRN_ASSIGN_OR_RETURN(CsrfKey csrf_key, CsrfKey::LoadOrCreate(config_dir));
  auto authenticator = std::make_unique<Authenticator>(config_dir);
  return std::unique_ptr<AccessControl>(new AccessControl(
      config_dir, std::move(ticket_key), std::move(csrf_key), std::move(authenticator)));
}

AccessControl::AccessControl(std::string config_dir, std::unique_ptr<TicketKey> ticket_key,
                             CsrfKey csrf_key, std::unique_ptr<Authenticator> authenticator)
    : config_dir_(std::move(config_dir)),
      ticket_key_(std::move(ticket_key)),
      csrf_key_(std::move(csrf_key)),
      authenticator_(std::move(authenticator)),
      users_(JoinPath(config_dir_, kUserConfigFile),
             [dir = config_dir_] { return UserConfig::Load(dir); }),
      acls_(JoinPath(config_dir_, kAclConfigFile),
            [dir = config_dir_] { return AclTree::Load(dir); }) {}

std::optional<std::string> AccessControl::TicketCookie(const http::ServerRequest& request) {
  std::string_view cookies = request.Header("cookie");
  std::optional<std::string> ticket = CookieValue(cookies, "__Host-PBSAuthCookie");
  if (!ticket) ticket = CookieValue(cookies, "PBSAuthCookie");
  return ticket;
}

Result<std::optional<Credentials>> AccessControl::Authenticate(const http::ServerRequest& request,
                                                               int64_t now) {
  std::optional<std::string> ticket = TicketCookie(request);
  if (ticket) {
    CAIRN_ASSIGN_OR_RETURN(Userid user, ticket_key_->VerifyTicket(*ticket, now));
    CAIRN_RETURN_IF_ERROR(CheckUserActive(Authid(user), now));
    return std::optional<Credentials>(Credentials{Authid(user), /*by_ticket=*/true});
  }
  std::string_view header = request.Header("authorization");
  if (header.empty()) return std::optional<Credentials>();
  auto parsed = ParseApiTokenHeader(header);
  if (!parsed.ok()) return Status::PermissionDenied(parsed.status().message());
  CAIRN_ASSIGN_OR_RETURN(Authid token, authenticator_->AuthenticateToken(parsed->tokenid.ToString(),
                                                                         parsed->secret, now));
  return std::optional<Credentials>(Credentials{std::move(token), /*by_ticket=*/false});
}

Status AccessControl::CheckCsrf(const Userid& user, std::string_view token, int64_t now) const {
  if (token.empty()) return Status::PermissionDenied("missing CSRFPreventionToken header");
  return csrf_key_.VerifyToken(user, token, now);
}

Result<LoginResult> AccessControl::Login(std::string_view username, std::string_view password,
                                         int64_t now) {
  auto user = Userid::Parse(username);
  if (!user.ok()) return Status::PermissionDenied("authentication failed");
  // A valid ticket of the same user as the password renews it (PBS).
  auto renewed = ticket_key_->VerifyTicket(password, now);
  if (renewed.ok() && *renewed == *user) {
    CAIRN_RETURN_IF_ERROR(CheckUserActive(Authid(*user), now));
  } else {
    CAIRN_RETURN_IF_ERROR(authenticator_->Authenticate(*user, password, now));
  }
  CAIRN_ASSIGN_OR_RETURN(std::string ticket, ticket_key_->CreateTicket(*user, now));
  return LoginResult{*user, std::move(ticket), csrf_key_.CreateToken(*user, now)};
}

Result<UserInfo> AccessControl::Info(int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(auto users, users_.Get());
  CAIRN_ASSIGN_OR_RETURN(auto acls, acls_.Get());
  return UserInfo(std::move(users), std::move(acls), now);
}

uint64_t AccessControl::Privileges(const Authid& auth_id, std::string_view acl_path, int64_t now) {
  if (auth_id.IsSuperuser()) return ~uint64_t{0};
  auto info = Info(now);
  if (!info.ok()) return 0;  // a damaged user.cfg or acl.cfg grants nothing
  return info->LookupPrivs(auth_id, SplitAclPath(acl_path));
}

bool AccessControl::AnyPrivilegesBelow(const Authid& auth_id, std::string_view acl_path,
                                       uint64_t privs, int64_t now) {
  if (auth_id.IsSuperuser()) return true;
  auto info = Info(now);
  return info.ok() && info->AnyPrivsBelow(auth_id, SplitAclPath(acl_path), privs);
}

Result<std::map<std::string, std::map<std::string, bool>>> AccessControl::ListPermissions(
    const Authid& auth_id, const std::optional<std::string>& path, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(UserInfo info, Info(now));
  return info.ListPermissions(auth_id, path);
}

Status AccessControl::CheckUserActive(const Authid& auth_id, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(auto users, users_.Get());
  if (!users->IsActive(auth_id, now)) {
    return Status::PermissionDenied("user '" + auth_id.ToString() +
                                    "' does not exist or is not active");
  }
  return Status::OK();
}

std::string AccessControl::InstanceId(std::string_view seed) const {
  return Sha256Hex(AsBytes(seed));
}

}  // namespace cairn::server

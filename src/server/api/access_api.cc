// The access routes: login tickets, users, API tokens, ACLs, permissions, roles, passwords
// and realms (PBS's /access).
#include <fmt/format.h>

#include "server/access_control.h"
#include "server/api/api_call.h"
#include "server/api/routes.h"
#include "server/auth/encoding.h"
#include "server/auth/privileges.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

using nlohmann::json;

constexpr char kUsersAcl[] = "/access/users";
constexpr char kAclAcl[] = "/access/acl";

// POST and DELETE /access/ticket answer in ExtJS style whatever the format (PBS).
ApiReply TicketReply(json data, http::HeaderList headers = {}) {
  json body = {{"data", std::move(data)}, {"status", 200}, {"success", true}};
  http::ServerResponse raw;
  raw.headers = std::move(headers);
  raw.headers.emplace_back("Content-Type", kJsonContentType);
  raw.body = body.dump();
  ApiReply reply;
  reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
  return reply;
}

Result<ApiReply> CreateTicket(ApiCall& call) {
  const Params& params = call.params();
  if (params.Has("tfa-challenge")) {
    return Status::InvalidArgument("two-factor authentication is not supported");
  }
  // The web UI cannot read its HttpOnly ticket: to renew it, it sends the ticket info it got
  // at login as the password, and the ticket comes from the cookie. The renewed ticket then
  // goes back into the cookie only: a script on the page must not get what HttpOnly hides.
  std::string password = params.String("password");
  bool from_cookie = false;
  if (password.ends_with("::ticketinfo")) {
    if (auto ticket = AccessControl::TicketCookie(call.request())) {
      password = *ticket;
      from_cookie = true;
    }
  }
  auto login =
      call.context().access().Login(params.String("username"), password, call.context().Now());
  if (!login.ok()) {
    // The dispatcher adds no delay to handler errors but 403; a failed login waits 3 s here.
    http::ServerResponse raw;
    raw.status = 401;
    raw.headers.emplace_back("Content-Type", kJsonContentType);
    raw.body = "permission check failed.";
    raw.delay = std::chrono::seconds(3);
    ApiReply reply;
    reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
    return reply;
  }
  json data = {{"username", login->user.ToString()}, {"CSRFPreventionToken", login->csrf_token}};
  if (!from_cookie && !params.Boolean("http-only", false)) {
    data["ticket"] = login->ticket;
    return TicketReply(std::move(data));
  }
  // The GUI's cookie: the ticket stays out of reach of scripts; the body names it only.
  std::string info = login->ticket.substr(0, login->ticket.find("::")) + "::ticketinfo";
  data["ticket-info"] = info;
  return TicketReply(std::move(data),
                     {{"Set-Cookie", "__Host-PBSAuthCookie=" + PercentEncode(login->ticket) +
                                         "; Secure; SameSite=Lax; HttpOnly; Path=/;"}});
}

Result<ApiReply> DeleteTicket(ApiCall&) {
  return TicketReply(json(), {{"Set-Cookie",
                               "__Host-PBSAuthCookie=; Secure; SameSite=Lax; HttpOnly; Path=/; "
                               "Max-Age=0"}});
}

json UserJson(const UserEntry& user) {
  json item = {{"userid", user.userid.ToString()},
               {"enable", user.enable.value_or(true)},
               {"expire", user.expire.value_or(0)}};
  if (!user.comment.empty()) item["comment"] = user.comment;
  if (!user.firstname.empty()) item["firstname"] = user.firstname;
  if (!user.lastname.empty()) item["lastname"] = user.lastname;
  if (!user.email.empty()) item["email"] = user.email;
  return item;
}

json TokenJson(const TokenEntry& token) {
  json item = {{"tokenid", token.tokenid.ToString()},
               {"enable", token.enable.value_or(true)},
               {"expire", token.expire.value_or(0)}};
  if (!token.comment.empty()) item["comment"] = token.comment;
  return item;
}

Result<Userid> UserParam(const ApiCall& call) {
  auto user = Userid::Parse(call.params().String("userid"));
  if (!user.ok()) return user.status().WithContext("userid");
  return user;
}

// Sys.Audit on /access/users, or the caller's own user (or the user of the caller's token).
Status RequireSelfOr(const ApiCall& call, const Userid& user, uint64_t privs) {
  if (call.auth_id().user() == user) return Status::OK();
  return call.Require(kUsersAcl, privs);
}

Result<ApiReply> ListUsers(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, call.context().access().authenticator().ReadUsers());
  bool all = (call.Privileges(kUsersAcl) & priv::kSysAudit) != 0;
  bool with_tokens = call.params().Boolean("include_tokens", false);
  json out = json::array();
  for (const auto& [id, user] : users.users()) {
    if (!all && id != call.auth_id().user()) continue;
    json item = UserJson(user);
    if (with_tokens) {
      item["tokens"] = json::array();
      for (const TokenEntry& token : users.TokensOf(id)) item["tokens"].push_back(TokenJson(token));
    }
    out.push_back(std::move(item));
  }
  ApiReply reply(std::move(out));
  reply.attributes["digest"] = users.digest();
  return reply;
}

Result<ApiReply> GetUser(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, id, priv::kSysAudit));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, call.context().access().authenticator().ReadUsers());
  const UserEntry* user = users.FindUser(id);
  if (!user) return Status::NotFound("no such user '" + id.ToString() + "'");
  ApiReply reply(UserJson(*user));
  reply.attributes["digest"] = users.digest();
  return reply;
}

void FillUser(const Params& params, UserEntry& entry) {
  entry.comment = params.OptString("comment").value_or("");
  entry.firstname = params.OptString("firstname").value_or("");
  entry.lastname = params.OptString("lastname").value_or("");
  entry.email = params.OptString("email").value_or("");
  if (params.Has("enable")) entry.enable = params.Boolean("enable", true);
  if (auto expire = params.OptInteger("expire")) entry.expire = *expire;
}

Result<ApiReply> CreateUser(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  UserEntry entry(id);
  FillUser(call.params(), entry);
  CAIRN_RETURN_IF_ERROR(call.context().access().authenticator().CreateUser(
      entry, call.params().OptString("password")));
  return ApiReply(json());
}

Result<ApiReply> UpdateUser(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  const Params& params = call.params();
  UserUpdate update;
  update.comment = params.OptString("comment");
  update.firstname = params.OptString("firstname");
  update.lastname = params.OptString("lastname");
  update.email = params.OptString("email");
  if (params.Has("enable")) update.enable = params.Boolean("enable", true);
  update.expire = params.OptInteger("expire");
  update.password = params.OptString("password");
  update.delete_props = params.StringArray("delete");
  CAIRN_RETURN_IF_ERROR(call.context().access().authenticator().UpdateUser(
      id, update, params.OptString("digest").value_or("")));
  return ApiReply(json());
}

Result<ApiReply> DeleteUser(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  CAIRN_RETURN_IF_ERROR(call.context().access().authenticator().DeleteUser(
      id, call.params().OptString("digest").value_or("")));
  return ApiReply(json());
}

Result<Authid> TokenParam(const ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid user, UserParam(call));
  auto token = Authid::MakeToken(user, call.params().String("token-name"));
  if (!token.ok()) return token.status().WithContext("token-name");
  return token;
}

Result<ApiReply> ListTokens(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, id, priv::kSysAudit));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, call.context().access().authenticator().ReadUsers());
  if (!users.FindUser(id)) return Status::NotFound("no such user '" + id.ToString() + "'");
  json out = json::array();
  for (const TokenEntry& token : users.TokensOf(id)) out.push_back(TokenJson(token));
  ApiReply reply(std::move(out));
  reply.attributes["digest"] = users.digest();
  return reply;
}

Result<ApiReply> GetToken(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Authid tokenid, TokenParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, tokenid.user(), priv::kSysAudit));
  CAIRN_ASSIGN_OR_RETURN(UserConfig users, call.context().access().authenticator().ReadUsers());
  auto it = users.tokens().find(tokenid);
  if (it == users.tokens().end()) {
    return Status::NotFound("no such token '" + tokenid.ToString() + "'");
  }
  return ApiReply(TokenJson(it->second));
}

Result<ApiReply> CreateToken(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Authid tokenid, TokenParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, tokenid.user(), priv::kPermissionsModify));
  if (call.auth_id().is_token()) {
    return Status::PermissionDenied("permission check failed - a token cannot create tokens");
  }
  TokenEntry entry(tokenid);
  entry.comment = call.params().OptString("comment").value_or("");
  if (call.params().Has("enable")) entry.enable = call.params().Boolean("enable", true);
  if (auto expire = call.params().OptInteger("expire")) entry.expire = *expire;
  CAIRN_ASSIGN_OR_RETURN(NewTokenSecret secret,
                         call.context().access().authenticator().CreateToken(
                             entry, call.params().OptString("digest").value_or("")));
  return ApiReply(json{{"tokenid", secret.tokenid}, {"value", secret.value}});
}

Result<ApiReply> UpdateToken(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Authid tokenid, TokenParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, tokenid.user(), priv::kPermissionsModify));
  const Params& params = call.params();
  TokenUpdate update;
  update.comment = params.OptString("comment");
  if (params.Has("enable")) update.enable = params.Boolean("enable", true);
  update.expire = params.OptInteger("expire");
  update.delete_props = params.StringArray("delete");
  update.regenerate = params.Boolean("regenerate", false);
  CAIRN_ASSIGN_OR_RETURN(auto secret,
                         call.context().access().authenticator().UpdateToken(
                             tokenid, update, params.OptString("digest").value_or("")));
  if (!secret) return ApiReply(json());
  return ApiReply(json{{"tokenid", tokenid.ToString()}, {"secret", *secret}});
}

Result<ApiReply> DeleteToken(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Authid tokenid, TokenParam(call));
  CAIRN_RETURN_IF_ERROR(RequireSelfOr(call, tokenid.user(), priv::kPermissionsModify));
  CAIRN_RETURN_IF_ERROR(call.context().access().authenticator().DeleteToken(
      tokenid, call.params().OptString("digest").value_or("")));
  return ApiReply(json());
}

Result<ApiReply> ReadAcl(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(AclTree acl, AclTree::Load(call.context().config_dir()));
  bool all = (call.Privileges(kAclAcl) & priv::kSysAudit) != 0;
  auto path = call.params().OptString("path");
  bool exact = call.params().Boolean("exact", false);
  json out = json::array();
  for (const AclEntry& entry : acl.Entries()) {
    if (path && (exact ? entry.path != *path : !entry.path.starts_with(*path))) continue;
    if (!all) {
      // Without Sys.Audit: only the caller's own entries and those of its tokens.
      auto ugid = Authid::Parse(entry.ugid);
      if (entry.is_group || !ugid.ok() || !ApiCall::IsOwner(entry.ugid, call.auth_id())) {
        continue;
      }
    }
    out.push_back({{"path", entry.path},
                   {"ugid", entry.ugid},
                   {"ugid_type", entry.is_group ? "group" : "user"},
                   {"propagate", entry.propagate},
                   {"roleid", entry.role}});
  }
  ApiReply reply(std::move(out));
  reply.attributes["digest"] = acl.digest();
  return reply;
}

Result<ApiReply> UpdateAcl(ApiCall& call) {
  const Params& params = call.params();
  AclUpdate update;
  update.path = params.String("path");
  update.role = params.String("role");
  update.propagate = params.Boolean("propagate", true);
  update.remove = params.Boolean("delete", false);
  if (auto auth = params.OptString("auth-id")) {
    auto parsed = Authid::Parse(*auth);
    if (!parsed.ok()) return parsed.status().WithContext("auth-id");
    update.authid = *parsed;
  }
  update.group = params.OptString("group");
  CAIRN_RETURN_IF_ERROR(call.context().access().authenticator().UpdateAcl(
      update, params.OptString("digest").value_or("")));
  return ApiReply(json());
}

Result<ApiReply> ListPermissions(ApiCall& call) {
  Authid target = call.auth_id();
  if (auto other = call.params().OptString("auth-id")) {
    auto parsed = Authid::Parse(*other);
    if (!parsed.ok()) return parsed.status().WithContext("auth-id");
    if (!ApiCall::IsOwner(parsed->ToString(), call.auth_id())) {
      CAIRN_RETURN_IF_ERROR(call.Require("/access", priv::kSysAudit));
    }
    target = *parsed;
  }
  CAIRN_ASSIGN_OR_RETURN(auto permissions,
                         call.context().access().ListPermissions(
                             target, call.params().OptString("path"), call.context().Now()));
  return ApiReply(json(permissions));
}

Result<ApiReply> ListRoles(ApiCall&) {
  json out = json::array();
  for (const RoleInfo& role : AllRoles()) {
    json privs = json::array();
    for (const PrivilegeInfo& privilege : AllPrivilegeInfos()) {
      if (role.privileges & privilege.bit) privs.push_back(privilege.name);
    }
    out.push_back({{"roleid", role.name}, {"privs", privs}, {"comment", role.description}});
  }
  return ApiReply(std::move(out));
}

Result<ApiReply> ChangePassword(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(Userid id, UserParam(call));
  if (call.auth_id().is_token() || call.auth_id().user() != id) {
    CAIRN_RETURN_IF_ERROR(call.Require(kUsersAcl, priv::kPermissionsModify));
  }
  CAIRN_RETURN_IF_ERROR(
      call.context().access().authenticator().SetPassword(id, call.params().String("password")));
  return ApiReply(json());
}

Result<ApiReply> ListDomains(ApiCall&) {
  return ApiReply(json::array(
      {{{"realm", "pam"}, {"type", "pam"}, {"comment", "Linux PAM standard authentication"}},
       {{"realm", "pbs"},
        {"type", "pbs"},
        {"comment", "Cairn authentication server"},
        {"default", true}}}));
}

std::vector<ParamSpec> UserFields(bool with_password) {
  std::vector<ParamSpec> out{ParamSpec::String("userid", "User id (name@realm).", 128).Required(),
                             ParamSpec::String("comment", "Comment.", 1024),
                             ParamSpec::Boolean("enable", "Enabled (default true)."),
                             ParamSpec::Integer("expire", "Expiry (epoch; 0 = never).", 0),
                             ParamSpec::String("firstname", "First name.", 1024),
                             ParamSpec::String("lastname", "Last name.", 1024),
                             ParamSpec::String("email", "E-mail address.", 1024)};
  if (with_password) out.push_back(ParamSpec::String("password", "Password (realm pbs).", 64));
  return out;
}

std::vector<ParamSpec> TokenPath() {
  return {ParamSpec::String("userid", "User id (name@realm).", 128).Required(),
          ParamSpec::String("token-name", "Token name.", 64).Required()};
}

}  // namespace

void AddAccessRoutes(Router& router) {
  router.Add(
      {.method = "POST",
       .path = "/access/ticket",
       .description = "Log in (or renew a ticket given as password); answers ticket and "
                      "CSRFPreventionToken, or with http-only an HttpOnly cookie.",
       .params = {ParamSpec::String("username", "User id (name@realm).", 128).Required(),
                  ParamSpec::String("password", "Password or a valid ticket.", 4096).Required(),
                  ParamSpec::Boolean("http-only", "Set the ticket as an HttpOnly cookie."),
                  ParamSpec::String("tfa-challenge", "Not supported.", 4096)},
       .access = Access::World(),
       .handler = CreateTicket});
  router.Add({.method = "DELETE",
              .path = "/access/ticket",
              .description = "Log out: expires the ticket cookie.",
              .access = Access::World(),
              .handler = DeleteTicket});
  router.Add({.method = "GET",
              .path = "/access/domains",
              .description = "Authentication realms.",
              .access = Access::World(),
              .handler = ListDomains});
  router.Add({.method = "GET",
              .path = "/access/users",
              .description = "List users (attribute digest).",
              .params = {ParamSpec::Boolean("include_tokens", "Include each user's tokens.")},
              .access = Access::Authenticated("everyone sees themselves; all users with "
                                              "Sys.Audit on /access/users"),
              .handler = ListUsers});
  router.Add({.method = "POST",
              .path = "/access/users",
              .description = "Create a user.",
              .params = UserFields(true),
              .access = Access::Privileges(kUsersAcl, priv::kPermissionsModify),
              .handler = CreateUser});
  router.Add({.method = "GET",
              .path = "/access/users/{userid}",
              .description = "A user.",
              .params = {ParamSpec::String("userid", "User id.", 128).Required()},
              .access = Access::Handler("the user themselves, or Sys.Audit on /access/users"),
              .handler = GetUser});
  std::vector<ParamSpec> update = UserFields(true);
  update.push_back(ParamSpec::StringArray("delete", "Properties to clear."));
  update.push_back(ParamSpec::String("digest", "Digest of the config read before.", 64));
  router.Add({.method = "PUT",
              .path = "/access/users/{userid}",
              .description = "Update a user.",
              .params = update,
              .access = Access::Privileges(kUsersAcl, priv::kPermissionsModify),
              .handler = UpdateUser});
  router.Add({.method = "DELETE",
              .path = "/access/users/{userid}",
              .description = "Remove a user with its tokens and ACL entries.",
              .params = {ParamSpec::String("userid", "User id.", 128).Required(),
                         ParamSpec::String("digest", "Digest of the config read before.", 64)},
              .access = Access::Privileges(kUsersAcl, priv::kPermissionsModify),
              .handler = DeleteUser});
  router.Add({.method = "GET",
              .path = "/access/users/{userid}/token",
              .description = "List a user's API tokens.",
              .params = {ParamSpec::String("userid", "User id.", 128).Required()},
              .access = Access::Handler("the user themselves, or Sys.Audit on /access/users"),
              .handler = ListTokens});
  router.Add({.method = "GET",
              .path = "/access/users/{userid}/token/{token-name}",
              .description = "An API token.",
              .params = TokenPath(),
              .access = Access::Handler("the user themselves, or Sys.Audit on /access/users"),
              .handler = GetToken});
  std::vector<ParamSpec> token_fields = TokenPath();
  token_fields.push_back(ParamSpec::String("comment", "Comment.", 1024));
  token_fields.push_back(ParamSpec::Boolean("enable", "Enabled (default true)."));
  token_fields.push_back(ParamSpec::Integer("expire", "Expiry (epoch; 0 = never).", 0));
  token_fields.push_back(ParamSpec::String("digest", "Digest of the config read before.", 64));
  router.Add({.method = "POST",
              .path = "/access/users/{userid}/token/{token-name}",
              .description = "Create an API token; answers {tokenid, value}: the secret, shown "
                             "only this once.",
              .params = token_fields,
              .access = Access::Handler("the user themselves (not as a token), or "
                                        "Permissions.Modify on /access/users"),
              .handler = CreateToken});
  token_fields.push_back(ParamSpec::StringArray("delete", "Properties to clear."));
  token_fields.push_back(ParamSpec::Boolean("regenerate", "Replace the secret (answered once)."));
  router.Add({.method = "PUT",
              .path = "/access/users/{userid}/token/{token-name}",
              .description = "Update an API token.",
              .params = token_fields,
              .access = Access::Handler("the user themselves, or Permissions.Modify on "
                                        "/access/users"),
              .handler = UpdateToken});
  std::vector<ParamSpec> token_delete = TokenPath();
  token_delete.push_back(ParamSpec::String("digest", "Digest of the config read before.", 64));
  router.Add({.method = "DELETE",
              .path = "/access/users/{userid}/token/{token-name}",
              .description = "Remove an API token.",
              .params = token_delete,
              .access = Access::Handler("the user themselves, or Permissions.Modify on "
                                        "/access/users"),
              .handler = DeleteToken});
  router.Add({.method = "GET",
              .path = "/access/acl",
              .description = "ACL entries (attribute digest).",
              .params = {ParamSpec::String("path", "Only entries at or below this path.", 128),
                         ParamSpec::Boolean("exact", "Only entries exactly at path.")},
              .access = Access::Authenticated("all entries with Sys.Audit on /access/acl, else "
                                              "the caller's own and its tokens'"),
              .handler = ReadAcl});
  router.Add({.method = "PUT",
              .path = "/access/acl",
              .description = "Grant (or with delete, revoke) a role on a path.",
              .params = {ParamSpec::String("path", "ACL path.", 128).Required(),
                         ParamSpec::String("role", "Role.", 64).Required(),
                         ParamSpec::Boolean("propagate", "Also below the path (default true)."),
                         ParamSpec::String("auth-id", "User or token.", 128),
                         ParamSpec::String("group", "Group (revoking only).", 64),
                         ParamSpec::Boolean("delete", "Revoke instead of grant."),
                         ParamSpec::String("digest", "Digest of the ACL read before.", 64)},
              .access = Access::Privileges(kAclAcl, priv::kPermissionsModify),
              .handler = UpdateAcl});
  router.Add({.method = "GET",
              .path = "/access/permissions",
              .description = "The privileges an auth id has, by path.",
              .params = {ParamSpec::String("auth-id", "Whose (default: the caller).", 128),
                         ParamSpec::String("path", "Only this path.", 128)},
              .access = Access::Authenticated("one's own and one's tokens'; others with "
                                              "Sys.Audit on /access"),
              .handler = ListPermissions});
  router.Add({.method = "GET",
              .path = "/access/roles",
              .description = "Roles and their privileges.",
              .access = Access::Authenticated(),
              .handler = ListRoles});
  router.Add(
      {.method = "PUT",
       .path = "/access/password",
       .description = "Change a realm-pbs password.",
       .params = {ParamSpec::String("userid", "User id.", 128).Required(),
                  ParamSpec::String("password", "New password (5..64 bytes).", 64).Required()},
       .access = Access::Handler("the user themselves, or Permissions.Modify on "
                                 "/access/users"),
       .handler = ChangePassword});
}

}  // namespace cairn::server

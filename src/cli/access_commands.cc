// cairn user|token|acl: the server's users, API tokens and ACLs, edited locally in the config
// directory through the same library code as the server's /access API (docs/server.md).
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>

#include "base/file_util.h"
#include "cli/context.h"
#include "server/auth/authenticator.h"
#include "server/auth/privileges.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

std::string ConfigDir(const Context& ctx) {
  return ctx.config_dir.empty() ? config::DatastoreConfig::DefaultDir() : ctx.config_dir;
}

// The password from --password-file ("-" = stdin, first line) or, on a terminal, a prompt.
Result<std::optional<std::string>> ReadPassword(const std::string& file, bool prompt) {
  std::string line;
  if (file == "-") {
    std::getline(std::cin, line);
  } else if (!file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadFile(file));
    line.assign(data.begin(), data.end());
    line = line.substr(0, line.find('\n'));
  } else if (prompt && isatty(STDIN_FILENO)) {
    const char* entered = getpass("Password: ");
    if (!entered) return Status::InvalidArgument("no password entered");
    line = entered;
  } else {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(line);
}

json UserJson(const server::UserEntry& user) {
  json item = {{"userid", user.userid.ToString()},
               {"enable", user.enable.value_or(true)},
               {"expire", user.expire.value_or(0)}};
  if (!user.comment.empty()) item["comment"] = user.comment;
  if (!user.email.empty()) item["email"] = user.email;
  return item;
}

Result<server::Userid> ParseUser(const std::string& text) {
  auto user = server::Userid::Parse(text);
  if (!user.ok()) return user.status().WithContext("user id");
  return user;
}

void AddUserCommands(CLI::App& app, Context& ctx) {
  auto* user = app.add_subcommand("user", "Manage the server's users (realms pbs and pam)");
  user->require_subcommand(1);

  struct CreateArgs {
    std::string userid, comment, email, password_file;
    int64_t expire = 0;
  };
  auto create = std::make_shared<CreateArgs>();
  auto* create_cmd = user->add_subcommand("create", "Create a user");
  create_cmd->add_option("USERID", create->userid, "name@pbs or name@pam")->required();
  create_cmd->add_option("--comment", create->comment, "Comment");
  create_cmd->add_option("--email", create->email, "E-mail address");
  create_cmd->add_option("--expire", create->expire, "Expiry, Unix seconds (0 = never)");
  create_cmd->add_option("--password-file", create->password_file,
                         "Read the password (realm pbs) from a file, '-' for stdin; prompted "
                         "for on a terminal otherwise");
  create_cmd->callback([&ctx, create] {
    ctx.action = [&ctx, create]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid id, ParseUser(create->userid));
      server::UserEntry entry(id);
      entry.comment = create->comment;
      entry.email = create->email;
      if (create->expire > 0) entry.expire = create->expire;
      CAIRN_ASSIGN_OR_RETURN(auto password,
                             ReadPassword(create->password_file, id.realm() == "pbs"));
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.CreateUser(entry, password));
      ctx.Emit(UserJson(entry), "created user " + id.ToString());
      return Status::OK();
    };
  });

  auto* list = user->add_subcommand("list", "List users");
  list->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_ASSIGN_OR_RETURN(server::UserConfig users, auth.ReadUsers());
      json out = json::array();
      std::vector<std::vector<std::string>> rows;
      for (const auto& [id, entry] : users.users()) {
        out.push_back(UserJson(entry));
        rows.push_back({id.ToString(), entry.enable.value_or(true) ? "yes" : "no",
                        entry.expire.value_or(0) ? std::to_string(*entry.expire) : "never",
                        entry.comment});
      }
      ctx.Emit(out, FormatTable({"USER", "ENABLED", "EXPIRE", "COMMENT"}, rows));
      return Status::OK();
    };
  });

  struct UpdateArgs {
    std::string userid, comment;
    std::optional<bool> enable;
    std::optional<int64_t> expire;
  };
  auto update = std::make_shared<UpdateArgs>();
  auto* update_cmd = user->add_subcommand("update", "Change a user's settings");
  update_cmd->add_option("USERID", update->userid, "User id")->required();
  update_cmd->add_option("--comment", update->comment, "Comment");
  update_cmd->add_option("--enable", update->enable, "Enable (true) or disable (false)");
  update_cmd->add_option("--expire", update->expire, "Expiry, Unix seconds (0 = never)");
  update_cmd->callback([&ctx, update] {
    ctx.action = [&ctx, update]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid id, ParseUser(update->userid));
      server::UserUpdate change;
      if (!update->comment.empty()) change.comment = update->comment;
      change.enable = update->enable;
      change.expire = update->expire;
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.UpdateUser(id, change));
      ctx.Emit({{"updated", id.ToString()}}, "updated user " + id.ToString());
      return Status::OK();
    };
  });

  auto remove_id = std::make_shared<std::string>();
  auto* remove = user->add_subcommand("remove", "Remove a user, its tokens and ACL entries");
  remove->add_option("USERID", *remove_id, "User id")->required();
  remove->callback([&ctx, remove_id] {
    ctx.action = [&ctx, remove_id]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid id, ParseUser(*remove_id));
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.DeleteUser(id));
      ctx.Emit({{"removed", id.ToString()}}, "removed user " + id.ToString());
      return Status::OK();
    };
  });

  auto passwd = std::make_shared<CreateArgs>();
  auto* passwd_cmd = user->add_subcommand("passwd", "Set a realm-pbs user's password");
  passwd_cmd->add_option("USERID", passwd->userid, "User id")->required();
  passwd_cmd->add_option("--password-file", passwd->password_file,
                         "Read the password from a file, '-' for stdin");
  passwd_cmd->callback([&ctx, passwd] {
    ctx.action = [&ctx, passwd]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid id, ParseUser(passwd->userid));
      CAIRN_ASSIGN_OR_RETURN(auto password, ReadPassword(passwd->password_file, true));
      if (!password) return Status::InvalidArgument("no password given (--password-file)");
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.SetPassword(id, *password));
      ctx.Emit({{"updated", id.ToString()}}, "password of " + id.ToString() + " changed");
      return Status::OK();
    };
  });
}

void AddTokenCommands(CLI::App& app, Context& ctx) {
  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  struct Args {
    std::string userid, name, comment;
  };
  auto create = std::make_shared<Args>();
  auto* create_cmd =
      token->add_subcommand("create", "Create an API token; its secret is shown only once");
  create_cmd->add_option("USERID", create->userid, "The token's user")->required();
  create_cmd->add_option("NAME", create->name, "Token name")->required();
  create_cmd->add_option("--comment", create->comment, "Comment");
  create_cmd->callback([&ctx, create] {
    ctx.action = [&ctx, create]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid user, ParseUser(create->userid));
      auto tokenid = server::Authid::MakeToken(user, create->name);
      if (!tokenid.ok()) return tokenid.status().WithContext("token name");
      server::TokenEntry entry(*tokenid);
      entry.comment = create->comment;
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_ASSIGN_OR_RETURN(server::NewTokenSecret secret, auth.CreateToken(entry));
      ctx.Emit({{"tokenid", secret.tokenid}, {"value", secret.value}},
               fmt::format("token {}\nsecret {}\n(the secret is not shown again)", secret.tokenid,
                           secret.value));
      return Status::OK();
    };
  });
  auto list = std::make_shared<Args>();
  auto* list_cmd = token->add_subcommand("list", "List a user's tokens");
  list_cmd->add_option("USERID", list->userid, "User id")->required();
  list_cmd->callback([&ctx, list] {
    ctx.action = [&ctx, list]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid user, ParseUser(list->userid));
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_ASSIGN_OR_RETURN(server::UserConfig users, auth.ReadUsers());
      json out = json::array();
      std::vector<std::vector<std::string>> rows;
      for (const server::TokenEntry& entry : users.TokensOf(user)) {
        out.push_back({{"tokenid", entry.tokenid.ToString()},
                       {"enable", entry.enable.value_or(true)},
                       {"comment", entry.comment}});
        rows.push_back(
            {entry.tokenid.ToString(), entry.enable.value_or(true) ? "yes" : "no", entry.comment});
      }
      ctx.Emit(out, FormatTable({"TOKEN", "ENABLED", "COMMENT"}, rows));
      return Status::OK();
    };
  });
  auto remove = std::make_shared<Args>();
  auto* remove_cmd = token->add_subcommand("remove", "Remove a token and its ACL entries");
  remove_cmd->add_option("USERID", remove->userid, "The token's user")->required();
  remove_cmd->add_option("NAME", remove->name, "Token name")->required();
  remove_cmd->callback([&ctx, remove] {
    ctx.action = [&ctx, remove]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::Userid user, ParseUser(remove->userid));
      auto tokenid = server::Authid::MakeToken(user, remove->name);
      if (!tokenid.ok()) return tokenid.status().WithContext("token name");
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.DeleteToken(*tokenid));
      ctx.Emit({{"removed", tokenid->ToString()}}, "removed token " + tokenid->ToString());
      return Status::OK();
    };
  });
}

void AddAclCommands(CLI::App& app, Context& ctx) {
  auto* acl = app.add_subcommand("acl", "Manage access control (roles on paths)");
  acl->require_subcommand(1);
  struct Args {
    std::string path, role, auth_id;
    bool no_propagate = false, remove = false;
  };
  auto update = std::make_shared<Args>();
  auto* update_cmd =
      acl->add_subcommand("update", "Grant (or with --delete revoke) ROLE on PATH to an auth id");
  update_cmd->add_option("PATH", update->path, "e.g. /datastore/store1 or /datastore/store1/ns")
      ->required();
  update_cmd->add_option("ROLE", update->role, "e.g. DatastoreBackup, DatastoreAdmin, Admin")
      ->required();
  update_cmd->add_option("--auth-id", update->auth_id, "User or token (user@realm!name)")
      ->required();
  update_cmd->add_flag("--no-propagate", update->no_propagate, "Only this path, not below it");
  update_cmd->add_flag("--delete", update->remove, "Revoke instead of grant");
  update_cmd->callback([&ctx, update] {
    ctx.action = [&ctx, update]() -> Status {
      auto authid = server::Authid::Parse(update->auth_id);
      if (!authid.ok()) return authid.status().WithContext("--auth-id");
      server::AclUpdate change;
      change.path = update->path;
      change.role = update->role;
      change.propagate = !update->no_propagate;
      change.authid = *authid;
      change.remove = update->remove;
      server::Authenticator auth(ConfigDir(ctx));
      CAIRN_RETURN_IF_ERROR(auth.UpdateAcl(change));
      ctx.Emit({{"path", change.path},
                {"role", change.role},
                {"auth-id", update->auth_id},
                {"removed", change.remove}},
               fmt::format("{} {} on {} {} {}", change.remove ? "revoked" : "granted", change.role,
                           change.path, change.remove ? "from" : "to", update->auth_id));
      return Status::OK();
    };
  });
  auto* list_cmd = acl->add_subcommand("list", "List the ACL");
  list_cmd->callback([&ctx] {
    ctx.action = [&ctx]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(server::AclTree tree, server::AclTree::Load(ConfigDir(ctx)));
      json out = json::array();
      std::vector<std::vector<std::string>> rows;
      for (const server::AclEntry& entry : tree.Entries()) {
        out.push_back({{"path", entry.path},
                       {"ugid", entry.ugid},
                       {"propagate", entry.propagate},
                       {"roleid", entry.role}});
        rows.push_back({entry.path, entry.ugid, entry.role, entry.propagate ? "yes" : "no"});
      }
      ctx.Emit(out, FormatTable({"PATH", "AUTH ID", "ROLE", "PROPAGATE"}, rows));
      return Status::OK();
    };
  });
}

}  // namespace

void AddAccessCommands(CLI::App& app, Context& ctx) {
  AddUserCommands(app, ctx);
  AddTokenCommands(app, ctx);
  AddAclCommands(app, ctx);
}

}  // namespace cairn::cli

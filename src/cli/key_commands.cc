// cairn key create|show-fingerprint|change-passphrase, and key loading for other commands.
//
// Passphrases come from $CAIRN_KEY_PASSWORD (and $CAIRN_NEW_KEY_PASSWORD when changing it),
// else from a prompt on the terminal with echo off. Without either the command fails.

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "cli/context.h"
#include "format/key_file.h"

namespace cairn::cli {
namespace {

Result<std::string> ReadPassphrase(const char* env, const std::string& prompt) {
  if (const char* v = std::getenv(env)) return std::string(v);
  if (!::isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(fmt::format("no passphrase: set {} or run on a terminal", env));
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  struct termios old_t, new_t;
  tcgetattr(STDIN_FILENO, &old_t);
  new_t = old_t;
  new_t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &new_t);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old_t);
  std::fprintf(stderr, "\n");
  return line;
}

Result<std::string> NewPassphrase(const char* env) {
  if (std::getenv(env)) return std::string(std::getenv(env));
  CAIRN_ASSIGN_OR_RETURN(std::string first, ReadPassphrase(env, "New passphrase: "));
  CAIRN_ASSIGN_OR_RETURN(std::string second, ReadPassphrase(env, "Repeat passphrase: "));
  if (first != second) return Status::InvalidArgument("passphrases do not match");
  if (first.size() < kMinPassphraseLength) {
    return Status::InvalidArgument(
        fmt::format("passphrase is too short (at least {} characters)", kMinPassphraseLength));
  }
  return first;
}

Result<std::string> OldPassphrase(const KeyFile& file, const std::string& path) {
  if (!file.IsProtected()) return std::string();
  return ReadPassphrase("CAIRN_KEY_PASSWORD", "Passphrase for " + path + ": ");
}

// Unlock errors name the key file already.
Result<EncryptionKey> UnlockKeyFile(const KeyFile& file, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string passphrase, OldPassphrase(file, path));
  return file.Unlock(passphrase);
}

}  // namespace

Result<std::optional<CryptConfig>> LoadCryptConfig(const std::string& path) {
  if (path.empty()) return std::optional<CryptConfig>();
  CAIRN_ASSIGN_OR_RETURN(KeyFile file, KeyFile::Load(path));
  CAIRN_ASSIGN_OR_RETURN(EncryptionKey key, UnlockKeyFile(file, path));
  return std::optional<CryptConfig>(CryptConfig(key));
}

void AddKeyCommands(CLI::App& app, Context& ctx) {
  auto* key = app.add_subcommand("key", "Manage client encryption keys");
  key->require_subcommand(1);

  struct CreateArgs {
    std::string path, kdf = "scrypt";
  };
  auto c = std::make_shared<CreateArgs>();
  auto* create = key->add_subcommand("create", "Create a new random key file (mode 0600)");
  create->add_option("PATH", c->path, "Where to write the key (must not exist)")->required();
  create->add_option("--kdf", c->kdf, "scrypt (passphrase) or none (unprotected)")
      ->check(CLI::IsMember({"scrypt", "none"}));
  create->callback([&ctx, c] {
    ctx.action = [&ctx, c]() -> Status {
      std::string passphrase;
      if (c->kdf != "none") {
        CAIRN_ASSIGN_OR_RETURN(passphrase, NewPassphrase("CAIRN_KEY_PASSWORD"));
      }
      CAIRN_ASSIGN_OR_RETURN(auto created, KeyFile::Create(passphrase));
      CAIRN_RETURN_IF_ERROR(created.second.Save(c->path, /*replace=*/false));
      ctx.Emit({{"path", c->path}, {"fingerprint", created.second.fingerprint()}},
               fmt::format("created key {}\nfingerprint: {}\nKeep a copy of this key file: "
                           "without it encrypted backups cannot be restored.",
                           c->path, created.second.fingerprint()));
      return Status::OK();
    };
  });

  auto fp_path = std::make_shared<std::string>();
  auto* fp = key->add_subcommand("show-fingerprint", "Print a key file's fingerprint");
  fp->add_option("PATH", *fp_path, "Key file")->required();
  fp->callback([&ctx, fp_path] {
    ctx.action = [&ctx, fp_path]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(KeyFile file, KeyFile::Load(*fp_path));
      std::string value = file.fingerprint();
      if (value.empty()) {
        CAIRN_ASSIGN_OR_RETURN(EncryptionKey k, UnlockKeyFile(file, *fp_path));
        value = CryptConfig(k).FingerprintString();
      }
      ctx.Emit({{"path", *fp_path}, {"fingerprint", value}}, value);
      return Status::OK();
    };
  });

  auto cp_path = std::make_shared<std::string>();
  auto* cp =
      key->add_subcommand("change-passphrase", "Re-encrypt a key file under a new passphrase");
  cp->add_option("PATH", *cp_path, "Key file")->required();
  cp->callback([&ctx, cp_path] {
    ctx.action = [&ctx, cp_path]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(KeyFile file, KeyFile::Load(*cp_path));
      CAIRN_ASSIGN_OR_RETURN(std::string old_passphrase, OldPassphrase(file, *cp_path));
      CAIRN_ASSIGN_OR_RETURN(std::string passphrase, NewPassphrase("CAIRN_NEW_KEY_PASSWORD"));
      // Keeps `created` and the hint, as PBS does.
      CAIRN_ASSIGN_OR_RETURN(KeyFile rewrapped,
                             file.ChangePassphrase(old_passphrase, passphrase, file.hint()));
      CAIRN_RETURN_IF_ERROR(rewrapped.Save(*cp_path, /*replace=*/true));
      ctx.Emit({{"path", *cp_path}, {"fingerprint", rewrapped.fingerprint()}},
               "passphrase changed for " + *cp_path);
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

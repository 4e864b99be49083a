// The CLI's shared state: global options, configuration, output rendering and the action the
// parsed command line selected. Each command group (datastore_commands.cc, ...) registers its
// subcommands on the CLI11 app with Add*Commands; a subcommand's callback stores its action in
// the Context, and main runs it after parsing so every error becomes a Status and one line.
//
// Output: stdout carries the result only, as text (tables) or JSON (`--output-format json` or
// `json-pretty`); logs, warnings and progress go to stderr.
//
// Thread-safety: single-threaded (the CLI's main thread), except Progress which is thread-safe.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/units.h"
#include "client/remote/api_client.h"
#include "client/repository.h"
#include "config/datastore_config.h"
#include "format/crypt_config.h"

namespace cairn::cli {

class Context {
 public:
  std::string config_dir;
  std::string output_format = "text";
  std::string log_level = "warn";
  // A server's datastore, [[auth-id@]host[:port]:]store (--repository, $CAIRN_REPOSITORY,
  // $PBS_REPOSITORY): commands that support it then run against the server.
  std::string repository;
  std::string fingerprint;  // the server certificate's, to pin (--fingerprint, ...)
  std::function<Status()> action;

  // Loads the configuration from config_dir (or the default directory).
  Result<config::DatastoreConfig> LoadConfig() const;
  // Loads the config and opens a datastore by name for an operation of kind `op` (see
  // config::DatastoreConfig::OpenStore). The context remembers the store, to report what its
  // backend did, and keeps the operation running until the command ends.
  Result<std::shared_ptr<Datastore>> OpenStore(const std::string& name, Operation op) const;
  // Keeps `operation` (begun on a store this command opened) running until the command ends.
  void HoldOperation(OperationGuard operation) const;

  // Where a backup, restore or archive browse runs: the server of --repository, or else the
  // local store `name` opened for `op` (as OpenStore). `identity` names it for this client's
  // per-repository state (the file-state directory).
  struct OpenedRepository {
    std::unique_ptr<Repository> repository;
    std::string identity;
  };
  Result<OpenedRepository> OpenRepository(const std::string& name, Operation op) const;

  bool remote() const { return !repository.empty(); }
  // The client of --repository, connected (once) and logged in: the password (or token
  // secret) from $CAIRN_PASSWORD or $PBS_PASSWORD, else asked for on a terminal; an unknown
  // certificate is offered for acceptance only on a terminal (client/remote/api_client.h).
  // InvalidArgument without --repository.
  Result<client::ApiClient*> Remote() const;

  bool json() const { return output_format != "text"; }
  // Prints `data` as JSON in JSON mode, otherwise `text` (a trailing newline is added if
  // missing, nothing is printed for empty text). In JSON mode an object gains
  // "backend-stats" when a store opened by this command has remote requests or a cache to
  // report (BackendStatsJson).
  void Emit(const nlohmann::json& data, const std::string& text) const;
  // After the command: the requests and cache use of every store it opened, on stderr (text:
  // one line per store; JSON: only if Emit could not attach them to its output).
  void ReportBackendStats() const;

 private:
  // {"store": {"requests": {...}, "cache": {...}}} of the stores with something to report.
  nlohmann::json BackendStatsJson() const;
  // Kept open until the process ends, so their counters can be reported after the command.
  mutable std::vector<std::pair<std::string, std::shared_ptr<Datastore>>> opened_;
  mutable std::vector<OperationGuard> operations_;
  mutable bool stats_emitted_ = false;
  mutable std::unique_ptr<client::ApiClient> remote_;
};

// This host's name without domain ($CAIRN_HOSTNAME overrides it): the default backup id and
// the name recorded in an S3 datastore's in-use marker.
std::string HostName();

// Renders rows as a left-aligned table with a header line.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// Progress rendering for long operations: on a terminal a bar on stderr with bytes, rate and
// ETA, redrawn at most 10 times a second; otherwise a plain line every 10% of progress.
// Thread-safe.
class Progress {
 public:
  explicit Progress(bool enabled);
  ~Progress();
  void Update(const std::string& what, uint64_t done, uint64_t total);
  void Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the key file at `path` (asking for its passphrase: $CAIRN_KEY_PASSWORD, else a
// terminal prompt) and returns its crypt config; nullopt for an empty path.
Result<std::optional<CryptConfig>> LoadCryptConfig(const std::string& path);

void AddDatastoreCommands(CLI::App& app, Context& ctx);
void AddBackupCommands(CLI::App& app, Context& ctx);
void AddSnapshotCommands(CLI::App& app, Context& ctx);
void AddGcCommands(CLI::App& app, Context& ctx);
void AddVerifyCommands(CLI::App& app, Context& ctx);
void AddKeyCommands(CLI::App& app, Context& ctx);
void AddS3Commands(CLI::App& app, Context& ctx);
void AddPruneCommands(CLI::App& app, Context& ctx);
void AddCatalogCommands(CLI::App& app, Context& ctx);
void AddServerCommands(CLI::App& app, Context& ctx);
void AddAccessCommands(CLI::App& app, Context& ctx);
void AddTaskCommands(CLI::App& app, Context& ctx);
void AddBenchmarkCommand(CLI::App& app, Context& ctx);  // cairn benchmark

}  // namespace cairn::cli

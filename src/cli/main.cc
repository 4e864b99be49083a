// cairn: the command-line interface. See docs/cli.md.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "base/file_faults.h"
#include "base/log.h"
#include "cli/context.h"

namespace {

int ExitCodeFor(const cairn::Status& st) {
  switch (st.code()) {
    case cairn::Code::kInvalidArgument: return 2;
    case cairn::Code::kNotFound: return 3;
    case cairn::Code::kCorruption: return 4;
    case cairn::Code::kBusy: return 5;
    case cairn::Code::kPermissionDenied: return 6;
    case cairn::Code::kUnavailable: return 7;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  cairn::cli::Context ctx;
  CLI::App app{"Cairn: deduplicating backups to local and S3 datastores", "cairn"};
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the subcommand too
  app.set_version_flag("--version", "cairn 0.1.0");
  app.add_option("--config-dir", ctx.config_dir, "Configuration directory")
      ->envname("CAIRN_CONFIG_DIR");
  app.add_option("--output-format", ctx.output_format, "Output format")
      ->check(CLI::IsMember({"text", "json", "json-pretty"}));
  app.add_option("--log-level", ctx.log_level, "Log level (error, warn, info, debug)")
      ->envname("CAIRN_LOG");
  app.add_option("--repository", ctx.repository,
                 "A server's datastore, [[auth-id@]host[:port]:]store (also $PBS_REPOSITORY)")
      ->envname("CAIRN_REPOSITORY");
  app.add_option("--fingerprint", ctx.fingerprint,
                 "The server certificate's SHA-256 fingerprint to trust (also "
                 "$PBS_FINGERPRINT)")
      ->envname("CAIRN_FINGERPRINT");
  cairn::cli::AddDatastoreCommands(app, ctx);
  cairn::cli::AddBackupCommands(app, ctx);
  cairn::cli::AddSnapshotCommands(app, ctx);
  cairn::cli::AddCatalogCommands(app, ctx);
  cairn::cli::AddPruneCommands(app, ctx);
  cairn::cli::AddGcCommands(app, ctx);
  cairn::cli::AddVerifyCommands(app, ctx);
  cairn::cli::AddKeyCommands(app, ctx);
  cairn::cli::AddS3Commands(app, ctx);
  cairn::cli::AddServerCommands(app, ctx);
  cairn::cli::AddAccessCommands(app, ctx);
  cairn::cli::AddTaskCommands(app, ctx);
  cairn::cli::AddBenchmarkCommand(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  cairn::InitLogging(ctx.log_level);
  // PBS's variables, for people used to proxmox-backup-client.
  for (auto [value, name] : {std::pair{&ctx.repository, "PBS_REPOSITORY"},
                             std::pair{&ctx.fingerprint, "PBS_FINGERPRINT"}}) {
    if (const char* env = std::getenv(name); value->empty() && env) *value = env;
  }
  if (!ctx.action) return 0;
  // The fault seam of the file layer, for the fault and crash campaigns (scripts/).
  cairn::Status st = cairn::FileFaults::InstallFromEnvironment();
  if (st.ok()) st = ctx.action();
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return ExitCodeFor(st);
  }
  ctx.ReportBackendStats();
  return 0;
}

// cairn benchmark: the speeds that bound a backup, as `proxmox-backup-client benchmark` prints
// them (client/benchmark.h), and with --repository the upload speed to that server through a
// benchmark session.

#include <fmt/format.h>

#include "cli/context.h"
#include "client/benchmark.h"
#include "client/remote/server_repository.h"

namespace cairn::cli {
namespace {

struct BenchmarkArgs {
  double seconds = 1;
  unsigned parallel = client::kServerParallelism;
};

Status RunBenchmarkCommand(const Context& ctx, const BenchmarkArgs& args) {
  if (args.seconds <= 0 || args.seconds > 600) {
    return Status::InvalidArgument("--seconds must be in (0, 600]");
  }
  std::vector<SpeedFigure> figures;
  if (ctx.remote()) {
    CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
    // PBS uploads for 5 s whatever the host measurements take.
    CAIRN_ASSIGN_OR_RETURN(
        double tls, client::MeasureUploadSpeed(*api, std::max(args.seconds, 5.0), args.parallel));
    figures.push_back({"tls", "TLS (maximal backup upload speed)", tls, 0});
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<SpeedFigure> host, MeasureHostSpeeds(args.seconds));
  figures.insert(figures.end(), host.begin(), host.end());

  nlohmann::json json = nlohmann::json::object();
  std::vector<std::vector<std::string>> rows;
  for (const SpeedFigure& f : figures) {
    json[f.key] = {{"speed", f.bytes_per_second}};
    std::string value = fmt::format("{:.2f} MB/s", f.bytes_per_second / 1e6);
    if (f.reference > 0) {
      json[f.key]["top"] = f.reference;
      value += fmt::format(" ({:.0f}% of PBS's reference)", 100 * f.bytes_per_second / f.reference);
    }
    rows.push_back({f.name, value});
  }
  ctx.Emit(json, FormatTable({"NAME", "VALUE"}, rows));
  return Status::OK();
}

}  // namespace

void AddBenchmarkCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BenchmarkArgs>();
  auto* cmd = app.add_subcommand(
      "benchmark",
      "Measure hashing, compression, encryption and (with --repository) the upload speed to a "
      "server");
  cmd->add_option("--seconds", args->seconds, "Seconds per host measurement (default 1)");
  cmd->add_option("--parallel", args->parallel, "Uploads in flight to the server (default 8)");
  cmd->callback(
      [&ctx, args] { ctx.action = [&ctx, args] { return RunBenchmarkCommand(ctx, *args); }; });
}

}  // namespace cairn::cli

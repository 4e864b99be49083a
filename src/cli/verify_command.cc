// cairn verify: checks that snapshots can be restored (datastore/jobs/verify.h).

#include <fmt/format.h>

#include "base/units.h"
#include "cli/context.h"
#include "datastore/jobs/verify.h"

namespace cairn::cli {
namespace {

struct VerifyArgs {
  std::string store = config::kDefaultStoreName, ns, target;
  VerifyOptions options;
  int64_t outdated_after = -1;
};

Result<VerifyTarget> ParseTarget(const VerifyArgs& args) {
  VerifyTarget target;
  CAIRN_ASSIGN_OR_RETURN(target.ns, BackupNamespace::Parse(args.ns));
  if (args.target.empty()) return target;
  if (auto snap = SnapshotRef::Parse(args.target); snap.ok()) {
    target.snapshot = *snap;
    return target;
  }
  auto group = BackupGroup::Parse(args.target);
  if (!group.ok()) {
    return Status::InvalidArgument(
        fmt::format("'{}' is neither a group (vm/100) nor a snapshot (vm/100/2026-01-01T00:00:00Z)",
                    args.target));
  }
  target.group = *group;
  return target;
}

std::string ReportText(const std::string& store, const VerifyReport& r) {
  std::string text;
  for (const SnapshotVerifyResult& s : r.snapshots) {
    const std::string name =
        s.ns.IsRoot() ? s.snapshot.ToString() : s.ns.ToString() + ": " + s.snapshot.ToString();
    std::string verdict(VerifyVerdictName(s.verdict));
    if (s.verdict == VerifyVerdict::kFailed) verdict = "FAILED";
    if (s.verdict == VerifyVerdict::kSkipped) {
      text +=
          fmt::format("{:<13}{} ({})\n", verdict, name, s.problems.empty() ? "" : s.problems[0]);
      continue;
    }
    text += fmt::format("{:<13}{}\n", verdict, name);
    for (const std::string& problem : s.problems) text += fmt::format("{:<13}  {}\n", "", problem);
  }
  text += fmt::format(
      "verify of '{}': {} ok, {} failed, {} skipped, {} not verified; {} chunks checked ({}) in "
      "{:.1f} s",
      store, r.Count(VerifyVerdict::kOk), r.Count(VerifyVerdict::kFailed),
      r.Count(VerifyVerdict::kSkipped), r.Count(VerifyVerdict::kNotVerified), r.chunks_checked,
      HumanBytes(r.bytes_read), r.duration_seconds);
  if (r.corrupt_chunks + r.missing_chunks > 0) {
    text += fmt::format(
        "; {} corrupt chunks set aside, {} missing (the next backup of their "
        "data stores them again)",
        r.corrupt_chunks, r.missing_chunks);
  }
  return text;
}

}  // namespace

void AddVerifyCommands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify", "Check that snapshots are intact: indexes, blobs and every chunk they use");
  cmd->add_option("--store", args->store, "Datastore name");
  cmd->add_option("--ns", args->ns, "Namespace (its child namespaces are verified too)");
  cmd->add_option("target", args->target,
                  "A group (vm/100) or snapshot (vm/100/<time>); "
                  "default: every snapshot");
  cmd->add_flag("--ignore-verified", args->options.ignore_verified,
                "Skip snapshots whose last verification passed");
  cmd->add_option("--outdated-after", args->outdated_after,
                  "With --ignore-verified: verify again when the last verification is more "
                  "than DAYS old (0: always)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--read-threads", args->options.read_threads,
                  "Chunks read at once (1..32; default: 1 on a filesystem, the endpoint's "
                  "connections on S3)")
      ->check(CLI::Range(1u, 32u));
  cmd->add_option("--verify-threads", args->options.verify_threads,
                  "Chunks checked at once (1..32)")
      ->check(CLI::Range(1u, 32u))
      ->capture_default_str();
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      VerifyOptions options = args->options;
      if (args->outdated_after >= 0) {
        if (!options.ignore_verified) {
          return Status::InvalidArgument("--outdated-after needs --ignore-verified");
        }
        options.outdated_after_days = args->outdated_after;
      }
      options.node = HostName();
      options.worker_id = args->store;
      CAIRN_RETURN_IF_ERROR(ValidateVerifyOptions(options));
      CAIRN_ASSIGN_OR_RETURN(VerifyTarget target, ParseTarget(*args));
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(args->store, Operation::kWrite));
      CAIRN_ASSIGN_OR_RETURN(VerifyReport report, RunVerify(*store, target, options));
      ctx.Emit(VerifyReportToJson(report), ReportText(args->store, report));
      if (size_t failed = report.Count(VerifyVerdict::kFailed); failed > 0) {
        return Status::Corruption(
            fmt::format("{} of {} snapshots failed verification", failed, report.snapshots.size()));
      }
      if (size_t unchecked = report.Count(VerifyVerdict::kNotVerified); unchecked > 0) {
        return Status::Unavailable(fmt::format("{} snapshots could not be verified", unchecked));
      }
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

// cairn gc [--store NAME] [tuning], cairn gc status [--store NAME]

#include <fmt/format.h>

#include "base/time.h"
#include "base/units.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "datastore/jobs/gc.h"

namespace cairn::cli {
namespace {

std::string StatusText(const std::string& store, const GcStatus& s) {
  auto started = FormatRfc3339Utc(s.started);
  std::string text = fmt::format(
      "garbage collection of '{}' (started {}) took {:.1f} s\n"
      "  index files:   {} ({} of data)\n"
      "  removed:       {} chunks, {}{}\n"
      "  pending:       {} chunks, {} (marked before the oldest running backup started)\n"
      "  in use:        {} chunks, {}{}\n"
      "  dedup factor:  {:.2f}, average chunk size {}\n",
      store, started.ok() ? *started : std::to_string(s.started), s.duration_seconds,
      s.index_file_count, HumanBytes(s.index_data_bytes), s.sweep.removed_chunks,
      HumanBytes(s.sweep.removed_bytes),
      s.sweep.removed_bad ? fmt::format(" and {} corrupt copies", s.sweep.removed_bad) : "",
      s.sweep.pending_chunks, HumanBytes(s.sweep.pending_bytes), s.sweep.disk_chunks,
      HumanBytes(s.sweep.disk_bytes),
      s.sweep.still_bad ? fmt::format(" and {} corrupt copies", s.sweep.still_bad) : "",
      s.DedupFactor(), HumanBytes(static_cast<uint64_t>(s.AverageChunkSize())));
  if (s.missing_chunks > 0) {
    text += fmt::format(
        "  MISSING:       {} referenced chunks (run `cairn verify` to find the "
        "damaged snapshots)\n",
        s.missing_chunks);
  }
  if (s.requests) text += "  requests:      " + s.requests->ToText() + "\n";
  return text;
}

}  // namespace

void AddGcCommands(CLI::App& app, Context& ctx) {
  struct Args {
    std::string store = config::kDefaultStoreName;
    GcOptions options;
    bool no_atime_check = false;
    // The tuning flags, to tell given from defaulted: given ones win over the store's tuning.
    const CLI::Option* atime_cutoff_flag = nullptr;
    const CLI::Option* cache_capacity_flag = nullptr;
    const CLI::Option* no_atime_check_flag = nullptr;
  };
  auto args = std::make_shared<Args>();
  auto* gc = app.add_subcommand("gc", "Remove chunks no snapshot references (garbage collection)");
  gc->add_option("--store", args->store, "Datastore name");
  args->atime_cutoff_flag =
      gc->add_option("--atime-cutoff", args->options.atime_cutoff_minutes,
                     "Minutes since its last mark after which an unreferenced chunk is removed "
                     "(default: the store's gc-atime-cutoff tuning, else 1445; 1..2880)");
  args->cache_capacity_flag =
      gc->add_option("--cache-capacity", args->options.cache_capacity,
                     "Digests remembered while marking, so shared chunks are marked once "
                     "(default: the store's gc-cache-capacity tuning, else 1048576)");
  args->no_atime_check_flag =
      gc->add_flag("--no-atime-safety-check", args->no_atime_check,
                   "Skip the check that the filesystem records access times");

  auto* status = gc->add_subcommand("status", "Show the result of the last garbage collection");
  auto status_store = std::make_shared<std::string>(config::kDefaultStoreName);
  status->add_option("--store", *status_store, "Datastore name");
  status->callback([&ctx, status_store] {
    ctx.action = [&ctx, status_store]() -> Status {
      if (ctx.remote()) {
        CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
        CAIRN_ASSIGN_OR_RETURN(nlohmann::json last, api->Get(StorePath(*api) + "/gc"));
        ctx.Emit(last, last.dump(2));
        return Status::OK();
      }
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(*status_store, Operation::kLookup));
      CAIRN_ASSIGN_OR_RETURN(std::optional<GcStatus> last, LoadGcStatus(*store));
      if (!last) {
        ctx.Emit(nullptr,
                 fmt::format("no garbage collection has completed on '{}'", *status_store));
        return Status::OK();
      }
      ctx.Emit(GcStatusToJson(*last), StatusText(*status_store, *last));
      return Status::OK();
    };
  });

  gc->callback([&ctx, args, status] {
    if (status->parsed()) return;
    ctx.action = [&ctx, args]() -> Status {
      if (ctx.remote()) {
        for (const CLI::Option* flag :
             {args->atime_cutoff_flag, args->cache_capacity_flag, args->no_atime_check_flag}) {
          if (flag->count() > 0) {
            return Status::InvalidArgument(
                flag->get_name() +
                " applies to a local store; a server's garbage collection uses the store's "
                "tuning (cairn datastore tuning)");
          }
        }
        // The server runs GC as a task with the store's tuning; this follows its log.
        CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, ctx.Remote());
        CAIRN_ASSIGN_OR_RETURN(client::ApiAnswer started,
                               api->Call("POST", StorePath(*api) + "/gc"));
        std::string upid = started.data.get<std::string>();
        std::fprintf(stderr, "started %s\n", upid.c_str());
        CAIRN_RETURN_IF_ERROR(FollowTask(*api, upid));
        ctx.Emit({{"upid", upid}}, "garbage collection finished: " + upid);
        return Status::OK();
      }
      GcOptions options;
      CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
      if (auto entry = config.Get(args->store); entry.ok()) {
        config::ApplyTuning(entry->tuning, options);
      }
      if (args->atime_cutoff_flag->count() > 0) {
        options.atime_cutoff_minutes = args->options.atime_cutoff_minutes;
      }
      if (args->cache_capacity_flag->count() > 0) {
        options.cache_capacity = args->options.cache_capacity;
      }
      if (args->no_atime_check) options.atime_safety_check = false;
      options.store_name = args->store;
      CAIRN_RETURN_IF_ERROR(ValidateGcOptions(options));
      CAIRN_ASSIGN_OR_RETURN(auto store, ctx.OpenStore(args->store, Operation::kWrite));
      CAIRN_ASSIGN_OR_RETURN(GcStatus result, RunGarbageCollection(*store, options));
      ctx.Emit(GcStatusToJson(result), StatusText(args->store, result));
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

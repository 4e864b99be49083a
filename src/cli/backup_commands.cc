// cairn backup / cairn restore

#include <unistd.h>

#include <fmt/format.h>

#include "base/bytes.h"
#include "base/time.h"
#include "cli/context.h"
#include "client/backup.h"
#include "client/restore.h"
#include "format/chunker.h"
#include "format/digest.h"

namespace cairn::cli {
namespace {

std::string CurrentOwner() {
  const char* user = std::getenv("USER");
  if (::geteuid() == 0 || user == nullptr || *user == '\0') return "root@pam";
  return std::string(user) + "@pam";
}

nlohmann::json ArchiveJson(const ArchiveSummary& a) {
  nlohmann::json j = {{"filename", a.filename},
                      {"size", a.size},
                      {"chunks", a.chunks.chunks},
                      {"known-chunks", a.chunks.known},
                      {"zero-chunks", a.chunks.zero_chunks},
                      {"uploaded-chunks", a.chunks.uploaded},
                      {"duplicate-chunks", a.chunks.duplicates},
                      {"uploaded-bytes", a.chunks.uploaded_bytes},
                      {"new-bytes", a.chunks.new_bytes},
                      {"stream-bytes", a.chunks.bytes},
                      {"restored-chunks", a.chunks.restored}};
  if (a.tree) {
    j["files"] = a.tree->files;
    j["directories"] = a.tree->directories;
    j["symlinks"] = a.tree->symlinks;
    j["hardlinks"] = a.tree->hardlinks;
    j["devices"] = a.tree->devices;
    j["fifos"] = a.tree->fifos;
    j["excluded"] = a.tree->excluded;
    j["warnings"] = a.tree->warnings;
    j["files-read"] = a.tree->files_read;
    j["reused-files"] = a.tree->reused_files;
  }
  return j;
}

// One line per archive: what was read and what it cost the store.
std::string ArchiveText(const ArchiveSummary& a) {
  std::string what = HumanBytes(a.size) + " read";
  if (a.tree) {
    what = fmt::format("{} files, {} directories, {} read", a.tree->files, a.tree->directories,
                       HumanBytes(a.size));
    if (a.tree->reused_files > 0) {
      what =
          fmt::format("{} files ({} unchanged, not read), {} directories, {} read", a.tree->files,
                      a.tree->reused_files, a.tree->directories, HumanBytes(a.size));
    }
    if (a.tree->warnings > 0) what += fmt::format(" ({} warnings)", a.tree->warnings);
  }
  // Dedup ratio: bytes in the archive's chunks per byte of chunk data new to the store.
  std::string dedup = a.chunks.bytes == 0 ? "" : ", nothing new";
  if (a.chunks.new_bytes > 0) {
    dedup = fmt::format(", dedup {:.2f}x", static_cast<double>(a.chunks.bytes) /
                                               static_cast<double>(a.chunks.new_bytes));
  }
  // Chunks of the previous snapshot the store had lost (removed, or set aside by verify).
  std::string repaired =
      a.chunks.restored == 0
          ? ""
          : fmt::format("; repaired the store: {} chunk(s) it had lost stored again",
                        a.chunks.restored);
  return fmt::format("  {}: {}, {} chunks: {} new, {} reused, {} zero; {} sent{}{}\n", a.filename,
                     what, a.chunks.chunks, a.chunks.uploaded - a.chunks.duplicates,
                     a.chunks.known + a.chunks.duplicates, a.chunks.zero_chunks,
                     HumanBytes(a.chunks.uploaded_bytes), dedup, repaired);
}

struct BackupArgs {
  std::string store = config::kDefaultStoreName, ns, type = "host", id, keyfile;
  int64_t time = 0;
  unsigned threads = 0;
  bool no_cache = false;
  uint64_t chunk_size_kib = 4096;
  std::string change_detection = "legacy";
  std::vector<std::string> excludes;
  bool all_file_systems = false;
  std::vector<std::string> specs;
};

Status RunBackupCommand(const Context& ctx, const BackupArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(args.ns));
  CAIRN_ASSIGN_OR_RETURN(BackupType type, ParseBackupType(args.type));
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group,
                         BackupGroup::Make(type, args.id.empty() ? HostName() : args.id));
  std::vector<BackupSource> sources;
  for (const auto& spec : args.specs) {
    CAIRN_ASSIGN_OR_RETURN(BackupSource source, ParseBackupSpec(spec));
    sources.push_back(std::move(source));
  }
  CAIRN_ASSIGN_OR_RETURN(ChangeDetection change_detection,
                         ParseChangeDetection(args.change_detection));
  ExcludeList excludes;
  for (const auto& pattern : args.excludes) {
    CAIRN_RETURN_IF_ERROR(excludes.Add(pattern).WithContext("--exclude"));
  }
  const uint64_t chunk_size = args.chunk_size_kib * 1024;
  CAIRN_RETURN_IF_ERROR(FixedChunker::ValidateChunkSize(chunk_size).WithContext("--chunk-size"));
  CAIRN_ASSIGN_OR_RETURN(std::optional<CryptConfig> crypt, LoadCryptConfig(args.keyfile));
  CAIRN_ASSIGN_OR_RETURN(Context::OpenedRepository repo,
                         ctx.OpenRepository(args.store, Operation::kWrite));

  Progress progress(!ctx.json());
  BackupOptions opt;
  opt.ns = ns;
  opt.group = group;
  opt.backup_time = args.time ? args.time : NowEpoch();
  opt.owner = CurrentOwner();
  opt.crypt = crypt ? &*crypt : nullptr;
  opt.chunk_size = chunk_size;
  opt.threads = args.threads;
  opt.no_cache = args.no_cache;
  opt.change_detection = change_detection;
  opt.excludes = std::move(excludes);
  opt.one_file_system = !args.all_file_systems;
  // One state directory per repository: a backup to another must not overwrite this one's.
  opt.file_state_dir = fmt::format("{}/file-state/{}", config::DatastoreConfig::DefaultCacheDir(),
                                   DigestToHex(Sha256Of(AsBytes(repo.identity))).substr(0, 16));
  opt.progress = [&](const std::string& what, uint64_t done, uint64_t total) {
    progress.Update(what, done, total);
  };
  CAIRN_ASSIGN_OR_RETURN(BackupSummary summary, RunBackup(*repo.repository, opt, sources));
  progress.Finish();

  nlohmann::json archives = nlohmann::json::array();
  std::string text =
      fmt::format("snapshot {}{} created in {:.2f}s{}\n", summary.snapshot.ToString(),
                  ns.IsRoot() ? "" : " (namespace " + ns.ToString() + ")", summary.seconds,
                  summary.incremental ? " (incremental)" : "");
  uint64_t total = 0;
  for (const auto& a : summary.archives) {
    archives.push_back(ArchiveJson(a));
    total += a.size;
    text += ArchiveText(a);
  }
  const double rate = summary.seconds > 0 ? static_cast<double>(total) / summary.seconds : 0;
  text += fmt::format("  {} in total, {}/s", HumanBytes(total),
                      HumanBytes(static_cast<uint64_t>(rate)));
  ctx.Emit({{"snapshot", summary.snapshot.ToString()},
            {"namespace", ns.ToString()},
            {"backup-time", summary.snapshot.time},
            {"incremental", summary.incremental},
            {"duration", summary.seconds},
            {"bytes", total},
            {"archives", archives}},
           text);
  return Status::OK();
}

struct RestoreArgs {
  std::string store = config::kDefaultStoreName, ns, keyfile, snapshot, archive, target, path;
  unsigned threads = 0;
  bool overwrite = false;
};

Status RunRestoreCommand(const Context& ctx, const RestoreArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(args.ns));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(args.snapshot));
  CAIRN_ASSIGN_OR_RETURN(std::optional<CryptConfig> crypt, LoadCryptConfig(args.keyfile));
  CAIRN_ASSIGN_OR_RETURN(Context::OpenedRepository repo,
                         ctx.OpenRepository(args.store, Operation::kRead));
  Progress progress(!ctx.json());
  RestoreOptions opt;
  opt.crypt = crypt ? &*crypt : nullptr;
  opt.threads = args.threads;
  opt.subtree = args.path;
  opt.overwrite = args.overwrite;
  while (opt.subtree.starts_with('/')) opt.subtree.erase(0, 1);
  while (opt.subtree.ends_with('/')) opt.subtree.pop_back();
  opt.progress = [&](const std::string& what, uint64_t done, uint64_t total) {
    progress.Update(what, done, total);
  };
  CAIRN_ASSIGN_OR_RETURN(RestoreSummary summary, RestoreArchive(*repo.repository, ns, snap,
                                                                args.archive, args.target, opt));
  progress.Finish();
  const double rate =
      summary.seconds > 0 ? static_cast<double>(summary.bytes) / summary.seconds : 0;
  std::string files = summary.files ? fmt::format("{} files, ", summary.files) : "";
  ctx.Emit({{"snapshot", snap.ToString()},
            {"archive", summary.filename},
            {"target", summary.target},
            {"bytes", summary.bytes},
            {"files", summary.files},
            {"duration", summary.seconds}},
           fmt::format("restored {} of {} to {}: {}{} in {:.2f}s ({}/s)", summary.filename,
                       snap.ToString(), summary.target, files, HumanBytes(summary.bytes),
                       summary.seconds, HumanBytes(static_cast<uint64_t>(rate))));
  return Status::OK();
}

}  // namespace

void AddBackupCommands(CLI::App& app, Context& ctx) {
  auto b = std::make_shared<BackupArgs>();
  auto* backup = app.add_subcommand("backup", "Back up files or block devices as a new snapshot");
  backup->add_option("--store", b->store, "Datastore name (default: the embedded default store)");
  backup->add_option("--ns", b->ns, "Namespace, e.g. site/a");
  backup->add_option("--backup-type", b->type, "host, vm or ct")
      ->check(CLI::IsMember({"host", "vm", "ct"}));
  backup->add_option("--backup-id", b->id, "Backup id (default: this host's name)");
  backup->add_option("--backup-time", b->time, "Backup time, epoch seconds (default: now)");
  backup->add_option("--keyfile", b->keyfile, "Encrypt with this key file");
  backup->add_option("--chunk-size", b->chunk_size_kib, "Image chunk size in KiB (64..4096)");
  backup->add_option("--threads", b->threads,
                     "Worker threads (default: one per core, more for an S3 datastore)");
  backup->add_flag("--no-cache", b->no_cache,
                   "S3 datastores: upload new chunks without keeping local copies in the cache");
  backup
      ->add_option("--change-detection-mode", b->change_detection,
                   "File archives: legacy (one .pxar stream, default), data (split .mpxar + "
                   ".ppxar) or metadata (split; files unchanged since the last backup are not "
                   "read)")
      ->check(CLI::IsMember({"legacy", "data", "metadata"}));
  backup->add_option("--exclude", b->excludes,
                     "File archives: skip paths matching this pattern (repeatable; gitignore "
                     "style: *.tmp, /var/cache, cache/, !keep)");
  backup->add_flag("--all-file-systems", b->all_file_systems,
                   "File archives: descend into other filesystems mounted below the source");
  backup
      ->add_option("SPEC", b->specs,
                   "NAME.pxar:DIRECTORY, NAME.img:FILE-OR-DEVICE or NAME.conf:FILE")
      ->required();
  backup->callback([&ctx, b] { ctx.action = [&ctx, b] { return RunBackupCommand(ctx, *b); }; });

  auto r = std::make_shared<RestoreArgs>();
  auto* restore = app.add_subcommand("restore", "Restore an archive of a snapshot");
  restore->add_option("--store", r->store, "Datastore name");
  restore->add_option("--ns", r->ns, "Namespace");
  restore->add_option("--keyfile", r->keyfile, "Key file for encrypted snapshots");
  restore->add_option("--threads", r->threads, "Worker threads (default: one per core)");
  restore->add_option("SNAPSHOT", r->snapshot, "e.g. host/web1/2026-11-23T10:00:00Z")->required();
  restore->add_option("--path", r->path,
                      "File archives: restore only this file or directory, e.g. /etc/hosts");
  restore->add_flag("--overwrite", r->overwrite,
                    "Images and blobs: replace an existing regular file (atomically)");
  restore->add_option("ARCHIVE", r->archive, "e.g. root.pxar, disk.img or vm.conf")->required();
  restore
      ->add_option("TARGET", r->target,
                   "Directory to create (file archives), or file or block device to write")
      ->required();
  restore->callback([&ctx, r] { ctx.action = [&ctx, r] { return RunRestoreCommand(ctx, *r); }; });
}

}  // namespace cairn::cli

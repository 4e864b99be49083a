// cairn catalog ls|find and cairn dump: browsing file archives (client/archive_browser.h).

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/time.h"
#include "base/units.h"
#include "cli/context.h"
#include "client/archive_browser.h"
#include "client/file_archive.h"
#include "client/restore.h"

namespace cairn::cli {
namespace {

struct BrowseArgs {
  std::string store = config::kDefaultStoreName, ns, keyfile, snapshot, archive, path;
};

// The opened snapshot and its archive's browser; the members keep what the browser borrows.
struct Browse {
  std::unique_ptr<Repository> repo;
  std::unique_ptr<SnapshotReader> reader;
  std::optional<CryptConfig> crypt;
  std::optional<Manifest> manifest;
  std::unique_ptr<ArchiveBrowser> browser;
};

Result<std::unique_ptr<Browse>> OpenBrowse(const Context& ctx, const BrowseArgs& args) {
  auto b = std::make_unique<Browse>();
  CAIRN_ASSIGN_OR_RETURN(BackupNamespace ns, BackupNamespace::Parse(args.ns));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Parse(args.snapshot));
  if (!IsFileArchiveName(args.archive)) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a file archive name (NAME.pxar)", args.archive));
  }
  CAIRN_ASSIGN_OR_RETURN(b->crypt, LoadCryptConfig(args.keyfile));
  CAIRN_ASSIGN_OR_RETURN(Context::OpenedRepository repo,
                         ctx.OpenRepository(args.store, Operation::kRead));
  b->repo = std::move(repo.repository);
  CAIRN_ASSIGN_OR_RETURN(b->reader, b->repo->OpenSnapshot(ns, snap));
  CAIRN_ASSIGN_OR_RETURN(b->manifest, b->reader->ReadManifest());
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> files,
                         FileArchiveFiles(*b->manifest, args.archive));
  CAIRN_ASSIGN_OR_RETURN(const CryptConfig* key,
                         KeyFor(*b->manifest, *b->manifest->FindFile(files[0]),
                                b->crypt ? &*b->crypt : nullptr, snap.ToString()));
  CAIRN_ASSIGN_OR_RETURN(b->browser,
                         ArchiveBrowser::Open(*b->reader, *b->manifest, args.archive, key));
  return b;
}

void EmitEntries(const Context& ctx, const std::vector<BrowseEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  std::string text;
  for (const BrowseEntry& e : entries) {
    nlohmann::json j = {{"type", std::string(1, e.type)}, {"path", "/" + e.path}};
    if (e.type == 'f') {
      j["size"] = e.size;
      j["mtime"] = e.mtime;
    }
    if (!e.link_target.empty()) j["link-target"] = e.link_target;
    list.push_back(std::move(j));
    std::string size = e.type == 'f' ? HumanBytes(e.size) : "-";
    std::string mtime = "-";
    if (e.type == 'f') {
      auto formatted = FormatRfc3339Utc(e.mtime);
      mtime = formatted.ok() ? *formatted : std::to_string(e.mtime);
    }
    text +=
        fmt::format("{} {:>10} {:<20} /{}{}{}\n", e.type, size, mtime, e.path,
                    e.type == 'd' ? "/" : "", e.link_target.empty() ? "" : " -> " + e.link_target);
  }
  if (!text.empty()) text.pop_back();
  ctx.Emit(list, text);
}

// Writes to standard output.
class StdoutSink final : public ByteSink {
 public:
  Status Write(ByteView data) override {
    while (!data.empty()) {
      ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write to standard output", errno);
      }
      data = data.subspan(static_cast<size_t>(n));
    }
    return Status::OK();
  }
};

void AddCommonOptions(CLI::App* cmd, BrowseArgs& a) {
  cmd->add_option("--store", a.store, "Datastore name");
  cmd->add_option("--ns", a.ns, "Namespace");
  cmd->add_option("--keyfile", a.keyfile, "Key file for encrypted snapshots");
  cmd->add_option("SNAPSHOT", a.snapshot, "e.g. host/web1/2026-12-05T10:00:00Z")->required();
  cmd->add_option("ARCHIVE", a.archive, "File archive, e.g. root.pxar")->required();
}

}  // namespace

void AddCatalogCommands(CLI::App& app, Context& ctx) {
  auto* catalog = app.add_subcommand("catalog", "Browse the files of a file archive");
  catalog->require_subcommand(1);

  auto ls = std::make_shared<BrowseArgs>();
  auto* ls_cmd = catalog->add_subcommand("ls", "List a directory of a file archive");
  AddCommonOptions(ls_cmd, *ls);
  ls_cmd->add_option("PATH", ls->path, "Directory or file in the archive (default: /)");
  ls_cmd->callback([&ctx, ls] {
    ctx.action = [&ctx, ls]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto b, OpenBrowse(ctx, *ls));
      CAIRN_ASSIGN_OR_RETURN(std::vector<BrowseEntry> entries, b->browser->List(ls->path));
      EmitEntries(ctx, entries);
      return Status::OK();
    };
  });

  auto find = std::make_shared<BrowseArgs>();
  auto* find_cmd = catalog->add_subcommand("find", "Find files of a file archive by pattern");
  AddCommonOptions(find_cmd, *find);
  find_cmd->add_option("PATTERN", find->path, "e.g. '*.conf' (any depth) or '/etc/*' (anchored)")
      ->required();
  find_cmd->callback([&ctx, find] {
    ctx.action = [&ctx, find]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto b, OpenBrowse(ctx, *find));
      CAIRN_ASSIGN_OR_RETURN(std::vector<BrowseEntry> entries, b->browser->Find(find->path));
      EmitEntries(ctx, entries);
      return Status::OK();
    };
  });

  auto dump = std::make_shared<BrowseArgs>();
  auto* dump_cmd = app.add_subcommand("dump", "Write one file of a file archive to stdout");
  AddCommonOptions(dump_cmd, *dump);
  dump_cmd->add_option("PATH", dump->path, "File in the archive, e.g. /etc/hosts")->required();
  dump_cmd->callback([&ctx, dump] {
    ctx.action = [&ctx, dump]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto b, OpenBrowse(ctx, *dump));
      StdoutSink out;
      return b->browser->Dump(dump->path, out);
    };
  });
}

}  // namespace cairn::cli

// Browsing and downloading the files of a snapshot's file archives (PBS's catalog and
// pxar-file-download): a directory listing from the catalog (or the split archive's metadata),
// one file streamed from the chunks that hold it, or a directory as a .zip or .tar.zst made
// while it is sent. Paths are PBS's base64 "filepath": "/" lists the archives,
// "/root.pxar.didx/etc/hosts" is a path inside one. Encrypted archives cannot be read here:
// the server holds no key.
#include <fmt/format.h>

#include "client/archive_browser.h"
#include "client/file_archive.h"
#include "client/local_repository.h"
#include "server/api/api_call.h"
#include "server/api/datastore_params.h"
#include "server/api/routes.h"
#include "server/api/snapshot_access.h"
#include "server/archive_stream.h"
#include "server/auth/encoding.h"
#include "server/auth/privileges.h"

namespace cairn::server {
namespace {

using nlohmann::json;

// The snapshot and, once a path names an archive, its browser; kept alive by a download's
// producer while the body is sent.
struct OpenArchive {
  SnapshotTarget target;
  std::unique_ptr<Repository> repository;
  std::unique_ptr<SnapshotReader> reader;
  std::optional<Manifest> manifest;
  std::string archive_file;  // "root.pxar.didx" or "root.mpxar.didx"; empty for "/"
  std::string path;          // inside the archive, without a leading '/'
  std::unique_ptr<ArchiveBrowser> browser;
};

// "root.pxar.didx" / "root.mpxar.didx" -> "root.pxar"; "" if not a file archive's index.
std::string ArchiveNameOf(std::string_view file) {
  if (file.ends_with(".pxar.didx")) return std::string(file.substr(0, file.size() - 5));
  if (file.ends_with(".mpxar.didx")) {
    return std::string(file.substr(0, file.size() - 11)) + ".pxar";
  }
  return {};
}

Result<std::string> DecodeFilePath(const std::string& text) {
  auto decoded = Base64Decode(text);
  if (!decoded.ok()) return Status::InvalidArgument("filepath: not base64");
  std::string path(decoded->begin(), decoded->end());
  if (path.find('\0') != std::string::npos) return Status::InvalidArgument("filepath: NUL");
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  return path;
}

// The components of a path, "" and "." left out (as the archive's lookups do), so that the
// path asked for and the paths the browser answers are spelled alike. InvalidArgument for "..".
Result<std::vector<std::string>> PathParts(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return Status::InvalidArgument("filepath: '..' is not allowed");
    parts.emplace_back(part);
  }
  return parts;
}

Result<std::unique_ptr<OpenArchive>> Open(ApiCall& call) {
  auto open = std::make_unique<OpenArchive>();
  CAIRN_ASSIGN_OR_RETURN(open->target,
                         OpenSnapshot(call, priv::kDatastoreRead, priv::kDatastoreBackup));
  CAIRN_ASSIGN_OR_RETURN(std::string filepath, DecodeFilePath(call.params().String("filepath")));
  open->repository = NewLocalRepository(*open->target.opened.store);
  CAIRN_ASSIGN_OR_RETURN(open->reader,
                         open->repository->OpenSnapshot(open->target.ns, open->target.snap));
  CAIRN_ASSIGN_OR_RETURN(open->manifest, open->reader->ReadManifest());
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> parts, PathParts(filepath));
  if (parts.empty()) return open;
  open->archive_file = parts.front();
  for (size_t i = 1; i < parts.size(); ++i) open->path += (i > 1 ? "/" : "") + parts[i];
  std::string name = ArchiveNameOf(open->archive_file);
  const ManifestFile* entry = open->manifest->FindFile(open->archive_file);
  if (name.empty() || entry == nullptr) {
    return Status::NotFound(
        fmt::format("the snapshot has no file archive '{}'", open->archive_file));
  }
  if (entry->chunk_crypt_mode() == CryptMode::kEncrypt) {
    return Status::InvalidArgument(fmt::format(
        "{} is encrypted and the server holds no key: browse it with the client and the key "
        "(cairn catalog ls --keyfile)",
        open->archive_file));
  }
  CAIRN_ASSIGN_OR_RETURN(
      open->browser, ArchiveBrowser::Open(*open->reader, *open->manifest, name, /*crypt=*/nullptr));
  return open;
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Result<ApiReply> Catalog(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(auto open, Open(call));
  json out = json::array();
  if (open->archive_file.empty()) {
    for (const ManifestFile& file : open->manifest->files()) {
      if (ArchiveNameOf(file.filename).empty()) continue;
      std::string path = "/" + file.filename;
      out.push_back({{"filepath", Base64Encode(AsBytes(path), true)},
                     {"text", file.filename},
                     {"type", "d"},
                     {"leaf", false},
                     {"encrypted", file.chunk_crypt_mode() == CryptMode::kEncrypt}});
    }
    return ApiReply(std::move(out));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<BrowseEntry> entries, open->browser->List(open->path));
  for (const BrowseEntry& entry : entries) {
    std::string path = "/" + open->archive_file + "/" + entry.path;
    json item = {{"filepath", Base64Encode(AsBytes(path), true)},
                 {"text", BaseName(entry.path)},
                 {"type", std::string(1, entry.type)},
                 {"leaf", entry.type != 'd'}};
    if (entry.type == 'f') item["size"] = entry.size;
    if (entry.mtime != 0) item["mtime"] = entry.mtime;
    if (!entry.link_target.empty()) item["link-target"] = entry.link_target;
    out.push_back(std::move(item));
  }
  return ApiReply(std::move(out));
}

class CountingSink final : public ByteSink {
 public:
  Status Write(ByteView data) override {
    count_ += data.size();
    return Status::OK();
  }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

// Adds directory `dir` ("" for the archive's root) and everything below it to `out`, names
// relative to `base` (the downloaded directory's parent).
Status AddTree(ArchiveBrowser& browser, ArchiveStream& out, const std::string& dir, size_t base,
               int64_t mtime) {
  if (dir.size() > base) CAIRN_RETURN_IF_ERROR(out.AddDirectory(dir.substr(base), mtime));
  CAIRN_ASSIGN_OR_RETURN(std::vector<BrowseEntry> entries, browser.List(dir));
  for (const BrowseEntry& entry : entries) {
    if (entry.path.size() <= base)
      return Status::Corruption("the archive lists an entry outside the folder asked for");
    std::string name = entry.path.substr(base);
    switch (entry.type) {
      case 'd':  // (a legacy catalog has no mtime for directories)
        CAIRN_RETURN_IF_ERROR(
            AddTree(browser, out, entry.path, base, entry.mtime != 0 ? entry.mtime : mtime));
        break;
      case 'f':
      case 'h': {
        // The catalog gives a hard link no size: its target's content is counted first.
        uint64_t size = entry.size;
        if (entry.type == 'h') {
          CountingSink counter;
          CAIRN_RETURN_IF_ERROR(browser.Dump(entry.path, counter));
          size = counter.count();
        }
        CAIRN_RETURN_IF_ERROR(out.AddFile(name, size, entry.mtime, [&](ByteSink& sink) {
          return browser.Dump(entry.path, sink);
        }));
        break;
      }
      case 'l':
        if (!entry.link_target.empty()) {
          CAIRN_RETURN_IF_ERROR(out.AddSymlink(name, entry.link_target, entry.mtime));
        }
        break;
      default:  // devices, FIFOs and sockets have no content to download
        break;
    }
  }
  return Status::OK();
}

// An attachment named `name`: an ASCII fallback for old clients, the UTF-8 name (RFC 6266).
std::string Disposition(const std::string& name) {
  std::string ascii, encoded;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    bool plain = byte > 0x20 && byte < 0x7f && c != '"' && c != '\\' && c != '%';
    ascii += plain || c == ' ' ? c : '_';
    encoded += plain && c != '\'' && c != ';' && c != ',' ? std::string(1, c)
                                                          : fmt::format("%{:02X}", byte);
  }
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii, encoded);
}

Result<ApiReply> PxarFileDownload(ApiCall& call) {
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<OpenArchive> open, Open(call));
  if (open->archive_file.empty()) return Status::InvalidArgument("filepath names no archive");
  CAIRN_ASSIGN_OR_RETURN(std::vector<BrowseEntry> entries, open->browser->List(open->path));
  // List answers the entry itself for anything but a directory.
  bool is_file = entries.size() == 1 && entries[0].path == open->path && entries[0].type != 'd';
  http::ServerResponse raw;
  std::string name = open->path.empty() ? ArchiveNameOf(open->archive_file) : BaseName(open->path);
  if (is_file) {
    if (entries[0].type != 'f' && entries[0].type != 'h') {
      return Status::InvalidArgument(fmt::format("'/{}' is not a regular file", open->path));
    }
    raw.headers.emplace_back("Content-Type", "application/octet-stream");
    raw.headers.emplace_back("Content-Disposition", Disposition(name));
    raw.produce = [open](ByteSink& out) { return open->browser->Dump(open->path, out); };
  } else {
    bool tar = call.params().Boolean("tar", false);
    auto format = tar ? ArchiveStream::Format::kTarZstd : ArchiveStream::Format::kZip;
    raw.headers.emplace_back("Content-Type", tar ? "application/zstd" : "application/zip");
    raw.headers.emplace_back("Content-Disposition",
                             Disposition(name + (tar ? ".tar.zst" : ".zip")));
    // Names inside the archive start with the directory's own name.
    size_t slash = open->path.rfind('/');
    size_t base = slash == std::string::npos ? 0 : slash + 1;
    int64_t mtime = open->target.snap.time;
    raw.produce = [open, format, base, mtime](ByteSink& out) -> Status {
      CAIRN_ASSIGN_OR_RETURN(auto stream, ArchiveStream::Open(format, out));
      CAIRN_RETURN_IF_ERROR(AddTree(*open->browser, *stream, open->path, base, mtime));
      return stream->Finish();
    };
  }
  ApiReply reply;
  reply.raw = std::make_unique<http::ServerResponse>(std::move(raw));
  return reply;
}

constexpr char kBase[] = "/admin/datastore/{store}";

std::vector<ParamSpec> FileParams(std::vector<ParamSpec> more = {}) {
  more.insert(more.begin(), ParamSpec::String("filepath",
                                              "Base64 of '/' (the archives) or "
                                              "'/ARCHIVE.didx/path' in one.",
                                              8192)
                                .Required());
  return SnapshotParams(std::move(more));
}

}  // namespace

void AddDatastoreFileRoutes(Router& router) {
  router.Add({.method = "GET",
              .path = std::string(kBase) + "/catalog",
              .description = "List a directory of a snapshot's file archive (or its archives).",
              .params = FileParams(),
              .access = Access::Handler("Datastore.Read on the namespace, or Datastore.Backup for "
                                        "owned groups"),
              .handler = Catalog});
  router.Add({.method = "GET",
              .path = std::string(kBase) + "/pxar-file-download",
              .description = "Download a file of a file archive, or a directory as a zip (or "
                             "with tar, a .tar.zst), made while it is sent.",
              .params = FileParams({ParamSpec::Boolean("tar", "A directory as .tar.zst.")}),
              .access = Access::Handler("Datastore.Read on the namespace, or Datastore.Backup for "
                                        "owned groups"),
              .handler = PxarFileDownload,
              .query_only = true});
}

}  // namespace cairn::server

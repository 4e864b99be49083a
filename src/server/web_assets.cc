#include "server/web_assets.h"

#include <zlib.h>

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "base/file_util.h"
#include "format/digest.h"

namespace cairn::server {
namespace {

constexpr size_t kMaxFiles = 4096;
constexpr size_t kMaxTotalBytes = 64 << 20;

// The page's rules: own files and own API only; inline styles set from scripts are allowed
// (the chart library and the component library set element styles).
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

struct TypeOf {
  const char* extension;
  const char* content_type;
  bool compress;
};
constexpr TypeOf kTypes[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json", true},
    {".map", "application/json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".png", "image/png", false},
    {".ico", "image/x-icon", true},
    {".woff2", "font/woff2", false},
};

const TypeOf* TypeOfPath(std::string_view path) {
  for (const TypeOf& type : kTypes) {
    if (path.ends_with(type.extension)) return &type;
  }
  return nullptr;
}

// gzip (RFC 1952) of `data` at the best level; empty if it does not shrink it.
std::string Gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END || out.size() >= data.size()) return {};
  return out;
}

// Does an Accept-Encoding header accept gzip? ("gzip;q=0" refuses it; names and parameters
// are case-insensitive.)
bool AcceptsGzip(std::string_view header) {
  std::string lower;
  for (char c : header) {
    if (c != ' ' && c != '\t')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view rest = lower;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    if (coding != "gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    if (!params.starts_with("q=")) return true;
    double q = std::strtod(std::string(params.substr(2)).c_str(), nullptr);
    return q > 0;
  }
  return false;
}

// Does If-None-Match name `etag` (or "*")?
bool NoneMatchHits(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
  }
  return false;
}

bool HasIndex(const std::string& dir) {
  auto exists = PathExists(JoinPath(dir, "index.html"));
  return exists.ok() && *exists;
}

Status LoadDir(const std::string& root, const std::string& relative,
               std::map<std::string, std::string>& out, size_t& total) {
  std::string dir = relative.empty() ? root : JoinPath(root, relative);
  CAIRN_ASSIGN_OR_RETURN(auto entries, ListDir(dir));
  for (const DirEntry& entry : entries) {
    if (entry.name.starts_with(".")) continue;
    std::string path = relative.empty() ? entry.name : relative + "/" + entry.name;
    if (entry.is_dir) {
      CAIRN_RETURN_IF_ERROR(LoadDir(root, path, out, total));
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(Bytes content, ReadFile(JoinPath(root, path)));
    total += content.size();
    if (out.size() >= kMaxFiles || total > kMaxTotalBytes) {
      return Status::InvalidArgument(
          fmt::format("{} holds more than {} files or {} MiB: not a built web UI", root, kMaxFiles,
                      kMaxTotalBytes >> 20));
    }
    out["/" + path] = std::string(content.begin(), content.end());
  }
  return Status::OK();
}

}  // namespace

Result<WebAssets> WebAssets::Load(const std::string& dir) {
  if (!HasIndex(dir)) {
    return Status::NotFound(fmt::format("no web UI in {}: it has no index.html", dir));
  }
  std::map<std::string, std::string> contents;
  size_t total = 0;
  CAIRN_RETURN_IF_ERROR(LoadDir(dir, "", contents, total));
  WebAssets assets;
  assets.dir_ = dir;
  for (auto& [path, content] : contents) {
    const TypeOf* type = TypeOfPath(path);
    File file;
    file.content_type = type ? type->content_type : "application/octet-stream";
    if (type && type->compress) file.gzip = Gzip(content);
    file.etag = "\"" + DigestToHex(Sha256Of(AsBytes(content))).substr(0, 32) + "\"";
    file.content = std::move(content);
    assets.files_.emplace(path, std::move(file));
  }
  return assets;
}

WebAssets WebAssets::Missing(std::string why) {
  WebAssets assets;
  File page;
  page.content_type = "text/plain; charset=utf-8";
  page.content = fmt::format(
      "Cairn's web UI is not installed here ({}).\n\nThe REST API is at /api2/json/. Build the "
      "UI with scripts/build (it needs node and npm), or start the server with --web-root DIR "
      "naming a built UI (docs/web-ui.md).\n",
      why);
  page.etag = "\"" + DigestToHex(Sha256Of(AsBytes(page.content))).substr(0, 32) + "\"";
  assets.files_.emplace("/index.html", std::move(page));
  return assets;
}

std::optional<http::ServerResponse> WebAssets::Serve(const http::ServerRequest& request) const {
  if (request.method != "GET") return std::nullopt;
  auto it = files_.find(request.path == "/" ? "/index.html" : request.path);
  if (it == files_.end()) return std::nullopt;
  const File& file = it->second;
  // The gzip copy is another representation: it gets an ETag of its own (RFC 9110 8.8.3).
  const bool gzip = !file.gzip.empty() && AcceptsGzip(request.Header("accept-encoding"));
  const std::string etag = gzip ? file.etag.substr(0, file.etag.size() - 1) + "-gz\"" : file.etag;
  http::ServerResponse response;
  response.headers.emplace_back("ETag", etag);
  response.headers.emplace_back("Cache-Control", request.path.starts_with("/assets/")
                                                     ? "public, max-age=31536000, immutable"
                                                     : "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (file.content_type.starts_with("text/html")) {
    response.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (!file.gzip.empty()) response.headers.emplace_back("Vary", "Accept-Encoding");
  if (NoneMatchHits(request.Header("if-none-match"), etag)) {
    response.status = 304;
    return response;
  }
  response.headers.emplace_back("Content-Type", file.content_type);
  if (gzip) {
    response.headers.emplace_back("Content-Encoding", "gzip");
    response.body = file.gzip;
  } else {
    response.body = file.content;
  }
  return response;
}

size_t WebAssets::CompressedSize(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return 0;
  return it->second.gzip.empty() ? it->second.content.size() : it->second.gzip.size();
}

std::string DefaultWebRoot() {
  std::vector<std::string> candidates;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path() / "web").string());
    candidates.push_back((exe.parent_path().parent_path() / "share/cairn/web").string());
  }
  for (const std::string& dir : candidates) {
    if (HasIndex(dir)) return dir;
  }
  return {};
}

}  // namespace cairn::server

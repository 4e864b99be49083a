#include "server/protocol/reader_session.h"

#include <fmt/format.h>

#include "datastore/index_chunks.h"
#include "format/archive_name.h"
#include "server/protocol/session_files.h"
#include "server/rest/formatter.h"
#include "server/rest/params.h"

namespace cairn::server {
namespace {

using json = nlohmann::json;

}  // namespace

Result<std::unique_ptr<ReaderSession>> ReaderSession::Open(Datastore& store,
                                                           const BackupNamespace& ns,
                                                           const SnapshotRef& snap,
                                                           JobControl log) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, store.locks().LockSnapshot(ns, snap, LockMode::kShared));
  auto manifest = store.ReadManifestBlob(ns, snap);
  if (!manifest.ok()) {
    if (manifest.status().IsNotFound()) {
      return Status::NotFound(fmt::format("snapshot {} does not exist.", snap.ToString()));
    }
    return manifest.status();
  }
  return std::unique_ptr<ReaderSession>(
      new ReaderSession(store, ns, snap, std::move(lock), std::move(log)));
}

ReaderSession::ReaderSession(Datastore& store, BackupNamespace ns, SnapshotRef snap, FileLock lock,
                             JobControl log)
    : store_(store),
      ns_(std::move(ns)),
      snap_(std::move(snap)),
      lock_(std::move(lock)),
      log_(std::move(log)) {}

http::ServerResponse ReaderSession::Handle(const http::ServerRequest& request) {
  std::string path = request.path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  auto answer = [&]() -> Result<http::ServerResponse> {
    if (request.method != "GET") {
      return Status::NotFound(fmt::format("no such method '{} {}'", request.method, path));
    }
    if (path.empty()) {
      return FormatSuccess(OutputFormat::kJson, json::array({"chunk", "download", "speedtest"}),
                           json::object());
    }
    std::vector<ParamSpec> specs;
    if (path == "download") {
      specs = {ParamSpec::String("file-name", "file name", 128).Required()};
    } else if (path == "chunk") {
      specs = {ParamSpec::String("digest", "chunk digest", 64).Required()};
    } else if (path != "speedtest") {
      return Status::NotFound(fmt::format("no such method 'GET {}'", path));
    }
    CAIRN_ASSIGN_OR_RETURN(json raw, CollectParams(request, /*from_query_only=*/true));
    CAIRN_ASSIGN_OR_RETURN(Params params, CheckSessionParams(std::move(raw), specs));
    if (path == "download") return Download(params.String("file-name"));
    if (path == "chunk") return Chunk(params.String("digest"));
    http::ServerResponse speed;
    speed.headers.emplace_back("Content-Type", "application/octet-stream");
    speed.body.assign(1u << 20, 'A');
    return speed;
  }();
  if (answer.ok()) return std::move(*answer);
  ApiError error = ErrorFromStatus(answer.status());
  if (answer.status().code() == Code::kPermissionDenied) error.status = 401;  // PBS's answer
  log_.Warn("{} {}: {} {}", request.method, request.path, error.status, error.message);
  return FormatError(OutputFormat::kJson, error);
}

Result<http::ServerResponse> ReaderSession::Download(const std::string& file_name) {
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadSessionFile(store_, ns_, snap_, file_name));
  if (IsIndexFileName(file_name)) {
    std::vector<Digest> digests;
    CAIRN_RETURN_IF_ERROR(ForEachIndexChunk(data, file_name, nullptr, [&](const Digest& d) {
      digests.push_back(d);
      return Status::OK();
    }));
    MutexLock lock(mu_);
    allowed_.insert(digests.begin(), digests.end());
  }
  log_.Info("download {}", file_name);
  return OctetStream(std::move(data));
}

Result<http::ServerResponse> ReaderSession::Chunk(const std::string& digest_hex) {
  auto digest = DigestFromHex(digest_hex);
  if (!digest.ok()) return Status::InvalidArgument(fmt::format("invalid digest '{}'", digest_hex));
  {
    MutexLock lock(mu_);
    if (allowed_.count(*digest) == 0) {
      return Status::PermissionDenied(fmt::format("download chunk {} - not allowed", digest_hex));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(Bytes chunk, store_.backend().chunks().ReadChunk(*digest));
  return OctetStream(std::move(chunk));
}

}  // namespace cairn::server

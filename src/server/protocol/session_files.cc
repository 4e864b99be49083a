#include "server/protocol/session_files.h"

#include <fmt/format.h>

#include "datastore/index_chunks.h"
#include "format/archive_name.h"

namespace cairn::server {

Result<Params> CheckSessionParams(nlohmann::json raw, const std::vector<ParamSpec>& specs) {
  // The real client and PBS's QEMU library add these to every request.
  for (const char* flag : {"debug", "benchmark"}) raw.erase(flag);
  ParamErrors errors;
  std::optional<Params> params = CheckParams(raw, {}, specs, errors);
  if (!params) {
    std::string message = "parameter verification failed";
    for (const auto& [name, error] : errors) message += fmt::format(" - '{}': {}", name, error);
    return Status::InvalidArgument(message);
  }
  return std::move(*params);
}

Result<Bytes> ReadSessionFile(const Datastore& store, const BackupNamespace& ns,
                              const SnapshotRef& snap, const std::string& name) {
  CAIRN_RETURN_IF_ERROR(ValidateArchiveFileName(name));
  auto data = name == kManifestName ? store.ReadManifestBlob(ns, snap)
                                    : store.ReadSnapshotFile(ns, snap, name);
  if (!data.ok() && data.status().IsNotFound() && IsIndexFileName(name)) {
    return Status::InvalidArgument(data.status().message());
  }
  return data;
}

http::ServerResponse OctetStream(Bytes data) {
  http::ServerResponse response;
  response.headers.emplace_back("Content-Type", "application/octet-stream");
  response.octets = std::move(data);
  return response;
}

}  // namespace cairn::server

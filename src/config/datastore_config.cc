#include "config/datastore_config.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/log.h"
#include "base/quote.h"
#include "config/s3_endpoints.h"
#include "storage/s3_object_store.h"

namespace cairn::config {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string Home() {
  return EnvOr("HOME", "/root");
}

// The optional fields of a datastore entry must have their types (a wrong one would otherwise
// throw from nlohmann::json::value).
Status CheckFieldTypes(const std::string& path, const std::string& name,
                       const nlohmann::json& entry) {
  for (const char* key : {"backend", "s3-endpoint", "bucket", "tuning"}) {
    if (entry.contains(key) && !entry[key].is_string()) {
      return Status::Corruption(
          fmt::format("{}: datastore '{}': '{}' must be a string", path, name, key));
    }
  }
  if (entry.contains("max-cache-size") && !entry["max-cache-size"].is_number_unsigned()) {
    return Status::Corruption(
        fmt::format("{}: datastore '{}': 'max-cache-size' must be a number of bytes", path, name));
  }
  return Status::OK();
}

}  // namespace

std::string DatastoreConfig::DefaultDir() {
  std::string env = EnvOr("CAIRN_CONFIG_DIR", "");
  if (!env.empty()) return env;
  if (::geteuid() == 0) return "/etc/cairn";
  return EnvOr("XDG_CONFIG_HOME", Home() + "/.config") + "/cairn";
}

std::string DatastoreConfig::DefaultStorePath() {
  std::string env = EnvOr("CAIRN_DEFAULT_STORE", "");
  if (!env.empty()) return env;
  if (::geteuid() == 0) return "/var/lib/cairn/default";
  return EnvOr("XDG_DATA_HOME", Home() + "/.local/share") + "/cairn/default";
}

std::string DatastoreConfig::DefaultCacheDir() {
  std::string env = EnvOr("CAIRN_CACHE_DIR", "");
  if (!env.empty()) return env;
  if (::geteuid() == 0) return "/var/cache/cairn";
  return EnvOr("XDG_CACHE_HOME", Home() + "/.cache") + "/cairn";
}

Result<DatastoreConfig> DatastoreConfig::Load(const std::string& dir) {
  DatastoreConfig config;
  config.dir_ = dir;
  const std::string path = JoinPath(dir, "datastore.json");
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (data.status().IsNotFound()) return config;
    return data.status();
  }
  auto json = nlohmann::json::parse(data->begin(), data->end(), nullptr, false);
  if (json.is_discarded()) return Status::Corruption(path + " is not valid JSON");
  if (!json.is_object()) {
    return Status::Corruption(
        fmt::format("{} must hold a JSON object ({{\"datastores\": {{...}}}}), not {}", path,
                    json.type_name()));
  }
  auto stores = json.find("datastores");
  if (stores != json.end()) {
    if (!stores->is_object()) return Status::Corruption(path + ": 'datastores' must be an object");
    for (const auto& [name, entry] : stores->items()) {
      if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
        return Status::Corruption(fmt::format("{}: datastore '{}' has no path", path, name));
      }
      DatastoreEntry e;
      e.path = entry["path"].get<std::string>();
      CAIRN_RETURN_IF_ERROR(CheckFieldTypes(path, name, entry));
      e.backend = entry.value("backend", "filesystem");
      e.s3_endpoint = entry.value("s3-endpoint", "");
      e.bucket = entry.value("bucket", "");
      e.max_cache_size = entry.value("max-cache-size", uint64_t{0});
      auto tuning = ParseDatastoreTuning(entry.value("tuning", ""));
      if (!tuning.ok()) {
        return Status::Corruption(
            fmt::format("{}: datastore '{}': {}", path, name, tuning.status().message()));
      }
      e.tuning = *tuning;
      if (e.backend != "filesystem" && e.backend != "s3") {
        return Status::Corruption(
            fmt::format("{}: datastore '{}' has unknown backend '{}'", path, name, e.backend));
      }
      if (e.backend == "s3" && (e.s3_endpoint.empty() || e.bucket.empty())) {
        return Status::Corruption(
            fmt::format("{}: s3 datastore '{}' needs s3-endpoint and bucket", path, name));
      }
      config.stores_[name] = std::move(e);
    }
  }
  return config;
}

Status DatastoreConfig::Save() const {
  nlohmann::json json = {{"datastores", nlohmann::json::object()}};
  for (const auto& [name, entry] : stores_) {
    nlohmann::json e = {{"path", entry.path}, {"backend", entry.backend}};
    if (entry.backend == "s3") {
      e["s3-endpoint"] = entry.s3_endpoint;
      e["bucket"] = entry.bucket;
      e["max-cache-size"] = entry.max_cache_size;
    }
    if (!entry.tuning.empty()) e["tuning"] = FormatDatastoreTuning(entry.tuning);
    json["datastores"][name] = std::move(e);
  }
  CAIRN_RETURN_IF_ERROR(MakeDirs(dir_, 0755));
  return WriteFileAtomic(JoinPath(dir_, "datastore.json"), AsBytes(json.dump(2) + "\n"), 0644);
}

Result<DatastoreEntry> DatastoreConfig::Get(const std::string& name) const {
  auto it = stores_.find(name);
  if (it == stores_.end()) {
    return Status::NotFound(fmt::format(
        "datastore {} is not configured (see `cairn datastore list`)", QuoteForMessage(name)));
  }
  return it->second;
}

Status DatastoreConfig::Add(const std::string& name, const DatastoreEntry& entry) {
  if (stores_.count(name)) {
    return Status::AlreadyExists(fmt::format("datastore '{}' is already configured", name));
  }
  stores_[name] = entry;
  return Save();
}

Status DatastoreConfig::SetTuning(const std::string& name, const DatastoreTuning& tuning) {
  auto it = stores_.find(name);
  if (it == stores_.end()) {
    return Status::NotFound(fmt::format("datastore {} is not configured", QuoteForMessage(name)));
  }
  it->second.tuning = tuning;
  return Save();
}

Status DatastoreConfig::Remove(const std::string& name) {
  if (!stores_.erase(name)) {
    return Status::NotFound(fmt::format("datastore {} is not configured", QuoteForMessage(name)));
  }
  return Save();
}

Result<std::shared_ptr<ObjectStore>> DatastoreConfig::OpenObjectStore(
    const std::string& endpoint_id, const std::string& bucket) const {
  CAIRN_ASSIGN_OR_RETURN(S3EndpointStore endpoints, S3EndpointStore::Load(dir_));
  CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint, endpoints.Get(endpoint_id));
  CAIRN_ASSIGN_OR_RETURN(auto client, s3::S3Client::Create(endpoint, bucket));
  return std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(client), endpoint_id));
}

namespace {

// A command blocked by a mode that only its job clears says which command clears it: a refresh
// or a removal that was interrupted stays in force until it is run again.
Status WithMaintenanceHint(const Status& blocked, const Datastore& store, const std::string& name) {
  if (!blocked.IsBusy()) return blocked;
  auto mode = store.GetMaintenanceMode();
  if (!mode.ok()) return blocked;
  if (mode->type == MaintenanceType::kS3Refresh) {
    return Status::Busy(fmt::format(
        "{}; if no refresh is running any more, finish it with 'cairn datastore s3-refresh {}'",
        blocked.message(), name));
  }
  if (mode->type == MaintenanceType::kDelete) {
    return Status::Busy(
        fmt::format("{}; if no removal is running any more, finish it with 'cairn datastore remove "
                    "--destroy-data {}'",
                    blocked.message(), name));
  }
  return blocked;
}

}  // namespace

Result<std::unique_ptr<Datastore>> DatastoreConfig::OpenDefaultStore(const DatastoreEntry* entry) {
  const std::string path = entry ? entry->path : DefaultStorePath();
  auto store = Datastore::OpenFilesystem(path);
  if (store.ok()) {
    if (!entry) {
      DatastoreEntry found;
      found.path = path;
      CAIRN_RETURN_IF_ERROR(Add(kDefaultStoreName, found));
    }
    return store;
  }
  // Created on first use, registered first as `datastore create` does; a creation cut short
  // (the directory marked unfinished) is finished, but a registered store that is gone is not
  // silently made anew (its disk may just not be mounted).
  auto state = Datastore::ExamineDirectory(path);
  if (!state.ok() || (entry && *state != DatastoreDirectoryState::kUnfinished)) return store;
  if (!entry) {
    DatastoreEntry created;
    created.path = path;
    CAIRN_RETURN_IF_ERROR(Add(kDefaultStoreName, created));
  }
  spdlog::info("creating the default datastore at {}", path);
  store = Datastore::CreateFilesystem(path);
  if (!store.ok()) return store.status().WithContext("create default datastore");
  return store;
}

Result<std::unique_ptr<Datastore>> DatastoreConfig::OpenConfigured(const std::string& name) const {
  CAIRN_ASSIGN_OR_RETURN(DatastoreEntry entry, Get(name));
  Result<std::unique_ptr<Datastore>> store = Status::NotFound(name);
  if (entry.backend == "s3") {
    CAIRN_ASSIGN_OR_RETURN(auto objects, OpenObjectStore(entry.s3_endpoint, entry.bucket));
    store = Datastore::OpenOnObjectStore(
        entry.path, ObjectStoreBackendOptions{name, std::move(objects), entry.max_cache_size});
  } else {
    store = Datastore::OpenFilesystem(entry.path);
  }
  if (!store.ok()) return store.status().WithContext("datastore '" + name + "'");
  return store;
}

Result<OperationGuard> BeginOperation(const Datastore& store, const std::string& name,
                                      Operation op) {
  auto operation = store.BeginOperation(op);
  if (!operation.ok()) {
    return WithMaintenanceHint(operation.status(), store, name)
        .WithContext("datastore '" + name + "'");
  }
  return operation;
}

Result<OpenedDatastore> DatastoreConfig::OpenStore(const std::string& name, Operation op) {
  auto entry = Get(name);
  Result<std::unique_ptr<Datastore>> store = Status::NotFound(name);
  if (name == kDefaultStoreName && (!entry.ok() || entry->backend == "filesystem")) {
    store = OpenDefaultStore(entry.ok() ? &*entry : nullptr);
    if (!store.ok()) return store.status().WithContext("datastore '" + name + "'");
  } else {
    store = OpenConfigured(name);
    if (!store.ok()) return store.status();
  }
  CAIRN_ASSIGN_OR_RETURN(OperationGuard operation, BeginOperation(**store, name, op));
  return OpenedDatastore{std::move(store).value(), std::move(operation)};
}

}  // namespace cairn::config

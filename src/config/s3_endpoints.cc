#include "config/s3_endpoints.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <limits>

#include "base/file_util.h"
#include "base/quote.h"

namespace cairn::config {
namespace {

using nlohmann::json;

constexpr char kSettingsFile[] = "s3.json";
constexpr char kSecretsFile[] = "s3-secrets.json";

Result<json> LoadJsonFile(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(path));
  if (!exists) return json::object();
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  json parsed = json::parse(AsString(data), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::Corruption(path + " is not valid JSON");
  if (!parsed.is_object()) {
    return Status::Corruption(
        fmt::format("{} must hold a JSON object, not {}", path, parsed.type_name()));
  }
  return parsed;
}

// An optional whole-number field from 0 to `max` (`fallback` if absent). A fraction, a negative
// number or a larger one is Corruption: nlohmann would wrap it, or convert a huge float with
// undefined behaviour (found by fuzzing: "burst-in": 1e30).
Result<uint64_t> WholeNumber(const std::string& id, const json& j, const char* name,
                             uint64_t fallback, uint64_t max) {
  if (!j.contains(name)) return fallback;
  const json& value = j[name];
  if (!value.is_number_unsigned() || value.get<uint64_t>() > max) {
    return Status::Corruption(
        fmt::format("S3 endpoint {}: '{}' must be a whole number from 0 to {}", QuoteForMessage(id),
                    name, max));
  }
  return value.get<uint64_t>();
}

}  // namespace

Result<s3::EndpointConfig> EndpointSettingsFromJson(const std::string& id, const json& j) {
  s3::EndpointConfig config;
  config.id = id;
  if (!j.is_object()) {
    return Status::Corruption(
        fmt::format("S3 endpoint {}: not a JSON object", QuoteForMessage(id)));
  }
  constexpr uint64_t kMaxRate = std::numeric_limits<uint64_t>::max();
  CAIRN_ASSIGN_OR_RETURN(config.rate_in, WholeNumber(id, j, "rate-in", 0, kMaxRate));
  CAIRN_ASSIGN_OR_RETURN(config.burst_in, WholeNumber(id, j, "burst-in", 0, kMaxRate));
  CAIRN_ASSIGN_OR_RETURN(config.rate_out, WholeNumber(id, j, "rate-out", 0, kMaxRate));
  CAIRN_ASSIGN_OR_RETURN(config.burst_out, WholeNumber(id, j, "burst-out", 0, kMaxRate));
  CAIRN_ASSIGN_OR_RETURN(uint64_t connections, WholeNumber(id, j, "max-connections", 8, 1024));
  config.max_connections = static_cast<int>(connections);
  if (j.contains("port")) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t port, WholeNumber(id, j, "port", 0, 65535));
    config.port = static_cast<uint16_t>(port);
  }
  if (j.contains("put-rate-limit") && !j["put-rate-limit"].is_number()) {
    return Status::Corruption(
        fmt::format("S3 endpoint {}: 'put-rate-limit' must be a number", QuoteForMessage(id)));
  }
  try {
    config.endpoint = j.at("endpoint").get<std::string>();
    config.region = j.value("region", std::string(s3::kDefaultRegion));
    config.credentials.access_key = j.at("access-key").get<std::string>();
    config.path_style = j.value("path-style", false);
    config.fingerprint = j.value("fingerprint", "");
    config.put_rate_limit = j.value("put-rate-limit", 0.0);
    for (const json& quirk : j.value("provider-quirks", json::array())) {
      CAIRN_RETURN_IF_ERROR(config.quirks.Add(quirk.get<std::string>()));
    }
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("S3 endpoint {}: {}", QuoteForMessage(id), e.what()));
  }
  return config;
}

json EndpointSettingsToJson(const s3::EndpointConfig& config) {
  json j = {{"endpoint", config.endpoint},
            {"region", config.region},
            {"access-key", config.credentials.access_key},
            {"path-style", config.path_style},
            {"max-connections", config.max_connections}};
  if (config.port) j["port"] = *config.port;
  if (!config.fingerprint.empty()) j["fingerprint"] = config.fingerprint;
  if (config.put_rate_limit > 0) j["put-rate-limit"] = config.put_rate_limit;
  if (config.rate_in > 0) j["rate-in"] = config.rate_in;
  if (config.burst_in > 0) j["burst-in"] = config.burst_in;
  if (config.rate_out > 0) j["rate-out"] = config.rate_out;
  if (config.burst_out > 0) j["burst-out"] = config.burst_out;
  if (!config.quirks.Names().empty()) j["provider-quirks"] = config.quirks.Names();
  return j;
}

Result<S3EndpointStore> S3EndpointStore::Load(const std::string& dir) {
  S3EndpointStore store;
  store.dir_ = dir;
  std::string settings_path = JoinPath(dir, kSettingsFile);
  std::string secrets_path = JoinPath(dir, kSecretsFile);
  CAIRN_ASSIGN_OR_RETURN(json settings, LoadJsonFile(settings_path));
  CAIRN_ASSIGN_OR_RETURN(json secrets, LoadJsonFile(secrets_path));
  struct stat st;
  if (::stat(secrets_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Status::PermissionDenied(
        fmt::format("{} is readable by other users (mode {:o}): chmod 600 it", secrets_path,
                    st.st_mode & 0777));
  }
  json endpoints = settings.value("endpoints", json::object());
  if (!endpoints.is_object())
    return Status::Corruption(settings_path + ": 'endpoints' must be an object");
  for (const auto& [id, entry] : endpoints.items()) {
    CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig config, EndpointSettingsFromJson(id, entry));
    if (!secrets.contains(id) || !secrets[id].is_string()) {
      return Status::Corruption(
          fmt::format("{}: no secret key for S3 endpoint {}", secrets_path, QuoteForMessage(id)));
    }
    config.credentials.secret_key = secrets[id].get<std::string>();
    Status valid = s3::ValidateEndpointConfig(config);
    if (!valid.ok()) return Status::Corruption(settings_path + ": " + valid.message());
    store.endpoints_[id] = std::move(config);
  }
  return store;
}

Result<s3::EndpointConfig> S3EndpointStore::Get(const std::string& id) const {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) {
    return Status::NotFound(fmt::format(
        "S3 endpoint {} is not configured (see cairn s3 endpoint list)", QuoteForMessage(id)));
  }
  return it->second;
}

Status S3EndpointStore::Add(const s3::EndpointConfig& config) {
  CAIRN_RETURN_IF_ERROR(s3::ValidateEndpointConfig(config));
  if (endpoints_.count(config.id)) {
    return Status::AlreadyExists(
        fmt::format("S3 endpoint {} already exists", QuoteForMessage(config.id)));
  }
  endpoints_[config.id] = config;
  return Save();
}

Status S3EndpointStore::Replace(const s3::EndpointConfig& config) {
  CAIRN_RETURN_IF_ERROR(Get(config.id).status());
  CAIRN_RETURN_IF_ERROR(s3::ValidateEndpointConfig(config));
  endpoints_[config.id] = config;
  return Save();
}

Status S3EndpointStore::Remove(const std::string& id) {
  CAIRN_RETURN_IF_ERROR(Get(id).status());
  endpoints_.erase(id);
  return Save(/*settings_first=*/true);
}

Status S3EndpointStore::Save(bool settings_first) const {
  CAIRN_RETURN_IF_ERROR(MakeDirs(dir_));
  json settings = {{"endpoints", json::object()}};
  json secrets = json::object();
  for (const auto& [id, config] : endpoints_) {
    settings["endpoints"][id] = EndpointSettingsToJson(config);
    secrets[id] = config.credentials.secret_key;
  }
  auto write_secrets = [&] {
    return WriteFileAtomic(JoinPath(dir_, kSecretsFile), AsBytes(secrets.dump(2) + "\n"), 0600);
  };
  auto write_settings = [&] {
    return WriteFileAtomic(JoinPath(dir_, kSettingsFile), AsBytes(settings.dump(2) + "\n"), 0644);
  };
  CAIRN_RETURN_IF_ERROR(settings_first ? write_settings() : write_secrets());
  return settings_first ? write_secrets() : write_settings();
}

}  // namespace cairn::config

// The S3 endpoints Cairn knows (`cairn s3 endpoint ...`), kept in the config directory:
//   <config-dir>/s3.json          {"endpoints": {"ID": {"endpoint": ..., "region": ..., ...}}}
//   <config-dir>/s3-secrets.json  {"ID": "SECRET"}, mode 0600
// Secrets live in their own file so the settings can be shown, copied and diffed without
// leaking credentials; nothing Cairn prints ever contains a secret key. Both files are written
// atomically, in the order that keeps every configured endpoint's secret present after a crash
// (secrets first when adding, settings first when removing).
//
// Thread-safety: not thread-safe; callers serialise access (the CLI uses it from one thread).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "s3/endpoint.h"

namespace cairn::config {

class S3EndpointStore {
 public:
  // Loads both files of `dir`; missing files are an empty store. Corruption naming the file when
  // one does not parse or holds an invalid endpoint; PermissionDenied when the secrets file is
  // readable by others than its owner.
  static Result<S3EndpointStore> Load(const std::string& dir);

  const std::map<std::string, s3::EndpointConfig>& endpoints() const { return endpoints_; }
  // NotFound naming the id.
  Result<s3::EndpointConfig> Get(const std::string& id) const;
  // Validates and saves a new endpoint. AlreadyExists if the id is taken.
  Status Add(const s3::EndpointConfig& config);
  // Validates and saves an existing endpoint's new settings. NotFound if unknown.
  Status Replace(const s3::EndpointConfig& config);
  // NotFound if unknown.
  Status Remove(const std::string& id);

 private:
  Status Save(bool settings_first = false) const;
  std::string dir_;
  std::map<std::string, s3::EndpointConfig> endpoints_;
};

// The inverse of EndpointSettingsToJson (the secret is not part of it). Corruption naming the
// endpoint and field when something is missing or of the wrong type.
Result<s3::EndpointConfig> EndpointSettingsFromJson(const std::string& id,
                                                    const nlohmann::json& settings);

// The settings of `config` as shown to users and stored in s3.json: everything but the secret.
nlohmann::json EndpointSettingsToJson(const s3::EndpointConfig& config);

}  // namespace cairn::config

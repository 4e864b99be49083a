#include "cli/config.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/log.h"
#include "base/quote.h"

namespace cairn::cli {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string Home() { return EnvOr("HOME", "/root"); }

}  // namespace

std::string Config::DefaultDir() {
  std::string env = EnvOr("CAIRN_CONFIG_DIR", "");
  if (!env.empty()) return env;
  if (::geteuid() == 0) return "/etc/cairn";
  return EnvOr("XDG_CONFIG_HOME", Home() + "/.config") + "/cairn";
}

std::string Config::DefaultStorePath() {
  std::string env = EnvOr("CAIRN_DEFAULT_STORE", "");
  if (!env.empty()) return env;
  if (::geteuid() == 0) return "/var/lib/cairn/default";
  return EnvOr("XDG_DATA_HOME", Home() + "/.local/share") + "/cairn/default";
}

Result<Config> Config::Load(const std::string& dir) {
  Config config;
  config.dir_ = dir;
  const std::string path = JoinPath(dir, "datastore.json");
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (data.status().IsNotFound()) return config;
    return data.status();
  }
  auto json = nlohmann::json::parse(data->begin(), data->end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Status::Corruption(path + " is not valid JSON");
  }
  auto stores = json.find("datastores");
  if (stores != json.end()) {
    if (!stores->is_object()) return Status::Corruption(path + ": 'datastores' must be an object");
    for (const auto& [name, entry] : stores->items()) {
      if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
        return Status::Corruption(fmt::format("{}: datastore '{}' has no path", path, name));
      }
      config.stores_[name] = DatastoreEntry{entry["path"].get<std::string>(),
                                            entry.value("backend", "filesystem")};
    }
  }
  return config;
}

Status Config::Save() const {
  nlohmann::json json = {{"datastores", nlohmann::json::object()}};
  for (const auto& [name, entry] : stores_) {
    json["datastores"][name] = {{"path", entry.path}, {"backend", entry.backend}};
  }
  CAIRN_RETURN_IF_ERROR(MakeDirs(dir_, 0755));
  return WriteFileAtomic(JoinPath(dir_, "datastore.json"), AsBytes(json.dump(2) + "\n"), 0644);
}

Result<DatastoreEntry> Config::Get(const std::string& name) const {
  auto it = stores_.find(name);
  if (it == stores_.end()) {
    return Status::NotFound(fmt::format(
        "datastore {} is not configured (see `cairn datastore list`)", QuoteForMessage(name)));
  }
  return it->second;
}

Status Config::Add(const std::string& name, const DatastoreEntry& entry) {
  if (stores_.count(name)) {
    return Status::AlreadyExists(fmt::format("datastore '{}' is already configured", name));
  }
  stores_[name] = entry;
  return Save();
}

Status Config::Remove(const std::string& name) {
  if (!stores_.erase(name)) {
    return Status::NotFound(fmt::format("datastore {} is not configured", QuoteForMessage(name)));
  }
  return Save();
}

Result<std::unique_ptr<Datastore>> Config::OpenStore(const std::string& name) {
  auto entry = Get(name);
  if (!entry.ok() && name == kDefaultStoreName) {
    const std::string path = DefaultStorePath();
    auto opened = Datastore::OpenFilesystem(path);
    if (!opened.ok()) {
      spdlog::info("creating the default datastore at {}", path);
      opened = Datastore::CreateFilesystem(path);
      if (!opened.ok()) return opened.status().WithContext("create default datastore");
    }
    CAIRN_RETURN_IF_ERROR(Add(name, DatastoreEntry{path, "filesystem"}));
    return opened;
  }
  if (!entry.ok()) return entry.status();
  auto store = Datastore::OpenFilesystem(entry->path);
  if (!store.ok()) return store.status().WithContext("datastore '" + name + "'");
  return store;
}

}  // namespace cairn::cli

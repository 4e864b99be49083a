// Cairn's configuration directory: which datastores exist and where they live.
//
// Layout: `<config-dir>/datastore.json` = {"datastores": {"NAME": {"path": "...",
// "backend": "filesystem"}}}, written atomically. The config dir is `--config-dir`, else
// $CAIRN_CONFIG_DIR, else /etc/cairn for root and $XDG_CONFIG_HOME/cairn (~/.config/cairn)
// for other users.
//
// The default datastore: commands run without `--store` use the datastore named "default",
// which is created on first use at $CAIRN_DEFAULT_STORE or under the user's data directory
// ($XDG_DATA_HOME/cairn/default, ~/.local/share/cairn/default; /var/lib/cairn/default for root),
// so Cairn works with no configuration at all.
//
// Thread-safety: not thread-safe; the CLI uses it from one thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "datastore/datastore.h"

namespace cairn::cli {

inline constexpr char kDefaultStoreName[] = "default";

struct DatastoreEntry {
  std::string path;
  std::string backend = "filesystem";
};

class Config {
 public:
  // Loads `<dir>/datastore.json`; a missing file is an empty config. Corruption naming the file
  // if it does not parse.
  static Result<Config> Load(const std::string& dir);
  // The directory chosen by flag / environment / user (see the file comment).
  static std::string DefaultDir();
  static std::string DefaultStorePath();

  const std::string& dir() const { return dir_; }
  const std::map<std::string, DatastoreEntry>& datastores() const { return stores_; }
  // NotFound naming the store if unknown.
  Result<DatastoreEntry> Get(const std::string& name) const;
  // Adds an entry and saves. AlreadyExists if the name is taken.
  Status Add(const std::string& name, const DatastoreEntry& entry);
  // Removes an entry and saves. NotFound if unknown.
  Status Remove(const std::string& name);

  // Opens datastore `name`. For kDefaultStoreName, creates and registers it if it is not
  // configured yet.
  Result<std::unique_ptr<Datastore>> OpenStore(const std::string& name);

 private:
  Status Save() const;
  std::string dir_;
  std::map<std::string, DatastoreEntry> stores_;
};

}  // namespace cairn::cli

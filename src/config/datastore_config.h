// Cairn's configuration directory: which datastores exist and where they live.
//
// Layout: `<config-dir>/datastore.json` = {"datastores": {"NAME": {"path": "...",
// "backend": "filesystem"}}}, written atomically. A datastore kept in S3 has "backend": "s3",
// "s3-endpoint" (an id from s3.json), "bucket" and "max-cache-size" (bytes, 0 = default);
// its "path" is the local cache store. Any store may have a "tuning" property string
// (datastore_tuning.h). The config dir is `--config-dir`, else
// $CAIRN_CONFIG_DIR, else /etc/cairn for root and $XDG_CONFIG_HOME/cairn (~/.config/cairn)
// for other users.
//
// The default datastore: commands run without `--store` use the datastore named "default",
// which is created on first use at $CAIRN_DEFAULT_STORE or under the user's data directory
// ($XDG_DATA_HOME/cairn/default, ~/.local/share/cairn/default; /var/lib/cairn/default for root),
// so Cairn works with no configuration at all.
//
// The client cache directory (file archives' inode/ctime state, docs/file-archives.md):
// $CAIRN_CACHE_DIR, else /var/cache/cairn for root and $XDG_CACHE_HOME/cairn (~/.cache/cairn)
// for other users. Losing it costs one full read of the next metadata-mode backup, nothing else.
//
// Thread-safety: not thread-safe; callers serialise access (the CLI uses it from one thread).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "config/datastore_tuning.h"
#include "datastore/datastore.h"

namespace cairn::config {

inline constexpr char kDefaultStoreName[] = "default";

struct DatastoreEntry {
  std::string path;
  std::string backend = "filesystem";  // or "s3"
  std::string s3_endpoint;             // s3 only
  std::string bucket;                  // s3 only
  uint64_t max_cache_size = 0;         // s3 only; 0 = default
  DatastoreTuning tuning;

  bool operator==(const DatastoreEntry&) const = default;
};

// A datastore opened for an operation, with the guard that keeps the operation registered.
struct OpenedDatastore {
  std::unique_ptr<Datastore> store;
  OperationGuard operation;
};

class DatastoreConfig {
 public:
  // Loads `<dir>/datastore.json`; a missing file is an empty config. Corruption naming the file
  // if it does not parse.
  static Result<DatastoreConfig> Load(const std::string& dir);
  // The directory chosen by flag / environment / user (see the file comment).
  static std::string DefaultDir();
  static std::string DefaultStorePath();
  static std::string DefaultCacheDir();

  const std::string& dir() const { return dir_; }
  const std::map<std::string, DatastoreEntry>& datastores() const { return stores_; }
  // NotFound naming the store if unknown.
  Result<DatastoreEntry> Get(const std::string& name) const;
  // Adds an entry and saves. AlreadyExists if the name is taken.
  Status Add(const std::string& name, const DatastoreEntry& entry);
  // Replaces the tuning of store `name` and saves. NotFound if unknown.
  Status SetTuning(const std::string& name, const DatastoreTuning& tuning);
  // Removes an entry and saves. NotFound if unknown.
  Status Remove(const std::string& name);

  // Opens datastore `name` and begins an operation of kind `op` on it (Busy if its maintenance
  // mode blocks it, with a hint naming the command that clears a job's mode). For
  // kDefaultStoreName, creates and registers it if it is not configured yet.
  Result<OpenedDatastore> OpenStore(const std::string& name, Operation op);

  // Opens the configured datastore `name` as it is, without beginning an operation and without
  // creating the default store. NotFound if it is not configured; the store's open errors,
  // naming it, otherwise.
  Result<std::unique_ptr<Datastore>> OpenConfigured(const std::string& name) const;

  // The object store of an S3 endpoint id and bucket (NotFound for an unknown endpoint).
  Result<std::shared_ptr<ObjectStore>> OpenObjectStore(const std::string& endpoint_id,
                                                       const std::string& bucket) const;

 private:
  Status Save() const;
  // Opens the default store (configured as `entry`, or not yet), creating it on first use.
  Result<std::unique_ptr<Datastore>> OpenDefaultStore(const DatastoreEntry* entry);
  std::string dir_;
  std::map<std::string, DatastoreEntry> stores_;
};

// Begins an operation of kind `op` on `store`, configured as `name`: Busy if its maintenance
// mode refuses it, naming the command that clears a mode only a job clears.
Result<OperationGuard> BeginOperation(const Datastore& store, const std::string& name,
                                      Operation op);

}  // namespace cairn::config

// StoreRegistry keeps the server's datastores open: each configured datastore is opened once
// and shared by every request and task, and reopened when its configuration entry changes (the
// config file is re-read on each lookup, so `cairn datastore create` or an API call that edits
// it is seen at once). Unlike the CLI, the server never creates the default datastore on a
// lookup: it serves what is configured.
//
// Ownership: the registry shares its Datastore objects with callers (shared_ptr), so a store
// reopened or removed meanwhile stays valid for a request still using it.
// Thread-safety: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/result.h"
#include "config/datastore_config.h"
#include "datastore/datastore.h"

namespace cairn::server {

// A datastore with an operation running on it (see Datastore::BeginOperation).
struct OpenStore {
  std::shared_ptr<Datastore> store;
  OperationGuard operation;
  config::DatastoreEntry entry;
};

class StoreRegistry {
 public:
  explicit StoreRegistry(std::string config_dir) : config_dir_(std::move(config_dir)) {}

  // Opens datastore `name` (or reuses it) and begins an operation of kind `op`. NotFound for a
  // store that is not configured; Busy when its maintenance mode refuses `op`; the store's
  // errors (missing directory, unreachable bucket) otherwise, each naming the store.
  Result<OpenStore> Open(const std::string& name, Operation op);

  // The configuration as it is on disk now.
  Result<config::DatastoreConfig> LoadConfig() const;

  // Forgets the open store `name` (after it was removed from the configuration).
  void Forget(const std::string& name);

  const std::string& config_dir() const { return config_dir_; }

 private:
  struct Cached {
    config::DatastoreEntry entry;
    std::shared_ptr<Datastore> store;
  };
  const std::string config_dir_;
  Mutex mu_;
  std::map<std::string, Cached> open_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn::server

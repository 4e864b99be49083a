#include "server/store_registry.h"

namespace cairn::server {

Result<config::DatastoreConfig> StoreRegistry::LoadConfig() const {
  return config::DatastoreConfig::Load(config_dir_);
}

Result<OpenStore> StoreRegistry::Open(const std::string& name, Operation op) {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, LoadConfig());
  auto entry = config.Get(name);
  if (!entry.ok()) {
    Forget(name);
    return Status::NotFound("datastore '" + name + "' does not exist");
  }
  std::shared_ptr<Datastore> store;
  {
    MutexLock lock(mu_);
    auto it = open_.find(name);
    if (it != open_.end() && it->second.entry == *entry) store = it->second.store;
  }
  if (!store) {
    // Opened outside the lock: opening an S3 store talks to the bucket. Two racing opens both
    // succeed and the later one is kept; both objects are valid stores.
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Datastore> opened, config.OpenConfigured(name));
    store = std::move(opened);
    MutexLock lock(mu_);
    open_[name] = Cached{*entry, store};
  }
  CAIRN_ASSIGN_OR_RETURN(OperationGuard operation, config::BeginOperation(*store, name, op));
  return OpenStore{std::move(store), std::move(operation), *entry};
}

void StoreRegistry::Forget(const std::string& name) {
  MutexLock lock(mu_);
  open_.erase(name);
}

}  // namespace cairn::server

#include "config/datastore_admin.h"

#include <fmt/format.h>

namespace cairn::config {
namespace {

// Whether two entries configure the same store (a create run again with the same arguments).
bool SameStore(const DatastoreEntry& a, const DatastoreEntry& b) {
  return a.path == b.path && a.backend == b.backend && a.s3_endpoint == b.s3_endpoint &&
         a.bucket == b.bucket && a.max_cache_size == b.max_cache_size && a.tuning == b.tuning;
}

Result<DatastoreEntry> EntryFor(const CreateDatastoreRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateDatastoreName(request.name));
  if (request.path.empty() || request.path[0] != '/') {
    return Status::InvalidArgument("datastore path must be absolute: '" + request.path + "'");
  }
  DatastoreEntry entry;
  entry.path = request.path;
  entry.backend = request.backend;
  entry.tuning = request.tuning;
  if (request.backend == "filesystem") {
    if (!request.s3_endpoint.empty() || !request.bucket.empty() || request.reuse) {
      return Status::InvalidArgument("s3-endpoint, bucket and reuse need the s3 backend");
    }
  } else if (request.backend == "s3") {
    if (request.s3_endpoint.empty() || request.bucket.empty()) {
      return Status::InvalidArgument("the s3 backend needs an s3-endpoint and a bucket");
    }
    entry.s3_endpoint = request.s3_endpoint;
    entry.bucket = request.bucket;
    entry.max_cache_size = request.max_cache_size;
  } else {
    return Status::InvalidArgument("backend must be filesystem or s3, not '" + request.backend +
                                   "'");
  }
  return entry;
}

// Creates (or attaches) the store itself; fills in what the outcome reports.
Status CreateStore(const DatastoreConfig& config, const CreateDatastoreRequest& request,
                   const DatastoreEntry& entry, CreateDatastoreOutcome& outcome) {
  if (request.backend == "filesystem") return Datastore::CreateFilesystem(entry.path).status();
  CAIRN_ASSIGN_OR_RETURN(auto objects, config.OpenObjectStore(request.s3_endpoint, request.bucket));
  ObjectStoreDatastoreOptions options;
  options.backend.store_name = request.name;
  options.backend.objects = objects;
  options.backend.max_cache_size = entry.max_cache_size;
  options.hostname = request.hostname;
  options.overwrite_in_use = request.overwrite_in_use;
  options.reuse = request.reuse;
  CAIRN_ASSIGN_OR_RETURN(auto store, Datastore::CreateOnObjectStore(entry.path, options));
  outcome.report["s3-endpoint"] = request.s3_endpoint;
  outcome.report["bucket"] = request.bucket;
  outcome.report["reused"] = request.reuse;
  outcome.report["requests"] = objects->Stats().ToJson();
  outcome.summary = fmt::format("{} datastore '{}' in {} with its cache at {}",
                                request.reuse ? "attached" : "created", request.name,
                                objects->Describe(), entry.path);
  return Status::OK();
}

}  // namespace

Status ValidateCreateDatastoreRequest(const CreateDatastoreRequest& request) {
  return EntryFor(request).status();
}

Result<CreateDatastoreOutcome> CreateDatastore(DatastoreConfig& config,
                                               const CreateDatastoreRequest& request) {
  CAIRN_ASSIGN_OR_RETURN(DatastoreEntry entry, EntryFor(request));
  CAIRN_ASSIGN_OR_RETURN(DatastoreDirectoryState state, Datastore::ExamineDirectory(entry.path));
  const bool registered = config.datastores().count(request.name) > 0;
  if (registered && !(state == DatastoreDirectoryState::kUnfinished &&
                      SameStore(*config.Get(request.name), entry))) {
    return Status::AlreadyExists(fmt::format("datastore '{}' is already configured", request.name));
  }
  if (!registered) CAIRN_RETURN_IF_ERROR(config.Add(request.name, entry));
  CreateDatastoreOutcome outcome;
  outcome.report = {{"name", request.name}, {"path", entry.path}, {"backend", request.backend}};
  outcome.summary = fmt::format("created datastore '{}' at {}", request.name, entry.path);
  Status created = CreateStore(config, request, entry, outcome);
  if (!created.ok()) {
    // Nothing was created (creation cleans up after itself): take the entry back.
    if (!registered) {
      Status removed = config.Remove(request.name);
      if (!removed.ok()) {
        return created.WithContext(
            fmt::format("(and unregistering '{}' failed: {})", request.name, removed.message()));
      }
    }
    return created;
  }
  return outcome;
}

Status RemoveDatastore(DatastoreConfig& config, const std::string& name, bool destroy_data,
                       std::chrono::seconds wait, const JobControl& job) {
  CAIRN_RETURN_IF_ERROR(config.Get(name).status());
  {
    // Only what opens as a datastore is touched, and only once no operation runs on it (Busy
    // otherwise, and the store stays as it was). Without destroy_data a store that cannot be
    // reached (its bucket or directory gone for good) is still unregistered.
    auto store = config.OpenStore(name, Operation::kLookup);
    Status released = store.ok() ? store->store->Detach(destroy_data, wait) : store.status();
    if (!released.ok()) {
      if (destroy_data || released.IsBusy()) {
        return released.WithContext("datastore '" + name + "'");
      }
      job.Warn("datastore '{}' unregistered without releasing it: {}", name, released.message());
    }
  }
  return config.Remove(name);
}

}  // namespace cairn::config

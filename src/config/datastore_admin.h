// Creating and removing datastores: what `cairn datastore create|remove` and the server's
// config/datastore API (its create-datastore and delete-datastore tasks) both do.
//
// A store is registered before it is created, so that a creation killed at any point leaves
// either nothing registered (and at most a directory marked unfinished, which the next create
// clears) or the entry and a directory marked unfinished (or none): the same request made again
// finishes it. (Found by the crash campaign: killed after creating but before registering, the
// store was complete, unregistered, and every later create refused its directory.)
//
// Thread-safety: like DatastoreConfig, callers serialise changes of one config directory.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "base/job_control.h"
#include "base/result.h"
#include "config/datastore_config.h"

namespace cairn::config {

struct CreateDatastoreRequest {
  std::string name;
  std::string path;                    // absolute; the store, or an S3 store's local cache
  std::string backend = "filesystem";  // or "s3"
  std::string s3_endpoint;             // s3 only
  std::string bucket;                  // s3 only
  uint64_t max_cache_size = 0;         // s3 only; 0 = default
  DatastoreTuning tuning;
  bool reuse = false;             // s3: attach to the datastore already in the bucket
  bool overwrite_in_use = false;  // s3: take over a prefix another host marked in use
  std::string hostname;           // recorded in an S3 store's in-use marker
};

struct CreateDatastoreOutcome {
  nlohmann::json report;  // name, path, backend (+ s3-endpoint, bucket, reused, requests)
  std::string summary;    // one line for people
};

// InvalidArgument for a bad name, a relative path or options that do not fit the backend.
Status ValidateCreateDatastoreRequest(const CreateDatastoreRequest& request);

// Validates, registers and creates (or attaches) the store. InvalidArgument for a bad name,
// a relative path or options that do not fit the backend; AlreadyExists if the name is taken
// by another store; the creation's errors (the entry is then taken back).
Result<CreateDatastoreOutcome> CreateDatastore(DatastoreConfig& config,
                                               const CreateDatastoreRequest& request);

// Lets go of the store and unregisters it: waits up to `wait` for its operations to end (Busy,
// nothing changed), then with `destroy_data` deletes all its data, else releases its claim on
// it (an S3 store's in-use marker). Without `destroy_data` a store that cannot be reached is
// still unregistered, with a warning on `job`. NotFound if not configured.
Status RemoveDatastore(DatastoreConfig& config, const std::string& name, bool destroy_data,
                       std::chrono::seconds wait, const JobControl& job);

}  // namespace cairn::config

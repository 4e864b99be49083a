// The object store backend: a datastore whose chunks and metadata are persisted in an object
// store (an S3 bucket) under the key prefix "<store>/" (PBS 4.x's layout, docs/s3-datastores.md),
// with the local directory as its cache store:
//
//   <store>/.in-use                     in-use marker, JSON {"hostname": "..."}
//   <store>/.chunks/<XXXX>/<hex64>      chunks, uploaded create-only (never replaced)
//   <store>/.cnt/<content path>         metadata (content_path.h), uploaded replacing
//
// Writes go to the object store first and then to the local directory, so the local directory
// never shows what the bucket does not have; the manifest is written last by the datastore, so
// a snapshot exists in the bucket only when complete. Chunks are cached locally (chunk_cache.h);
// a chunk the local cache knows (content or marker) is not uploaded again. Reads of chunks try
// the cache first and on a miss download, check the CRC and cache the chunk.
//
// Thread-safety: thread-safe.
#pragma once

#include <memory>
#include <string>

#include "datastore/backend/backend.h"
#include "storage/object_store.h"

namespace cairn {

inline constexpr char kInUseMarker[] = ".in-use";

struct ObjectStoreBackendOptions {
  std::string store_name;                // the key prefix, without the '/'
  std::shared_ptr<ObjectStore> objects;  // shared with whoever created the datastore
  uint64_t max_cache_size = 0;           // bytes; 0 = default (see chunk_cache.h)
};

// REQUIRES: `root` holds a datastore directory (`.chunks` exists), store_name is valid.
std::unique_ptr<DatastoreBackend> NewObjectStoreBackend(const std::string& root,
                                                        ObjectStoreBackendOptions options);

}  // namespace cairn

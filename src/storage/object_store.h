// ObjectStore is a flat key/value store of immutable-size objects: the place a datastore
// persists chunks and metadata when it is not the local filesystem (an S3 bucket, or memory in
// tests). It is deliberately small: whole-object get, head and put (create-only or replace),
// server-side copy, delete one or many, and ordered listing (prefix, start-after, delimiter).
// Wrappers that are object stores themselves (metering, rate limiting, fault injection) sit
// between the datastore and the real store without either side knowing.
//
// Keys are full keys (a datastore adds its own "<store>/" prefix). Errors follow base's codes:
// NotFound for a missing object, PermissionDenied for refused credentials, Unavailable
// (retryable) for network trouble that outlasted the implementation's own retries. An error is
// never reported as "absent".
//
// Thread-safety: implementations are thread-safe; many threads of one job share one store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "storage/object_store_stats.h"

namespace cairn {

struct StoredObject {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified = 0;  // Unix seconds
  // The entity tag as the store gives it ("" if none). For an S3 single-part upload (all Cairn
  // writes) it is the hex MD5 of the content; multipart and encrypted objects have others.
  std::string etag;
  bool common_prefix = false;  // a listing's group of keys (ListRequest::delimiter)
};

// False only if `object`'s etag is a plain MD5 (32 hex digits) that is not the MD5 of `data`:
// the bytes are not what the store holds. True when the etag cannot tell.
bool ContentMatchesEtag(const StoredObject& object, ByteView data);

enum class PutMode {
  kReplace,     // create or overwrite
  kCreateOnly,  // never overwrite an existing object
};

enum class PutResult {
  kStored,         // the object now holds the payload
  kAlreadyExists,  // kCreateOnly found another object under the key and left it alone
};

struct ListRequest {
  // A request for every key under `prefix` converts from the prefix alone.
  ListRequest(std::string prefix = "", std::string start_after = "", std::string delimiter = "")
      : prefix(std::move(prefix)),
        start_after(std::move(start_after)),
        delimiter(std::move(delimiter)) {}

  std::string prefix;       // only keys starting with it; a folder's prefix ends in '/'
  std::string start_after;  // only keys after this one ("" = from the start)
  // "" for a flat listing. Otherwise keys that hold the delimiter after the prefix are grouped:
  // each group is visited once, as a StoredObject whose key is the prefix up to and including
  // the delimiter, with `common_prefix` set (and no size, time or etag).
  std::string delimiter;
};

using ObjectVisitor = std::function<bool(const StoredObject&)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3": the kind of store, for display.
  virtual std::string_view Kind() const = 0;
  // Where the objects live, for messages ("s3 endpoint 'minio' bucket 'backups'").
  virtual std::string Describe() const = 0;
  // Requests worth running at once (the connection pool's size).
  virtual unsigned Concurrency() const = 0;

  // Checks that the store is reachable and that the credentials are accepted. NotFound if the
  // bucket does not exist, PermissionDenied if access is refused, Unavailable if unreachable.
  virtual Status CheckAccess() = 0;

  // The whole object. NotFound naming the key if absent.
  virtual Result<Bytes> Get(const std::string& key) = 0;

  // The object's size, time and etag. NotFound naming the key if absent.
  virtual Result<StoredObject> Head(const std::string& key) = 0;

  // Stores `data` under `key` as `mode` says. InvalidArgument for a key the store cannot hold.
  virtual Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) = 0;

  // Copies the object `source` to `target` inside the store (replacing `target`), without
  // moving the data through this host. NotFound naming `source` if it is absent.
  virtual Status Copy(const std::string& source, const std::string& target) = 0;

  // Removes the object. OK if it did not exist.
  virtual Status Delete(const std::string& key) = 0;

  // Removes all `keys` (any number; batched as the store allows). The first failing key is named
  // in the error; keys already removed stay removed.
  virtual Status DeleteMany(const std::vector<std::string>& keys) = 0;

  // Calls `visit` for every object (and common prefix) the request selects, in key order,
  // until it returns false. InvalidArgument for a prefix the store cannot hold.
  virtual Status List(const ListRequest& request, const ObjectVisitor& visit) = 0;

  // Requests made so far by this store object (all threads); zeros for a store that does not
  // count (MeteredObjectStore counts for it).
  virtual ObjectStoreStats Stats() const = 0;
};

}  // namespace cairn

// MeteredObjectStore counts the calls made to the store it wraps, by request kind (a listing
// counts once, a delete-many once per 1000 keys as S3 batches them), with payload bytes and
// failed calls, and reports them as its Stats(). It is for stores that do not count themselves
// (the in-memory store); the S3 store counts its wire requests, retries included.
//
// Ownership: shares the wrapped store. Thread-safety: thread-safe.
#pragma once

#include <memory>

#include "storage/object_store_wrapper.h"

namespace cairn {

class MeteredObjectStore final : public ObjectStoreWrapper {
 public:
  explicit MeteredObjectStore(std::shared_ptr<ObjectStore> target)
      : ObjectStoreWrapper(std::move(target)) {}

  Result<Bytes> Get(const std::string& key) override;
  Result<StoredObject> Head(const std::string& key) override;
  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override;
  Status Copy(const std::string& source, const std::string& target) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  Status List(const ListRequest& request, const ObjectVisitor& visit) override;
  ObjectStoreStats Stats() const override { return ToObjectStoreStats(meter_.Snapshot()); }

 private:
  // Counts `requests` requests of `kind` and, if `result` failed, one failure; returns it.
  template <typename R>
  R Count(RequestKind kind, R result, uint64_t requests = 1);

  s3::S3Meter meter_;  // counts by the same kinds as the S3 store
};

}  // namespace cairn

// MemObjectStore is an object store held in memory with S3's semantics, for tests of everything
// above the ObjectStore seam that want a store without a server: keys follow S3's rules
// (s3/object_key.h); a create-only put of other content answers kAlreadyExists and leaves the
// object alone (the same content is kStored, as a resent request of ours would be); listings
// are in key order, honour start-after and group by a delimiter into common prefixes; a
// delete-many removes every valid key and names the first invalid one; every object carries
// its LastModified time and an MD5 ETag as S3's single-part uploads do.
//
// It meters nothing itself (Stats() is all zeros); wrap it in a MeteredObjectStore to count.
// Whether it behaves as S3 does is checked by the conformance suite that also runs over real
// S3 servers (object_store_conformance_test.cc).
//
// Thread-safety: thread-safe; every call is atomic with respect to the others (a listing sees
// the objects as they were when it started).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/mutex.h"
#include "storage/object_store.h"

namespace cairn {

class MemObjectStore final : public ObjectStore {
 public:
  // `now` gives the LastModified time (Unix seconds) of objects put or copied; the wall clock
  // if empty, so tests can age objects without sleeping.
  explicit MemObjectStore(std::function<int64_t()> now = {});

  std::string_view Kind() const override { return "memory"; }
  std::string Describe() const override { return "in-memory object store"; }
  unsigned Concurrency() const override { return 8; }
  Status CheckAccess() override { return Status::OK(); }
  Result<Bytes> Get(const std::string& key) override;
  Result<StoredObject> Head(const std::string& key) override;
  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override;
  Status Copy(const std::string& source, const std::string& target) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  Status List(const ListRequest& request, const ObjectVisitor& visit) override;
  ObjectStoreStats Stats() const override { return {}; }

  // Objects held (for tests).
  size_t size() const;

 private:
  struct Object {
    Bytes data;
    int64_t last_modified = 0;
    std::string etag;
  };
  int64_t Now() const;

  const std::function<int64_t()> now_;
  mutable Mutex mu_;
  std::map<std::string, Object> objects_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn

// ObjectStoreWrapper forwards every call to another object store, so that a test double or a
// fault injector derives from it and overrides only the calls it changes (as leveldb's
// EnvWrapper does for Env).
//
// Thread-safety: as thread-safe as the wrapped store and the overrides.
#pragma once

#include <memory>
#include <utility>

#include "storage/object_store.h"

namespace cairn {

class ObjectStoreWrapper : public ObjectStore {
 public:
  // REQUIRES: `target` is not null.
  explicit ObjectStoreWrapper(std::shared_ptr<ObjectStore> target) : target_(std::move(target)) {}

  std::string_view Kind() const override { return target_->Kind(); }
  std::string Describe() const override { return target_->Describe(); }
  unsigned Concurrency() const override { return target_->Concurrency(); }
  Status CheckAccess() override { return target_->CheckAccess(); }
  Result<Bytes> Get(const std::string& key) override { return target_->Get(key); }
  Result<StoredObject> Head(const std::string& key) override { return target_->Head(key); }
  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override {
    return target_->Put(key, data, mode);
  }
  Status Copy(const std::string& source, const std::string& target) override {
    return target_->Copy(source, target);
  }
  Status Delete(const std::string& key) override { return target_->Delete(key); }
  Status DeleteMany(const std::vector<std::string>& keys) override {
    return target_->DeleteMany(keys);
  }
  Status List(const ListRequest& request, const ObjectVisitor& visit) override {
    return target_->List(request, visit);
  }
  ObjectStoreStats Stats() const override { return target_->Stats(); }

 protected:
  ObjectStore& target() { return *target_; }

 private:
  std::shared_ptr<ObjectStore> target_;
};

}  // namespace cairn

#include "storage/s3_object_store.h"

#include <algorithm>

#include <fmt/format.h>

namespace cairn {
namespace {

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(std::unique_ptr<s3::S3Client> client, std::string endpoint_id)
      : client_(std::move(client)),
        description_(fmt::format("s3 endpoint '{}' bucket '{}'", endpoint_id, client_->bucket())) {}

  std::string_view Kind() const override { return "s3"; }
  std::string Describe() const override { return description_; }
  unsigned Concurrency() const override {
    return static_cast<unsigned>(std::max(1, client_->config().max_connections));
  }

  Status CheckAccess() override {
    return client_->HeadBucket().WithContext("cannot access " + description_);
  }

  Result<Bytes> Get(const std::string& key) override {
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey k, s3::ObjectKey::Parse(key));
    return client_->GetObject(k);
  }

  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override {
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey k, s3::ObjectKey::Parse(key));
    if (mode == PutMode::kReplace) {
      CAIRN_RETURN_IF_ERROR(client_->PutObject(k, data));
      return PutResult::kStored;
    }
    CAIRN_ASSIGN_OR_RETURN(s3::PutOutcome outcome, client_->PutObjectIfAbsent(k, data));
    return outcome == s3::PutOutcome::kStored ? PutResult::kStored : PutResult::kAlreadyExists;
  }

  Status Copy(const std::string& source, const std::string& target) override {
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey from, s3::ObjectKey::Parse(source));
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey to, s3::ObjectKey::Parse(target));
    return client_->CopyObject(from, to);
  }

  Status Delete(const std::string& key) override {
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey k, s3::ObjectKey::Parse(key));
    return client_->DeleteObject(k);
  }

  Status DeleteMany(const std::vector<std::string>& keys) override {
    std::vector<s3::ObjectKey> parsed;
    parsed.reserve(keys.size());
    for (const auto& key : keys) {
      CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey k, s3::ObjectKey::Parse(key));
      parsed.push_back(std::move(k));
    }
    return client_->DeleteObjects(parsed);
  }

  Status List(const std::string& prefix,
              const std::function<bool(const StoredObject&)>& visit) override {
    s3::ObjectLister lister = client_->List(s3::ListOptions{prefix, "", "", 0});
    s3::ListPage page;
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool more, lister.Next(&page));
      if (!more) return Status::OK();
      for (const auto& object : page.objects) {
        if (!visit(StoredObject{object.key, object.size, object.last_modified, object.etag})) {
          return Status::OK();
        }
      }
    }
  }

  ObjectStoreStats Stats() const override { return client_->Stats(); }

 private:
  std::unique_ptr<s3::S3Client> client_;
  const std::string description_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<s3::S3Client> client,
                                              std::string endpoint_id) {
  return std::make_unique<S3ObjectStore>(std::move(client), std::move(endpoint_id));
}

}  // namespace cairn

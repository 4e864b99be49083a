#include "storage/s3_object_store.h"

#include <algorithm>

#include <fmt/format.h>

#include "storage/rate_limited_object_store.h"

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
    // As DeleteObjects answers per key: the valid keys are deleted, the first invalid one named.
    std::vector<s3::ObjectKey> parsed;
    parsed.reserve(keys.size());
    Status first_invalid;
    for (const auto& key : keys) {
      auto k = s3::ObjectKey::Parse(key);
      if (k.ok()) {
        parsed.push_back(std::move(k).value());
      } else if (first_invalid.ok()) {
        first_invalid = k.status();
      }
    }
    if (parsed.empty()) return first_invalid;
    CAIRN_RETURN_IF_ERROR(client_->DeleteObjects(parsed));
    return first_invalid;
  }

  Result<StoredObject> Head(const std::string& key) override {
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectKey k, s3::ObjectKey::Parse(key));
    CAIRN_ASSIGN_OR_RETURN(s3::ObjectInfo info, client_->HeadObject(k));
    return StoredObject{key, info.size, info.last_modified, info.etag};
  }

  Status List(const ListRequest& request, const ObjectVisitor& visit) override {
    s3::ObjectLister lister =
        client_->List(s3::ListOptions{request.prefix, request.delimiter, request.start_after, 0});
    s3::ListPage page;
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool more, lister.Next(&page));
      if (!more) return Status::OK();
      // A page holds its objects and its common prefixes apart, each in key order.
      size_t o = 0, p = 0;
      while (o < page.objects.size() || p < page.common_prefixes.size()) {
        StoredObject item;
        if (p == page.common_prefixes.size() ||
            (o < page.objects.size() && page.objects[o].key < page.common_prefixes[p])) {
          const s3::ObjectInfo& object = page.objects[o++];
          item = StoredObject{object.key, object.size, object.last_modified, object.etag};
        } else {
          item.key = page.common_prefixes[p++];
          item.common_prefix = true;
        }
        if (!visit(item)) return Status::OK();
      }
    }
  }

  ObjectStoreStats Stats() const override { return ToObjectStoreStats(client_->Stats()); }

 private:
  std::unique_ptr<s3::S3Client> client_;
  const std::string description_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<s3::S3Client> client,
                                              std::string endpoint_id) {
  const double put_rate_limit = client->config().put_rate_limit;
  auto store = std::make_unique<S3ObjectStore>(std::move(client), std::move(endpoint_id));
  if (put_rate_limit <= 0) return store;
  return std::make_unique<RateLimitedObjectStore>(std::move(store), put_rate_limit);
}

}  // namespace cairn

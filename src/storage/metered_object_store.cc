#include "storage/metered_object_store.h"

namespace cairn {
namespace {

constexpr uint64_t kDeleteBatch = 1000;  // keys per S3 DeleteObjects request

}  // namespace

template <typename R>
R MeteredObjectStore::Count(RequestKind kind, R result, uint64_t requests) {
  for (uint64_t i = 0; i < requests; ++i) meter_.CountRequest(kind);
  if (!result.ok()) meter_.CountFailure();
  return result;
}

Result<Bytes> MeteredObjectStore::Get(const std::string& key) {
  auto data = Count(RequestKind::kGet, ObjectStoreWrapper::Get(key));
  if (data.ok()) meter_.AddBytesIn(data->size());
  return data;
}

Result<StoredObject> MeteredObjectStore::Head(const std::string& key) {
  return Count(RequestKind::kHead, ObjectStoreWrapper::Head(key));
}

Result<PutResult> MeteredObjectStore::Put(const std::string& key, ByteView data, PutMode mode) {
  meter_.AddBytesOut(data.size());
  return Count(RequestKind::kPut, ObjectStoreWrapper::Put(key, data, mode));
}

Status MeteredObjectStore::Copy(const std::string& source, const std::string& target) {
  return Count(RequestKind::kCopy, ObjectStoreWrapper::Copy(source, target));
}

Status MeteredObjectStore::Delete(const std::string& key) {
  return Count(RequestKind::kDelete, ObjectStoreWrapper::Delete(key));
}

Status MeteredObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  return Count(RequestKind::kDelete, ObjectStoreWrapper::DeleteMany(keys),
               (keys.size() + kDeleteBatch - 1) / kDeleteBatch);
}

Status MeteredObjectStore::List(const ListRequest& request, const ObjectVisitor& visit) {
  return Count(RequestKind::kList, ObjectStoreWrapper::List(request, visit));
}

}  // namespace cairn

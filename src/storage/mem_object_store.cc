#include "storage/mem_object_store.h"

#include <algorithm>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "base/quote.h"
#include "s3/hashing.h"
#include "s3/object_key.h"

namespace cairn {
namespace {

Status NoSuchKey(const std::string& key) {
  return Status::NotFound(fmt::format("object {} does not exist", QuoteForMessage(key)));
}

Status CheckKey(const std::string& key) {
  return s3::ObjectKey::Parse(key).status();
}

}  // namespace

MemObjectStore::MemObjectStore(std::function<int64_t()> now) : now_(std::move(now)) {}

int64_t MemObjectStore::Now() const {
  return now_ ? now_() : static_cast<int64_t>(std::time(nullptr));
}

size_t MemObjectStore::size() const {
  MutexLock lock(mu_);
  return objects_.size();
}

Result<Bytes> MemObjectStore::Get(const std::string& key) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  MutexLock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoSuchKey(key);
  return it->second.data;
}

Result<StoredObject> MemObjectStore::Head(const std::string& key) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  MutexLock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoSuchKey(key);
  return StoredObject{key, it->second.data.size(), it->second.last_modified, it->second.etag};
}

Result<PutResult> MemObjectStore::Put(const std::string& key, ByteView data, PutMode mode) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  Object object{Bytes(data.begin(), data.end()), Now(), s3::Md5Hex(data)};
  MutexLock lock(mu_);
  auto [it, inserted] = objects_.try_emplace(key);
  if (!inserted && mode == PutMode::kCreateOnly) {
    // As the S3 store: our own payload already there means this put is done.
    const Bytes& held = it->second.data;
    bool same = held.size() == data.size() && std::equal(held.begin(), held.end(), data.begin());
    return same ? PutResult::kStored : PutResult::kAlreadyExists;
  }
  it->second = std::move(object);
  return PutResult::kStored;
}

Status MemObjectStore::Copy(const std::string& source, const std::string& target) {
  CAIRN_RETURN_IF_ERROR(CheckKey(source));
  CAIRN_RETURN_IF_ERROR(CheckKey(target));
  MutexLock lock(mu_);
  auto it = objects_.find(source);
  if (it == objects_.end()) return NoSuchKey(source);
  Object copy = it->second;
  copy.last_modified = Now();
  objects_[target] = std::move(copy);
  return Status::OK();
}

Status MemObjectStore::Delete(const std::string& key) {
  CAIRN_RETURN_IF_ERROR(CheckKey(key));
  MutexLock lock(mu_);
  objects_.erase(key);
  return Status::OK();
}

Status MemObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  Status first_error;
  MutexLock lock(mu_);
  for (const auto& key : keys) {
    Status valid = CheckKey(key);
    if (!valid.ok()) {
      if (first_error.ok()) first_error = valid;
      continue;
    }
    objects_.erase(key);
  }
  return first_error;
}

Status MemObjectStore::List(const ListRequest& request, const ObjectVisitor& visit) {
  CAIRN_RETURN_IF_ERROR(s3::ValidatePrefix(request.prefix));
  // Collected under the lock, visited without it: a visitor may call the store.
  std::vector<StoredObject> listed;
  {
    MutexLock lock(mu_);
    auto it = request.start_after.empty() || request.start_after < request.prefix
                  ? objects_.lower_bound(request.prefix)
                  : objects_.upper_bound(request.start_after);
    for (; it != objects_.end() && it->first.starts_with(request.prefix); ++it) {
      const std::string& key = it->first;
      if (!request.delimiter.empty()) {
        size_t cut = key.find(request.delimiter, request.prefix.size());
        if (cut != std::string::npos) {
          std::string group = key.substr(0, cut + request.delimiter.size());
          if (listed.empty() || listed.back().key != group) {
            StoredObject prefix;
            prefix.key = std::move(group);
            prefix.common_prefix = true;
            listed.push_back(std::move(prefix));
          }
          continue;
        }
      }
      listed.push_back(
          StoredObject{key, it->second.data.size(), it->second.last_modified, it->second.etag});
    }
  }
  for (const auto& object : listed) {
    if (!visit(object)) break;
  }
  return Status::OK();
}

}  // namespace cairn

#include "storage/fault_object_store.h"

#include <fmt/format.h>

namespace cairn {

FaultObjectStore::FaultObjectStore(std::shared_ptr<ObjectStore> target, uint64_t seed)
    : ObjectStoreWrapper(std::move(target)), random_(seed) {}

void FaultObjectStore::SetRules(std::vector<ObjectFaultRule> rules) {
  std::lock_guard lock(mu_);
  rules_.clear();
  for (auto& rule : rules) rules_.emplace_back(std::move(rule), 0);
}

ObjectFaultCounts FaultObjectStore::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::optional<ObjectFaultRule::Action> FaultObjectStore::Decide(ObjectCall call,
                                                                const std::string& key) {
  std::lock_guard lock(mu_);
  ++counts_.calls;
  for (auto& [rule, seen] : rules_) {
    if (rule.call && *rule.call != call) continue;
    if (!rule.key_part.empty() && key.find(rule.key_part) == std::string::npos) continue;
    ++seen;
    const bool fires = rule.nth != 0 ? seen == rule.nth
                                     : rule.one_in != 0 && random_() % rule.one_in == 0;
    if (!fires) continue;
    switch (rule.action) {
      case ObjectFaultRule::Action::kFail: ++counts_.failed; break;
      case ObjectFaultRule::Action::kLostReply: ++counts_.lost_replies; break;
      case ObjectFaultRule::Action::kFlipByte: ++counts_.flipped; break;
    }
    return rule.action;
  }
  return std::nullopt;
}

Status FaultObjectStore::Injected(const char* what, const std::string& key,
                                  ObjectFaultRule::Action action) {
  return Status::Unavailable(fmt::format(
      "{} {}: injected fault ({})", what, key,
      action == ObjectFaultRule::Action::kLostReply ? "reply lost" : "request failed"));
}

Result<Bytes> FaultObjectStore::Get(const std::string& key) {
  auto action = Decide(ObjectCall::kGet, key);
  if (action == ObjectFaultRule::Action::kFail) return Injected("get", key, *action);
  auto data = ObjectStoreWrapper::Get(key);
  if (!action || !data.ok()) return data;
  if (*action == ObjectFaultRule::Action::kLostReply) return Injected("get", key, *action);
  if (!data->empty()) {
    std::lock_guard lock(mu_);
    (*data)[random_() % data->size()] ^= 0x20;
  }
  return data;
}

template <typename R, typename Run>
R FaultObjectStore::Guarded(ObjectCall call, const std::string& key, const char* what, Run run) {
  auto action = Decide(call, key);
  if (action == ObjectFaultRule::Action::kFail) return Injected(what, key, *action);
  R result = run();
  if (action == ObjectFaultRule::Action::kLostReply && result.ok()) {
    return Injected(what, key, *action);
  }
  return result;
}

Result<PutResult> FaultObjectStore::Put(const std::string& key, ByteView data, PutMode mode) {
  return Guarded<Result<PutResult>>(ObjectCall::kPut, key, "put", [&] {
    return ObjectStoreWrapper::Put(key, data, mode);
  });
}

Status FaultObjectStore::Copy(const std::string& source, const std::string& target) {
  return Guarded<Status>(ObjectCall::kCopy, target, "copy to", [&] {
    return ObjectStoreWrapper::Copy(source, target);
  });
}

Status FaultObjectStore::Delete(const std::string& key) {
  return Guarded<Status>(ObjectCall::kDelete, key, "delete", [&] {
    return ObjectStoreWrapper::Delete(key);
  });
}

Status FaultObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  return Guarded<Status>(ObjectCall::kDeleteMany, keys.empty() ? std::string() : keys.front(),
                         "delete from", [&] { return ObjectStoreWrapper::DeleteMany(keys); });
}

// A lost reply of a listing is one that fails after some pages: the visitor saw part of it.
Status FaultObjectStore::List(const std::string& prefix,
                              const std::function<bool(const StoredObject&)>& visit) {
  return Guarded<Status>(ObjectCall::kList, prefix, "list", [&] {
    return ObjectStoreWrapper::List(prefix, visit);
  });
}

}  // namespace cairn

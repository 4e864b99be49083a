#include "storage/fault_object_store.h"

#include <chrono>

#include <fmt/format.h>

namespace cairn {

FaultObjectStore::FaultObjectStore(std::shared_ptr<ObjectStore> target, uint64_t seed)
    : ObjectStoreWrapper(std::move(target)), random_(seed) {}

void FaultObjectStore::SetRules(std::vector<ObjectFaultRule> rules) {
  MutexLock lock(mu_);
  rules_.clear();
  for (auto& rule : rules) rules_.emplace_back(std::move(rule), 0);
}

ObjectFaultCounts FaultObjectStore::counts() const {
  MutexLock lock(mu_);
  return counts_;
}

std::optional<ObjectFaultRule::Action> FaultObjectStore::Decide(ObjectCall call,
                                                                const std::string& key) {
  MutexLock lock(mu_);
  ++counts_.calls;
  for (auto& [rule, seen] : rules_) {
    if (rule.call && *rule.call != call) continue;
    if (!rule.key_part.empty() && key.find(rule.key_part) == std::string::npos) continue;
    ++seen;
    const bool fires =
        rule.nth != 0 ? seen == rule.nth : rule.one_in != 0 && random_() % rule.one_in == 0;
    if (!fires) continue;
    switch (rule.action) {
      case ObjectFaultRule::Action::kFail: ++counts_.failed; break;
      case ObjectFaultRule::Action::kLostReply: ++counts_.lost_replies; break;
      case ObjectFaultRule::Action::kFlipByte: ++counts_.flipped; break;
      case ObjectFaultRule::Action::kPauseBefore:
      case ObjectFaultRule::Action::kPauseAfter: ++counts_.paused; break;
    }
    return rule.action;
  }
  return std::nullopt;
}

void FaultObjectStore::Pause(const std::string& what) {
  MutexLock lock(mu_);
  while (pause_taken_) pause_cv_.Wait();
  pause_taken_ = true;
  paused_ = what;
  released_ = false;
  pause_cv_.SignalAll();
  while (!released_) pause_cv_.Wait();
  paused_.reset();
  pause_taken_ = false;
  pause_cv_.SignalAll();
}

Result<std::string> FaultObjectStore::AwaitPaused(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  MutexLock lock(mu_);
  while (!paused_.has_value() || released_) {
    if (!pause_cv_.WaitUntil(deadline)) {
      if (paused_.has_value() && !released_) break;
      return Status::Aborted("no object store call paused");
    }
  }
  return *paused_;
}

void FaultObjectStore::Release() {
  MutexLock lock(mu_);
  if (!paused_) return;
  released_ = true;
  pause_cv_.SignalAll();
}

Status FaultObjectStore::Injected(const char* what, const std::string& key,
                                  ObjectFaultRule::Action action) {
  return Status::Unavailable(
      fmt::format("{} {}: injected fault ({})", what, key,
                  action == ObjectFaultRule::Action::kLostReply ? "reply lost" : "request failed"));
}

template <typename R, typename Run>
R FaultObjectStore::Guarded(ObjectCall call, const std::string& key, const char* what, Run run,
                            std::optional<ObjectFaultRule::Action>* fired) {
  using Action = ObjectFaultRule::Action;
  auto action = Decide(call, key);
  if (fired) *fired = action;
  if (action == Action::kFail) return Injected(what, key, *action);
  if (action == Action::kPauseBefore) Pause(fmt::format("{} {}", what, key));
  R result = run();
  if (action == Action::kPauseAfter) Pause(fmt::format("{} {}", what, key));
  if (action == Action::kLostReply && result.ok()) return Injected(what, key, *action);
  return result;
}

Result<Bytes> FaultObjectStore::Get(const std::string& key) {
  std::optional<ObjectFaultRule::Action> action;
  auto data = Guarded<Result<Bytes>>(
      ObjectCall::kGet, key, "get", [&] { return ObjectStoreWrapper::Get(key); }, &action);
  if (action == ObjectFaultRule::Action::kFlipByte && data.ok() && !data->empty()) {
    MutexLock lock(mu_);
    (*data)[random_() % data->size()] ^= 0x20;
  }
  return data;
}

Result<StoredObject> FaultObjectStore::Head(const std::string& key) {
  return Guarded<Result<StoredObject>>(ObjectCall::kHead, key, "head",
                                       [&] { return ObjectStoreWrapper::Head(key); });
}

Result<PutResult> FaultObjectStore::Put(const std::string& key, ByteView data, PutMode mode) {
  return Guarded<Result<PutResult>>(ObjectCall::kPut, key, "put",
                                    [&] { return ObjectStoreWrapper::Put(key, data, mode); });
}

Status FaultObjectStore::Copy(const std::string& source, const std::string& target) {
  return Guarded<Status>(ObjectCall::kCopy, target, "copy to",
                         [&] { return ObjectStoreWrapper::Copy(source, target); });
}

Status FaultObjectStore::Delete(const std::string& key) {
  return Guarded<Status>(ObjectCall::kDelete, key, "delete",
                         [&] { return ObjectStoreWrapper::Delete(key); });
}

Status FaultObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  return Guarded<Status>(ObjectCall::kDeleteMany, keys.empty() ? std::string() : keys.front(),
                         "delete from", [&] { return ObjectStoreWrapper::DeleteMany(keys); });
}

// A lost reply of a listing is one that fails after some pages: the visitor saw part of it.
Status FaultObjectStore::List(const ListRequest& request, const ObjectVisitor& visit) {
  return Guarded<Status>(ObjectCall::kList, request.prefix, "list",
                         [&] { return ObjectStoreWrapper::List(request, visit); });
}

}  // namespace cairn

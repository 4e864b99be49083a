// FaultObjectStore wraps an object store and makes chosen calls misbehave, as a flaky network or
// a faulty server would, so that every job can be run against faults at the object store seam:
//
//   kFail       the call fails with Unavailable before it reaches the store
//   kLostReply  the call reaches the store (an object is stored, copied or deleted) but its reply
//               is lost: the caller sees Unavailable
//   kFlipByte   a get returns the object with one byte flipped (a corrupting network or disk)
//   kPauseBefore / kPauseAfter
//               the call stops before it reaches the store, or after the store did it but before
//               its caller hears of it, until the test calls Release: with AwaitPaused a test
//               interleaves jobs step by step (an insert against a GC sweep), without timing
//
// A rule picks calls by kind and key substring, and fires on the Nth matching call or, seeded,
// on about one matching call in N. Counters say how many faults were injected, by action.
//
// Ownership: shares the wrapped store. Thread-safety: thread-safe; rules may be replaced while
// calls run (a call uses the rules it saw when it started).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "storage/object_store_wrapper.h"

namespace cairn {

enum class ObjectCall { kGet, kHead, kPut, kCopy, kDelete, kDeleteMany, kList };

struct ObjectFaultRule {
  std::optional<ObjectCall> call;  // nullopt: any call
  uint64_t nth = 0;                // the Nth matching call (1-based); 0: use one_in
  uint64_t one_in = 0;             // with nth == 0: each matching call with probability 1/one_in
  std::string key_part;            // only keys (or prefixes) containing this; "" = all
  enum class Action { kFail, kLostReply, kFlipByte, kPauseBefore, kPauseAfter };
  Action action = Action::kFail;
};

struct ObjectFaultCounts {
  uint64_t calls = 0;  // calls seen, faulty or not
  uint64_t failed = 0;
  uint64_t lost_replies = 0;
  uint64_t flipped = 0;
  uint64_t paused = 0;
};

class FaultObjectStore final : public ObjectStoreWrapper {
 public:
  FaultObjectStore(std::shared_ptr<ObjectStore> target, uint64_t seed);

  // Replaces the rules and resets their call counters (not the fault counts).
  void SetRules(std::vector<ObjectFaultRule> rules);
  ObjectFaultCounts counts() const;

  // Waits until a call stops at a pause rule and returns what it is ("put KEY", "delete KEY").
  // Calls pause one at a time: a second waits until the first is released. Aborted if no
  // call pauses within `seconds` (a test whose expected call never comes fails, not hangs).
  Result<std::string> AwaitPaused(double seconds = 60);
  // Lets the paused call go on. No-op if none is paused.
  void Release();

  Result<Bytes> Get(const std::string& key) override;
  Result<StoredObject> Head(const std::string& key) override;
  Result<PutResult> Put(const std::string& key, ByteView data, PutMode mode) override;
  Status Copy(const std::string& source, const std::string& target) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  Status List(const ListRequest& request, const ObjectVisitor& visit) override;

 private:
  // The action of the first rule that fires for this call, if any; counts the call.
  std::optional<ObjectFaultRule::Action> Decide(ObjectCall call, const std::string& key)
      CAIRN_EXCLUDES(mu_);
  Status Injected(const char* what, const std::string& key, ObjectFaultRule::Action action);
  // Blocks the calling thread as the paused call `what` until Release.
  void Pause(const std::string& what) CAIRN_EXCLUDES(mu_);
  // Runs `run` (the wrapped call) as the rules say: not at all (kFail), or reporting a lost
  // reply after it succeeded (kLostReply), pausing before or after it. kFlipByte is Get's own:
  // the action that fired is stored in `fired` if given.
  template <typename R, typename Run>
  R Guarded(ObjectCall call, const std::string& key, const char* what, Run run,
            std::optional<ObjectFaultRule::Action>* fired = nullptr);

  mutable Mutex mu_;
  // The rules, each with the matching calls seen.
  std::vector<std::pair<ObjectFaultRule, uint64_t>> rules_ CAIRN_GUARDED_BY(mu_);
  std::mt19937_64 random_ CAIRN_GUARDED_BY(mu_);
  ObjectFaultCounts counts_ CAIRN_GUARDED_BY(mu_);
  // The pause: one call at a time holds it.
  CondVar pause_cv_{&mu_};
  std::optional<std::string> paused_ CAIRN_GUARDED_BY(mu_);  // the call now paused
  bool released_ CAIRN_GUARDED_BY(mu_) = false;              // the paused call may go on
  bool pause_taken_ CAIRN_GUARDED_BY(mu_) = false;  // a call holds the pause (paused or about to)
};

}  // namespace cairn

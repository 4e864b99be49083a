// An insert racing GC's sweep of the same chunk, one interleaving at a time.
//
// Story: issue 5 closed with the note that the GC stress test (gc_stress_test.cc) runs backups,
// GC, verify and reads together for a while but cannot be made to hit the narrow windows
// between an insert and a sweep of the same chunk: between the sweep listing a chunk and
// deciding about it, between deciding and the delete request, between the request and its
// reply, and the same on the insert's side around its upload. Here the object store holds each
// of those calls (FaultObjectStore's pause) while the other job starts, so every window is run
// on purpose, and the chunk must come through each of them stored and readable.

#include <gtest/gtest.h>

#include <thread>

#include "datastore/jobs/gc.h"
#include "storage/fault_object_store.h"
#include "testing/snapshot_fixture.h"

namespace cairn {
namespace {

using testing::DigestOfSeed;
using testing::StoreKind;
using Action = ObjectFaultRule::Action;

constexpr uint64_t kSeed = 7;
constexpr int64_t kTwoDays = 2 * 86400;

struct PausePoint {
  const char* name;
  ObjectCall call;
  Action action;
  bool gc_pauses;  // else the insert pauses
};

class GcInterleavingTest : public testing::SnapshotFixture {
 protected:
  // Makes the chunk of kSeed stored, referenced by no snapshot and unmarked for two days: the
  // next GC deletes it unless an insert comes between.
  void MakeChunkGarbage() {
    const SnapshotRef old = Image("vm/1", next_time_++, {kSeed});
    for (const std::string group : {"vm/1", "vm/2"}) {
      auto snapshots = store_->ListSnapshots({}, *BackupGroup::Parse(group));
      if (!snapshots.ok() && snapshots.status().IsNotFound()) continue;  // not backed up yet
      ASSERT_TRUE(snapshots.ok()) << snapshots.status().ToString();
      for (const auto& s : *snapshots) ASSERT_TRUE(store_->ForgetSnapshot({}, s.ref).ok());
    }
    testing::AgeLocalChunkFiles(store_->path(), kTwoDays);
    ASSERT_EQ(Stored(), Digests({kSeed}));
  }

  ObjectFaultRule Rule(const PausePoint& point) const {
    const std::string hex = DigestToHex(DigestOfSeed(kSeed));
    ObjectFaultRule rule;
    rule.call = point.call;
    rule.action = point.action;
    rule.nth = 1;
    // A listing is named by its prefix: the range of chunks the chunk is in.
    rule.key_part = point.call == ObjectCall::kList
                        ? std::string(testing::TestStore::kStoreName) + "/.chunks/" + hex[0]
                        : hex;
    return rule;
  }

  int64_t next_time_ = 1000;
};

INSTANTIATE_TEST_SUITE_P(Memory, GcInterleavingTest, ::testing::Values(StoreKind::kMemory),
                         testing::PrintStoreKind);

TEST_P(GcInterleavingTest, AnInsertRacingTheSweepOfItsChunkNeverLosesIt) {
  const PausePoint points[] = {
      {"the sweep's listing, before it is sent", ObjectCall::kList, Action::kPauseBefore, true},
      {"the sweep's listing, after its objects were judged", ObjectCall::kList, Action::kPauseAfter,
       true},
      {"the sweep's delete, before it is sent", ObjectCall::kDeleteMany, Action::kPauseBefore,
       true},
      {"the sweep's delete, done but not answered", ObjectCall::kDeleteMany, Action::kPauseAfter,
       true},
      {"the insert's upload, before it is sent", ObjectCall::kPut, Action::kPauseBefore, false},
      {"the insert's upload, done but not answered", ObjectCall::kPut, Action::kPauseAfter, false},
  };
  FaultObjectStore& faults = *test_store_->faults();
  const Digest chunk = DigestOfSeed(kSeed);
  for (const PausePoint& point : points) {
    SCOPED_TRACE(point.name);
    // Against the sweep: the chunk is garbage, and the backup brings it back into use. Against
    // the upload: the chunk is new (GC removed it), and GC runs while its upload is held.
    ASSERT_NO_FATAL_FAILURE(MakeChunkGarbage());
    if (!point.gc_pauses) {
      ASSERT_TRUE(RunGarbageCollection(*store_, GcOptions{}).ok());
      ASSERT_TRUE(Stored().empty());
    }
    faults.SetRules({Rule(point)});

    Result<GcStatus> gc = Status::Aborted("not run");
    std::unique_ptr<SnapshotWriter> backup;
    Result<std::string> paused = Status::Aborted("not run");
    {
      std::jthread gc_thread, backup_thread;
      // On the way out (a failed check included): nothing stays held, then the threads join.
      struct LetGo {
        FaultObjectStore& faults;
        ~LetGo() {
          faults.SetRules({});
          faults.Release();
        }
      } let_go{faults};
      auto run_gc = [&] { gc = RunGarbageCollection(*store_, GcOptions{}); };
      auto run_backup = [&] { backup = StartImage("vm/2", next_time_++, {kSeed}); };
      if (point.gc_pauses) {
        gc_thread = std::jthread(run_gc);
        paused = faults.AwaitPaused();
        ASSERT_TRUE(paused.ok()) << paused.status().ToString();
        // The backup starts while GC is held here; it may have to wait for GC's chunk lock.
        backup_thread = std::jthread(run_backup);
        faults.Release();
      } else {
        backup_thread = std::jthread(run_backup);
        paused = faults.AwaitPaused();
        ASSERT_TRUE(paused.ok()) << paused.status().ToString();
        run_gc();  // a whole GC run while the upload is held
        faults.Release();
      }
    }
    EXPECT_NE(paused->find(point.call == ObjectCall::kList ? "list" : DigestToHex(chunk)),
              std::string::npos)
        << *paused;
    faults.SetRules({});
    ASSERT_TRUE(gc.ok()) << gc.status().ToString();
    ASSERT_NE(backup, nullptr);
    ASSERT_NO_FATAL_FAILURE(Finish(*backup));

    // The new snapshot's chunk is in the bucket and reads back, now and after another GC.
    EXPECT_EQ(Stored(), Digests({kSeed}));
    EXPECT_TRUE(store_->backend().chunks().ReadChunk(chunk).ok());
    testing::AgeLocalChunkFiles(store_->path(), kTwoDays);
    ASSERT_TRUE(RunGarbageCollection(*store_, GcOptions{}).ok());
    EXPECT_EQ(Stored(), Digests({kSeed}));
    auto data = test_store_->objects()->Get(test_store_->ChunkKey(chunk));
    EXPECT_TRUE(data.ok()) << data.status().ToString();
  }
}

}  // namespace
}  // namespace cairn

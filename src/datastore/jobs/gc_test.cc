#include "datastore/jobs/gc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "base/file_util.h"
#include "base/time.h"
#include "datastore/backend/chunk_locks.h"
#include "storage/object_store_wrapper.h"
#include "testing/snapshot_fixture.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::StoreKind;

constexpr uint64_t kChunk = testing::kSeedChunkSize;
constexpr int64_t kDay = 86400;

using testing::AgeLocalChunkFiles;
using testing::DigestOfSeed;

// GC on every backend: the filesystem, and S3 datastores on moto and s3rver.
class GcTest : public testing::SnapshotFixture {
 protected:
  GcStatus RunGc(GcOptions options = {}) {
    auto status = RunGarbageCollection(*store_, options);
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    return status.ok() ? *status : GcStatus{};
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, GcTest, testing::kAllStoreKinds, testing::PrintStoreKind);

TEST_P(GcTest, RemovesExactlyTheUnreferencedChunksOlderThanTheCutoff) {
  SnapshotRef old_snap = Image("vm/100", 100, {1, 2, 3, 4});
  Image("vm/100", 200, {3, 4, 5, 6});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);

  GcStatus status = RunGc();
  EXPECT_EQ(Stored(), Digests({3, 4, 5, 6}));
  EXPECT_EQ(status.sweep.removed_chunks, 2u);
  EXPECT_EQ(status.sweep.disk_chunks, 5u);  // and the atime check's zero chunk
  EXPECT_EQ(status.sweep.pending_chunks, 0u);
  EXPECT_EQ(status.index_file_count, 1u);
  EXPECT_EQ(status.index_data_bytes, 4 * kChunk);
  EXPECT_EQ(status.missing_chunks, 0u);
  if (test_store_->remote()) {
    // One listing page per key range (16) and one DeleteObjects request for this handful of
    // chunks: the ranges' batches share it.
    EXPECT_EQ(status.requests->requests_of(RequestKind::kList), 16u);
    EXPECT_EQ(status.requests->requests_of(RequestKind::kDelete), 1u);
  }
  auto saved = LoadGcStatus(*store_);
  ASSERT_TRUE(saved.ok() && saved->has_value());
  EXPECT_EQ(GcStatusToJson(**saved), GcStatusToJson(status));

  // Chunks marked just now are in use: a second run removes nothing.
  EXPECT_EQ(RunGc().sweep.removed_chunks, 0u);
  EXPECT_EQ(Stored(), Digests({3, 4, 5, 6}));
}

// Jobs run as server tasks: their warnings go to the task's log sink, and a stopped task ends
// the run between two units of work with Aborted, before deleting anything it had not decided.
TEST_P(GcTest, WarningsGoToTheJobsLogAndACancelledRunDeletesNothing) {
  SnapshotRef old_snap = Image("vm/100", 100, {1, 2});
  Image("vm/100", 200, {5, 6});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  test_store_->DeleteStoredChunk(DigestOfSeed(6));

  GcOptions cancelled;
  cancelled.job.Cancel();  // the user stopped the task before it got far
  auto status = RunGarbageCollection(*store_, cancelled);
  EXPECT_EQ(status.status().code(), Code::kAborted) << status.status().ToString();
  EXPECT_EQ(Stored(), Digests({1, 2, 5}));  // nothing was swept
  EXPECT_FALSE(LoadGcStatus(*store_)->has_value());

  std::vector<std::string> warnings;
  GcOptions options;
  options.job = JobControl([&](JobLogLevel level, std::string_view line) {
    if (level == JobLogLevel::kWarning) warnings.emplace_back(line);
  });
  GcStatus finished = RunGc(options);
  bool named = false;
  for (const auto& line : warnings) {
    named |= line.find(DigestToHex(DigestOfSeed(6))) != std::string::npos &&
             line.find("missing") != std::string::npos;
  }
  EXPECT_TRUE(named) << ::testing::PrintToString(warnings);
  EXPECT_EQ(Stored(), Digests({5}));
  EXPECT_EQ(finished.missing_chunks, 1u);
}

TEST_P(GcTest, KeepsWhatARunningBackupInsertedWithAndWithoutCache) {
  SnapshotRef old_snap = Image("vm/100", 100, {1, 2});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  auto cached = StartImage("vm/200", 100, {10, 11});
  auto uncached = StartImage("vm/300", 100, {12, 1}, ChunkCaching::kMarkerOnly);

  GcOptions options;
  options.atime_cutoff_minutes = 1;
  GcStatus status = RunGc(options);
  // 1 was inserted again by the running backup: kept; 2 is gone.
  EXPECT_EQ(Stored(), Digests({1, 10, 11, 12}));
  EXPECT_EQ(status.sweep.removed_chunks, 1u);
  Finish(*cached);
  Finish(*uncached);
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  RunGc();
  EXPECT_EQ(Stored(), Digests({1, 10, 11, 12}));
}

TEST_P(GcTest, AWriterThatStartedLongAgoKeepsEverythingMarkedSince) {
  // A backup running for three days, that inserted chunk 2 two days ago and has not written
  // its index yet; chunk 1 was last marked before it started.
  auto registered = store_->locks().RegisterWriter(NowEpoch() - 3 * kDay);
  ASSERT_TRUE(registered.ok());
  std::optional<WriterRegistration> registration;
  registration.emplace(std::move(*registered));
  SnapshotRef old_snap = Image("vm/100", 100, {1, 2});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  const struct timespec before_writer[2] = {{NowEpoch() - 4 * kDay, 0}, {0, UTIME_OMIT}};
  ASSERT_EQ(
      ::utimensat(AT_FDCWD, test_store_->LocalChunkPath(DigestOfSeed(1)).c_str(), before_writer, 0),
      0);

  GcStatus status = RunGc();
  EXPECT_EQ(Stored(), Digests({2}));
  EXPECT_EQ(status.cutoff.min_atime, status.cutoff.oldest_writer - 300);

  registration.reset();  // the backup ended without using chunk 2
  status = RunGc();
  EXPECT_EQ(Stored(), Digests({}));
  EXPECT_EQ(status.sweep.removed_chunks, 1u);
}

TEST_P(GcTest, WritingAnIndexMarksTheChunksItReuses) {
  // Found in review: GC lists group vm/100 (only B0 there), a backup A based on B0 finishes
  // reusing B0's chunks without uploading them, prune removes B0, GC reaches B0's directory and
  // finds it gone; A was never listed, so B0's chunks looked unused and were deleted. Now
  // writing an index marks every chunk it references, so they are newer than any running GC's
  // cutoff.
  Image("vm/100", 100, {1, 2});
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  auto writer = SnapshotWriter::Begin(*store_, {}, *BackupGroup::Parse("vm/100"), 200, "root@pam");
  ASSERT_TRUE(writer.ok());
  auto index = *FixedIndexBuilder::Create(kChunk);
  for (uint64_t seed : {1, 2}) ASSERT_TRUE(index.Append(DigestOfSeed(seed), kChunk).ok());
  ASSERT_TRUE((*writer)->WriteArchive("disk.img.fidx", index.Finish()->bytes).ok());
  for (uint64_t seed : {1, 2}) {
    struct stat st;
    ASSERT_EQ(::stat(test_store_->LocalChunkPath(DigestOfSeed(seed)).c_str(), &st), 0);
    EXPECT_GE(st.st_atim.tv_sec, NowEpoch() - 60);
  }
  // An index naming a chunk the store never had is refused, naming it.
  auto missing = *FixedIndexBuilder::Create(kChunk);
  ASSERT_TRUE(missing.Append(DigestOfSeed(99), kChunk).ok());
  Status st = (*writer)->WriteArchive("other.img.fidx", missing.Finish()->bytes);
  if (!test_store_->remote()) {  // S3: a note for GC's sweep, which asks the bucket
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find(DigestToHex(DigestOfSeed(99))), std::string::npos);
  }
}

TEST_P(GcTest, TheSweepLeavesAChunkWhoseLockAnotherProcessHolds) {
  if (!test_store_->remote()) GTEST_SKIP() << "the filesystem sweep waits for the lock instead";
  SnapshotRef old_snap = Image("vm/100", 100, {1});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  {
    ChunkLocks insert_elsewhere(store_->path());  // as another process's insert would hold it
    auto held = insert_elsewhere.Lock(DigestOfSeed(1));
    ASSERT_TRUE(held.ok());
    RunGc();
    EXPECT_EQ(Stored(), Digests({1}));
  }
  EXPECT_EQ(RunGc().sweep.removed_chunks, 1u);
  EXPECT_EQ(Stored(), Digests({}));
}

// Calls `hook` with the keys of every DeleteMany before passing it on.
class DeleteHookStore : public ObjectStoreWrapper {
 public:
  DeleteHookStore(std::shared_ptr<ObjectStore> target,
                  std::function<void(const std::vector<std::string>&)> hook)
      : ObjectStoreWrapper(std::move(target)), hook_(std::move(hook)) {}
  Status DeleteMany(const std::vector<std::string>& keys) override {
    hook_(keys);
    return ObjectStoreWrapper::DeleteMany(keys);
  }

 private:
  std::function<void(const std::vector<std::string>&)> hook_;
};

TEST_P(GcTest, AnInsertOfAChunkBeingDeletedWaitsAndStoresItAgain) {
  // The race PBS's S3 backend fixed after release: GC has judged a chunk unused and queued its
  // key; a backup inserts the same chunk, finds the object still in the bucket and counts it as
  // a duplicate; the DeleteObjects request then removes it, and the new snapshot references a
  // chunk that is gone. The sweep must hold the chunk's stripe lock from its judgement until the
  // delete has returned, so the insert decides only afterwards, and uploads the chunk again.
  if (!test_store_->remote())
    GTEST_SKIP() << "the filesystem sweep deletes under the lock too, "
                    "but has no request to pause in";
  SnapshotRef old_snap = Image("vm/100", 100, {1});
  ASSERT_TRUE(store_->ForgetSnapshot({}, old_snap).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  const Digest chunk = DigestOfSeed(1);
  std::thread insert;
  bool held_during_delete = false;
  ObjectStoreBackendOptions options = test_store_->BackendOptions();
  options.objects =
      std::make_shared<DeleteHookStore>(options.objects, [&](const std::vector<std::string>& keys) {
        if (std::find(keys.begin(), keys.end(), test_store_->ChunkKey(chunk)) == keys.end()) return;
        ChunkLocks elsewhere(store_->path());  // as another process sees the stripe
        auto attempt = elsewhere.TryLock(chunk);
        held_during_delete = attempt.ok() && !attempt->has_value();
        insert = std::thread([&] {  // a backup of another process, storing the chunk now
          auto other = test_store_->OpenAnother();
          ASSERT_TRUE(other.ok());
          auto inserted = (*other)->backend().chunks().InsertChunk(
              chunk, *EncodeBlob(testing::ChunkOfSeed(1), nullptr, true), ChunkCaching::kCache);
          ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
        });
      });
  auto hooked = Datastore::OpenOnObjectStore(store_->path(), options);
  ASSERT_TRUE(hooked.ok()) << hooked.status().ToString();
  auto status = RunGarbageCollection(**hooked, {});
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_TRUE(insert.joinable()) << "GC did not delete the chunk";
  insert.join();
  EXPECT_TRUE(held_during_delete);
  EXPECT_EQ(Stored(), Digests({1}));
  auto read =
      test_store_->AttachMirror(dir_.Sub("mirror")).value()->backend().chunks().ReadChunk(chunk);
  EXPECT_TRUE(read.ok()) << read.status().ToString();
}

TEST_P(GcTest, RemovingGroupVm100KeepsTheChunksOfVm1000) {
  Image("vm/100", 100, {1, 2});
  Image("vm/1000", 100, {3, 4});
  ASSERT_TRUE(store_->RemoveGroup({}, *BackupGroup::Parse("vm/100")).ok());
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  RunGc();
  EXPECT_EQ(Stored(), Digests({3, 4}));
  for (uint64_t seed : {3, 4}) {
    auto chunk =
        test_store_->OpenAnother().value()->backend().chunks().ReadChunk(DigestOfSeed(seed));
    EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
  }
}

TEST_P(GcTest, AnUnreadableIndexStopsGcBeforeItDeletesAnything) {
  SnapshotRef snap = Image("vm/100", 100, {1, 2});
  Image("vm/200", 100, {3});
  const std::string index =
      JoinPath(store_->path(), Datastore::SnapshotRelPath({}, snap)) + "/disk.img.fidx";
  Bytes bytes = *ReadFile(index);
  bytes[4096] ^= 1;  // the first digest no longer matches the index checksum
  testing::WriteTestFile(index, bytes);
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  GcOptions options;
  options.store_name = "store1";
  auto status = RunGarbageCollection(*store_, options);
  EXPECT_TRUE(status.status().IsCorruption()) << status.status().ToString();
  EXPECT_NE(status.status().message().find("disk.img.fidx"), std::string::npos);
  // Regression (issue 21): the error did not say how to get GC going again.
  EXPECT_NE(
      status.status().message().find("cairn snapshot forget --store store1 " + snap.ToString()),
      std::string::npos)
      << status.status().ToString();
  EXPECT_EQ(Stored(), Digests({1, 2, 3}));
  // Following the advice lets GC run.
  ASSERT_TRUE(store_->ForgetSnapshot({}, snap).ok());
  EXPECT_TRUE(RunGarbageCollection(*store_, options).ok());
}

TEST_P(GcTest, OnlyOneGcRunsAtATime) {
  auto held = store_->locks().LockGarbageCollection();
  ASSERT_TRUE(held.ok());
  auto status = RunGarbageCollection(*store_, {});
  EXPECT_EQ(status.status().code(), Code::kBusy) << status.status().ToString();
  GcOptions bad;
  bad.atime_cutoff_minutes = 0;
  EXPECT_EQ(RunGarbageCollection(*store_, bad).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn

#include "datastore/jobs/verify.h"

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "base/time.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/jobs/gc.h"
#include "testing/snapshot_fixture.h"
#include "types/upid.h"

namespace cairn {
namespace {

using testing::AgeLocalChunkFiles;
using testing::ChunkOfSeed;
using testing::DigestOfSeed;

constexpr int64_t kDay = 86400;

// Verify on every backend: the filesystem, and S3 datastores on moto and s3rver.
class VerifyTest : public testing::SnapshotFixture {
 protected:
  VerifyReport Verify(const VerifyOptions& options = {}, const VerifyTarget& target = {}) {
    auto report = RunVerify(*store_, target, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  static const SnapshotVerifyResult* ResultOf(const VerifyReport& report, const SnapshotRef& snap) {
    for (const auto& r : report.snapshots) {
      if (r.snapshot == snap) return &r;
    }
    ADD_FAILURE() << snap.ToString() << " is not in the report";
    return nullptr;
  }
  static VerifyVerdict VerdictOf(const VerifyReport& report, const SnapshotRef& snap) {
    const SnapshotVerifyResult* r = ResultOf(report, snap);
    return r ? r->verdict : VerifyVerdict::kNotVerified;
  }
  static std::string AllProblems(const VerifyReport& report) {
    std::string all;
    for (const auto& r : report.snapshots) {
      for (const auto& p : r.problems) all += p + "\n";
    }
    return all;
  }

  // The recorded verify_state of a snapshot ({} if none).
  nlohmann::json StateOf(const SnapshotRef& snap) {
    auto manifest = store_->LoadManifest({}, snap);
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    if (!manifest.ok()) return {};
    return manifest->unprotected().value("verify_state", nlohmann::json::object());
  }
  void SetState(const SnapshotRef& snap, const std::string& state, int64_t started) {
    Upid upid = Upid::ForThisProcess("elsewhere", "verify", "store", "root@pam");
    upid.starttime = started;
    ASSERT_TRUE(store_
                    ->UpdateManifest({}, snap,
                                     [&](Manifest& m) {
                                       return m.SetUnprotected(
                                           "verify_state",
                                           {{"state", state}, {"upid", upid.ToString()}});
                                     })
                    .ok());
  }

  uint64_t Gets() {
    auto requests = store_->backend().Stats().requests;
    return requests ? requests->requests_of(RequestKind::kGet) : 0;
  }

  void FlipByte(const Digest& digest) {
    Bytes bytes = test_store_->ReadStoredChunk(digest);
    bytes[bytes.size() / 2] ^= 0x40;
    test_store_->ReplaceStoredChunk(digest, bytes);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, VerifyTest, testing::kAllStoreKinds, testing::PrintStoreKind);

// A verify task stopped by its user ends before the next snapshot with Aborted; the verdicts
// recorded so far stay, and the snapshot it was in the middle of is left as it was.
TEST_P(VerifyTest, ACancelledVerifyStopsBetweenSnapshotsKeepingWhatItRecorded) {
  SnapshotRef a = Image("vm/100", 100, {1, 2});
  SnapshotRef b = Image("vm/100", 200, {3, 4});
  VerifyOptions options;
  std::vector<SnapshotRef> reported;
  options.on_snapshot = [&](const SnapshotVerifyResult& r) {
    reported.push_back(r.snapshot);
    options.job.Cancel();  // stopped after the first snapshot
  };
  auto report = RunVerify(*store_, {}, options);
  EXPECT_EQ(report.status().code(), Code::kAborted) << report.status().ToString();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], b);  // newest first
  EXPECT_EQ(StateOf(b).value("state", ""), "ok");
  EXPECT_TRUE(StateOf(a).empty());
}

TEST_P(VerifyTest, AnIntactStoreVerifiesEachChunkOnceAndRecordsOk) {
  SnapshotRef a = Image("vm/100", 100, {1, 2, 3});
  SnapshotRef b = Image("vm/100", 200, {2, 3, 4});
  SnapshotRef c = Image("vm/200", 100, {5});
  const uint64_t gets_before = Gets();

  VerifyReport report = Verify();
  ASSERT_EQ(report.snapshots.size(), 3u);
  EXPECT_EQ(report.Count(VerifyVerdict::kOk), 3u) << AllProblems(report);
  EXPECT_EQ(report.snapshots[0].snapshot, b);  // newest first within a group
  EXPECT_EQ(report.chunks_checked, 5u);
  EXPECT_EQ(report.corrupt_chunks + report.missing_chunks, 0u);
  if (test_store_->remote()) {
    // Every chunk read once, from the bucket (the cache holds all of them and is not asked).
    EXPECT_EQ(Gets() - gets_before, 5u);
  }
  auto upid = Upid::Parse(report.upid);
  ASSERT_TRUE(upid.ok()) << report.upid;
  EXPECT_EQ(upid->worker_type, "verify");
  for (const SnapshotRef& snap : {a, b, c}) {
    EXPECT_EQ(StateOf(snap), nlohmann::json({{"state", "ok"}, {"upid", report.upid}}));
  }
  // A verify_state survives a reopen (S3: the manifest in the bucket carries it too).
  auto mirror_or_reopen = test_store_->remote() ? test_store_->AttachMirror(dir_.Sub("mirror"))
                                                : test_store_->OpenAnother();
  ASSERT_TRUE(mirror_or_reopen.ok()) << mirror_or_reopen.status().ToString();
  auto manifest = (*mirror_or_reopen)->LoadManifest({}, a);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->unprotected()["verify_state"]["state"], "ok");
}

TEST_P(VerifyTest, FindsEveryInjectedCorruptionAndSetsItAside) {
  SnapshotRef a = Image("vm/100", 100, {1, 2, 3, 4, 5});
  SnapshotRef b = Image("vm/200", 100, {5, 6});
  FlipByte(DigestOfSeed(1));
  Bytes truncated = test_store_->ReadStoredChunk(DigestOfSeed(2));
  truncated.resize(truncated.size() / 2);
  test_store_->ReplaceStoredChunk(DigestOfSeed(2), truncated);
  // A well-formed blob (valid CRC) holding other data: only the digest can tell.
  test_store_->ReplaceStoredChunk(DigestOfSeed(3), *EncodeBlob(ChunkOfSeed(99), nullptr, true));
  test_store_->DeleteStoredChunk(DigestOfSeed(4));

  VerifyReport report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kFailed);
  EXPECT_EQ(VerdictOf(report, b), VerifyVerdict::kOk) << AllProblems(report);
  EXPECT_EQ(report.corrupt_chunks, 3u);
  EXPECT_EQ(report.missing_chunks, 1u);
  EXPECT_EQ(report.set_aside.size(), 3u);
  const std::string problems = AllProblems(report);
  for (uint64_t seed : {1, 2, 3, 4}) {
    EXPECT_NE(problems.find(DigestToHex(DigestOfSeed(seed))), std::string::npos) << seed;
  }
  EXPECT_EQ(StateOf(a)["state"], "failed");
  EXPECT_EQ(StateOf(b)["state"], "ok");
  // The damaged copies are set aside, not deleted; no chunk name points at bad data any more.
  EXPECT_EQ(Stored(), Digests({5, 6}));
  for (uint64_t seed : {1, 2, 3}) {
    EXPECT_TRUE(test_store_->HasBadCopy(DigestOfSeed(seed), 0)) << seed;
  }
  EXPECT_FALSE(test_store_->HasBadCopy(DigestOfSeed(4), 0));

  // Another run finds them missing now, and records nothing new for the intact snapshot.
  report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kFailed);
  EXPECT_EQ(report.missing_chunks, 4u);
  EXPECT_EQ(report.corrupt_chunks, 0u);
}

TEST_P(VerifyTest, ALaterBackupStoresAGoodCopyOfASetAsideChunk) {
  SnapshotRef a = Image("vm/100", 100, {1, 2});
  FlipByte(DigestOfSeed(1));
  EXPECT_EQ(VerdictOf(Verify(), a), VerifyVerdict::kFailed);

  SnapshotRef b = Image("vm/100", 200, {1, 2});  // the backup uploads chunk 1 again
  EXPECT_EQ(Stored(), Digests({1, 2}));
  EXPECT_EQ(*DecodeBlob(test_store_->ReadStoredChunk(DigestOfSeed(1)), nullptr), ChunkOfSeed(1));
  VerifyReport report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kOk) << AllProblems(report);
  EXPECT_EQ(VerdictOf(report, b), VerifyVerdict::kOk) << AllProblems(report);
  EXPECT_EQ(StateOf(a)["state"], "ok");
}

TEST_P(VerifyTest, AChunkGoneFromTheBucketButCachedIsUploadedAgain) {
  if (!test_store_->remote()) GTEST_SKIP() << "S3 only: the cache could hide a missing object";
  SnapshotRef a = Image("vm/100", 100, {1, 2});
  ASSERT_TRUE(test_store_->objects()->Delete(test_store_->ChunkKey(DigestOfSeed(1))).ok());
  ASSERT_TRUE(
      store_->backend().chunks().ReadChunk(DigestOfSeed(1)).ok());  // the cache still serves it

  VerifyReport report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kFailed);
  EXPECT_EQ(report.missing_chunks, 1u);
  // The cached copy is dropped with the claim that the bucket has it, so the next backup
  // uploads the chunk instead of deduplicating against the cache.
  EXPECT_FALSE(PathExists(test_store_->LocalChunkPath(DigestOfSeed(1))).value());
  Image("vm/100", 200, {1, 2});
  EXPECT_EQ(Stored(), Digests({1, 2}));
  EXPECT_EQ(Verify().Count(VerifyVerdict::kOk), 2u);
}

TEST_P(VerifyTest, EncryptedChunksAreCheckedByCrcAndCryptMode) {
  EncryptionKey key{};
  key.fill(7);
  CryptConfig crypt(key);
  SnapshotRef a = Image("vm/100", 100, {1, 2, 3}, &crypt);
  EXPECT_EQ(Verify().Count(VerifyVerdict::kOk), 1u);

  const Digest flipped = crypt.ComputeDigest(ChunkOfSeed(1));
  FlipByte(flipped);
  // An unencrypted blob under an encrypted chunk's name: its CRC is fine, its mode is not.
  const Digest plain = crypt.ComputeDigest(ChunkOfSeed(2));
  test_store_->ReplaceStoredChunk(plain, *EncodeBlob(ChunkOfSeed(2), nullptr, true));

  VerifyReport report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kFailed);
  EXPECT_EQ(report.corrupt_chunks, 2u) << AllProblems(report);
  EXPECT_NE(AllProblems(report).find("stored unencrypted"), std::string::npos)
      << AllProblems(report);
  EXPECT_TRUE(test_store_->HasBadCopy(flipped, 0));
  EXPECT_TRUE(test_store_->HasBadCopy(plain, 0));
}

TEST_P(VerifyTest, IgnoreVerifiedSkipsRecentPassesAndRetriesFailures) {
  SnapshotRef a = Image("vm/100", 100, {1});
  SnapshotRef b = Image("vm/100", 200, {2});
  SnapshotRef c = Image("vm/100", 300, {3});
  SetState(a, "ok", NowEpoch() - 10 * kDay);
  SetState(b, "failed", NowEpoch());

  VerifyOptions options;
  options.ignore_verified = true;
  VerifyReport report = Verify(options);
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kSkipped);
  EXPECT_EQ(VerdictOf(report, b), VerifyVerdict::kOk);  // failed before: checked again
  EXPECT_EQ(VerdictOf(report, c), VerifyVerdict::kOk);  // never verified
  EXPECT_EQ(report.chunks_checked, 2u);

  options.outdated_after_days = 30;
  EXPECT_EQ(VerdictOf(Verify(options), a), VerifyVerdict::kSkipped);
  options.outdated_after_days = 5;
  report = Verify(options);
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kOk);
  EXPECT_EQ(report.Count(VerifyVerdict::kSkipped), 2u);  // b and c passed a moment ago
  options.outdated_after_days = 0;
  EXPECT_EQ(Verify(options).Count(VerifyVerdict::kOk), 3u);
}

TEST_P(VerifyTest, TargetsAGroupOrOneSnapshot) {
  SnapshotRef a = Image("vm/100", 100, {1});
  SnapshotRef b = Image("vm/100", 200, {2});
  Image("vm/1000", 100, {3});
  VerifyTarget group;
  group.group = *BackupGroup::Parse("vm/100");
  VerifyReport report = Verify({}, group);
  ASSERT_EQ(report.snapshots.size(), 2u);
  EXPECT_EQ(report.snapshots[0].snapshot, b);
  EXPECT_EQ(report.snapshots[1].snapshot, a);

  VerifyTarget one;
  one.snapshot = a;
  report = Verify({}, one);
  ASSERT_EQ(report.snapshots.size(), 1u);
  EXPECT_EQ(report.snapshots[0].snapshot, a);

  one.snapshot = *SnapshotRef::Make(*BackupGroup::Parse("vm/100"), 150);
  EXPECT_TRUE(RunVerify(*store_, one, {}).status().IsNotFound());
  VerifyTarget absent;
  absent.ns = *BackupNamespace::Parse("nowhere");
  EXPECT_TRUE(RunVerify(*store_, absent, {}).status().IsNotFound());
  VerifyOptions bad;
  bad.verify_threads = 0;
  EXPECT_EQ(RunVerify(*store_, {}, bad).status().code(), Code::kInvalidArgument);
}

TEST_P(VerifyTest, ASnapshotLockedForRemovalIsSkipped) {
  SnapshotRef a = Image("vm/100", 100, {1});
  auto held = store_->locks().LockSnapshot({}, a, LockMode::kExclusive);
  ASSERT_TRUE(held.ok());
  VerifyReport report = Verify();
  EXPECT_EQ(VerdictOf(report, a), VerifyVerdict::kSkipped);
  EXPECT_TRUE(StateOf(a).empty());
}

TEST_P(VerifyTest, SettingAsideRechecksUnderTheLockAndNumbersBadCopies) {
  Image("vm/100", 100, {1});
  const Digest d = DigestOfSeed(1);
  auto accept = [](ByteView) { return Status::OK(); };
  auto reject = [](ByteView) { return Status::Corruption("test says bad"); };

  // An upload replaced the damaged copy between the read and the rename: leave it.
  auto outcome = store_->backend().repair().SetAsideCorruptChunk(d, accept);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->action, CorruptChunkAction::kRepaired);
  EXPECT_EQ(Stored(), Digests({1}));

  for (int n = 0; n < 2; ++n) {
    outcome = store_->backend().repair().SetAsideCorruptChunk(d, reject);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(outcome->action, CorruptChunkAction::kSetAside);
    EXPECT_TRUE(outcome->bad_name.ends_with(DigestToHex(d) + "." + std::to_string(n) + ".bad"))
        << outcome->bad_name;
    EXPECT_TRUE(test_store_->HasBadCopy(d, n));
    EXPECT_EQ(Stored(), Digests({}));
    Image("vm/100", 200 + n, {1});  // stored again
  }
  outcome = store_->backend().repair().SetAsideCorruptChunk(DigestOfSeed(42), reject);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->action, CorruptChunkAction::kMissing);
}

TEST_P(VerifyTest, GcKeepsAReferencedBadCopyUntilAGoodCopyIsBack) {
  Image("vm/100", 100, {1, 2});
  FlipByte(DigestOfSeed(1));
  Verify();
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  auto gc = RunGarbageCollection(*store_, {});
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->sweep.still_bad, 1u);
  EXPECT_EQ(gc->sweep.removed_bad, 0u);
  EXPECT_TRUE(test_store_->HasBadCopy(DigestOfSeed(1), 0));

  Image("vm/100", 200, {1, 2});
  AgeLocalChunkFiles(store_->path(), 2 * kDay);
  gc = RunGarbageCollection(*store_, {});
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->sweep.removed_bad, 1u);
  EXPECT_FALSE(test_store_->HasBadCopy(DigestOfSeed(1), 0));
  EXPECT_EQ(Stored(), Digests({1, 2}));
}

TEST_P(VerifyTest, AFreshCacheKeepsMarkingAReferencedBadObject) {
  // Found in review: a cache attached afresh (--reuse) has no local trace of a bad object, so
  // GC judged it by its LastModified alone and would delete it a day after the rename, while
  // a snapshot still referenced it. Now the mark phase's `.using` note makes the sweep keep it
  // and give it a local marker, which later marks touch.
  if (!test_store_->remote()) GTEST_SKIP() << "S3 only";
  Image("vm/100", 100, {1, 2});
  FlipByte(DigestOfSeed(1));
  Verify();
  auto mirror = test_store_->AttachMirror(dir_.Sub("mirror"));
  ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
  auto gc = RunGarbageCollection(**mirror, {});
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->sweep.still_bad, 1u);
  EXPECT_EQ(gc->missing_chunks, 1u);
  const std::string marker =
      JoinPath(dir_.Sub("mirror"), ChunkStore::RelativeChunkPath(DigestOfSeed(1))) + ".0.bad";
  EXPECT_TRUE(PathExists(marker).value());
  EXPECT_TRUE(test_store_->HasBadCopy(DigestOfSeed(1), 0));
}

}  // namespace
}  // namespace cairn

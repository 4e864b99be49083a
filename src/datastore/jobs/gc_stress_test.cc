// Stress: backups, garbage collection, verify, chunk reads and cache eviction running together
// on one store, on every backend, and afterwards every finished snapshot must have all its
// chunks, intact. Each round stores a pool of unreferenced chunks and makes them look two days old,
// so GC is busy deleting exactly the chunks that concurrent backups are deduplicating against (the
// insert-vs-sweep race); S3 stores get a cache of a few chunks so that eviction runs all the time
// (eviction-vs-sweep), and a reader pulls finished snapshots' chunks into the cache
// (read-vs-sweep). Meanwhile a verifier damages a few chunks of finished snapshots (bit rot) and
// verifies the whole store again and again: it must blame exactly the damaged chunks and set
// them aside while inserts, sweeps and evictions run; after the round, storing the damaged
// chunks again (as the next backup of that data would) must make every snapshot verify.
// Every thread uses a Datastore object of its own, as separate processes
// would. The assertions hold whatever the interleaving, so the test does not depend on timing.
//
// Length: CAIRN_STRESS_ROUNDS rounds (default 1, as in CI); scripts/stress runs it longer and
// under ThreadSanitizer.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/file_util.h"
#include "base/time.h"
#include "datastore/backend/chunk_sweep.h"
#include "datastore/jobs/gc.h"
#include "datastore/jobs/verify.h"
#include "datastore/snapshot_writer.h"
#include "format/data_blob.h"
#include "format/fixed_index.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::StoreKind;

constexpr uint64_t kChunk = 4096;
constexpr int kPoolSize = 150;
constexpr int kBackupThreads = 3;
constexpr int kBackupsPerThread = 4;
constexpr int kChunksPerBackup = 24;
constexpr int kDamagePerRound = 3;

int Rounds() {
  const char* env = std::getenv("CAIRN_STRESS_ROUNDS");
  return env != nullptr ? std::max(1, std::atoi(env)) : 1;
}

struct Finished {
  BackupGroup group;
  SnapshotRef snapshot;
};

class GcStressTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    test_store_ = testing::TestStore::Create(GetParam(), dir_.Sub("store"), 16 * kChunk);
    ASSERT_NE(test_store_, nullptr);
  }

  std::unique_ptr<Datastore> Open() {
    auto store = test_store_->OpenAnother();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // One backup: half of its chunks from the pool (old and unreferenced: GC may be deleting them
  // right now), half new.
  Status Backup(Datastore& store, const BackupGroup& group, int64_t time, std::mt19937_64& rng,
                uint64_t first_new_seed, std::vector<Finished>& done) {
    CAIRN_ASSIGN_OR_RETURN(
        auto writer,
        SnapshotWriter::Begin(store, {}, group, time, "root@pam",
                              rng() % 2 ? ChunkCaching::kCache : ChunkCaching::kMarkerOnly));
    CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder index, FixedIndexBuilder::Create(kChunk));
    for (int i = 0; i < kChunksPerBackup; ++i) {
      // Backups draw from the first half of the pool only: the second half is garbage for sure.
      const uint64_t seed = i % 2 ? first_new_seed + i : rng() % (kPoolSize / 2);
      const Bytes plain = testing::RandomBytes(kChunk, seed);
      CAIRN_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(plain, nullptr, true));
      CAIRN_RETURN_IF_ERROR(writer->InsertChunk(Sha256Of(plain), blob, plain.size()).status());
      CAIRN_RETURN_IF_ERROR(index.Append(Sha256Of(plain), kChunk));
    }
    CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder::Output out, index.Finish());
    CAIRN_RETURN_IF_ERROR(writer->WriteArchive("disk.img.fidx", out.bytes));
    CAIRN_ASSIGN_OR_RETURN(Manifest manifest, Manifest::Create("vm", group.id, time));
    ManifestFile file;
    file.filename = "disk.img.fidx";
    file.size = index.size();
    file.csum = out.csum;
    CAIRN_RETURN_IF_ERROR(manifest.AddOrReplaceFile(file));
    CAIRN_RETURN_IF_ERROR(writer->Finish(manifest));
    done.push_back({group, writer->snapshot()});
    return Status::OK();
  }

  static Result<FixedIndex> IndexOf(Datastore& store, const SnapshotRef& snap) {
    CAIRN_ASSIGN_OR_RETURN(Bytes bytes, store.ReadSnapshotFile({}, snap, "disk.img.fidx"));
    return FixedIndex::Parse(bytes, "disk.img.fidx");
  }

  // Reads every chunk of `snap` through `store` and checks its digest; the chunks the test
  // damaged on purpose may fail.
  Status CheckSnapshot(Datastore& store, const SnapshotRef& snap) {
    CAIRN_ASSIGN_OR_RETURN(FixedIndex index, IndexOf(store, snap));
    for (const Digest& digest : index.digests()) {
      auto blob = store.backend().chunks().ReadChunk(digest);
      Status st = blob.ok() ? VerifyChunkBlob(*blob, digest).status() : blob.status();
      if (!st.ok() && !Damaged(digest)) return st;
    }
    return Status::OK();
  }

  bool Damaged(const Digest& digest) {
    std::lock_guard lock(damaged_mu_);
    return damaged_.count(digest) != 0;
  }

  // Flips a byte of a stored chunk of one of `candidates`, remembering its good copy.
  void DamageAChunk(Datastore& store, const std::vector<Finished>& candidates,
                    std::mt19937_64& rng) {
    auto index = IndexOf(store, candidates[rng() % candidates.size()].snapshot);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    const Digest digest = index->digest(rng() % index->chunk_count());
    if (Damaged(digest)) return;
    Bytes stored = test_store_->ReadStoredChunk(digest);
    ASSERT_TRUE(VerifyChunkBlob(stored, digest).ok());
    {
      std::lock_guard lock(damaged_mu_);
      damaged_.emplace(digest, stored);
    }
    stored[stored.size() / 2] ^= 0x10;
    test_store_->ReplaceStoredChunk(digest, stored);
  }

  bool BlamesADamagedChunk(const std::string& message) {
    std::lock_guard lock(damaged_mu_);
    for (const auto& [digest, good] : damaged_) {
      if (message.find(DigestToHex(digest)) != std::string::npos) return true;
    }
    return false;
  }

  // Every problem a verify run reports must be about a chunk the test damaged.
  void ExpectOnlyDamagedChunksBlamed(const VerifyReport& report) {
    EXPECT_EQ(report.Count(VerifyVerdict::kNotVerified), 0u);
    for (const SnapshotVerifyResult& r : report.snapshots) {
      if (r.verdict != VerifyVerdict::kFailed) continue;
      for (const std::string& problem : r.problems) {
        EXPECT_TRUE(problem.starts_with("... and ") || BlamesADamagedChunk(problem))
            << r.snapshot.ToString() << ": " << problem;
      }
    }
  }

  std::mutex damaged_mu_;
  std::map<Digest, Bytes> damaged_;  // digest -> its good encoded copy

  testing::TempDir dir_;
  std::unique_ptr<testing::TestStore> test_store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, GcStressTest, testing::kAllStoreKinds, testing::PrintStoreKind);

TEST_P(GcStressTest, BackupsGcVerifyReadsAndEvictionTogetherLoseNothing) {
  Datastore& main_store = test_store_->store();
  std::vector<Finished> finished;
  std::mt19937_64 rng(20261123);
  uint64_t gc_runs = 0, removed = 0, verify_runs = 0;
  for (int round = 0; round < Rounds(); ++round) {
    // The pool: stored, referenced by nothing, last marked two days ago.
    for (int seed = 0; seed < kPoolSize; ++seed) {
      const Bytes plain = testing::RandomBytes(kChunk, seed);
      ASSERT_TRUE(
          main_store.backend()
              .chunks()
              .InsertChunk(Sha256Of(plain), *EncodeBlob(plain, nullptr, true), ChunkCaching::kCache)
              .ok());
    }
    const int64_t two_days_ago = NowEpoch() - 2 * 86400;
    ASSERT_TRUE(
        ForEachLocalChunkFile(JoinPath(main_store.path(), ".chunks"), [&](const std::string& path,
                                                                          const ChunkFileName&) {
          const struct timespec t[2] = {{two_days_ago, 0}, {two_days_ago, 0}};
          ::utimensat(AT_FDCWD, path.c_str(), t, 0);
          return Status::OK();
        }).ok());

    std::atomic<int> backups_running{kBackupThreads};
    std::atomic<int> gc_runs_this_round{0};
    std::mutex done_mu;
    std::vector<Finished> live;  // this round's finished snapshots, as they finish
    std::vector<std::thread> threads;
    for (int t = 0; t < kBackupThreads; ++t) {
      threads.emplace_back([&, t, seed = rng()] {
        std::mt19937_64 thread_rng(seed);
        auto store = Open();
        std::vector<Finished> done;
        const BackupGroup group = *BackupGroup::Parse("vm/" + std::to_string(100 + t));
        // Until GC has run twice meanwhile, so the two surely overlap (at most 40 backups).
        for (int k = 0; store && k < 40 && (k < kBackupsPerThread || gc_runs_this_round < 2); ++k) {
          const int64_t time = 1000000 + round * 1000 + k;
          const uint64_t first_new = 1000000 + (round * 1000 + t * 100 + k) * 1000;
          Status st = Backup(*store, group, time, thread_rng, first_new, done);
          // A backup that deduplicated against a chunk verify then set aside fails, saying so.
          EXPECT_TRUE(st.ok() || (st.message().find("set aside") != std::string::npos &&
                                  BlamesADamagedChunk(st.message())))
              << st.ToString();
          if (st.ok()) {
            std::lock_guard lock(done_mu);
            live.push_back(done.back());
          }
        }
        std::lock_guard lock(done_mu);
        finished.insert(finished.end(), done.begin(), done.end());
        backups_running--;
      });
    }
    threads.emplace_back([&] {  // GC, at least once, and again and again while backups run
      auto store = Open();
      if (!store) return;
      do {
        auto status = RunGarbageCollection(*store, {});
        EXPECT_TRUE(status.ok()) << status.status().ToString();
        if (!status.ok()) break;
        gc_runs++;
        gc_runs_this_round++;
        removed += status->sweep.removed_chunks;
      } while (backups_running > 0);
    });
    threads.emplace_back([&] {  // a reader pulling earlier rounds' snapshots through the cache
      auto store = Open();
      std::vector<Finished> earlier;
      {
        std::lock_guard lock(done_mu);
        earlier = finished;
      }
      for (size_t i = 0; store && backups_running > 0 && !earlier.empty(); ++i) {
        Status st = CheckSnapshot(*store, earlier[i % earlier.size()].snapshot);
        EXPECT_TRUE(st.ok()) << st.ToString();
      }
    });
    threads.emplace_back([&, seed = rng()] {  // bit rot, and verify runs finding it
      std::mt19937_64 damage_rng(seed);
      auto store = Open();
      VerifyOptions options;
      options.read_threads = 3;
      int damaged_this_round = 0;
      do {
        std::vector<Finished> candidates;
        {
          std::lock_guard lock(done_mu);
          candidates = finished;
          candidates.insert(candidates.end(), live.begin(), live.end());
        }
        ASSERT_NE(store, nullptr);
        if (!candidates.empty() && damaged_this_round < kDamagePerRound) {
          DamageAChunk(*store, candidates, damage_rng);
          damaged_this_round++;
        }
        auto report = RunVerify(*store, {}, options);
        ASSERT_TRUE(report.ok()) << report.status().ToString();
        ExpectOnlyDamagedChunksBlamed(*report);
        verify_runs++;
      } while (backups_running > 0);
    });
    for (auto& thread : threads) thread.join();
    ASSERT_FALSE(HasFailure());

    // Repair: verify sets aside what is still damaged (on S3 a marker would otherwise keep a
    // backup from uploading the chunk), then the chunks are stored again as a backup would, and
    // everything verifies.
    auto repair = Open();
    ASSERT_NE(repair, nullptr);
    ASSERT_TRUE(RunVerify(*repair, {}, {}).ok());
    for (const auto& [digest, good] : damaged_) {
      ASSERT_TRUE(repair->backend().chunks().InsertChunk(digest, good, ChunkCaching::kCache).ok());
    }
    auto verified = RunVerify(*repair, {}, {});
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->Count(VerifyVerdict::kFailed), 0u);
    EXPECT_EQ(verified->Count(VerifyVerdict::kOk), finished.size());
    {
      std::lock_guard lock(damaged_mu_);
      damaged_.clear();
    }

    // Every finished snapshot is whole, seen from a fresh object (and, for S3, from the bucket
    // through a cache attached afresh).
    auto fresh = Open();
    ASSERT_NE(fresh, nullptr);
    for (const Finished& f : finished) {
      Status st = CheckSnapshot(*fresh, f.snapshot);
      ASSERT_TRUE(st.ok()) << "round " << round << " " << f.snapshot.ToString() << ": "
                           << st.ToString();
    }
    if (test_store_->remote()) {
      auto mirror = test_store_->AttachMirror(dir_.Sub("mirror" + std::to_string(round)));
      ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
      for (const Finished& f : finished) ASSERT_TRUE(CheckSnapshot(**mirror, f.snapshot).ok());
    }
    // Forget about half of them, as a prune would, for the next round's GC to collect.
    std::vector<Finished> kept;
    for (const Finished& f : finished) {
      if (rng() % 2) {
        ASSERT_TRUE(main_store.ForgetSnapshot({}, f.snapshot).ok());
      } else {
        kept.push_back(f);
      }
    }
    finished = kept;
  }
  // The second half of each round's pool is garbage: GC did delete while backups ran.
  EXPECT_GE(gc_runs, static_cast<uint64_t>(Rounds()));
  EXPECT_GE(verify_runs, static_cast<uint64_t>(Rounds()));
  EXPECT_GT(removed, 0u);
}

}  // namespace
}  // namespace cairn

// Stress: backups, garbage collection, chunk reads and cache eviction running together on one
// store, on every backend, and afterwards every finished snapshot must have all its chunks,
// intact. Each round stores a pool of unreferenced chunks and makes them look two days old, so
// GC is busy deleting exactly the chunks that concurrent backups are deduplicating against
// (the insert-vs-sweep race); S3 stores get a cache of a few chunks so that eviction runs all
// the time (eviction-vs-sweep), and a reader pulls finished snapshots' chunks into the cache
// (read-vs-sweep). Every thread uses a Datastore object of its own, as separate processes
// would. The assertions hold whatever the interleaving, so the test does not depend on timing.
//
// Length: CAIRN_STRESS_ROUNDS rounds (default 1, as in CI); scripts/stress runs it longer and
// under ThreadSanitizer.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "base/file_util.h"
#include "base/time.h"
#include "datastore/gc.h"
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
    CAIRN_ASSIGN_OR_RETURN(auto writer,
                           SnapshotWriter::Begin(store, {}, group, time, "root@pam",
                                                 rng() % 2 ? ChunkCaching::kCache
                                                           : ChunkCaching::kMarkerOnly));
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

  // Reads every chunk of `snap` through `store` and checks its digest.
  static Status CheckSnapshot(Datastore& store, const SnapshotRef& snap) {
    CAIRN_ASSIGN_OR_RETURN(Bytes bytes, store.ReadSnapshotFile({}, snap, "disk.img.fidx"));
    CAIRN_ASSIGN_OR_RETURN(FixedIndex index, FixedIndex::Parse(bytes, "disk.img.fidx"));
    for (const Digest& digest : index.digests()) {
      CAIRN_ASSIGN_OR_RETURN(Bytes blob, store.backend().ReadChunk(digest));
      CAIRN_RETURN_IF_ERROR(VerifyChunkBlob(blob, digest).status());
    }
    return Status::OK();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestStore> test_store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, GcStressTest, testing::kAllStoreKinds,
                         testing::PrintStoreKind);

TEST_P(GcStressTest, BackupsGcReadsAndEvictionTogetherLoseNothing) {
  Datastore& main_store = test_store_->store();
  std::vector<Finished> finished;
  std::mt19937_64 rng(20261123);
  uint64_t gc_runs = 0, removed = 0;
  for (int round = 0; round < Rounds(); ++round) {
    // The pool: stored, referenced by nothing, last marked two days ago.
    for (int seed = 0; seed < kPoolSize; ++seed) {
      const Bytes plain = testing::RandomBytes(kChunk, seed);
      ASSERT_TRUE(main_store.backend()
                      .InsertChunk(Sha256Of(plain), *EncodeBlob(plain, nullptr, true),
                                   ChunkCaching::kCache)
                      .ok());
    }
    const int64_t two_days_ago = NowEpoch() - 2 * 86400;
    ASSERT_TRUE(ForEachLocalChunkFile(JoinPath(main_store.path(), ".chunks"),
                                      [&](const std::string& path, const ChunkFileName&) {
                                        const struct timespec t[2] = {{two_days_ago, 0},
                                                                      {two_days_ago, 0}};
                                        ::utimensat(AT_FDCWD, path.c_str(), t, 0);
                                        return Status::OK();
                                      }).ok());

    std::atomic<int> backups_running{kBackupThreads};
    std::atomic<int> gc_runs_this_round{0};
    std::mutex done_mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < kBackupThreads; ++t) {
      threads.emplace_back([&, t, seed = rng()] {
        std::mt19937_64 thread_rng(seed);
        auto store = Open();
        std::vector<Finished> done;
        const BackupGroup group = *BackupGroup::Parse("vm/" + std::to_string(100 + t));
        // Until GC has run twice meanwhile, so the two surely overlap (at most 40 backups).
        for (int k = 0; store && k < 40 && (k < kBackupsPerThread || gc_runs_this_round < 2);
             ++k) {
          const int64_t time = 1000000 + round * 1000 + k;
          const uint64_t first_new = 1000000 + (round * 1000 + t * 100 + k) * 1000;
          Status st = Backup(*store, group, time, thread_rng, first_new, done);
          EXPECT_TRUE(st.ok()) << st.ToString();
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
    for (auto& thread : threads) thread.join();
    ASSERT_FALSE(HasFailure());

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
  EXPECT_GT(removed, 0u);
}

}  // namespace
}  // namespace cairn

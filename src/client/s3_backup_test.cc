// Backups into S3 datastores: what only a cached, remote backend has (the bounded cache,
// no-cache backups, read-through restores) and backups while the network misbehaves.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "base/file_util.h"
#include "client/backup.h"
#include "client/local_repository.h"
#include "client/restore.h"
#include "format/fixed_index.h"
#include "storage/s3_object_store.h"
#include "testing/fault_proxy.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::StoreKind;
using testing::TestStore;

constexpr uint64_t kChunk = 64 << 10;

BackupOptions Options(const std::string& group, int64_t time, bool no_cache = false) {
  BackupOptions opt;
  opt.group = *BackupGroup::Parse(group);
  opt.backup_time = time;
  opt.chunk_size = kChunk;
  opt.no_cache = no_cache;
  return opt;
}

Status Restore(Repository& repo, const SnapshotRef& snap, const std::string& target) {
  RestoreOptions options;
  options.overwrite = true;  // the same target, restore after restore
  return RestoreArchive(repo, BackupNamespace(), snap, "disk.img", target, options).status();
}

struct LocalChunks {
  uint64_t files = 0, markers = 0, bytes = 0;
};

// What the cache directory holds: chunk files with content, and empty markers.
LocalChunks CountLocalChunks(const std::string& store_path) {
  LocalChunks out;
  for (auto& e : std::filesystem::recursive_directory_iterator(store_path + "/.chunks")) {
    if (!e.is_regular_file() || e.path().filename().string().size() != 64) continue;
    if (e.file_size() == 0) {
      out.markers++;
    } else {
      out.files++;
      out.bytes += e.file_size();
    }
  }
  return out;
}

class S3BackupTest : public ::testing::Test {
 protected:
  void Make(uint64_t max_cache_size = 0) {
    store_ = TestStore::Create(StoreKind::kMoto, dir_.Sub("store"), max_cache_size);
    ASSERT_TRUE(store_->remote());
    repo_ = NewLocalRepository(store_->store());
  }
  void Reopen() {
    store_->Reopen();
    repo_ = NewLocalRepository(store_->store());
  }
  CacheStats Cache() { return *store_->store().backend().Stats().cache; }

  testing::TempDir dir_;
  std::unique_ptr<TestStore> store_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(S3BackupTest, CacheStaysWithinMaxCacheSizeAndLargerRestoresComplete) {
  constexpr uint64_t kBound = 8 * kChunk + 1000;  // room for 8 of the 40 chunks
  Make(kBound);
  Bytes data = testing::RandomBytes(40 * kChunk, 1);
  testing::WriteTestFile(dir_.Sub("in.img"), data);
  auto summary = RunBackup(*repo_, Options("vm/1", 100), {{"disk.img", dir_.Sub("in.img")}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  LocalChunks local = CountLocalChunks(dir_.Sub("store"));
  EXPECT_LE(local.bytes, kBound);
  EXPECT_EQ(local.files + local.markers, 40u);  // evicted chunks leave markers for GC
  EXPECT_GE(local.files, 7u);
  EXPECT_EQ(Cache().evictions, 40 - local.files);
  EXPECT_EQ(store_->StoredChunks().size(), 40u);

  // A later process (fresh LRU, rebuilt from disk) restores more than fits in the cache.
  Reopen();
  ASSERT_TRUE(Restore(*repo_, summary->snapshot, dir_.Sub("out.img")).ok());
  EXPECT_EQ(*ReadFile(dir_.Sub("out.img")), data);
  EXPECT_LE(CountLocalChunks(dir_.Sub("store")).bytes, kBound);
  EXPECT_GE(Cache().misses, 32u);
}

TEST_F(S3BackupTest, NoCacheBackupLeavesMarkersAndDeduplicatesAgainstThem) {
  Make();
  Bytes data = testing::RandomBytes(12 * kChunk, 2);
  testing::WriteTestFile(dir_.Sub("in.img"), data);
  auto first = RunBackup(*repo_, Options("vm/1", 100, /*no_cache=*/true),
                         {{"disk.img", dir_.Sub("in.img")}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  LocalChunks local = CountLocalChunks(dir_.Sub("store"));
  EXPECT_EQ(local.files, 0u);
  EXPECT_EQ(local.markers, 12u);
  EXPECT_EQ(store_->StoredChunks().size(), 12u);

  // Another group with the same data: the markers say "stored", so no chunk is uploaded.
  const uint64_t puts_before = store_->objects()->Stats().requests_of(RequestKind::kPut);
  auto second = RunBackup(*repo_, Options("vm/2", 100), {{"disk.img", dir_.Sub("in.img")}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->archives[0].chunks.duplicates, 12u);
  const uint64_t puts = store_->objects()->Stats().requests_of(RequestKind::kPut) - puts_before;
  EXPECT_EQ(puts, 3u);  // owner, index and manifest: metadata only

  ASSERT_TRUE(Restore(*repo_, first->snapshot, dir_.Sub("out.img")).ok());
  EXPECT_EQ(*ReadFile(dir_.Sub("out.img")), data);
}

TEST_F(S3BackupTest, RestoreReadsThroughTheCache) {
  Make();
  Bytes data = testing::RandomBytes(6 * kChunk, 3);
  testing::WriteTestFile(dir_.Sub("in.img"), data);
  auto summary = RunBackup(*repo_, Options("vm/1", 100), {{"disk.img", dir_.Sub("in.img")}});
  ASSERT_TRUE(summary.ok());
  ASSERT_TRUE(RemoveTree(dir_.Sub("store/.chunks")).ok());  // the cache is lost
  ASSERT_TRUE(ChunkStore(dir_.Sub("store")).Create().ok());
  Reopen();
  const uint64_t gets_before = store_->objects()->Stats().requests_of(RequestKind::kGet);
  ASSERT_TRUE(Restore(*repo_, summary->snapshot, dir_.Sub("a.img")).ok());
  EXPECT_EQ(Cache().misses, 6u);
  EXPECT_EQ(store_->objects()->Stats().requests_of(RequestKind::kGet) - gets_before, 6u);
  ASSERT_TRUE(Restore(*repo_, summary->snapshot, dir_.Sub("b.img")).ok());
  EXPECT_EQ(Cache().hits, 6u);
  EXPECT_EQ(*ReadFile(dir_.Sub("b.img")), data);
}

// Under the fault proxy (5xx, resets, replies lost after the store) every backup either
// finishes complete or leaves no visible snapshot. (A backup whose manifest was stored but whose
// reply, and then its cleanup, were lost reports failure yet is visible: that is allowed, as
// long as it is complete; the manifest is uploaded last.) Afterwards the bucket holds every chunk a
// visible snapshot references, and a cache attached from the bucket restores them all.
TEST(S3FaultBackupTest, BackupsAreCompleteOrInvisible) {
  testing::FaultProxy proxy;
  ASSERT_TRUE(proxy.started());
  testing::TempDir dir;
  const std::string bucket = testing::UniqueBucketName("faults");
  auto open_objects = [&]() -> std::shared_ptr<ObjectStore> {
    s3::S3ClientOptions options;
    options.retry = {.max_attempts = 4, .base_delay = 0.01, .max_delay = 0.5};
    options.transport.min_timeout = 60;
    auto client = s3::S3Client::Create(proxy.peer().config, bucket, options);
    EXPECT_TRUE(client.ok());
    return std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(*client), "proxy"));
  };
  auto objects = open_objects();
  {
    auto client = s3::S3Client::Create(proxy.peer().config, bucket);
    ASSERT_TRUE((*client)->CreateBucket().ok());
  }
  ObjectStoreDatastoreOptions options;
  options.backend = {"faulty", objects, 0};
  options.hostname = "test-host";
  auto store = Datastore::CreateOnObjectStore(dir.Sub("store"), options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto repo = NewLocalRepository(**store);

  std::map<int64_t, Bytes> attempted;
  std::set<int64_t> finished;
  int failed = 0;
  const nlohmann::json kinds = {"500", "503", "reset", "lost_reply", "truncate"};
  for (int round = 0; round < 10; ++round) {
    // Mostly 10% faults, which retries absorb; some rounds at 60%, which they cannot.
    proxy.SetFaults({{"rate", round % 3 == 2 ? 0.7 : 0.1}, {"kinds", kinds}, {"seed", round}});
    Bytes data = testing::RandomBytes(10 * kChunk + round, 100 + round);
    testing::WriteTestFile(dir.Sub("in.img"), data);
    const int64_t time = 1000 + round;
    auto summary = RunBackup(*repo, Options("vm/100", time), {{"disk.img", dir.Sub("in.img")}});
    attempted[time] = data;
    if (summary.ok()) {
      finished.insert(time);
    } else {
      ++failed;
      EXPECT_TRUE(summary.status().retryable()) << summary.status().ToString();
    }
  }
  proxy.SetFaults({{"rate", 0}});
  EXPECT_GE(finished.size(), 3u);
  EXPECT_GE(failed, 1);

  // The bucket's view, from a second cache: exactly the finished snapshots, every chunk there.
  std::set<std::string> keys;
  ASSERT_TRUE(objects
                  ->List({"faulty/"},
                         [&](const StoredObject& o) {
                           keys.insert(o.key);
                           return true;
                         })
                  .ok());
  ObjectStoreDatastoreOptions mirror_options = options;
  mirror_options.reuse = true;
  auto mirror = Datastore::CreateOnObjectStore(dir.Sub("mirror"), mirror_options);
  ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
  auto group = *BackupGroup::Parse("vm/100");
  auto listed = (*mirror)->ListSnapshots(BackupNamespace(), group);
  ASSERT_TRUE(listed.ok());
  std::set<int64_t> visible;
  for (const auto& info : *listed) visible.insert(info.ref.time);
  for (int64_t time : finished) EXPECT_TRUE(visible.count(time)) << time << " is not visible";
  auto mirror_repo = NewLocalRepository(**mirror);
  for (const auto& info : *listed) {
    ASSERT_TRUE(attempted.count(info.ref.time)) << info.ref.ToString();
    auto index_bytes = (*mirror)->ReadSnapshotFile(BackupNamespace(), info.ref, "disk.img.fidx");
    ASSERT_TRUE(index_bytes.ok());
    auto index = FixedIndex::Parse(*index_bytes, "disk.img.fidx");
    ASSERT_TRUE(index.ok());
    for (const Digest& d : index->digests()) {
      EXPECT_TRUE(keys.count("faulty/" + ChunkStore::RelativeChunkPath(d)))
          << info.ref.ToString() << " references a chunk missing in the bucket";
    }
    ASSERT_TRUE(Restore(*mirror_repo, info.ref, dir.Sub("out.img")).ok());
    EXPECT_EQ(*ReadFile(dir.Sub("out.img")), attempted[info.ref.time]);
  }

  // And the store takes the next backup.
  auto next = RunBackup(*repo, Options("vm/100", 5000), {{"disk.img", dir.Sub("in.img")}});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(Restore(*repo, next->snapshot, dir.Sub("next.img")).ok());
  EXPECT_EQ(*ReadFile(dir.Sub("next.img")), *ReadFile(dir.Sub("in.img")));
}

}  // namespace
}  // namespace cairn

#include "datastore/backend/chunk_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file_util.h"
#include "format/data_blob.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

class ChunkCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ChunkStore(dir_.path()).Create().ok()); }

  // A chunk blob of about `size` bytes and its digest.
  std::pair<Digest, Bytes> Chunk(uint64_t seed, size_t size = 1000) {
    Bytes plain = testing::RandomBytes(size, seed);
    return {Sha256Of(plain), *EncodeBlob(plain, nullptr, false)};
  }
  uint64_t FileSize(const Digest& d) {
    struct stat st;
    EXPECT_EQ(::stat(ChunkStore(dir_.path()).ChunkPath(d).c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_size);
  }

  testing::TempDir dir_;
  ChunkLocks locks_{dir_.path()};
};

TEST_F(ChunkCacheTest, EvictsLeastRecentlyUsedToMarkers) {
  auto [a, blob_a] = Chunk(1);
  auto [b, blob_b] = Chunk(2);
  auto [c, blob_c] = Chunk(3);
  ChunkCache cache(dir_.path(), 2 * blob_a.size() + 10, locks_);
  ASSERT_TRUE(cache.Put(a, blob_a).ok());
  ASSERT_TRUE(cache.Put(b, blob_b).ok());
  ASSERT_TRUE(cache.Get(a)->has_value());  // a is now more recent than b
  ASSERT_TRUE(cache.Put(c, blob_c).ok());  // over the bound: b goes
  EXPECT_EQ(FileSize(b), 0u);
  EXPECT_EQ(FileSize(a), blob_a.size());
  EXPECT_FALSE(cache.Get(b)->has_value());
  EXPECT_TRUE(*cache.Knows(b));  // the marker still says "stored"
  CacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_LE(stats.bytes, stats.capacity);
}

TEST_F(ChunkCacheTest, MarkersNeverReplaceContentAndUnknownChunksAreUnknown) {
  auto [a, blob_a] = Chunk(1);
  ChunkCache cache(dir_.path(), 0, locks_);
  EXPECT_FALSE(*cache.Knows(a));
  ASSERT_TRUE(cache.Put(a, blob_a).ok());
  ASSERT_TRUE(cache.PutMarker(a).ok());
  EXPECT_EQ(FileSize(a), blob_a.size());
  auto [b, blob_b] = Chunk(2);
  ASSERT_TRUE(cache.PutMarker(b).ok());
  EXPECT_EQ(FileSize(b), 0u);
  EXPECT_TRUE(*cache.Knows(b));
  EXPECT_GT(cache.stats().capacity, 0u);  // default: a share of the free space
}

TEST_F(ChunkCacheTest, DamagedCachedCopyIsAMissNotAnError) {
  auto [a, blob_a] = Chunk(1);
  ChunkCache cache(dir_.path(), 0, locks_);
  ASSERT_TRUE(cache.Put(a, blob_a).ok());
  Bytes damaged = blob_a;
  damaged.back() ^= 1;
  testing::WriteTestFile(ChunkStore(dir_.path()).ChunkPath(a), damaged);
  auto got = cache.Get(a);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(FileSize(a), 0u);  // dropped back to a marker; the next read fetches a good copy
}

TEST_F(ChunkCacheTest, NewProcessRebuildsOrderFromDiskAndAppliesASmallerBound) {
  std::vector<std::pair<Digest, Bytes>> chunks;
  {
    ChunkCache cache(dir_.path(), 0, locks_);
    for (uint64_t i = 0; i < 5; ++i) {
      chunks.push_back(Chunk(i));
      ASSERT_TRUE(cache.Put(chunks.back().first, chunks.back().second).ok());
    }
  }
  // Oldest access first: chunk 3, then 1, then the others.
  for (auto [i, t] : {std::pair{3, 100}, {1, 200}, {0, 300}, {2, 400}, {4, 500}}) {
    struct timespec times[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(
        ::utimensat(AT_FDCWD, ChunkStore(dir_.path()).ChunkPath(chunks[i].first).c_str(), times, 0),
        0);
  }
  ChunkCache smaller(dir_.path(), 3 * chunks[0].second.size() + 10, locks_);
  ASSERT_TRUE(smaller.Get(chunks[4].first)->has_value());  // loads, then trims to 3 chunks
  EXPECT_EQ(FileSize(chunks[3].first), 0u);
  EXPECT_EQ(FileSize(chunks[1].first), 0u);
  EXPECT_GT(FileSize(chunks[0].first), 0u);
  EXPECT_EQ(smaller.stats().evictions, 2u);
}

}  // namespace
}  // namespace cairn

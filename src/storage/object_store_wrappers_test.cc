// The wrappers that are object stores themselves: metering and rate limiting, over the
// in-memory store (their logic is above the ObjectStore seam; the S3 store's own counting is
// tested against real servers in s3_object_store and the s3 layer).

#include <gtest/gtest.h>

#include "storage/mem_object_store.h"
#include "storage/metered_object_store.h"
#include "storage/rate_limited_object_store.h"
#include "testing/recording_clock.h"

namespace cairn {
namespace {

TEST(MeteredObjectStoreTest, CountsCallsBytesAndFailures) {
  MeteredObjectStore store(std::make_shared<MemObjectStore>());
  ASSERT_TRUE(store.Put("a", AsBytes(std::string_view("12345")), PutMode::kReplace).ok());
  ASSERT_TRUE(store.Get("a").ok());
  EXPECT_TRUE(store.Get("missing").status().IsNotFound());
  ASSERT_TRUE(store.Head("a").ok());
  ASSERT_TRUE(store.Copy("a", "b").ok());
  ASSERT_TRUE(store.List({""}, [](const StoredObject&) { return true; }).ok());
  std::vector<std::string> keys(1001, "a");
  ASSERT_TRUE(store.DeleteMany(keys).ok());
  ASSERT_TRUE(store.Delete("b").ok());

  ObjectStoreStats stats = store.Stats();
  EXPECT_EQ(stats.requests_of(RequestKind::kPut), 1u);
  EXPECT_EQ(stats.requests_of(RequestKind::kGet), 2u);
  EXPECT_EQ(stats.requests_of(RequestKind::kHead), 1u);
  EXPECT_EQ(stats.requests_of(RequestKind::kCopy), 1u);
  EXPECT_EQ(stats.requests_of(RequestKind::kList), 1u);
  EXPECT_EQ(stats.requests_of(RequestKind::kDelete), 3u);  // two batches of at most 1000, one
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(stats.bytes_out, 5u);
  EXPECT_EQ(stats.bytes_in, 5u);
}

TEST(RateLimitedObjectStoreTest, HoldsPutsAndCopiesToTheRateAndNothingElse) {
  testing::RecordingClock clock;
  auto memory = std::make_shared<MemObjectStore>();
  RateLimitedObjectStore store(memory, 10, &clock);  // 10 per second, burst 10
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(
        store.Put("p/" + std::to_string(i), AsBytes(std::string_view("x")), PutMode::kReplace)
            .ok());
  }
  EXPECT_NEAR(clock.slept(), 1.5, 1e-6);  // 10 from the burst, 15 at 10/s
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store.Copy("p/1", "c/" + std::to_string(i)).ok());
  EXPECT_NEAR(clock.slept(), 2.0, 1e-6);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store.Get("p/1").ok());
  ASSERT_TRUE(store.DeleteMany({"p/1", "p/2"}).ok());
  EXPECT_NEAR(clock.slept(), 2.0, 1e-6);  // reads and deletes are not limited
  EXPECT_EQ(memory->size(), 28u);
}

}  // namespace
}  // namespace cairn

#include "datastore/backend/chunk_locks.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>

#include "testing/test_util.h"

namespace cairn {
namespace {

Digest DigestWithPrefix(uint8_t a, uint8_t b, uint8_t rest) {
  Digest d{};
  d.fill(rest);
  d[0] = a;
  d[1] = b;
  return d;
}

TEST(ChunkLocksTest, DigestsOfOneDirectoryShareAStripe) {
  EXPECT_EQ(ChunkLocks::StripeOf(DigestWithPrefix(0xab, 0xcd, 1)), 0xabcd);
  EXPECT_EQ(ChunkLocks::StripeOf(DigestWithPrefix(0xab, 0xcd, 2)), 0xabcd);
  EXPECT_NE(ChunkLocks::StripeOf(DigestWithPrefix(0xab, 0xce, 1)), 0xabcd);
}

TEST(ChunkLocksTest, TwoObjectsOnOneStoreExcludeEachOther) {
  testing::TempDir dir;
  ChunkLocks a(dir.path()), b(dir.path());
  const Digest d = DigestWithPrefix(1, 2, 3);
  {
    auto held = a.Lock(d);
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto other = b.TryLock(d);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->has_value());
    auto neighbour = b.TryLock(DigestWithPrefix(1, 3, 3));  // another stripe is free
    ASSERT_TRUE(neighbour.ok());
    EXPECT_TRUE(neighbour->has_value());
  }
  auto after = b.TryLock(d);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->has_value());
}

TEST(ChunkLocksTest, ThreadsOfOneObjectWaitForEachOther) {
  testing::TempDir dir;
  ChunkLocks locks(dir.path());
  const Digest d = DigestWithPrefix(7, 7, 7);
  auto locked = locks.Lock(d);
  ASSERT_TRUE(locked.ok());
  std::optional<ChunkLockGuard> held(std::move(locked).value());
  auto busy = locks.TryLock(d);  // the same thread, even: held is held
  ASSERT_TRUE(busy.ok());
  EXPECT_FALSE(busy->has_value());
  std::atomic<bool> released{false};
  std::thread waiter([&] {
    auto got = locks.Lock(d);  // returns only once the holder let go
    EXPECT_TRUE(got.ok());
    EXPECT_TRUE(released.load());
  });
  released = true;
  held.reset();
  waiter.join();
}

TEST(ChunkLocksTest, AnotherProcessIsExcludedUntilItsHolderEnds) {
  testing::TempDir dir;
  const Digest d = DigestWithPrefix(9, 9, 9);
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ChunkLocks locks(dir.path());
    auto held = locks.Lock(d);
    char c = held.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(go[0], &c, 1);
    _exit(0);  // the lock goes with the process
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ChunkLocks locks(dir.path());
  auto busy = locks.TryLock(d);
  ASSERT_TRUE(busy.ok());
  EXPECT_FALSE(busy->has_value());
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto free = locks.TryLock(d);
  ASSERT_TRUE(free.ok());
  EXPECT_TRUE(free->has_value());
  for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

}  // namespace
}  // namespace cairn

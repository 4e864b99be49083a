#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "base/file_lock.h"
#include "base/file_util.h"
#include "base/hex.h"
#include "base/job_control.h"
#include "base/parallel.h"
#include "base/result.h"
#include "base/time.h"
#include "base/units.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Status Quarter(int v, int* out) {
  CAIRN_ASSIGN_OR_RETURN(int h, Half(v));
  CAIRN_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::OK();
}

TEST(StatusTest, CodesContextAndRetryable) {
  EXPECT_TRUE(Status::OK().ok());
  Status st = Status::Unavailable("503 SlowDown").WithContext("put .chunks/a342/a342");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(st.retryable());
  EXPECT_EQ(st.ToString(), "Unavailable: put .chunks/a342/a342: 503 SlowDown");
  EXPECT_FALSE(Status::Corruption("x").retryable());
  EXPECT_TRUE(Status::OK().WithContext("ctx").ok());
}

TEST(ResultTest, PropagatesErrors) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status st = Quarter(6, &out);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
}

TEST(HexTest, RoundTripAndRejects) {
  Bytes data = {0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(HexEncode(data), "00abff10");
  EXPECT_EQ(*HexDecode("00ABff10"), data);
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(TimeTest, Rfc3339RoundTrip) {
  EXPECT_EQ(*FormatRfc3339Utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*FormatRfc3339Utc(1752502802), "2025-07-14T14:20:02Z");
  EXPECT_EQ(*ParseRfc3339Utc("2025-07-14T14:20:02Z"), 1752502802);
  EXPECT_EQ(*ParseRfc3339Utc("2024-02-29T23:59:59Z"), 1709251199);
  for (int64_t t : {1LL, 951782400LL, 4102444800LL, 1700000000LL}) {
    EXPECT_EQ(*ParseRfc3339Utc(*FormatRfc3339Utc(t)), t);
  }
}

TEST(TimeTest, RejectsNearMisses) {
  for (const char* bad : {"2025-07-14T14:20:02", "2025-07-14 14:20:02Z", "2025-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2025-07-14T24:00:00Z", "2025-07-14T14:20:02+01",
                          "../../etc/passwd", "", "2025-07-14T14:20:0aZ"}) {
    EXPECT_FALSE(ParseRfc3339Utc(bad).ok()) << bad;
  }
}

TEST(FileUtilTest, AtomicWriteReplacesAndLeavesNoTemp) {
  testing::TempDir dir;
  std::string path = dir.Sub("f");
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("one")).ok());
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("second")).ok());
  EXPECT_EQ(AsString(*ReadFile(path)), "second");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists();
  EXPECT_EQ(entries, 1);
}

TEST(FileUtilTest, CreateOnlyRefusesExisting) {
  testing::TempDir dir;
  std::string path = dir.Sub("f");
  ASSERT_TRUE(WriteFileCreateOnly(path, AsBytes("a")).ok());
  Status st = WriteFileCreateOnly(path, AsBytes("b"));
  EXPECT_TRUE(st.IsAlreadyExists()) << st.ToString();
  EXPECT_EQ(AsString(*ReadFile(path)), "a");
}

TEST(FileUtilTest, FailedWriteKeepsOldFile) {
  testing::TempDir dir;
  std::string path = dir.Sub("sub/f");
  // Parent missing: the write fails and nothing is created.
  Status st = WriteFileAtomic(path, AsBytes("x"));
  EXPECT_TRUE(st.IsNotFound()) << st.ToString();
  EXPECT_FALSE(*PathExists(path));
}

TEST(FileUtilTest, ReadMissingIsNotFound) {
  testing::TempDir dir;
  EXPECT_TRUE(ReadFile(dir.Sub("nope")).status().IsNotFound());
}

TEST(FileUtilTest, RemoveTreeRemovesNestedEntriesAndNeverFollowsSymlinks) {
  testing::TempDir dir;
  std::string outside = dir.Sub("outside");
  ASSERT_TRUE(MakeDirs(outside + "/kept").ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/file", AsBytes("keep me")).ok());
  std::string tree = dir.Sub("tree");
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(MakeDirs(fmt::format("{}/e/{:04x}", tree, i)).ok());
  ASSERT_TRUE(MakeDirs(tree + "/a/b/c").ok());
  ASSERT_TRUE(WriteFileAtomic(tree + "/a/b/c/f", AsBytes("x")).ok());
  ASSERT_TRUE(WriteFileAtomic(tree + "/e/0007/chunk", AsBytes("y")).ok());
  ASSERT_EQ(::symlink(outside.c_str(), (tree + "/a/link").c_str()), 0);
  ASSERT_EQ(::symlink("missing", (tree + "/dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo((tree + "/a/fifo").c_str(), 0600), 0);

  Status st = RemoveTree(tree);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(*PathExists(tree));
  EXPECT_TRUE(*PathExists(outside + "/kept"));
  Bytes kept = *ReadFile(outside + "/file");
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "keep me");

  // Missing: OK. A symlink given as the root is removed, not followed.
  EXPECT_TRUE(RemoveTree(tree).ok());
  ASSERT_EQ(::symlink(outside.c_str(), dir.Sub("root-link").c_str()), 0);
  EXPECT_TRUE(RemoveTree(dir.Sub("root-link")).ok());
  EXPECT_FALSE(*PathExists(dir.Sub("root-link")));
  EXPECT_TRUE(*PathExists(outside + "/file"));
}

TEST(FileUtilTest, RemoveTreeReportsWhatItCannotRemove) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may remove anything";
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.Sub("t/locked")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("t/locked/f"), AsBytes("x")).ok());
  ASSERT_EQ(::chmod(dir.Sub("t/locked").c_str(), 0500), 0);
  Status st = RemoveTree(dir.Sub("t"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("t/locked/f"), std::string::npos) << st.ToString();
  ASSERT_EQ(::chmod(dir.Sub("t/locked").c_str(), 0700), 0);
}

TEST(FileLockTest, SharedAndExclusiveExclude) {
  testing::TempDir dir;
  std::string path = dir.Sub("locks/a");
  using std::chrono::milliseconds;
  auto s1 = FileLock::Acquire(path, LockMode::kShared, milliseconds(0), "a");
  auto s2 = FileLock::Acquire(path, LockMode::kShared, milliseconds(0), "a");
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto ex = FileLock::Acquire(path, LockMode::kExclusive, milliseconds(0), "group a");
  EXPECT_EQ(ex.status().code(), Code::kBusy);
  EXPECT_NE(ex.status().message().find("group a"), std::string::npos);
  {
    auto drop1 = std::move(s1.value());
    auto drop2 = std::move(s2.value());
  }
  auto ex2 = FileLock::Acquire(path, LockMode::kExclusive, milliseconds(0), "a");
  EXPECT_TRUE(ex2.ok());
}

TEST(FileLockTest, TimeoutWaitsForRelease) {
  testing::TempDir dir;
  std::string path = dir.Sub("l");
  auto held = std::make_unique<Result<FileLock>>(
      FileLock::Acquire(path, LockMode::kExclusive, std::chrono::milliseconds(0), "l"));
  ASSERT_TRUE(held->ok());
  std::thread releaser([&] { held.reset(); });
  auto second = FileLock::Acquire(path, LockMode::kExclusive, std::chrono::seconds(30), "l");
  releaser.join();
  EXPECT_TRUE(second.ok());
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST(UnitsTest, ParseByteSize) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("512K"), 512u << 10);
  EXPECT_EQ(*ParseByteSize("64GiB"), 64ull << 30);
  EXPECT_EQ(*ParseByteSize("64gb"), 64ull << 30);
  EXPECT_EQ(*ParseByteSize("1t"), 1ull << 40);
  EXPECT_EQ(*ParseByteSize("7B"), 7u);
  for (const char* bad :
       {"", "G", "-1", "1.5G", "12Q", "1 G", "1ib", "99999999999999999999", "17179869184G"}) {
    auto parsed = ParseByteSize(bad);
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(SlotsTest, NeverMoreHoldersThanSlotsAndNobodyIsLeftWaiting) {
  // Regression: verify bounded its readers with std::counting_semaphore, and under
  // ThreadSanitizer's scheduling a worker slept forever in acquire() after a release (libstdc++
  // 12, GCC bug 104928); the stress test hung. Slots is a mutex and a condition variable.
  Slots slots(2);
  std::atomic<int> holders{0}, most{0};
  ASSERT_TRUE(ParallelFor(2000, 8, [&](size_t) {
                slots.Acquire();
                const int now = ++holders;
                for (int seen = most.load();
                     now > seen && !most.compare_exchange_weak(seen, now);) {
                }
                std::this_thread::yield();
                holders--;
                slots.Release();
                return Status::OK();
              }).ok());
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
}

TEST(ParallelForTest, VisitsEveryIndexOnceAndReturnsTheFirstError) {
  std::vector<std::atomic<int>> seen(1000);
  ASSERT_TRUE(ParallelFor(seen.size(), 4, [&](size_t i) {
                seen[i]++;
                return Status::OK();
              }).ok());
  for (const auto& n : seen) EXPECT_EQ(n.load(), 1);
  EXPECT_TRUE(ParallelFor(0, 4, [](size_t) { return Status::IOError("never called"); }).ok());
  std::atomic<int> calls{0};
  Status st = ParallelFor(1000, 3, [&](size_t i) {
    calls++;
    return i == 10 ? Status::NotFound("ten") : Status::OK();
  });
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_EQ(st.message(), "ten");
  EXPECT_LT(calls.load(), 1000);  // stopped handing out work
}

TEST(JobControlTest, CopiesShareTheSinkAndTheCancellation) {
  std::vector<std::pair<JobLogLevel, std::string>> lines;
  JobControl job(
      [&](JobLogLevel level, std::string_view line) { lines.emplace_back(level, line); });
  JobControl copy = job;
  copy.Warn("chunk {} is missing", 7);
  job.Info("done");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::make_pair(JobLogLevel::kWarning, std::string("chunk 7 is missing")));
  EXPECT_EQ(lines[1].first, JobLogLevel::kInfo);
  EXPECT_TRUE(job.CheckCancelled("gc").ok());
  copy.Cancel();
  EXPECT_TRUE(job.cancelled());
  Status stopped = job.CheckCancelled("garbage collection");
  EXPECT_EQ(stopped.code(), Code::kAborted);
  EXPECT_EQ(stopped.message(), "garbage collection cancelled");
  EXPECT_FALSE(JobControl().cancelled());  // a new control is not
}

}  // namespace
}  // namespace cairn

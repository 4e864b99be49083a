// The file layer's fault seam: rules, counting, and what file_util does under each fault.

#include "base/file_faults.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

// Every test leaves the seam off, whatever happens.
class FileFaultsTest : public ::testing::Test {
 protected:
  void TearDown() override { FileFaults::Clear(); }
  testing::TempDir dir_;
};

FileFaultRule Fail(FileOp op, uint64_t nth, int error) {
  FileFaultRule rule;
  rule.op = op;
  rule.nth = nth;
  rule.error = error;
  return rule;
}

size_t EntriesIn(const std::string& dir) {
  return ListDir(dir)->size();
}

TEST_F(FileFaultsTest, ParsesRulesAndRefusesNonsense) {
  auto rules = FileFaults::Parse("kill@any#57,ENOSPC@write#3~.chunks/,short@write#*,count");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].action, FileFaultRule::Action::kKill);
  EXPECT_FALSE((*rules)[0].op.has_value());
  EXPECT_EQ((*rules)[0].nth, 57u);
  EXPECT_EQ((*rules)[1].error, ENOSPC);
  EXPECT_EQ((*rules)[1].op, FileOp::kWrite);
  EXPECT_EQ((*rules)[1].path_part, ".chunks/");
  EXPECT_EQ((*rules)[2].action, FileFaultRule::Action::kShortWrite);
  EXPECT_EQ((*rules)[2].nth, 0u);
  for (const char* bad : {"kill", "kill@any", "kill@any#0", "kill@any#x", "boom@any#1",
                          "EIO@chmod#1", "EIO@write#99999999999999", "@#"}) {
    auto parsed = FileFaults::Parse(bad);
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST_F(FileFaultsTest, CountsMutationsOnlyWhileOn) {
  testing::WriteTestFile(dir_.Sub("a"), AsBytes(std::string_view("x")));
  EXPECT_EQ(FileFaults::MutationCount(), 0u);
  FileFaults::Install({}, /*count=*/true);
  ASSERT_TRUE(WriteFileAtomic(dir_.Sub("b"), AsBytes(std::string_view("y"))).ok());
  // create, write, fsync, rename, fsync of the directory
  EXPECT_EQ(FileFaults::MutationCount(), 5u);
  ASSERT_TRUE(RemoveFile(dir_.Sub("b")).ok());
  EXPECT_EQ(FileFaults::MutationCount(), 6u);
}

// Each step of an atomic replace fails in turn: the old content stays, no temp file is left,
// and the error names the operation and says what the system said.
TEST_F(FileFaultsTest, AFailedAtomicWriteAtAnyStepKeepsTheOldFile) {
  const std::string path = dir_.Sub("f");
  testing::WriteTestFile(path, AsBytes(std::string_view("old")));
  const std::pair<FileOp, uint64_t> steps[] = {
      {FileOp::kCreate, 1}, {FileOp::kWrite, 1}, {FileOp::kFsync, 1}, {FileOp::kRename, 1}};
  for (const auto& [op, nth] : steps) {
    for (int error : {ENOSPC, EIO}) {
      FileFaults::Install({Fail(op, nth, error)});
      Status st = WriteFileAtomic(path, AsBytes(std::string_view("new content")));
      FileFaults::Clear();
      EXPECT_EQ(st.code(), Code::kIOError) << st.ToString();
      EXPECT_NE(st.message().find(std::strerror(error)), std::string::npos) << st.ToString();
      EXPECT_EQ(AsString(*ReadFile(path)), "old");
      EXPECT_EQ(EntriesIn(dir_.path()), 1u) << "a temp file was left behind";
    }
  }
  // The fsync of the directory comes after the rename: the new file is in place, the error
  // still reported (its durability is not known).
  FileFaults::Install({Fail(FileOp::kFsync, 2, EIO)});
  EXPECT_EQ(WriteFileAtomic(path, AsBytes(std::string_view("new"))).code(), Code::kIOError);
}

TEST_F(FileFaultsTest, ShortWritesAreCompleted) {
  FileFaultRule shorten;
  shorten.op = FileOp::kWrite;
  shorten.action = FileFaultRule::Action::kShortWrite;
  FileFaults::Install({shorten});
  Bytes data = testing::RandomBytes(100000, 7);
  ASSERT_TRUE(WriteFileAtomic(dir_.Sub("f"), data).ok());
  EXPECT_GT(FileFaults::MutationCount(), 10u);  // many partial writes
  FileFaults::Clear();
  EXPECT_EQ(*ReadFile(dir_.Sub("f")), data);
}

TEST_F(FileFaultsTest, PathFilterAndNthCall) {
  FileFaultRule rule = Fail(FileOp::kRename, 2, EDQUOT);
  rule.path_part = "/quota-";
  FileFaults::Install({rule});
  EXPECT_TRUE(WriteFileAtomic(dir_.Sub("other"), {}).ok());
  EXPECT_TRUE(WriteFileAtomic(dir_.Sub("quota-1"), {}).ok());
  EXPECT_EQ(WriteFileAtomic(dir_.Sub("quota-2"), {}).code(), Code::kIOError);
  EXPECT_TRUE(WriteFileAtomic(dir_.Sub("quota-3"), {}).ok());
}

TEST_F(FileFaultsTest, RemoveMkdirAndTouchFail) {
  testing::WriteTestFile(dir_.Sub("keep"), AsBytes(std::string_view("k")));
  FileFaults::Install({Fail(FileOp::kRemove, 0, EIO), Fail(FileOp::kMkdir, 0, ENOSPC),
                       Fail(FileOp::kTouch, 0, EROFS)});
  EXPECT_EQ(RemoveFile(dir_.Sub("keep")).code(), Code::kIOError);
  EXPECT_EQ(RemoveTree(dir_.Sub("keep")).code(), Code::kIOError);
  EXPECT_EQ(MakeDirs(dir_.Sub("d/e")).code(), Code::kIOError);
  const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  EXPECT_EQ(SetFileTimes(dir_.Sub("keep"), now).code(), Code::kPermissionDenied);
  FileFaults::Clear();
  EXPECT_TRUE(*PathExists(dir_.Sub("keep")));
  EXPECT_FALSE(*PathExists(dir_.Sub("d")));
}

TEST_F(FileFaultsTest, KillStopsTheProcessAtThatMutation) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    FileFaultRule kill;
    kill.action = FileFaultRule::Action::kKill;
    kill.nth = 3;
    FileFaults::Install({kill});
    (void)WriteFileAtomic(dir_.Sub("k"), AsBytes(std::string_view("x")));  // 3rd: fsync
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(*PathExists(dir_.Sub("k")));  // killed before the rename
}

}  // namespace
}  // namespace cairn

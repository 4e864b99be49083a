#include "server/tasks/task_log.h"

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "base/time.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

using testing::TempDir;

Upid TestUpid() {
  return *Upid::Parse("UPID:node1:00001234:000000AB:00000007:65A1B2C3:verify:store1:root@pam:");
}

TEST(TaskLogTest, TimeRoundTripsInTheLocalZone) {
  const int64_t now = NowEpoch();
  const std::string text = FormatLogTime(now);
  ASSERT_EQ(text.size(), 25u) << text;
  EXPECT_EQ(text[10], 'T');
  EXPECT_TRUE(text[19] == '+' || text[19] == '-') << text;
  auto parsed = ParseLogTime(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, now);
}

TEST(TaskLogTest, ParsesOffsetsAndZulu) {
  EXPECT_EQ(*ParseLogTime("1970-01-01T00:00:10Z"), 10);
  EXPECT_EQ(*ParseLogTime("1970-01-01T01:00:10+01:00"), 10);
  EXPECT_EQ(*ParseLogTime("1969-12-31T23:30:10-00:30"), 10);
  for (const char* bad :
       {"", "1970-01-01T00:00:10", "1970-01-01 00:00:10Z", "1970-13-01T00:00:10Z",
        "1970-01-01T00:00:10+0100", "1970-01-01T00:00:10+01:00x", "x970-01-01T00:00:10Z"}) {
    EXPECT_FALSE(ParseLogTime(bad).ok()) << bad;
  }
}

TEST(TaskLogTest, PathIsBuiltFromTheUpidFields) {
  auto path = TaskLogPath("/tasks", TestUpid());
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path,
            "/tasks/AB/UPID:node1:00001234:000000AB:00000007:65A1B2C3:verify:store1:root@pam:");
  // Upid::Parse lets '/' through in the node, type and auth id; a path must not.
  for (const char* hostile : {
           "UPID:a/b:00001234:000000AB:00000007:65A1B2C3:verify:x:root@pam:",
           "UPID:n:00001234:000000AB:00000007:65A1B2C3:../../etc:x:root@pam:",
           "UPID:n:00001234:000000AB:00000007:65A1B2C3:verify:x:root@pam/../x:",
       }) {
    auto upid = Upid::Parse(hostile);
    ASSERT_TRUE(upid.ok()) << hostile;
    EXPECT_FALSE(TaskLogPath("/tasks", *upid).ok()) << hostile;
  }
  Upid long_upid = TestUpid();
  long_upid.worker_id = std::string(250, 'a');
  EXPECT_FALSE(TaskLogPath("/tasks", long_upid).ok());
}

TEST(TaskLogTest, WriterStampsLinesCountsWarningsAndEnds) {
  TempDir dir;
  const std::string path = *TaskLogPath(dir.path(), TestUpid());
  auto writer = TaskLogWriter::Create(path);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_FALSE(TaskLogWriter::Create(path).ok());  // exists
  (*writer)->Log(JobLogLevel::kInfo, "first");
  (*writer)->Log(JobLogLevel::kWarning, "careful");
  (*writer)->Log(JobLogLevel::kError, "bad\nsecond line\n");
  EXPECT_EQ((*writer)->warnings(), 2u);
  auto running = ReadTaskState(path, 42);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->type, TaskStateType::kUnknown);  // no result line yet
  EXPECT_NE(running->endtime, 42);                    // the last line's time
  ASSERT_TRUE((*writer)->Finish(TaskState::Warnings(1000, 2)).ok());
  (*writer)->Log(JobLogLevel::kInfo, "dropped after Finish");

  auto page = ReadTaskLog(path, 0, 0);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 5u);
  const char* expected[] = {"first", "WARN: careful", "ERROR: bad", "second line",
                            "TASK WARNINGS: 2"};
  for (size_t i = 0; i < 5; ++i) {
    const std::string& line = page->lines[i].text;
    EXPECT_EQ(page->lines[i].n, i + 1);
    ASSERT_GT(line.size(), 27u) << line;
    EXPECT_TRUE(ParseLogTime(line.substr(0, 25)).ok()) << line;
    EXPECT_EQ(line.substr(25, 2), ": ");
    EXPECT_EQ(line.substr(27), expected[i]);
  }
  EXPECT_EQ(page->lines[4].text.substr(0, 25), FormatLogTime(1000));
  auto state = ReadTaskState(path, 42);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, TaskState::Warnings(1000, 2));
}

TEST(TaskLogTest, StatusComesFromTheLastStampedLine) {
  TempDir dir;
  const std::string path = dir.Sub("log");
  const std::string t = FormatLogTime(500);
  // A long log: only the tail is read; a final line without a stamp is passed over.
  std::string text;
  for (int i = 0; i < 1000; ++i) text += FormatLogTime(100) + ": line\n";
  testing::WriteTestFile(path, AsBytes(text + t + ": TASK ERROR: it broke\ntrailing junk\n\n"));
  EXPECT_EQ(*ReadTaskState(path, 1), TaskState::Error(500, "it broke"));
  testing::WriteTestFile(path, AsBytes(t + ": TASK WARNINGS: x\n"));  // unparsable: skipped
  EXPECT_EQ(*ReadTaskState(path, 1), TaskState::Unknown(1));
  testing::WriteTestFile(path, AsBytes(""));
  EXPECT_EQ(*ReadTaskState(path, 7), TaskState::Unknown(7));
  EXPECT_TRUE(ReadTaskState(dir.Sub("missing"), 1).status().IsNotFound());
}

TEST(TaskLogTest, PagingFollowsPbs) {
  TempDir dir;
  const std::string path = dir.Sub("log");
  testing::WriteTestFile(path, AsBytes("a\nb\nc\nd\n"));
  auto page = ReadTaskLog(path, 2, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 4u);
  ASSERT_EQ(page->lines.size(), 2u);
  EXPECT_EQ(page->lines[0].n, 2u);
  EXPECT_EQ(page->lines[0].text, "b");
  EXPECT_EQ(page->lines[1].text, "c");
  EXPECT_EQ(ReadTaskLog(path, 1, 0)->lines.size(), 4u);
  EXPECT_EQ(ReadTaskLog(path, 0, 50)->lines.size(), 4u);
  EXPECT_EQ(ReadTaskLog(path, 9, 0)->lines.size(), 0u);
  EXPECT_TRUE(ReadTaskLog(dir.Sub("missing"), 0, 0).status().IsNotFound());
}

}  // namespace
}  // namespace cairn::server

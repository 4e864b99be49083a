#include "server/tasks/task_list_files.h"

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

using testing::TempDir;

const char kUpid1[] = "UPID:n:FFFFFFF0:000000AB:00000001:65A1B2C3:verify:s1:root@pam:";
const char kUpid2[] = "UPID:n:FFFFFFF0:000000AB:00000002:65A1B2C4:backup:s1\\x3avm-1:a@pbs:";
const char kUpid3[] = "UPID:n:FFFFFFF0:000000AB:00000003:65A1B2C5:prune:s1:root@pam:";

std::string ReadText(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? std::string(AsString(*data)) : "<" + data.status().ToString() + ">";
}

// Every entry without a state has stopped, with this state.
TaskListFiles::StoppedState AllStopped(TaskState state) {
  return [state](const TaskListEntry&) { return std::optional<TaskState>(state); };
}
std::optional<TaskState> NoneStopped(const TaskListEntry&) {
  return std::nullopt;
}

TEST(TaskListFilesTest, LinesRoundTrip) {
  auto running = ParseTaskListLine(kUpid1);
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  EXPECT_EQ(running->upid_str, kUpid1);
  EXPECT_FALSE(running->state);
  EXPECT_EQ(RenderTaskListLine(*running), std::string(kUpid1) + "\n");

  const std::string line = std::string(kUpid2) + " 65A1B2D0 chunk 0a1b is missing";
  auto failed = ParseTaskListLine(line);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->upid.worker_type, "backup");
  EXPECT_EQ(*failed->state, TaskState::Error(0x65A1B2D0, "chunk 0a1b is missing"));
  EXPECT_EQ(RenderTaskListLine(*failed), line + "\n");

  for (const std::string& bad :
       {std::string("garbage"), std::string(kUpid1) + " 65A1B2D0", std::string(kUpid1) + " XYZ OK",
        std::string(kUpid1) + " 65A1B2D0 WARNINGS: many", std::string(kUpid1) + " 65A1B2D0 "}) {
    EXPECT_FALSE(ParseTaskListLine(bad).ok()) << bad;
  }
}

TEST(TaskListFilesTest, UpdateAddsAndArchivesFinishedTasks) {
  TempDir dir;
  TaskListFiles files(dir.path());
  Upid upid1 = *Upid::Parse(kUpid1);
  Upid upid2 = *Upid::Parse(kUpid2);
  ASSERT_TRUE(files.Update(&upid1, NoneStopped).ok());
  ASSERT_TRUE(files.Update(&upid2, NoneStopped).ok());
  EXPECT_EQ(ReadText(files.active_path()), std::string(kUpid1) + "\n" + kUpid2 + "\n");
  EXPECT_TRUE(ReadText(files.archive_path()).starts_with("<NotFound"));

  // Task 1 stops.
  ASSERT_TRUE(files
                  .Update(nullptr,
                          [&](const TaskListEntry& entry) {
                            return entry.upid_str == kUpid1 ? std::optional(TaskState::Ok(0x10))
                                                            : std::nullopt;
                          })
                  .ok());
  EXPECT_EQ(ReadText(files.active_path()), std::string(kUpid2) + "\n");
  EXPECT_EQ(ReadText(files.archive_path()), std::string(kUpid1) + " 00000010 OK\n");

  auto all = files.ReadAll(NoneStopped);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].upid_str, kUpid2);
  EXPECT_EQ((*all)[1].upid_str, kUpid1);
}

TEST(TaskListFilesTest, FinishedEntriesInActiveMoveAndMalformedLinesAreSkipped) {
  // Older PBS left finished tasks in `active`; a torn or hand-edited file holds junk.
  TempDir dir;
  TaskListFiles files(dir.path());
  testing::WriteTestFile(files.active_path(),
                         AsBytes(std::string(kUpid1) + " 00000020 WARNINGS: 2\n" + "not a upid\n" +
                                 kUpid2 + "\n" + kUpid3 + " 00000021\n\n"));
  auto all = files.ReadAll(NoneStopped);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].upid_str, kUpid2);
  EXPECT_FALSE((*all)[0].state);
  EXPECT_EQ(*(*all)[1].state, TaskState::Warnings(0x20, 2));
  EXPECT_EQ(ReadText(files.active_path()), std::string(kUpid2) + "\n");
  EXPECT_EQ(ReadText(files.archive_path()), std::string(kUpid1) + " 00000020 WARNINGS: 2\n");
}

TEST(TaskListFilesTest, ReadAllListsATaskInBothFilesOnce) {
  // A crash between the archive append and the active rewrite leaves the task in both.
  TempDir dir;
  TaskListFiles files(dir.path());
  testing::WriteTestFile(files.active_path(), AsBytes(std::string(kUpid1) + "\n"));
  testing::WriteTestFile(files.archive_path(), AsBytes(std::string(kUpid1) + " 00000030 OK\n"));
  auto all = files.ReadAll(NoneStopped);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
}

TEST(TaskListFilesTest, ArchiveRotatesAndStaysBounded) {
  TempDir dir;
  TaskListFiles files(dir.path(), TaskArchiveOptions{.max_bytes = 300, .keep_rotated = 2});
  std::vector<std::string> upids;
  for (int i = 0; i < 20; ++i) {
    Upid upid = *Upid::Parse(kUpid1);
    upid.task_id = 100 + i;
    upids.push_back(upid.ToString());
    ASSERT_TRUE(files.Update(&upid, NoneStopped).ok());
    ASSERT_TRUE(files.Update(nullptr, AllStopped(TaskState::Ok(i))).ok());
  }
  EXPECT_TRUE(PathExists(files.archive_path() + ".1").value());
  EXPECT_TRUE(PathExists(files.archive_path() + ".2").value());
  EXPECT_FALSE(PathExists(files.archive_path() + ".3").value());
  auto all = files.ReadAll(NoneStopped);
  ASSERT_TRUE(all.ok());
  ASSERT_GE(all->size(), 3u);
  ASSERT_LT(all->size(), 20u);  // the oldest were dropped
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].upid_str, upids[19 - i]) << i;  // newest first, none missing between
  }
}

}  // namespace
}  // namespace cairn::server

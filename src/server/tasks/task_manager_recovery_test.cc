// What a server finds when it starts after its predecessor died: tasks listed as running in
// `active` whose process is gone. PBS marks them finished with the state their log shows (for a
// task killed mid-way: "unknown"), and so must Cairn, or the task list shows them running
// forever.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "server/tasks/task_manager.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

using testing::TempDir;

Result<std::unique_ptr<TaskManager>> OpenManager(const std::string& dir) {
  return TaskManager::Open({.task_dir = dir, .node = "node1", .archive = {}});
}

TEST(TaskManagerRecoveryTest, StaleActiveEntriesBecomeUnknown) {
  TempDir dir;
  const std::string tasks = dir.Sub("tasks");
  ASSERT_TRUE(MakeDirs(tasks).ok());
  // pid 0xFFFFFFF0 exceeds any pid_max: that process is dead.
  const Upid with_log =
      *Upid::Parse("UPID:node1:FFFFFFF0:000000AB:00000001:65A1B2C3:verify:store1:root@pam:");
  const Upid without_log = *Upid::Parse(
      "UPID:node1:FFFFFFF0:000000AB:00000002:65A1B2C4:garbage_collection:store1:root@pam:");
  // A task of this very process (same pid and start) that it never ran: a predecessor's.
  Upid own = Upid::ForThisProcess("node1", "prune", "store1", "root@pam");
  own.task_id += 1000000;
  const Upid finished =
      *Upid::Parse("UPID:node1:FFFFFFF0:000000AB:00000003:65A1B2C5:backup:store1:root@pam:");

  const std::string log_path = *TaskLogPath(tasks, with_log);
  ASSERT_TRUE(MakeDirs(log_path.substr(0, log_path.rfind('/'))).ok());
  const std::string log_text = FormatLogTime(1000) + ": verifying group vm/100\n";
  testing::WriteTestFile(log_path, AsBytes(log_text));
  const std::string finished_log = *TaskLogPath(tasks, finished);
  testing::WriteTestFile(finished_log, AsBytes(FormatLogTime(2000) + ": TASK OK\n"));
  testing::WriteTestFile(
      tasks + "/active",
      AsBytes(with_log.ToString() + "\nthis line is garbage\n" + without_log.ToString() + "\n" +
              own.ToString() + "\n" + finished.ToString() + "\n"));

  auto manager = OpenManager(tasks);
  ASSERT_TRUE(manager.ok()) << manager.status().ToString();
  EXPECT_EQ(testing::ReadTestFile(tasks + "/active"), "");
  const std::string archive = testing::ReadTestFile(tasks + "/archive");
  EXPECT_NE(archive.find(with_log.ToString() + " 000003E8 unknown\n"), std::string::npos)
      << archive;
  EXPECT_NE(archive.find(without_log.ToString() + " "), std::string::npos) << archive;
  EXPECT_NE(archive.find(own.ToString() + " "), std::string::npos) << archive;
  // It had written its result line before it died: that state stands.
  EXPECT_NE(archive.find(finished.ToString() + " 000007D0 OK\n"), std::string::npos) << archive;
  EXPECT_EQ(archive.find("garbage"), archive.find("garbage_collection"));
  EXPECT_EQ(testing::ReadTestFile(log_path), log_text);  // no line added

  auto status = (*manager)->GetStatus(with_log.ToString());
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->running);
  EXPECT_EQ(*status->state, TaskState::Unknown(1000));
  TaskListFilter unknown;
  unknown.statusfilter = {TaskStateType::kUnknown};
  EXPECT_EQ((*manager)->List(unknown)->total, 3u);
}

TEST(TaskManagerRecoveryTest, ServerKilledMidTaskRestartsAndMarksItUnknown) {
  TempDir dir;
  const std::string tasks = dir.Sub("tasks");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The "server": starts a task that logs a line, reports its UPID, and works forever.
    ::close(pipe_fds[0]);
    auto manager = OpenManager(tasks);
    if (!manager.ok()) ::_exit(1);
    auto upid = (*manager)->Spawn("verify", "store1", "root@pam", [&](const JobControl& control) {
      control.Info("verifying");
      const std::string text = control.cancelled() ? "" : "go\n";
      if (::write(pipe_fds[1], text.data(), text.size()) < 0) ::_exit(2);
      for (;;) ::pause();
      return Status::OK();
    });
    if (!upid.ok()) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(pipe_fds[1]);
  char byte = 0;
  ASSERT_EQ(::read(pipe_fds[0], &byte, 1), 1);
  ::close(pipe_fds[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  auto manager = OpenManager(tasks);
  ASSERT_TRUE(manager.ok()) << manager.status().ToString();
  TaskListFilter filter;
  auto list = (*manager)->List(filter);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->total, 1u);
  const TaskListEntry& entry = list->items[0];
  EXPECT_EQ(entry.upid.pid, static_cast<uint32_t>(child));
  ASSERT_TRUE(entry.state);
  EXPECT_EQ(entry.state->type, TaskStateType::kUnknown);
  auto page = (*manager)->ReadLog(entry.upid_str, 0, 0);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1u);
  EXPECT_TRUE(page->lines[0].text.ends_with(": verifying"));
  EXPECT_EQ(testing::ReadTestFile(tasks + "/active"), "");
}

}  // namespace
}  // namespace cairn::server

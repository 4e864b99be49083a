#include "server/tasks/task_json.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

const char kUpid[] =
    "UPID:pbs:000003E8:0000ABCD:00000001:65A1B2C3:backup:store1\\x3avm-100:u@pbs!tok:";

TEST(TaskJsonTest, ListItem) {
  TaskListEntry entry{kUpid, *Upid::Parse(kUpid), TaskState::Warnings(0x65A1B2D0, 2)};
  EXPECT_EQ(TaskListItemJson(entry), nlohmann::json::parse(R"({
    "upid": "UPID:pbs:000003E8:0000ABCD:00000001:65A1B2C3:backup:store1\\x3avm-100:u@pbs!tok:",
    "node": "localhost", "pid": 1000, "pstart": 43981, "starttime": 1705095875,
    "worker_type": "backup", "worker_id": "store1:vm/100", "user": "u@pbs!tok",
    "endtime": 1705095888, "status": "WARNINGS: 2"})"));
  entry.state.reset();
  EXPECT_FALSE(TaskListItemJson(entry).contains("status"));
}

TEST(TaskJsonTest, Status) {
  TaskStatus status{*Upid::Parse(kUpid), false, TaskState::Error(0x65A1B2D0, "boom")};
  nlohmann::json json = TaskStatusJson(status);
  EXPECT_EQ(json["type"], "backup");
  EXPECT_EQ(json["id"], "store1:vm/100");
  EXPECT_EQ(json["user"], "u@pbs");
  EXPECT_EQ(json["tokenid"], "tok");
  EXPECT_EQ(json["status"], "stopped");
  EXPECT_EQ(json["exitstatus"], "boom");
  status.running = true;
  status.state.reset();
  EXPECT_FALSE(TaskStatusJson(status).contains("exitstatus"));
  EXPECT_EQ(TaskStatusJson(status)["status"], "running");
}

TEST(TaskJsonTest, Log) {
  TaskLogPage page{{{1, "a"}, {2, "b"}}, 7};
  EXPECT_EQ(TaskLogJson(page, true).dump(),
            R"({"active":true,"data":[{"n":1,"t":"a"},{"n":2,"t":"b"}],"success":1,"total":7})");
  EXPECT_FALSE(TaskLogJson(page).contains("active"));
}

}  // namespace
}  // namespace cairn::server

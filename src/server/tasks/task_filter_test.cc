#include "server/tasks/task_filter.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

Upid MakeUpid(std::string_view type, std::string_view id, std::string_view auth = "root@pam",
              int64_t starttime = 100) {
  Upid upid = Upid::ForThisProcess("n", type, id, auth);
  upid.starttime = starttime;
  return upid;
}

TaskListEntry Entry(Upid upid, std::optional<TaskState> state = std::nullopt) {
  return TaskListEntry{upid.ToString(), upid, state};
}

TEST(TaskFilterTest, UnescapeInvertsEscape) {
  for (const char* id : {"", "store1", "store1:vm/100", "a-b c\\x", "st.re_1:ns/a/b"}) {
    EXPECT_EQ(UnescapeWorkerId(EscapeWorkerId(id)), id) << id;
  }
  EXPECT_EQ(UnescapeWorkerId("a\\x3"), "a\\x3");  // incomplete escape kept
}

TEST(TaskFilterTest, StoreRuleFollowsPbsCheckJobStore) {
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("garbage_collection", "s1"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("garbage_collection", "s10"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("backup", "s1:vm/100"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("backup", "s1x:vm/100"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("prune", "s1:ns1"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("prunejob", "s1"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("verify", "s1"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("verificationjob", "s1:v-job1"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("verify_snapshot", "s1:vm/100/2026"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("verify", "s2:x"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("syncjob", "remote1:rs:s1::s-job"), "s1"));
  EXPECT_TRUE(TaskBelongsToStore(MakeUpid("syncjob", "-:rs:s1:ns/a:s-job"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("syncjob", "remote1:s1:s2::s-job"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("reader", "s1:vm/100"), "s1"));
  EXPECT_FALSE(TaskBelongsToStore(MakeUpid("garbage_collection", ""), "s1"));
}

TEST(TaskFilterTest, Conditions) {
  const TaskListEntry running = Entry(MakeUpid("verify", "s1", "alice@pbs", 100));
  const TaskListEntry ok =
      Entry(MakeUpid("backup", "s1:vm/1", "bob@pbs!tok", 200), TaskState::Ok(210));
  const TaskListEntry failed =
      Entry(MakeUpid("garbage_collection", "s2", "root@pam", 300), TaskState::Error(310, "boom"));
  const TaskListEntry warned =
      Entry(MakeUpid("prune", "s1", "root@pam", 400), TaskState::Warnings(410, 1));
  auto matches = [&](const TaskListFilter& f) {
    std::string out;
    for (const auto* e : {&running, &ok, &failed, &warned})
      out += MatchesTaskFilter(*e, f) ? "1" : "0";
    return out;
  };
  TaskListFilter f;
  EXPECT_EQ(matches(f), "1111");
  f = {};
  f.running = true;
  EXPECT_EQ(matches(f), "1000");
  f = {};
  f.errors = true;
  EXPECT_EQ(matches(f), "1011");
  f = {};
  f.userfilter = "bob";
  EXPECT_EQ(matches(f), "0100");
  f = {};
  f.since = 200;
  f.until = 300;
  EXPECT_EQ(matches(f), "0110");
  f = {};
  f.typefilter = "garbage";
  EXPECT_EQ(matches(f), "0010");
  f = {};
  f.statusfilter = {TaskStateType::kOk, TaskStateType::kWarning};
  EXPECT_EQ(matches(f), "0101");
  f = {};
  f.store = "s1";
  EXPECT_EQ(matches(f), "1101");
}

}  // namespace
}  // namespace cairn::server

#include "server/tasks/task_state.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

TEST(TaskStateTest, TextAndResultLines) {
  EXPECT_EQ(TaskState::Ok(5).ToString(), "OK");
  EXPECT_EQ(TaskState::Ok(5).ResultLine(), "TASK OK");
  EXPECT_EQ(TaskState::Warnings(5, 2).ToString(), "WARNINGS: 2");
  EXPECT_EQ(TaskState::Warnings(5, 2).ResultLine(), "TASK WARNINGS: 2");
  EXPECT_EQ(TaskState::Error(5, "disk full").ToString(), "disk full");
  EXPECT_EQ(TaskState::Error(5, "disk full").ResultLine(), "TASK ERROR: disk full");
  EXPECT_EQ(TaskState::Unknown(5).ToString(), "unknown");
}

TEST(TaskStateTest, ParsesEveryStateBack) {
  for (const TaskState& state :
       {TaskState::Ok(1), TaskState::Warnings(2, 7), TaskState::Error(3, "chunk missing"),
        TaskState::Unknown(4), TaskState::Error(5, "OK"), TaskState::Error(6, "unknown"),
        TaskState::Error(7, "WARNINGS: 3"), TaskState::Error(8, "ERROR: nested")}) {
    auto parsed = TaskState::Parse(state.endtime, state.ToString());
    ASSERT_TRUE(parsed.ok()) << state.ToString();
    EXPECT_EQ(*parsed, state) << state.ToString();
    // The result line minus "TASK " parses too (the ERROR: prefix is stripped).
    auto from_line = TaskState::Parse(state.endtime, state.ResultLine().substr(5));
    ASSERT_TRUE(from_line.ok()) << state.ResultLine();
    EXPECT_EQ(*from_line, state) << state.ResultLine();
  }
}

TEST(TaskStateTest, ErrorMessagesStayOnOneLine) {
  EXPECT_EQ(TaskState::Error(1, "a\nb\rc").message, "a b c");
  EXPECT_EQ(TaskState::Error(1, "").message, "unknown error");
}

TEST(TaskStateTest, RejectsBadText) {
  EXPECT_FALSE(TaskState::Parse(1, "").ok());
  EXPECT_FALSE(TaskState::Parse(1, "WARNINGS: x").ok());
  EXPECT_FALSE(TaskState::Parse(1, "WARNINGS: ").ok());
  EXPECT_FALSE(TaskState::Parse(1, "ERROR: ").ok());
}

TEST(TaskStateTest, TypeNames) {
  for (auto type : {TaskStateType::kOk, TaskStateType::kWarning, TaskStateType::kError,
                    TaskStateType::kUnknown}) {
    auto parsed = ParseTaskStateType(TaskStateTypeName(type));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_FALSE(ParseTaskStateType("OK").ok());
}

}  // namespace
}  // namespace cairn::server

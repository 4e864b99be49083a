#include "server/tasks/task_manager.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <thread>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

using testing::TempDir;

// A door a task waits at until the test opens it.
class Gate {
 public:
  void Open() {
    MutexLock lock(mu_);
    open_ = true;
    cv_.SignalAll();
  }
  void Pass() {
    MutexLock lock(mu_);
    while (!open_) cv_.Wait();
  }

 private:
  Mutex mu_;
  CondVar cv_{&mu_};
  bool open_ = false;
};

Status SpinUntilCancelled(const JobControl& control) {
  while (!control.cancelled()) std::this_thread::yield();
  return control.CheckCancelled("verify");
}

class TaskManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { manager_ = Open(); }
  // Lets blocked tasks end even when an assertion failed, before the manager waits for them.
  void TearDown() override { gate_.Open(); }
  std::unique_ptr<TaskManager> Open() {
    auto manager =
        TaskManager::Open({.task_dir = dir_.Sub("tasks"), .node = "node1", .archive = {}});
    EXPECT_TRUE(manager.ok()) << manager.status().ToString();
    return manager.ok() ? std::move(manager).value() : nullptr;
  }
  std::string Tasks(const std::string& name) { return dir_.Sub("tasks") + "/" + name; }
  // The messages of the task's log, time stamps cut off.
  std::vector<std::string> Messages(const Upid& upid) {
    auto page = manager_->ReadLog(upid.ToString(), 0, 0);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& line : page->lines)
        out.push_back(line.text.substr(line.text.find(": ") + 2));
    }
    return out;
  }
  Upid SpawnOk(std::string_view type, std::string_view id, TaskManager::Work work,
               std::string_view auth = "root@pam") {
    auto upid = manager_->Spawn(type, id, auth, std::move(work));
    EXPECT_TRUE(upid.ok()) << upid.status().ToString();
    return upid.ok() ? *upid : Upid();
  }

  TempDir dir_;
  Gate gate_;
  std::unique_ptr<TaskManager> manager_;
};

TEST_F(TaskManagerTest, TaskLogsAndEndsOk) {
  Upid upid = SpawnOk("garbage_collection", "store1", [](const JobControl& control) {
    control.Info("starting garbage collection on store {}", "store1");
    return Status::OK();
  });
  EXPECT_EQ(upid.node, "node1");
  EXPECT_EQ(upid.worker_type, "garbage_collection");
  EXPECT_EQ(upid.auth_id, "root@pam");
  auto state = manager_->Wait(upid.ToString());
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->type, TaskStateType::kOk);
  EXPECT_EQ(Messages(upid),
            (std::vector<std::string>{"starting garbage collection on store store1", "TASK OK"}));
  EXPECT_TRUE(PathExists(*TaskLogPath(dir_.Sub("tasks"), upid)).value());
  auto status = manager_->GetStatus(upid.ToString());
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->running);
  EXPECT_EQ(status->state->type, TaskStateType::kOk);
  EXPECT_EQ(status->state->endtime, state->endtime);
}

TEST_F(TaskManagerTest, WarningsAreCountedAndErrorsReported) {
  Upid warned = SpawnOk("verify", "store1", [](const JobControl& control) {
    control.Warn("chunk {} is missing", 1);
    control.Info("still going");
    control.Warn("chunk {} is missing", 2);
    return Status::OK();
  });
  Upid failed = SpawnOk("prune", "store1", [](const JobControl& control) {
    control.Warn("one warning");
    return Status::IOError("write /x: No space left on device");
  });
  auto warned_state = manager_->Wait(warned.ToString());
  ASSERT_TRUE(warned_state.ok());
  EXPECT_EQ(*warned_state, TaskState::Warnings(warned_state->endtime, 2));
  EXPECT_EQ(Messages(warned).back(), "TASK WARNINGS: 2");
  EXPECT_EQ(Messages(warned)[0], "WARN: chunk 1 is missing");
  auto state = manager_->Wait(failed.ToString());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->type, TaskStateType::kError);
  EXPECT_EQ(state->message, "write /x: No space left on device");
  EXPECT_EQ(Messages(failed).back(), "TASK ERROR: write /x: No space left on device");
}

TEST_F(TaskManagerTest, ThrowingWorkEndsInAnError) {
  Upid upid =
      SpawnOk("verify", "s", [](const JobControl&) -> Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(manager_->Wait(upid.ToString())->message, "task panicked: boom");
}

TEST_F(TaskManagerTest, ActiveHoldsRunningTasksAndArchiveFinishedOnes) {
  Upid upid = SpawnOk("verify", "store1", [&](const JobControl&) {
    gate_.Pass();
    return Status::OK();
  });
  EXPECT_EQ(testing::ReadTestFile(Tasks("active")), upid.ToString() + "\n");
  auto status = manager_->GetStatus(upid.ToString());
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->running);
  EXPECT_FALSE(status->state);
  TaskListFilter running;
  running.running = true;
  EXPECT_EQ(manager_->List(running)->total, 1u);

  gate_.Open();
  auto state = manager_->Wait(upid.ToString());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(testing::ReadTestFile(Tasks("active")), "");
  EXPECT_EQ(testing::ReadTestFile(Tasks("archive")),
            fmt::format("{} {:08X} OK\n", upid.ToString(), state->endtime));
  EXPECT_EQ(manager_->List(running)->total, 0u);
}

TEST_F(TaskManagerTest, ListFiltersPagesAndCounts) {
  std::vector<Upid> upids;
  upids.push_back(SpawnOk(
      "backup", "store1:vm/100", [](const JobControl&) { return Status::OK(); }, "alice@pbs"));
  ASSERT_TRUE(manager_->Wait(upids.back().ToString()).ok());  // archived in this order
  upids.push_back(SpawnOk("garbage_collection", "store1",
                          [](const JobControl&) { return Status::Corruption("bad chunk"); }));
  ASSERT_TRUE(manager_->Wait(upids.back().ToString()).ok());
  upids.push_back(SpawnOk("verify", "store2", [](const JobControl& c) {
    c.Warn("w");
    return Status::OK();
  }));
  ASSERT_TRUE(manager_->Wait(upids.back().ToString()).ok());
  upids.push_back(SpawnOk(
      "prune", "store1",
      [&](const JobControl&) {
        gate_.Pass();
        return Status::OK();
      },
      "bob@pbs!token"));

  auto all = manager_->List({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->total, 4u);
  EXPECT_EQ(all->items[0].upid_str, upids[3].ToString());  // running first
  EXPECT_FALSE(all->items[0].state);
  EXPECT_EQ(all->items[1].upid_str, upids[2].ToString());  // then newest finished first
  EXPECT_EQ(all->items[3].upid_str, upids[0].ToString());

  auto count = [&](auto set) {
    TaskListFilter filter;
    set(filter);
    auto list = manager_->List(filter);
    EXPECT_TRUE(list.ok());
    return list.ok() ? list->total : 0;
  };
  EXPECT_EQ(count([](TaskListFilter& f) { f.running = true; }), 1u);
  EXPECT_EQ(count([](TaskListFilter& f) { f.errors = true; }), 3u);  // error, warning, running
  EXPECT_EQ(count([](TaskListFilter& f) { f.userfilter = "bob"; }), 1u);
  EXPECT_EQ(count([](TaskListFilter& f) { f.typefilter = "garbage"; }), 1u);
  EXPECT_EQ(count([](TaskListFilter& f) { f.store = "store1"; }), 3u);
  EXPECT_EQ(count([](TaskListFilter& f) { f.statusfilter = {TaskStateType::kError}; }), 1u);
  EXPECT_EQ(count([&](TaskListFilter& f) { f.since = upids[0].starttime + 1000000; }), 0u);

  TaskListFilter page;
  page.start = 1;
  page.limit = 2;
  auto paged = manager_->List(page);
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(paged->total, 4u);
  ASSERT_EQ(paged->items.size(), 2u);
  EXPECT_EQ(paged->items[0].upid_str, upids[2].ToString());

  auto visible = manager_->List({}, [](const Upid& upid) { return upid.auth_id == "root@pam"; });
  ASSERT_TRUE(visible.ok());
  EXPECT_EQ(visible->total, 2u);
  gate_.Open();
  ASSERT_TRUE(manager_->Wait(upids[3].ToString()).ok());
}

TEST_F(TaskManagerTest, AbortStopsARunningTask) {
  Upid upid = SpawnOk("verify", "store1", SpinUntilCancelled);
  ASSERT_TRUE(manager_->Abort(upid.ToString()).ok());
  (void)manager_->Abort(upid.ToString());  // twice: logged once (NotFound if it ended)
  auto state = manager_->Wait(upid.ToString());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->type, TaskStateType::kError);
  EXPECT_EQ(state->message, "verify cancelled");
  EXPECT_EQ(Messages(upid), (std::vector<std::string>{"received abort request ...",
                                                      "TASK ERROR: verify cancelled"}));
  EXPECT_TRUE(manager_->Abort(upid.ToString()).IsNotFound());
}

TEST_F(TaskManagerTest, UniqueTasksAreRefusedWhileOneRuns) {
  auto first = manager_->Spawn(
      "garbage_collection", "store1", "root@pam",
      [&](const JobControl&) {
        gate_.Pass();
        return Status::OK();
      },
      /*unique=*/true);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(manager_->IsRunning("garbage_collection", "store1"));
  EXPECT_FALSE(manager_->IsRunning("garbage_collection", "store2"));
  auto second = manager_->Spawn(
      "garbage_collection", "store1", "root@pam", [](const JobControl&) { return Status::OK(); },
      true);
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
  auto other = manager_->Spawn(
      "garbage_collection", "store2", "root@pam", [](const JobControl&) { return Status::OK(); },
      true);
  EXPECT_TRUE(other.ok());
  gate_.Open();
  ASSERT_TRUE(manager_->Wait(first->ToString()).ok());
  ASSERT_TRUE(manager_->Wait(other->ToString()).ok());
  EXPECT_FALSE(manager_->IsRunning("garbage_collection", "store1"));
}

TEST_F(TaskManagerTest, ConcurrentSpawnsGetUniqueUpidsAndConsistentLists) {
  constexpr int kTasks = 50;
  std::vector<std::string> upids(kTasks);
  testing::ParallelFor(kTasks, 5, [&](int i) {
    auto upid = manager_->Spawn("verify", fmt::format("store{}", i % 3), "root@pam",
                                [i](const JobControl& control) {
                                  control.Info("task {}", i);
                                  if (i % 7 == 0) control.Warn("seven");
                                  return Status::OK();
                                });
    ASSERT_TRUE(upid.ok()) << upid.status().ToString();
    upids[i] = upid->ToString();
  });
  for (const std::string& upid : upids) ASSERT_TRUE(manager_->Wait(upid).ok());
  EXPECT_EQ(std::set<std::string>(upids.begin(), upids.end()).size(), size_t{kTasks});
  EXPECT_EQ(testing::ReadTestFile(Tasks("active")), "");
  std::set<std::string> archived;
  std::string archive = testing::ReadTestFile(Tasks("archive"));
  for (size_t pos = 0, nl; (nl = archive.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    archived.insert(archive.substr(pos, archive.find(' ', pos) - pos));
  }
  EXPECT_EQ(archived, std::set<std::string>(upids.begin(), upids.end()));
  TaskListFilter all;
  all.limit = 0;
  auto list = manager_->List(all);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->total, size_t{kTasks});
  EXPECT_EQ(list->items.size(), size_t{kTasks});
  TaskListFilter warned;
  warned.statusfilter = {TaskStateType::kWarning};
  EXPECT_EQ(manager_->List(warned)->total, 8u);  // 0, 7, ..., 49
}

TEST_F(TaskManagerTest, ShutdownCancelsWaitsAndRefusesNewTasks) {
  std::vector<Upid> upids;
  for (int i = 0; i < 3; ++i) upids.push_back(SpawnOk("verify", "store1", SpinUntilCancelled));
  manager_->Shutdown();
  EXPECT_EQ(testing::ReadTestFile(Tasks("active")), "");
  for (const Upid& upid : upids) {
    auto status = manager_->GetStatus(upid.ToString());
    ASSERT_TRUE(status.ok());
    EXPECT_FALSE(status->running);
    EXPECT_EQ(status->state->message, "verify cancelled");
    EXPECT_EQ(Messages(upid).back(), "TASK ERROR: verify cancelled");
  }
  auto refused =
      manager_->Spawn("verify", "x", "root@pam", [](const JobControl&) { return Status::OK(); });
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  manager_->Shutdown();  // idempotent
}

TEST_F(TaskManagerTest, RefusesHostileUpidText) {
  Upid upid = SpawnOk("verify", "s", [](const JobControl&) { return Status::OK(); });
  ASSERT_TRUE(manager_->Wait(upid.ToString()).ok());
  const std::string good = upid.ToString();
  std::string other_node = good;
  other_node.replace(5, 5, "node2");
  std::string with_nul = good;
  with_nul[good.size() - 3] = '\0';
  for (const std::string& bad : {
           std::string("../../etc/passwd"),
           std::string("UPID:node1:00001234:000000AB:00000007:65A1B2C3:../../x:s:root@pam:"),
           std::string("UPID:node1:00001234:000000AB:00000007:65A1B2C3:verify:s:root@pam/..:"),
           std::string("UPID:..:00001234:000000AB:00000007:65A1B2C3:verify:s:root@pam:"),
           with_nul,
           other_node,
           good + "x",
           std::string(),
       }) {
    EXPECT_EQ(manager_->ReadLog(bad, 0, 0).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(manager_->GetStatus(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(manager_->Abort(bad).code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(manager_->Wait(bad).status().code(), Code::kInvalidArgument) << bad;
  }
  Upid unknown = upid;
  unknown.task_id += 1000;
  EXPECT_TRUE(manager_->ReadLog(unknown.ToString(), 0, 0).status().IsNotFound());
  EXPECT_TRUE(manager_->GetStatus(unknown.ToString()).status().IsNotFound());
  EXPECT_TRUE(manager_->ReadLog(good, 0, 0).ok());
  // Invalid names for a new task.
  for (auto [type, auth] : {std::pair{"", "root@pam"}, std::pair{"a/b", "root@pam"},
                            std::pair{"gc", "root pam"}, std::pair{"gc", "a:b"}}) {
    EXPECT_EQ(manager_->Spawn(type, "", auth, [](const JobControl&) { return Status::OK(); })
                  .status()
                  .code(),
              Code::kInvalidArgument)
        << type << " " << auth;
  }
}

}  // namespace
}  // namespace cairn::server

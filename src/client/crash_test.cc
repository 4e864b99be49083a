// Crash consistency: a backup process killed with SIGKILL at arbitrary points must leave a
// datastore that opens, lists only finished snapshots (each of which restores), and accepts
// the next backup. Kill points come from a seeded generator, so a failure is reproducible; the
// assertions hold wherever the kill lands, so the test does not depend on timing. On S3 the
// check is made from the bucket's side too: a second cache attached with --reuse after each
// kill lists only finished snapshots, and the newest restores from chunks fetched from the
// bucket (so none that it references is missing there).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "base/file_util.h"
#include "client/backup.h"
#include "client/local_repository.h"
#include "client/restore.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

constexpr uint64_t kChunk = 64 << 10;

BackupOptions Options(int64_t time) {
  BackupOptions opt;
  opt.group = *BackupGroup::Parse("vm/crash");
  opt.backup_time = time;
  opt.chunk_size = kChunk;
  return opt;
}

// Runs in the child: back up again and again, each time with partly new data.
[[noreturn]] void BackupForever(const testing::TestStore& test_store, const std::string& image,
                                int64_t first_time) {
  auto store = test_store.OpenAnother();
  if (!store.ok()) _exit(10);
  auto repo = NewLocalRepository(**store);
  for (int64_t t = first_time;; ++t) {
    (void)RunBackup(*repo, Options(t), {BackupSource{"disk.img", image}});
  }
}

// Checks what `store` lists after a kill: only finished snapshots; the newest restores.
void ExpectOnlyFinishedSnapshots(Datastore& store, const std::string& restore_to, int round) {
  auto repo = NewLocalRepository(store);
  auto group = *BackupGroup::Parse("vm/crash");
  auto snaps = store.ListSnapshots(BackupNamespace(), group);
  if (!snaps.ok()) {
    ASSERT_TRUE(snaps.status().IsNotFound()) << snaps.status().ToString();  // no group yet
    return;
  }
  for (const auto& snap : *snaps) EXPECT_TRUE(snap.error.empty()) << snap.error;
  if (!snaps->empty()) {
    RestoreOptions ropt;
    ropt.overwrite = true;  // the same target every round
    auto r = RestoreArchive(*repo, BackupNamespace(), snaps->back().ref, "disk.img", restore_to,
                            ropt);
    ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.status().ToString();
  }
}

class CrashTest : public ::testing::TestWithParam<testing::StoreKind> {};
INSTANTIATE_TEST_SUITE_P(Backends, CrashTest, testing::kAllStoreKinds, testing::PrintStoreKind);

TEST_P(CrashTest, SigkillDuringBackupLeavesConsistentStore) {
  testing::TempDir dir;
  const std::string store_path = dir.Sub("store");
  auto test_store = testing::TestStore::Create(GetParam(), store_path);
  ASSERT_TRUE(test_store->remote() || GetParam() == testing::StoreKind::kFilesystem);
  const std::string image = dir.Sub("disk.img");
  std::mt19937_64 rng(20261123);
  const int rounds = 12;
  for (int round = 0; round < rounds; ++round) {
    testing::WriteTestFile(image, testing::RandomBytes(48 * kChunk + 777, round));
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) BackupForever(*test_store, image, 1000 * (round + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);

    auto store = test_store->OpenAnother();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ExpectOnlyFinishedSnapshots(**store, dir.Sub("restored.img"), round);
    if (test_store->remote() && round % 4 == 3) {
      const std::string mirror_path = dir.Sub("mirror" + std::to_string(round));
      auto mirror = test_store->AttachMirror(mirror_path);
      ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
      ExpectOnlyFinishedSnapshots(**mirror, dir.Sub("from-bucket.img"), round);
      ASSERT_TRUE(RemoveTree(mirror_path).ok());
    }
  }
  // And the store still takes a backup that restores exactly.
  auto store = test_store->OpenAnother();
  ASSERT_TRUE(store.ok());
  auto repo = NewLocalRepository(**store);
  auto summary = RunBackup(*repo, Options(999999), {BackupSource{"disk.img", image}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  RestoreOptions ropt;
  auto restored = RestoreArchive(*repo, BackupNamespace(), summary->snapshot, "disk.img",
                                 dir.Sub("final.img"), ropt);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(*ReadFile(dir.Sub("final.img")), *ReadFile(image));
  // No unfinished snapshot directory is left once a backup of the group has run.
  size_t dirs = 0;
  for (auto& e : std::filesystem::directory_iterator(store_path + "/vm/crash")) dirs += e.is_directory();
  EXPECT_EQ(dirs, (*store)->ListSnapshots(BackupNamespace(), summary->snapshot.group)->size());
}

}  // namespace
}  // namespace cairn

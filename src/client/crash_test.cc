// Crash consistency: a backup process killed with SIGKILL at arbitrary points must leave a
// datastore that opens, lists only finished snapshots (each of which restores), and accepts
// the next backup. Kill points are counted in file mutations (the file layer's fault seam,
// base/file_faults.h, kills the child right before its K-th one) and K comes from a seeded
// generator, so every kill lands inside the work, a failure is reproducible, and nothing
// depends on timing. On S3 the
// check is made from the bucket's side too: a second cache attached with --reuse after each
// kill lists only finished snapshots, and the newest restores from chunks fetched from the
// bucket (so none that it references is missing there).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "base/file_faults.h"
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

// Runs in the child: back up again and again until the K-th file mutation kills it.
[[noreturn]] void BackupUntilKilled(const testing::TestStore& test_store, const std::string& image,
                                    int64_t first_time, uint64_t k) {
  auto store = test_store.OpenAnother();
  if (!store.ok()) _exit(10);
  FileFaultRule kill;
  kill.action = FileFaultRule::Action::kKill;
  kill.nth = k;
  FileFaults::Install({kill});
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
    auto r =
        RestoreArchive(*repo, BackupNamespace(), snaps->back().ref, "disk.img", restore_to, ropt);
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
    // One backup of this image makes about 5 mutations per chunk (49 chunks) plus metadata:
    // K lands in the first or the second backup of the round.
    const uint64_t k = 1 + rng() % 500;
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) BackupUntilKilled(*test_store, image, 1000 * (round + 1), k);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    ASSERT_EQ(WTERMSIG(status), SIGKILL) << "round " << round << ", k " << k;

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
  for (auto& e : std::filesystem::directory_iterator(store_path + "/vm/crash"))
    dirs += e.is_directory();
  EXPECT_EQ(dirs, (*store)->ListSnapshots(BackupNamespace(), summary->snapshot.group)->size());
}

}  // namespace
}  // namespace cairn

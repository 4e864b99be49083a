// A 1 GiB image with the default 4 MiB chunks: backup, restore byte-identical, and an
// incremental second run that uploads nothing.

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "client/backup.h"
#include "client/local_repository.h"
#include "client/restore.h"
#include "format/digest.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

// SHA-256 of a file, read in pieces.
Digest HashFile(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr);
  Sha256 h;
  Bytes buf(1 << 20);
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) h.Update(ByteView(buf.data(), n));
  fclose(f);
  return h.Finish();
}

TEST(LargeImageTest, OneGibRoundTrip) {
  testing::TempDir dir;
  const std::string image = dir.Sub("big.img");
  {
    FILE* f = fopen(image.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    // 1 GiB + 1000 bytes: random MiBs with zero regions and repeated blocks between them.
    for (int mib = 0; mib < 1024; ++mib) {
      Bytes block = (mib % 7 == 3) ? Bytes(1 << 20, 0) : testing::RandomBytes(1 << 20, mib % 200);
      ASSERT_EQ(fwrite(block.data(), 1, block.size(), f), block.size());
    }
    Bytes tail = testing::RandomBytes(1000, 77);
    ASSERT_EQ(fwrite(tail.data(), 1, tail.size(), f), tail.size());
    fclose(f);
  }
  auto store = std::move(Datastore::CreateFilesystem(dir.Sub("store")).value());
  auto repo = NewLocalRepository(*store);
  BackupOptions opt;
  opt.group = *BackupGroup::Parse("vm/big");
  opt.backup_time = 100;
  auto first = RunBackup(*repo, opt, {BackupSource{"disk.img", image}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->archives[0].size, (1ull << 30) + 1000);
  EXPECT_EQ(first->archives[0].chunks.chunks, 257u);

  RestoreOptions ropt;
  ASSERT_TRUE(RestoreArchive(*repo, BackupNamespace(), first->snapshot, "disk.img",
                             dir.Sub("restored.img"), ropt)
                  .ok());
  EXPECT_EQ(HashFile(dir.Sub("restored.img")), HashFile(image));

  opt.backup_time = 200;
  auto second = RunBackup(*repo, opt, {BackupSource{"disk.img", image}});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->archives[0].chunks.uploaded, 0u);
}

}  // namespace
}  // namespace cairn

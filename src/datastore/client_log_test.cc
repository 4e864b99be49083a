#include "datastore/datastore_test_fixture.h"
#include "format/archive_name.h"

namespace cairn {
namespace {

// PBS's upload-backup-log: the client's log joins a finished snapshot once, outside the manifest.
TEST_P(DatastoreTest, AClientLogIsAddedOnceToAFinishedSnapshotAndReadBack) {
  SnapshotRef snap = Backup(root_, "vm/100", 1000);
  Bytes log = *EncodeBlob(AsBytes("INFO: backup finished\n"), nullptr, true);
  ASSERT_TRUE(store_->AddClientLog(root_, snap, log).ok());
  EXPECT_EQ(*store_->ReadSnapshotFile(root_, snap, kClientLogName), log);
  EXPECT_EQ(store_->AddClientLog(root_, snap, log).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->LoadManifest(root_, snap)->files().size(), 1u);  // not listed

  Bytes bad_crc = log;
  bad_crc.back() ^= 1;
  SnapshotRef other = Backup(root_, "vm/100", 2000);
  EXPECT_EQ(store_->AddClientLog(root_, other, bad_crc).code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ReadSnapshotFile(root_, other, kClientLogName).status().IsNotFound());
  SnapshotRef missing = *SnapshotRef::Make(*BackupGroup::Parse("vm/100"), 3000);
  EXPECT_TRUE(store_->AddClientLog(root_, missing, log).IsNotFound());
}

}  // namespace
}  // namespace cairn

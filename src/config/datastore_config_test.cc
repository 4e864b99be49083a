// The configuration layer, which the CLI and the server share: datastore entries load and save
// as they were, bad files are refused naming the file, and OpenStore opens a configured store
// for an operation (creating the default store on first use).

#include "config/datastore_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn::config {
namespace {

TEST(DatastoreConfigTest, AMissingFileIsAnEmptyConfigAndEntriesSurviveAReload) {
  testing::TempDir dir;
  auto config = DatastoreConfig::Load(dir.Sub("etc"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->datastores().empty());
  DatastoreEntry local;
  local.path = dir.Sub("local");
  DatastoreEntry remote;
  remote.path = dir.Sub("cache");
  remote.backend = "s3";
  remote.s3_endpoint = "rgw";
  remote.bucket = "backups";
  remote.max_cache_size = uint64_t{1} << 30;
  ASSERT_TRUE(config->Add("local", local).ok());
  ASSERT_TRUE(config->Add("offsite", remote).ok());
  EXPECT_EQ(config->Add("local", local).code(), Code::kAlreadyExists);

  auto again = DatastoreConfig::Load(dir.Sub("etc"));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->datastores().size(), 2u);
  auto offsite = again->Get("offsite");
  ASSERT_TRUE(offsite.ok());
  EXPECT_EQ(offsite->backend, "s3");
  EXPECT_EQ(offsite->bucket, "backups");
  EXPECT_EQ(offsite->max_cache_size, uint64_t{1} << 30);
  EXPECT_TRUE(again->Get("nothing").status().IsNotFound());
  EXPECT_TRUE(again->Get("local")->tuning.empty());
  DatastoreTuning tuning;
  tuning.gc_atime_cutoff_minutes = 30;
  ASSERT_TRUE(again->SetTuning("local", tuning).ok());
  EXPECT_TRUE(again->SetTuning("nothing", tuning).IsNotFound());
  auto tuned = DatastoreConfig::Load(dir.Sub("etc"));
  ASSERT_TRUE(tuned.ok());
  EXPECT_EQ(tuned->Get("local")->tuning, tuning);
  EXPECT_TRUE(tuned->Get("offsite")->tuning.empty());
  ASSERT_TRUE(again->Remove("local").ok());
  EXPECT_TRUE(again->Remove("local").IsNotFound());
}

TEST(DatastoreConfigTest, BadFilesAreRefusedNamingTheFile) {
  testing::TempDir dir;
  const std::string path = JoinPath(dir.path(), "datastore.json");
  for (const char* text :
       {"not json", "[]", R"({"datastores": []})", R"({"datastores": {"a": {}}})",
        R"({"datastores": {"a": {"path": "/x", "backend": "tape"}}})",
        R"({"datastores": {"a": {"path": "/x", "backend": "s3"}}})",
        R"({"datastores": {"a": {"path": "/x", "max-cache-size": "big"}}})",
        R"({"datastores": {"a": {"path": "/x", "tuning": 5}}})",
        R"({"datastores": {"a": {"path": "/x", "tuning": "gc-atime-cutoff=0"}}})"}) {
    ASSERT_TRUE(WriteFileAtomic(path, AsBytes(std::string_view(text)), 0644).ok());
    auto config = DatastoreConfig::Load(dir.path());
    EXPECT_EQ(config.status().code(), Code::kCorruption) << text;
    EXPECT_NE(config.status().message().find(path), std::string::npos) << text;
  }
}

TEST(DatastoreConfigTest, OpenStoreBeginsTheOperationAndCreatesTheDefaultStore) {
  testing::TempDir dir;
  ::setenv("CAIRN_DEFAULT_STORE", dir.Sub("default-store").c_str(), 1);
  auto config = DatastoreConfig::Load(dir.Sub("etc"));
  ASSERT_TRUE(config.ok());
  auto opened = config->OpenStore(kDefaultStoreName, Operation::kWrite);
  ::unsetenv("CAIRN_DEFAULT_STORE");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->operation.kind(), Operation::kWrite);
  EXPECT_EQ(opened->store->path(), dir.Sub("default-store"));
  EXPECT_EQ(config->Get(kDefaultStoreName)->path, dir.Sub("default-store"));
  // The operation holds the store: a removal cannot start until it ends.
  EXPECT_EQ(opened->store->Detach(false, std::chrono::milliseconds(0)).code(), Code::kBusy);
  opened->operation = OperationGuard();
  EXPECT_TRUE(opened->store->Detach(false, std::chrono::milliseconds(0)).ok());

  EXPECT_TRUE(config->OpenStore("unknown", Operation::kRead).status().IsNotFound());
}

// The default store is registered before it is created (as `datastore create` does): a first
// use killed in between leaves the entry and a directory marked unfinished, which the next use
// finishes; a registered default store whose directory is gone is not made anew.
TEST(DatastoreConfigTest, AnUnfinishedDefaultStoreIsFinishedButAMissingOneIsNotMadeAnew) {
  testing::TempDir dir;
  const std::string path = dir.Sub("default-store");
  auto config = DatastoreConfig::Load(dir.Sub("etc"));
  ASSERT_TRUE(config.ok());
  DatastoreEntry entry;
  entry.path = path;
  ASSERT_TRUE(config->Add(kDefaultStoreName, entry).ok());
  ASSERT_TRUE(MakeDirs(path, 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(path, ".cairn-creating"), {}, 0644).ok());
  auto opened = config->OpenStore(kDefaultStoreName, Operation::kRead);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_FALSE(*PathExists(JoinPath(path, ".cairn-creating")));
  opened->operation = OperationGuard();
  opened->store.reset();

  ASSERT_TRUE(RemoveTree(path).ok());  // the disk is gone (or not mounted)
  auto gone = config->OpenStore(kDefaultStoreName, Operation::kRead);
  EXPECT_TRUE(gone.status().IsNotFound()) << gone.status().ToString();
  EXPECT_FALSE(*PathExists(path));
}

}  // namespace
}  // namespace cairn::config

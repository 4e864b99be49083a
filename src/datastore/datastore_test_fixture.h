// The datastore tests' fixture, shared by the test files of the layer: a store of each kind
// (filesystem, memory, moto, s3rver; testing/test_stores.h), and, on S3, a check at the end of
// every test that a second cache attached to the bucket sees exactly the same metadata.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "base/file_util.h"
#include "datastore/datastore.h"
#include "datastore/snapshot_writer.h"
#include "format/data_blob.h"
#include "format/digest.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {

// Every metadata file below `root` (namespaces, groups, snapshots), by relative path.
inline std::map<std::string, Bytes> MetadataFiles(const std::string& root) {
  std::map<std::string, Bytes> out;
  for (const char* top : {"ct", "host", "vm", "ns"}) {
    const std::string dir = JoinPath(root, top);
    if (!*PathExists(dir)) continue;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) {
        out[std::filesystem::relative(e.path(), root).string()] = *ReadFile(e.path().string());
      }
    }
  }
  return out;
}

// The datastore tests, run on every backend. On S3 each test ends by attaching a second cache
// to the bucket (--reuse) and checking that it sees exactly the metadata of the first: every
// mutation reached the bucket, and nothing else did.
class DatastoreTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    test_store_ = testing::TestStore::Create(GetParam(), dir_.Sub("store"));
    ASSERT_NE(test_store_, nullptr);
    store_ = &test_store_->store();
  }

  void TearDown() override {
    if (!test_store_ || !test_store_->remote() || !check_mirror_ || HasFailure()) return;
    auto mirror = test_store_->AttachMirror(dir_.Sub("mirror"));
    ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
    auto local = MetadataFiles(dir_.Sub("store"));
    auto remote = MetadataFiles(dir_.Sub("mirror"));
    EXPECT_EQ(local.size(), remote.size());
    for (const auto& [path, data] : local) {
      EXPECT_TRUE(remote.count(path) && remote[path] == data) << path << " differs in the bucket";
    }
    EXPECT_EQ(*store_->ListNamespaces({}, true), *(*mirror)->ListNamespaces({}, true));
  }

  // Writes a finished snapshot with one blob archive.
  SnapshotRef Backup(const BackupNamespace& ns, const std::string& group, int64_t time,
                     const std::string& owner = "root@pam") {
    auto g = BackupGroup::Parse(group);
    EXPECT_TRUE(g.ok());
    auto w = SnapshotWriter::Begin(*store_, ns, *g, time, owner);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    Bytes blob = *EncodeBlob(AsBytes("config"), nullptr, true);
    EXPECT_TRUE((*w)->WriteArchive("vm.conf.blob", blob).ok());
    auto m = Manifest::Create(BackupTypeName(g->type), g->id, time);
    ManifestFile f;
    f.filename = "vm.conf.blob";
    f.size = blob.size();
    f.csum = Sha256Of(blob);
    EXPECT_TRUE(m->AddOrReplaceFile(f).ok());
    Status st = (*w)->Finish(*m);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return (*w)->snapshot();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestStore> test_store_;
  Datastore* store_ = nullptr;
  BackupNamespace root_;
  bool check_mirror_ = true;  // off for tests that damage local files on purpose
};

}  // namespace cairn

// S3 datastores: creating and attaching (bucket access, the in-use marker, --reuse), the
// metadata refresh, maintenance modes, and deletions by prefix, against moto (and s3rver where
// the provider matters).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "base/file_faults.h"
#include "base/file_util.h"
#include "datastore/datastore.h"
#include "datastore/snapshot_writer.h"
#include "format/data_blob.h"
#include "storage/fault_object_store.h"
#include "storage/s3_object_store.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::NewPeerBucket;

class ObjectStoreDatastoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    objects_ = NewPeerBucket("moto");
    ASSERT_NE(objects_, nullptr);
  }

  ObjectStoreDatastoreOptions Options(const std::string& host, const std::string& name = "store") {
    ObjectStoreDatastoreOptions options;
    options.backend = {name, objects_, 0};
    options.hostname = host;
    return options;
  }

  std::unique_ptr<Datastore> Create(const std::string& dir, ObjectStoreDatastoreOptions options) {
    auto store = Datastore::CreateOnObjectStore(dir_.Sub(dir), std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::set<std::string> Keys(const std::string& prefix = "") {
    std::set<std::string> keys;
    EXPECT_TRUE(objects_
                    ->List({prefix},
                           [&](const StoredObject& o) {
                             keys.insert(o.key);
                             return true;
                           })
                    .ok());
    return keys;
  }

  SnapshotRef Backup(Datastore& store, const BackupNamespace& ns, const std::string& group,
                     int64_t time) {
    auto g = *BackupGroup::Parse(group);
    auto w = SnapshotWriter::Begin(store, ns, g, time, "root@pam");
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    Bytes blob = *EncodeBlob(AsBytes("config " + group), nullptr, true);
    EXPECT_TRUE((*w)->WriteArchive("vm.conf.blob", blob).ok());
    auto m = *Manifest::Create(BackupTypeName(g.type), g.id, time);
    EXPECT_TRUE(m.AddOrReplaceFile({"vm.conf.blob", CryptMode::kNone, blob.size(), Sha256Of(blob),
                                    nlohmann::json::object()})
                    .ok());
    EXPECT_TRUE((*w)->Finish(m).ok());
    return (*w)->snapshot();
  }

  testing::TempDir dir_;
  std::shared_ptr<ObjectStore> objects_;
  BackupNamespace root_;
};

TEST_F(ObjectStoreDatastoreTest, InUseMarkerRefusesASecondHost) {
  auto first = Create("a", Options("host-a"));
  ASSERT_NE(first, nullptr);
  Bytes marker = *objects_->Get("store/.in-use");
  EXPECT_EQ(nlohmann::json::parse(AsString(marker))["hostname"], "host-a");
  Backup(*first, root_, "vm/100", 10);

  ObjectStoreDatastoreOptions second = Options("host-b");
  second.reuse = true;
  auto refused = Datastore::CreateOnObjectStore(dir_.Sub("b"), second);
  EXPECT_TRUE(refused.status().IsAlreadyExists());
  EXPECT_NE(refused.status().message().find("host-a"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("--overwrite-in-use"), std::string::npos);
  EXPECT_FALSE(*PathExists(dir_.Sub("b/.chunks")));  // nothing created locally

  second.overwrite_in_use = true;
  auto taken = Create("b", second);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(nlohmann::json::parse(AsString(*objects_->Get("store/.in-use")))["hostname"], "host-b");
  EXPECT_EQ(taken->ListSnapshots(root_, *BackupGroup::Parse("vm/100"))->size(), 1u);

  // The same host re-attaching after losing its cache needs no override.
  ObjectStoreDatastoreOptions again = Options("host-b");
  again.reuse = true;
  EXPECT_NE(Create("c", again), nullptr);
}

TEST_F(ObjectStoreDatastoreTest, CreateAndReuseRefuseTheWrongState) {
  ObjectStoreDatastoreOptions reuse = Options("h");
  reuse.reuse = true;
  EXPECT_TRUE(Datastore::CreateOnObjectStore(dir_.Sub("x"), reuse).status().IsNotFound());
  auto store = Create("a", Options("h"));
  ASSERT_NE(store, nullptr);
  Backup(*store, root_, "ct/1", 5);
  auto again = Datastore::CreateOnObjectStore(dir_.Sub("b"), Options("h"));
  EXPECT_TRUE(again.status().IsAlreadyExists());
  EXPECT_NE(again.status().message().find("--reuse"), std::string::npos);
  // A local directory that is not empty is refused before anything is written remotely.
  ASSERT_TRUE(MakeDirs(dir_.Sub("full")).ok());
  testing::WriteTestFile(dir_.Sub("full/precious"), AsBytes("x"));
  EXPECT_TRUE(Datastore::CreateOnObjectStore(dir_.Sub("full"), reuse).status().IsAlreadyExists());
  EXPECT_EQ(AsString(*ReadFile(dir_.Sub("full/precious"))), "x");
}

TEST_F(ObjectStoreDatastoreTest, CreateChecksBucketAccessFirst) {
  testing::S3Peer moto = testing::LoadS3Peer("moto");
  auto make = [&](s3::EndpointConfig config, const std::string& bucket) {
    s3::S3ClientOptions options;
    options.retry.max_attempts = 2;
    options.retry.base_delay = 0.01;
    auto client = s3::S3Client::Create(config, bucket, options);
    EXPECT_TRUE(client.ok());
    ObjectStoreDatastoreOptions o;
    o.backend = {"store", std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(*client), "e")),
                 0};
    o.hostname = "h";
    return Datastore::CreateOnObjectStore(dir_.Sub("never"), o).status();
  };
  Status missing = make(moto.config, "no-such-bucket-here");
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  EXPECT_NE(missing.message().find("no-such-bucket-here"), std::string::npos);

  s3::EndpointConfig unreachable = moto.config;
  unreachable.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  Status down = make(unreachable, "bucket1");
  EXPECT_EQ(down.code(), Code::kUnavailable) << down.ToString();

  testing::S3Peer auth = testing::LoadS3Peer("moto-auth");
  s3::EndpointConfig wrong = auth.config;
  wrong.credentials.secret_key += "x";
  Status denied = make(wrong, "bucket1");
  EXPECT_EQ(denied.code(), Code::kPermissionDenied) << denied.ToString();
  EXPECT_FALSE(*PathExists(dir_.Sub("never/.chunks")));
}

// Story: a bucket is shared with other tools and may hold keys a datastore never writes, some
// crafted: a refresh must never create anything from them, only report them.
TEST_F(ObjectStoreDatastoreTest, RefreshRebuildsMetadataAndSkipsInvalidKeys) {
  auto store = Create("a", Options("h"));
  ASSERT_NE(store, nullptr);
  auto ns = *BackupNamespace::Parse("site");
  auto empty_ns = *BackupNamespace::Parse("site/empty");
  ASSERT_TRUE(store->CreateNamespace(ns).ok());
  ASSERT_TRUE(store->CreateNamespace(empty_ns).ok());
  auto snap = Backup(*store, ns, "vm/100", 100);
  Backup(*store, root_, "host/web", 200);
  ASSERT_TRUE(store->SetProtected(ns, snap, true).ok());
  ASSERT_TRUE(store->SetGroupNotes(ns, snap.group, "db server").ok());

  const std::vector<std::string> invalid = {
      "store/.cnt/vm/100/evil",                              // unknown group file
      "store/.cnt/vm/bad id/owner",                          // invalid backup id
      "store/.cnt/ns/.namespace",                            // namespace without a name
      "store/.cnt/vm/100/2020-01-01T00:00:00Z/.hidden",      // dot file in a snapshot
      "store/.cnt/vm/100/2020-01-01T00:00:00Z/run.sh",       // not an archive name
      "store/.cnt/vm/100/2020-01-01T00:00:00+01:00/a.blob",  // non-canonical time
      "store/.cnt/tmp/x/y/z/w",                              // unknown type, too deep
      "store/.cnt/owner",
  };
  for (const auto& key : invalid)
    ASSERT_TRUE(objects_->Put(key, AsBytes("x"), PutMode::kReplace).ok());

  // Lose the local metadata entirely, then rebuild it from the bucket.
  for (const char* d : {"vm", "host", "ns"})
    ASSERT_TRUE(RemoveTree(dir_.Sub(std::string("a/") + d)).ok());
  auto report = store->RefreshFromBackend({});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::set<std::string> skipped(report->download.skipped.begin(), report->download.skipped.end());
  EXPECT_EQ(skipped, std::set<std::string>(invalid.begin(), invalid.end()));
  EXPECT_EQ(report->download.namespaces, 2u);
  EXPECT_FALSE(*PathExists(dir_.Sub("a/vm/100/evil")));
  EXPECT_FALSE(*PathExists(dir_.Sub("a/tmp")));
  EXPECT_FALSE(*PathExists(dir_.Sub("a/owner")));
  EXPECT_FALSE(*PathExists(dir_.Sub("a/.refresh-tmp")));

  EXPECT_EQ(*store->ListNamespaces(root_, true), (std::vector<BackupNamespace>{ns, empty_ns}));
  auto snaps = store->ListSnapshots(ns, snap.group);
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_TRUE((*snaps)[0].is_protected);
  EXPECT_EQ(*store->GetGroupNotes(ns, snap.group), "db server");
  EXPECT_EQ(*store->GetOwner(ns, snap.group), "root@pam");
  EXPECT_EQ(store->ListSnapshots(root_, *BackupGroup::Parse("host/web"))->size(), 1u);
  EXPECT_EQ(store->GetMaintenanceMode()->type, MaintenanceType::kNone);
}

// Regression (issue 21, found by the object store fault campaign): s3-refresh wrote whatever
// bytes a GET returned, so one byte flipped on the way turned a good manifest in the bucket
// into a damaged local one, and the snapshot stopped restoring. Metadata is now checked as it
// arrives (size, blob CRC, index checksum) and fetched again when the check fails.
TEST_F(ObjectStoreDatastoreTest, RefreshFetchesAgainWhatArrivesDamaged) {
  auto faulty = std::make_shared<FaultObjectStore>(objects_, 1);
  ObjectStoreDatastoreOptions options = Options("h");
  options.backend.objects = faulty;
  auto store = Create("a", options);
  ASSERT_NE(store, nullptr);
  auto snap = Backup(*store, root_, "vm/100", 100);
  // Gets 1, 2 and 4 arrive damaged: at most two attempts of one object, whatever the order.
  std::vector<ObjectFaultRule> flips;
  for (uint64_t nth : {1, 2, 4}) {
    ObjectFaultRule flip;
    flip.call = ObjectCall::kGet;
    flip.nth = nth;
    flip.action = ObjectFaultRule::Action::kFlipByte;
    flips.push_back(flip);
  }
  faulty->SetRules(flips);
  auto report = store->RefreshFromBackend({});
  faulty->SetRules({});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(faulty->counts().flipped, 2u);
  EXPECT_EQ(*store->GetOwner(root_, snap.group), "root@pam");
  auto snaps = store->ListSnapshots(root_, snap.group);
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_TRUE((*snaps)[0].error.empty()) << (*snaps)[0].error;
  EXPECT_TRUE(store->ReadSnapshotFile(root_, snap, "vm.conf.blob").ok());
}

// Regression (issue 21, found by the crash campaign): `datastore create --reuse` killed midway
// left a half-prepared cache directory that refused every later attempt ("already contains a
// datastore") while no config named it. The directory is now marked while it is created; the
// next attempt clears such a leftover and attaches, and nothing opens it meanwhile.
TEST_F(ObjectStoreDatastoreTest, AnAttachKilledMidwayCanBeRunAgain) {
  auto first = Create("a", Options("h"));
  ASSERT_NE(first, nullptr);
  auto snap = Backup(*first, root_, "vm/100", 100);
  first.reset();
  // Killed at the k-th file mutation: while preparing the 65,536 chunk directories, right after
  // them, and during the metadata refresh.
  for (uint64_t k : {uint64_t{1}, uint64_t{3}, uint64_t{40000}, uint64_t{65539}, uint64_t{65545},
                     uint64_t{65560}}) {
    const std::string path = dir_.Sub("b" + std::to_string(k));
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      FileFaultRule kill;
      kill.action = FileFaultRule::Action::kKill;
      kill.nth = k;
      FileFaults::Install({kill});
      ObjectStoreDatastoreOptions options = Options("h");
      options.reuse = true;
      auto store = Datastore::CreateOnObjectStore(path, options);
      ::_exit(store.ok() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status)) continue;  // k was beyond the end of this attach
    EXPECT_FALSE(Datastore::OpenOnObjectStore(path, Options("h").backend).ok()) << k;
    ObjectStoreDatastoreOptions options = Options("h");
    options.reuse = true;
    auto again = Datastore::CreateOnObjectStore(path, options);
    ASSERT_TRUE(again.ok()) << "k " << k << ": " << again.status().ToString();
    EXPECT_EQ((*again)->ListSnapshots(root_, snap.group)->size(), 1u) << k;
  }
}

TEST_F(ObjectStoreDatastoreTest, RefreshWaitsForRunningOperations) {
  auto store = Create("a", Options("h"));
  ASSERT_NE(store, nullptr);
  auto reader = Datastore::OpenOnObjectStore(dir_.Sub("a"), Options("h").backend);
  ASSERT_TRUE(reader.ok());
  auto reading = (*reader)->BeginOperation(Operation::kRead);
  ASSERT_TRUE(reading.ok());
  auto report = store->RefreshFromBackend(std::chrono::milliseconds(0));
  EXPECT_EQ(report.status().code(), Code::kBusy) << report.status().ToString();
  EXPECT_EQ(store->GetMaintenanceMode()->type, MaintenanceType::kNone);  // restored
  *reading = OperationGuard();
  EXPECT_TRUE(store->RefreshFromBackend(std::chrono::milliseconds(0)).ok());
}

// Story: PBS 4.2.3 builds group prefixes without the trailing '/', so deleting vm/100 in S3 also
// deleted vm/1000's objects. Every prefix delete here ends in '/'.
TEST_F(ObjectStoreDatastoreTest, DeletionsRemoveExactlyTheirObjects) {
  auto store = Create("a", Options("h"));
  ASSERT_NE(store, nullptr);
  auto a = *BackupNamespace::Parse("a");
  auto ab = *BackupNamespace::Parse("ab");
  ASSERT_TRUE(store->CreateNamespace(a).ok());
  ASSERT_TRUE(store->CreateNamespace(ab).ok());
  Backup(*store, root_, "vm/100", 10);
  auto keep = Backup(*store, root_, "vm/1000", 10);
  auto old = Backup(*store, root_, "vm/1000", 20);
  Backup(*store, a, "vm/1", 10);
  Backup(*store, ab, "vm/1", 10);

  ASSERT_TRUE(store->RemoveGroup(root_, *BackupGroup::Parse("vm/100")).ok());
  EXPECT_TRUE(Keys("store/.cnt/vm/100/").empty());
  EXPECT_EQ(Keys("store/.cnt/vm/1000/").size(), 5u);  // owner + 2 x (blob, manifest)

  ASSERT_TRUE(store->ForgetSnapshot(root_, old).ok());
  EXPECT_TRUE(Keys("store/.cnt/vm/1000/" + old.TimeString() + "/").empty());
  EXPECT_EQ(Keys("store/.cnt/vm/1000/" + keep.TimeString() + "/").size(), 2u);

  ASSERT_TRUE(store->RemoveNamespace(a, true).ok());
  EXPECT_TRUE(Keys("store/.cnt/ns/a/").empty());
  EXPECT_EQ(Keys("store/.cnt/ns/ab/").size(), 4u);  // marker, owner, blob, manifest
}

TEST_F(ObjectStoreDatastoreTest, DatastoresShareABucketByPrefix) {
  auto alpha = Create("alpha", Options("h", "alpha"));
  auto alpha2 = Create("alpha2", Options("h", "alpha2"));
  ASSERT_TRUE(alpha && alpha2);
  Backup(*alpha, root_, "vm/1", 10);
  Backup(*alpha2, root_, "vm/1", 10);
  EXPECT_TRUE(alpha->ListSnapshots(root_, *BackupGroup::Parse("vm/1")).ok());
  const size_t alpha2_keys = Keys("alpha2/").size();
  // Releasing keeps the data but gives up the marker; destroying removes alpha's objects only.
  ASSERT_TRUE(alpha->backend().Detach(false).ok());
  EXPECT_FALSE(Keys("alpha/").count("alpha/.in-use"));
  EXPECT_FALSE(Keys("alpha/").empty());
  ASSERT_TRUE(alpha->backend().Detach(true).ok());
  EXPECT_TRUE(Keys("alpha/").empty());
  EXPECT_FALSE(*PathExists(dir_.Sub("alpha")));
  EXPECT_EQ(Keys("alpha2/").size(), alpha2_keys);
}

}  // namespace
}  // namespace cairn

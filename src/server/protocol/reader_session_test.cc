#include "server/protocol/reader_session.h"

#include <gtest/gtest.h>

#include "datastore/snapshot_writer.h"
#include "format/data_blob.h"
#include "format/dynamic_index.h"
#include "format/manifest.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

class ReaderSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Datastore::CreateFilesystem(dir_.Sub("store"));
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    group_ = *BackupGroup::Parse("host/h1");
    auto writer = SnapshotWriter::Begin(*store_, BackupNamespace(), group_, 1000, "root@pam");
    ASSERT_TRUE(writer.ok());
    Bytes plain(5000, 'r');
    digest_ = Sha256Of(plain);
    Bytes encoded = *EncodeBlob(plain, nullptr, true);
    ASSERT_TRUE((*writer)->InsertChunk(digest_, encoded, plain.size()).ok());
    auto builder = DynamicIndexBuilder::Create();
    ASSERT_TRUE(builder->Append(plain.size(), digest_).ok());
    auto index = builder->Finish();
    ASSERT_TRUE((*writer)->WriteArchive("root.pxar.didx", index.bytes).ok());
    Manifest manifest = *Manifest::Create("host", "h1", 1000);
    ASSERT_TRUE(
        manifest.AddOrReplaceFile({"root.pxar.didx", CryptMode::kNone, plain.size(), index.csum})
            .ok());
    ASSERT_TRUE((*writer)->Finish(std::move(manifest)).ok());
    snap_ = *SnapshotRef::Make(group_, 1000);
  }

  static http::ServerResponse Get(ReaderSession& session, std::string path, std::string query) {
    http::ServerRequest request;
    request.method = "GET";
    request.path = "/" + path;
    request.query = std::move(query);
    return session.Handle(request);
  }

  testing::TempDir dir_;
  std::unique_ptr<Datastore> store_;
  BackupGroup group_;
  SnapshotRef snap_;
  Digest digest_{};
};

TEST_F(ReaderSessionTest, AChunkIsServedOnlyAfterAnIndexListingItWasDownloaded) {
  auto session = ReaderSession::Open(*store_, BackupNamespace(), snap_, JobControl());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::string chunk_query = "digest=" + DigestToHex(digest_);
  EXPECT_EQ(Get(**session, "chunk", chunk_query).status, 401);
  auto index = Get(**session, "download", "file-name=root.pxar.didx");
  ASSERT_EQ(index.status, 200);
  auto chunk = Get(**session, "chunk", chunk_query);
  ASSERT_EQ(chunk.status, 200);
  EXPECT_EQ(Sha256Of(*DecodeBlob(chunk.octets, nullptr)), digest_);
  EXPECT_EQ(Get(**session, "download", "file-name=index.json.blob").status, 200);
  EXPECT_EQ(Get(**session, "download", "file-name=../etc.blob").status, 400);
  EXPECT_EQ(Get(**session, "download", "file-name=other.blob").status, 404);
  EXPECT_EQ(Get(**session, "speedtest", "").body.size(), 1u << 20);
  EXPECT_EQ(Get(**session, "nonsense", "").status, 404);
}

TEST_F(ReaderSessionTest, ASnapshotThatDoesNotExistCannotBeOpened) {
  auto missing = ReaderSession::Open(*store_, BackupNamespace(), *SnapshotRef::Make(group_, 2000),
                                     JobControl());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST_F(ReaderSessionTest, TheSnapshotCannotBeForgottenWhileASessionReadsIt) {
  auto session = ReaderSession::Open(*store_, BackupNamespace(), snap_, JobControl());
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE(store_->ForgetSnapshot(BackupNamespace(), snap_).ok());
  session->reset();
  EXPECT_TRUE(store_->ForgetSnapshot(BackupNamespace(), snap_).ok());
}

}  // namespace
}  // namespace cairn::server

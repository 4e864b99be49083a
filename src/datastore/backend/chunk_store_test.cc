#include "datastore/backend/chunk_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file_util.h"
#include "format/data_blob.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.Create().ok()); }
  testing::TempDir dir_;
  ChunkStore store_{dir_.path()};
};

TEST_F(ChunkStoreTest, PathLayout) {
  Digest d = Sha256Of(AsBytes("x"));
  std::string hex = DigestToHex(d);
  EXPECT_EQ(ChunkStore::RelativeChunkPath(d), ".chunks/" + hex.substr(0, 4) + "/" + hex);
}

TEST_F(ChunkStoreTest, InsertReadDuplicate) {
  Bytes plain = testing::RandomBytes(10000, 1);
  Digest d = Sha256Of(plain);
  Bytes blob = *EncodeBlob(plain, nullptr, true);
  auto first = store_.Insert(d, blob);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->duplicate);
  auto again = store_.Insert(d, blob);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(*store_.Read(d), blob);
  EXPECT_TRUE(store_.Read(Sha256Of(AsBytes("other"))).status().IsNotFound());
}

TEST_F(ChunkStoreTest, KeepsSmallerUnencryptedEncoding) {
  Bytes plain(50000, 'a');
  Digest d = Sha256Of(plain);
  Bytes big = *EncodeBlob(plain, nullptr, false);
  Bytes small = *EncodeBlob(plain, nullptr, true);
  ASSERT_LT(small.size(), big.size());
  ASSERT_TRUE(store_.Insert(d, big).ok());
  EXPECT_FALSE(store_.Insert(d, small)->duplicate);  // replaces the bigger one
  EXPECT_EQ(*store_.Read(d), small);
  EXPECT_TRUE(store_.Insert(d, big)->duplicate);  // keeps the smaller one
  EXPECT_EQ(*store_.Read(d), small);
}

TEST_F(ChunkStoreTest, RefusesEncryptedOverUnencrypted) {
  EncryptionKey key{};
  key[0] = 7;
  CryptConfig crypt(key);
  Bytes plain(1000, 'q');
  Digest d = Sha256Of(plain);
  ASSERT_TRUE(store_.Insert(d, *EncodeBlob(plain, nullptr, false)).ok());
  EXPECT_EQ(store_.Insert(d, *EncodeBlob(plain, &crypt, false)).status().code(),
            Code::kInvalidArgument);
}

TEST_F(ChunkStoreTest, EmptyMarkerIsReplacedAndNotServed) {
  Bytes plain(100, 'z');
  Digest d = Sha256Of(plain);
  testing::WriteTestFile(store_.ChunkPath(d), {});
  EXPECT_TRUE(store_.Read(d).status().IsNotFound());
  EXPECT_TRUE(store_.StoredSize(d).status().IsNotFound());
  ASSERT_FALSE(store_.Insert(d, *EncodeBlob(plain, nullptr, true))->duplicate);
  EXPECT_TRUE(store_.Read(d).ok());
}

TEST_F(ChunkStoreTest, CorruptChunkIsNamed) {
  Bytes plain = testing::RandomBytes(5000, 2);
  Digest d = Sha256Of(plain);
  Bytes blob = *EncodeBlob(plain, nullptr, true);
  ASSERT_TRUE(store_.Insert(d, blob).ok());
  blob[100] ^= 1;
  testing::WriteTestFile(store_.ChunkPath(d), blob);
  auto r = store_.Read(d);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find(DigestToHex(d)), std::string::npos);
}

TEST_F(ChunkStoreTest, RejectsGarbageBlob) {
  std::string text = "not a blob at all";
  Bytes garbage(text.begin(), text.end());
  EXPECT_FALSE(store_.Insert(Sha256Of(garbage), garbage).ok());
}

}  // namespace
}  // namespace cairn

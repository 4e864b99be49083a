// One conformance suite for every ObjectStore: the in-memory store and the S3 store on each
// real server of the s3_peers fixture (moto; s3rver, which needs the no-conditional-PUT quirk).
// What the datastore relies on is checked here once, so a backend that passes can stand in for
// any other: create-only puts never replace, listings are ordered and honour start-after and a
// delimiter, deletes are idempotent and batched, every object has its size, time and MD5 ETag.

#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "s3/hashing.h"
#include "s3/meter.h"
#include "storage/mem_object_store.h"
#include "storage/s3_object_store.h"
#include "testing/s3_peers.h"

namespace cairn {
namespace {

std::shared_ptr<ObjectStore> NewStore(const std::string& kind) {
  if (kind == "memory") return std::make_shared<MemObjectStore>();
  testing::S3Peer peer = testing::LoadS3Peer(kind);
  s3::EndpointConfig config = peer.config;
  config.quirks.skip_if_none_match_header = !peer.conditional_put;
  auto client = s3::S3Client::Create(config, testing::UniqueBucketName("conform"));
  if (!client.ok() || !(*client)->CreateBucket().ok()) return nullptr;
  return std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(client).value(), kind));
}

class ObjectStoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = NewStore(GetParam());
    ASSERT_NE(store_, nullptr) << "cannot set up a " << GetParam() << " store";
    ASSERT_TRUE(store_->CheckAccess().ok());
  }

  void PutText(const std::string& key, std::string_view text) {
    auto put = store_->Put(key, AsBytes(text), PutMode::kReplace);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // Keys (with "/" after common prefixes) the request lists, in the order visited.
  std::vector<std::string> Listed(const ListRequest& request, size_t stop_after = SIZE_MAX) {
    std::vector<std::string> keys;
    Status listed = store_->List(request, [&](const StoredObject& object) {
      keys.push_back(object.key);
      EXPECT_EQ(object.common_prefix,
                !request.delimiter.empty() && object.key.ends_with(request.delimiter));
      return keys.size() < stop_after;
    });
    EXPECT_TRUE(listed.ok()) << listed.ToString();
    return keys;
  }

  std::shared_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformanceTest, PutGetAndHeadAgree) {
  const int64_t before = static_cast<int64_t>(std::time(nullptr));
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(*store_->Put("d/obj", data, PutMode::kReplace), PutResult::kStored);
  EXPECT_EQ(*store_->Get("d/obj"), data);
  auto head = store_->Head("d/obj");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, "d/obj");
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, s3::Md5Hex(data));
  EXPECT_TRUE(ContentMatchesEtag(*head, data));
  // Whole seconds, and servers may round: a two-second window either side.
  EXPECT_GE(head->last_modified, before - 2);
  EXPECT_LE(head->last_modified, static_cast<int64_t>(std::time(nullptr)) + 2);

  ASSERT_TRUE(store_->Put("empty", {}, PutMode::kReplace).ok());
  EXPECT_TRUE(store_->Get("empty")->empty());
  EXPECT_EQ(store_->Head("empty")->size, 0u);
}

TEST_P(ObjectStoreConformanceTest, MissingObjectsAreNotFound) {
  EXPECT_TRUE(store_->Get("absent").status().IsNotFound());
  EXPECT_TRUE(store_->Head("absent").status().IsNotFound());
  EXPECT_TRUE(store_->Copy("absent", "target").IsNotFound());
  EXPECT_TRUE(store_->Get("target").status().IsNotFound());
}

TEST_P(ObjectStoreConformanceTest, CreateOnlyNeverReplaces) {
  EXPECT_EQ(*store_->Put("c", AsBytes(std::string_view("first")), PutMode::kCreateOnly),
            PutResult::kStored);
  // Our own payload there already (a resent request) is success; other content is left alone.
  EXPECT_EQ(*store_->Put("c", AsBytes(std::string_view("first")), PutMode::kCreateOnly),
            PutResult::kStored);
  EXPECT_EQ(*store_->Put("c", AsBytes(std::string_view("other")), PutMode::kCreateOnly),
            PutResult::kAlreadyExists);
  EXPECT_EQ(AsString(*store_->Get("c")), "first");
  EXPECT_EQ(*store_->Put("c", AsBytes(std::string_view("other")), PutMode::kReplace),
            PutResult::kStored);
  EXPECT_EQ(AsString(*store_->Get("c")), "other");
}

TEST_P(ObjectStoreConformanceTest, CopyReplacesTheTarget) {
  PutText("src", "payload");
  PutText("dst", "old");
  ASSERT_TRUE(store_->Copy("src", "dst").ok());
  EXPECT_EQ(AsString(*store_->Get("dst")), "payload");
  EXPECT_EQ(AsString(*store_->Get("src")), "payload");
}

TEST_P(ObjectStoreConformanceTest, DeletesAreIdempotent) {
  PutText("x", "1");
  EXPECT_TRUE(store_->Delete("x").ok());
  EXPECT_TRUE(store_->Get("x").status().IsNotFound());
  EXPECT_TRUE(store_->Delete("x").ok());
  EXPECT_TRUE(store_->DeleteMany({}).ok());
  EXPECT_TRUE(store_->DeleteMany({"never", "was"}).ok());
}

TEST_P(ObjectStoreConformanceTest, InvalidKeysAreRefusedAndDeleteManyStillRemovesTheValidOnes) {
  for (const std::string& key : {std::string(), std::string("a//b"), std::string(1025, 'k')}) {
    EXPECT_EQ(store_->Put(key, {}, PutMode::kReplace).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(store_->Get(key).status().code(), Code::kInvalidArgument);
  }
  PutText("keep/a", "a");
  PutText("keep/b", "b");
  Status deleted = store_->DeleteMany({"keep/a", "a//b", "keep/b"});
  EXPECT_EQ(deleted.code(), Code::kInvalidArgument);
  EXPECT_NE(deleted.message().find("a//b"), std::string::npos) << deleted.ToString();
  EXPECT_TRUE(Listed({"keep/"}).empty());
}

TEST_P(ObjectStoreConformanceTest, ListingIsOrderedAndHonoursPrefixStartAfterAndDelimiter) {
  for (const char* key : {"p/b", "p/a", "p/dir/x", "p/dir/y", "p/e", "p/z/1", "q/a", "pa"}) {
    PutText(key, key);
  }
  using Keys = std::vector<std::string>;
  EXPECT_EQ(Listed({"p/"}), (Keys{"p/a", "p/b", "p/dir/x", "p/dir/y", "p/e", "p/z/1"}));
  EXPECT_EQ(Listed({"p"}), (Keys{"p/a", "p/b", "p/dir/x", "p/dir/y", "p/e", "p/z/1", "pa"}));
  EXPECT_EQ(Listed({"p/", "p/b"}), (Keys{"p/dir/x", "p/dir/y", "p/e", "p/z/1"}));
  EXPECT_EQ(Listed({"p/", "", "/"}), (Keys{"p/a", "p/b", "p/dir/", "p/e", "p/z/"}));
  EXPECT_EQ(Listed({"", "", "/"}), (Keys{"p/", "pa", "q/"}));
  EXPECT_EQ(Listed({"p/"}, 2), (Keys{"p/a", "p/b"}));  // the visitor stops the listing
  EXPECT_TRUE(Listed({"nothing/"}).empty());
  auto listed = store_->List({"p/"}, [](const StoredObject& object) {
    EXPECT_EQ(object.size, object.key.size());
    EXPECT_EQ(object.etag, s3::Md5Hex(AsBytes(object.key)));
    return true;
  });
  EXPECT_TRUE(listed.ok());
}

TEST_P(ObjectStoreConformanceTest, LongListingsAndDeletesGoPastOnePageAndBatch) {
  // 1001 keys: more than a listing page and a DeleteObjects batch (1000) hold.
  std::vector<std::string> keys;
  for (int i = 0; i < 1001; ++i) keys.push_back(fmt::format("many/{:04}", i));
  for (const auto& key : keys) ASSERT_NO_FATAL_FAILURE(PutText(key, ""));
  EXPECT_EQ(Listed({"many/"}), keys);
  EXPECT_EQ(Listed({"many/", "many/0998"}), (std::vector<std::string>{"many/0999", "many/1000"}));
  ASSERT_TRUE(store_->DeleteMany(keys).ok());
  EXPECT_TRUE(Listed({"many/"}).empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreConformanceTest,
                         ::testing::Values("memory", "moto", "s3rver"),
                         [](const auto& info) { return info.param; });

TEST(ObjectStoreStatsTest, WireCountersConvertAndRoundTripThroughJson) {
  s3::S3Stats wire;
  for (size_t i = 0; i < kRequestKinds; ++i) wire.requests[i] = i + 1;
  wire.retries = 7;
  wire.bytes_in = 100;
  ObjectStoreStats stats = ToObjectStoreStats(wire);
  EXPECT_EQ(stats.requests_of(RequestKind::kCopy), kRequestKinds);
  EXPECT_EQ(stats.total_requests(), 21u);
  EXPECT_EQ(stats.retries, 7u);
  EXPECT_EQ(stats.bytes_in, 100u);
  EXPECT_EQ(stats.ToJson()["requests"]["head"], 3);
  auto again = ObjectStoreStats::FromJson(stats.ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->requests, stats.requests);
  EXPECT_EQ(stats.Since(stats).total_requests(), 0u);
  EXPECT_EQ(stats.ToText(),
            "GET 1, PUT 2, HEAD 3, LIST 4, DELETE 5, COPY 6; in 100 B, out 0 B, 7 retries");
}

}  // namespace
}  // namespace cairn

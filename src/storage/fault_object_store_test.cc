// FaultObjectStore over a real bucket (moto): each action does what it says and nothing else.

#include "storage/fault_object_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "storage/mem_object_store.h"
#include "storage/s3_object_store.h"
#include "testing/s3_peers.h"

namespace cairn {
namespace {

class FaultObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::S3Peer peer = testing::LoadS3Peer("moto");
    auto client = s3::S3Client::Create(peer.config, testing::UniqueBucketName("faults"));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    ASSERT_TRUE((*client)->CreateBucket().ok());
    real_ = std::shared_ptr<ObjectStore>(NewS3ObjectStore(std::move(client).value(), "moto"));
    faulty_ = std::make_shared<FaultObjectStore>(real_, 42);
  }

  static ObjectFaultRule Rule(ObjectCall call, uint64_t nth, ObjectFaultRule::Action action) {
    ObjectFaultRule rule;
    rule.call = call;
    rule.nth = nth;
    rule.action = action;
    return rule;
  }

  std::shared_ptr<ObjectStore> real_;
  std::shared_ptr<FaultObjectStore> faulty_;
};

TEST_F(FaultObjectStoreTest, FailedCallsNeverReachTheStore) {
  faulty_->SetRules({Rule(ObjectCall::kPut, 2, ObjectFaultRule::Action::kFail)});
  EXPECT_TRUE(faulty_->Put("a", AsBytes(std::string_view("1")), PutMode::kReplace).ok());
  auto second = faulty_->Put("b", AsBytes(std::string_view("2")), PutMode::kReplace);
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("put b"), std::string::npos);
  EXPECT_TRUE(faulty_->Put("c", AsBytes(std::string_view("3")), PutMode::kReplace).ok());
  EXPECT_TRUE(real_->Get("b").status().IsNotFound());
  EXPECT_EQ(faulty_->counts().failed, 1u);
  EXPECT_EQ(faulty_->counts().calls, 3u);
}

TEST_F(FaultObjectStoreTest, LostRepliesHappenedAnyway) {
  faulty_->SetRules({Rule(ObjectCall::kPut, 1, ObjectFaultRule::Action::kLostReply),
                     Rule(ObjectCall::kDelete, 1, ObjectFaultRule::Action::kLostReply)});
  auto put = faulty_->Put("k", AsBytes(std::string_view("v")), PutMode::kCreateOnly);
  EXPECT_EQ(put.status().code(), Code::kUnavailable);
  EXPECT_EQ(AsString(*real_->Get("k")), "v");
  EXPECT_EQ(*faulty_->Put("k", AsBytes(std::string_view("w")), PutMode::kCreateOnly),
            PutResult::kAlreadyExists);
  EXPECT_EQ(faulty_->Delete("k").code(), Code::kUnavailable);
  EXPECT_TRUE(real_->Get("k").status().IsNotFound());
  EXPECT_EQ(faulty_->counts().lost_replies, 2u);
}

TEST_F(FaultObjectStoreTest, FlippedBytesOnlyOnTheWayBack) {
  Bytes data(1000, 7);
  ASSERT_TRUE(real_->Put("x", data, PutMode::kReplace).ok());
  faulty_->SetRules({Rule(ObjectCall::kGet, 1, ObjectFaultRule::Action::kFlipByte)});
  auto flipped = faulty_->Get("x");
  ASSERT_TRUE(flipped.ok());
  ASSERT_EQ(flipped->size(), data.size());
  size_t differing = 0;
  for (size_t i = 0; i < data.size(); ++i) differing += (*flipped)[i] != data[i];
  EXPECT_EQ(differing, 1u);
  EXPECT_EQ(*faulty_->Get("x"), data);  // the second get is clean
  EXPECT_EQ(*real_->Get("x"), data);
}

TEST_F(FaultObjectStoreTest, OneInNIsSeededAndKeyFiltered) {
  ObjectFaultRule rule;
  rule.call = ObjectCall::kGet;
  rule.one_in = 4;
  rule.key_part = "chunks/";
  ASSERT_TRUE(real_->Put("chunks/a", AsBytes(std::string_view("a")), PutMode::kReplace).ok());
  ASSERT_TRUE(real_->Put("meta", AsBytes(std::string_view("m")), PutMode::kReplace).ok());
  auto run = [&](uint64_t seed) {
    FaultObjectStore store(real_, seed);
    store.SetRules({rule});
    std::vector<bool> failures;
    for (int i = 0; i < 200; ++i) {
      failures.push_back(!store.Get("chunks/a").ok());
      EXPECT_TRUE(store.Get("meta").ok());
    }
    return failures;
  };
  const auto first = run(7);
  EXPECT_EQ(first, run(7));  // the same seed, the same faults
  const auto failed = static_cast<size_t>(std::count(first.begin(), first.end(), true));
  EXPECT_GT(failed, 20u);
  EXPECT_LT(failed, 80u);
}

TEST(FaultObjectStorePauseTest, PausesBeforeOrAfterTheStoreActsUntilReleased) {
  auto memory = std::make_shared<MemObjectStore>();
  FaultObjectStore store(memory, 1);
  ObjectFaultRule before;
  before.call = ObjectCall::kPut;
  before.action = ObjectFaultRule::Action::kPauseBefore;
  before.nth = 1;
  ObjectFaultRule after = before;
  after.call = ObjectCall::kDelete;
  after.action = ObjectFaultRule::Action::kPauseAfter;
  store.SetRules({before, after});

  Result<PutResult> put = Status::Aborted("not run");
  std::thread putter(
      [&] { put = store.Put("k", AsBytes(std::string_view("v")), PutMode::kReplace); });
  auto paused = store.AwaitPaused();
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(*paused, "put k");
  EXPECT_TRUE(memory->Get("k").status().IsNotFound());  // held before the store
  store.Release();
  putter.join();
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(AsString(*memory->Get("k")), "v");

  Status deleted = Status::Aborted("not run");
  std::thread deleter([&] { deleted = store.Delete("k"); });
  paused = store.AwaitPaused();
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(*paused, "delete k");
  EXPECT_TRUE(memory->Get("k").status().IsNotFound());  // done at the store, reply held
  store.Release();
  deleter.join();
  EXPECT_TRUE(deleted.ok());
  EXPECT_EQ(store.counts().paused, 2u);
}

TEST(FaultObjectStorePauseTest, AwaitingACallThatNeverComesFailsInsteadOfHanging) {
  FaultObjectStore store(std::make_shared<MemObjectStore>(), 1);
  EXPECT_EQ(store.AwaitPaused(0.01).status().code(), Code::kAborted);
  store.Release();  // nothing paused: no-op
}

}  // namespace
}  // namespace cairn

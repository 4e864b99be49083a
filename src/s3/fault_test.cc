// S3Client through the fault-injecting proxy (tests/s3/fault_proxy.py) in front of moto:
// random 500/503/SlowDown, connection resets, truncated replies, delays and replies lost after
// the server stored the object. With retries every operation must succeed and the counters
// must show the retries; without them failures must surface as Unavailable naming the key.
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/file_util.h"
#include "s3/client.h"
#include "s3/hashing.h"
#include "testing/fault_proxy.h"
#include "testing/s3_peers.h"
#include "testing/test_util.h"

namespace cairn::s3 {
namespace {

using cairn::testing::LoadS3Peer;
using cairn::testing::ParallelFor;
using cairn::testing::UniqueBucketName;
using cairn::testing::WriteTestFile;
using nlohmann::json;

ObjectKey Key(const std::string& key) {
  return ObjectKey::Parse(key).value();
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(proxy_.started());
    peer_ = proxy_.peer();
    bucket_ = UniqueBucketName("faults");
    auto client = Client(1);
    ASSERT_TRUE(client->CreateBucket().ok());
  }

  void SetFaults(const json& config) { proxy_.SetFaults(config); }
  json FaultCounters() { return proxy_.Counters(); }

  std::unique_ptr<S3Client> Client(int attempts) {
    S3ClientOptions options;
    options.retry = {.max_attempts = attempts, .base_delay = 0.01, .max_delay = 1.0};
    options.transport.min_timeout = 60;  // a lost reply must not hang a test for long
    auto client = S3Client::Create(peer_.config, bucket_, options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(*client);
  }

  cairn::testing::FaultProxy proxy_;
  cairn::testing::S3Peer peer_;
  std::string bucket_;
};

const json kAllFaults = {"500", "503", "slowdown", "reset", "truncate", "delay", "lost_reply"};

TEST_F(FaultProxyTest, ThousandPutGetPairsSucceedWithRetries) {
  auto client = Client(8);
  SetFaults({{"rate", 0.1}, {"kinds", kAllFaults}, {"seed", 42}, {"delay_ms", 50}});
  constexpr int kPairs = 1000;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_error;
  ParallelFor(kPairs, 8, [&](int i) {
    Bytes data = cairn::testing::RandomBytes(1024 + i, i);
    ObjectKey key = Key("pairs/" + std::to_string(i));
    Status put = client->PutObject(key, data);
    Result<Bytes> got = put.ok() ? client->GetObject(key) : Result<Bytes>(put);
    if (!got.ok() || *got != data) {
      failures++;
      std::lock_guard lock(mu);
      if (first_error.empty()) first_error = got.ok() ? "content differs" : got.status().ToString();
    }
  });
  EXPECT_EQ(failures, 0) << first_error;
  json counters = FaultCounters();
  int injected = 0;
  for (const auto& [kind, n] : counters["injected"].items()) injected += n.get<int>();
  EXPECT_GT(injected, 100) << counters.dump();
  S3Stats stats = client->Stats();
  // Every error reply costs one retry of ours. (A reset or lost reply on a reused keep-alive
  // connection may instead be resent by libcurl itself, invisibly to the counters.)
  int error_replies = counters["injected"].value("500", 0) + counters["injected"].value("503", 0) +
                      counters["injected"].value("slowdown", 0);
  EXPECT_GE(stats.retries, static_cast<uint64_t>(error_replies)) << counters.dump();
  EXPECT_GT(error_replies, 30);
  EXPECT_EQ(stats.failures, 0u);
  std::cout << "faults injected by the proxy: " << counters["injected"].dump()
            << "\nclient: " << stats.requests_of(RequestKind::kPut) << " PUT, "
            << stats.requests_of(RequestKind::kGet) << " GET, " << stats.retries << " retries\n";
  EXPECT_EQ(stats.requests_of(RequestKind::kPut) + stats.requests_of(RequestKind::kGet),
            2 * kPairs + stats.retries);
}

TEST_F(FaultProxyTest, WithoutRetriesFailuresAreUnavailableNamingTheKey) {
  auto client = Client(1);
  SetFaults(
      {{"rate", 0.5}, {"kinds", {"500", "503", "slowdown", "reset", "truncate"}}, {"seed", 7}});
  int failed = 0;
  for (int i = 0; i < 60; ++i) {
    std::string name = "no-retry/key-" + std::to_string(i);
    Status status = client->PutObject(Key(name), AsBytes("data"));
    if (status.ok()) continue;
    ++failed;
    EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find(name), std::string::npos) << status.ToString();
  }
  EXPECT_GT(failed, 10);
  EXPECT_EQ(client->Stats().retries, 0u);
  EXPECT_EQ(client->Stats().failures, static_cast<uint64_t>(failed));
}

TEST_F(FaultProxyTest, CreateOnlyPutWhoseReplyWasLostIsStillOurs) {
  // The server stores the object but the reply never arrives; the resent PUT then meets 412.
  // The client must recognise its own object (size + ETag) and report kStored, not a
  // duplicate. (First seen here: libcurl itself resends a PUT whose keep-alive connection died,
  // so the 412 can come on what our retry loop counts as the first attempt.)
  auto client = Client(10);
  SetFaults({{"rate", 0.5}, {"kinds", {"lost_reply"}}, {"methods", {"PUT"}}, {"seed", 3}});
  for (int i = 0; i < 40; ++i) {
    Bytes data = cairn::testing::RandomBytes(4096, 100 + i);
    Result<PutOutcome> outcome = client->PutObjectIfAbsent(Key("once/" + std::to_string(i)), data);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(*outcome, PutOutcome::kStored) << i;
  }
  EXPECT_GT(FaultCounters()["injected"].value("lost_reply", 0), 5);
  SetFaults({{"rate", 0}});
  // Someone else's object under the same key is still a duplicate, even after a retry.
  Bytes other = cairn::testing::RandomBytes(4096, 999);
  Result<PutOutcome> duplicate = client->PutObjectIfAbsent(Key("once/0"), other);
  ASSERT_TRUE(duplicate.ok());
  EXPECT_EQ(*duplicate, PutOutcome::kAlreadyExists);
}

}  // namespace
}  // namespace cairn::s3

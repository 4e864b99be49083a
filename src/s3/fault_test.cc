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
#include "testing/s3_peers.h"
#include "testing/test_util.h"

namespace cairn::s3 {
namespace {

using cairn::testing::LoadS3Peer;
using cairn::testing::ParallelFor;
using cairn::testing::UniqueBucketName;
using cairn::testing::WriteTestFile;
using nlohmann::json;

ObjectKey Key(const std::string& key) { return ObjectKey::Parse(key).value(); }

// Each test gets its own proxy (in front of the shared moto of the fixture), so tests running
// in parallel never change each other's faults or counters.
class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* peers = std::getenv("CAIRN_S3_PEERS");
    ASSERT_NE(peers, nullptr) << "run through ctest (fixture s3_peers)";
    Result<Bytes> moto = ReadFile(std::string(peers) + "/moto.json");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    WriteTestFile(state_.Sub("moto.json"), *moto);
    ASSERT_EQ(std::system(ServerCommand("start --kind fault-proxy --upstream moto").c_str()), 0);
    proxy_started_ = true;
    setenv("CAIRN_S3_PEERS", state_.path().c_str(), 1);
    peer_ = LoadS3Peer("fault-proxy");
    setenv("CAIRN_S3_PEERS", peers, 1);
    ASSERT_FALSE(peer_.control_url.empty());
    Result<std::unique_ptr<HttpTransport>> transport = HttpTransport::Create({});
    ASSERT_TRUE(transport.ok());
    control_ = std::move(*transport);
    bucket_ = UniqueBucketName("faults");
    auto client = Client(1);
    ASSERT_TRUE(client->CreateBucket().ok());
  }
  void TearDown() override {
    if (proxy_started_) {
      EXPECT_EQ(std::system(ServerCommand("stop --kind fault-proxy").c_str()), 0);
    }
  }

  std::string ServerCommand(const std::string& args) const {
    return "python3 " + std::string(CAIRN_SOURCE_DIR) + "/tests/s3/s3_server.py " + args +
           " --state-dir " + state_.path() + " > /dev/null";
  }

  // Replaces the proxy's fault configuration (and resets its counters).
  void SetFaults(const json& config) {
    std::string body = config.dump();
    HttpRequest request{"POST", peer_.control_url, {{"content-type", "application/json"}},
                        AsBytes(body)};
    Result<HttpResponse> response = control_->Send(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 200) << AsString(response->body);
  }
  json FaultCounters() {
    Result<HttpResponse> response = control_->Send({"GET", peer_.control_url, {}, {}});
    EXPECT_TRUE(response.ok());
    return json::parse(AsString(response->body));
  }

  std::unique_ptr<S3Client> Client(int attempts) {
    S3ClientOptions options;
    options.retry = {.max_attempts = attempts, .base_delay = 0.01, .max_delay = 1.0};
    options.transport.min_timeout = 60;  // a lost reply must not hang a test for long
    auto client = S3Client::Create(peer_.config, bucket_, options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(*client);
  }

  cairn::testing::TempDir state_;
  bool proxy_started_ = false;
  cairn::testing::S3Peer peer_;
  std::unique_ptr<HttpTransport> control_;
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
            << "\nclient: " << stats.ToText() << "\n";
  EXPECT_EQ(stats.requests_of(RequestKind::kPut) + stats.requests_of(RequestKind::kGet),
            2 * kPairs + stats.retries);
}

TEST_F(FaultProxyTest, WithoutRetriesFailuresAreUnavailableNamingTheKey) {
  auto client = Client(1);
  SetFaults({{"rate", 0.5}, {"kinds", {"500", "503", "slowdown", "reset", "truncate"}},
             {"seed", 7}});
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

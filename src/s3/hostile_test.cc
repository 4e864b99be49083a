// S3Client against a deliberately broken server (tests/s3/hostile_server.py): every malformed
// reply must become a clear error, never a crash, a wrong answer or unbounded memory.
//
// Found in review: a 30-digit Content-Length made std::stoull throw out of HeadObject; a 206
// reply was trusted without its Content-Range; a copy failure inside a 200 reply was not
// retried; a listing entry without <Key> was accepted.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>

#include "s3/client.h"

namespace cairn::s3 {
namespace {

ObjectKey Key(const std::string& key) {
  return ObjectKey::Parse(key).value();
}

class HostileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string command =
        "python3 " + std::string(CAIRN_SOURCE_DIR) + "/tests/s3/hostile_server.py &";
    pipe_ = popen(command.c_str(), "r");
    ASSERT_NE(pipe_, nullptr);
    ASSERT_EQ(std::fscanf(pipe_, "%d %d", &port_, &pid_), 2);
    EndpointConfig config;
    config.id = "hostile";
    config.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    config.path_style = true;
    config.credentials = {"a", "b"};
    S3ClientOptions options;
    options.retry = {.max_attempts = 2, .base_delay = 0.01, .max_delay = 0.01};
    auto client = S3Client::Create(config, "bkt", options);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }
  void TearDown() override {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_) pclose(pipe_);
  }

  FILE* pipe_ = nullptr;
  int port_ = 0;
  int pid_ = 0;
  std::unique_ptr<S3Client> client_;
};

TEST_F(HostileServerTest, MalformedRepliesAreErrors) {
  Result<ObjectInfo> head = client_->HeadObject(Key("overflow"));
  EXPECT_EQ(head.status().code(), Code::kCorruption) << head.status().ToString();

  Result<Bytes> range = client_->GetObjectRange(Key("range"), 50, 10);
  EXPECT_EQ(range.status().code(), Code::kCorruption) << range.status().ToString();
  EXPECT_EQ(client_->GetObjectRange(Key("range"), UINT64_MAX - 1, 10).status().code(),
            Code::kInvalidArgument);

  Status copy = client_->CopyObject(Key("src"), Key("copy"));
  EXPECT_EQ(copy.code(), Code::kUnavailable) << copy.ToString();
  EXPECT_NE(copy.message().find("InternalError"), std::string::npos);
  EXPECT_EQ(client_->Stats().requests_of(RequestKind::kCopy), 2u) << "retried like any 503";

  Result<std::vector<ObjectInfo>> listing = client_->ListAll("");
  EXPECT_EQ(listing.status().code(), Code::kCorruption) << listing.status().ToString();

  Result<std::vector<ObjectInfo>> huge = client_->ListAll("huge");
  EXPECT_EQ(huge.status().code(), Code::kCorruption) << huge.status().ToString();
  EXPECT_NE(huge.status().message().find("larger than"), std::string::npos);
}

}  // namespace
}  // namespace cairn::s3

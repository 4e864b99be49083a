// A private fault-injecting proxy (tests/s3/fault_proxy.py) in front of the fixture's moto, for
// one test: each test gets its own proxy, so tests running in parallel never change each other's
// faults or counters. Header-only, like s3_peers.h.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/file_util.h"
#include "http/transport.h"
#include "testing/s3_peers.h"
#include "testing/test_util.h"

namespace cairn::testing {

class FaultProxy {
 public:
  // Starts the proxy; check started() (a failure is already reported to the test).
  FaultProxy() {
    const char* peers = std::getenv("CAIRN_S3_PEERS");
    if (peers == nullptr) {
      ADD_FAILURE() << "run through ctest (fixture s3_peers)";
      return;
    }
    Result<Bytes> moto = ReadFile(std::string(peers) + "/moto.json");
    if (!moto.ok()) {
      ADD_FAILURE() << moto.status().ToString();
      return;
    }
    WriteTestFile(state_.Sub("moto.json"), *moto);
    if (std::system(ServerCommand("start --kind fault-proxy --upstream moto").c_str()) != 0) {
      ADD_FAILURE() << "fault proxy did not start";
      return;
    }
    started_ = true;
    setenv("CAIRN_S3_PEERS", state_.path().c_str(), 1);
    peer_ = LoadS3Peer("fault-proxy");
    setenv("CAIRN_S3_PEERS", peers, 1);
    auto transport = http::Transport::Create({});
    if (!transport.ok() || peer_.control_url.empty()) {
      ADD_FAILURE() << "no control connection to the fault proxy";
      return;
    }
    control_ = std::move(*transport);
  }
  ~FaultProxy() {
    if (started_) {
      EXPECT_EQ(std::system(ServerCommand("stop --kind fault-proxy").c_str()), 0);
    }
  }

  bool started() const { return control_ != nullptr; }
  // Endpoint settings that reach moto through the proxy.
  const S3Peer& peer() const { return peer_; }

  // Replaces the fault configuration (and resets the counters): {"rate": 0.1, "kinds": [...],
  // "seed": n, "delay_ms": n, "methods": [...]} (tests/s3/README.md).
  void SetFaults(const nlohmann::json& config) {
    std::string body = config.dump();
    http::Request request{
        "POST", peer_.control_url, {{"content-type", "application/json"}}, AsBytes(body)};
    auto response = control_->Send(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 200) << AsString(response->body);
  }

  // {"injected": {"500": n, ...}, ...}
  nlohmann::json Counters() {
    auto response = control_->Send({"GET", peer_.control_url, {}, {}});
    EXPECT_TRUE(response.ok());
    return response.ok() ? nlohmann::json::parse(AsString(response->body)) : nlohmann::json();
  }

  // Total number of faults injected since the last SetFaults.
  int Injected() {
    int total = 0;
    for (const auto& [kind, n] : Counters()["injected"].items()) total += n.get<int>();
    return total;
  }

 private:
  std::string ServerCommand(const std::string& args) const {
    return "python3 " + std::string(CAIRN_SOURCE_DIR) + "/tests/s3/s3_server.py " + args +
           " --state-dir " + state_.path() + " > /dev/null";
  }

  TempDir state_;
  bool started_ = false;
  S3Peer peer_;
  std::unique_ptr<http::Transport> control_;
};

}  // namespace cairn::testing

// Test access to the real S3 servers started by tests/s3/s3_server.py as a ctest fixture
// (moto, moto-auth, moto-tls, s3rver, fault-proxy). $CAIRN_S3_PEERS names the state directory
// holding one KIND.json per running server. Header-only: used by the tests of every layer that
// talks to S3.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "s3/client.h"
#include "s3/endpoint.h"

namespace cairn::testing {

struct S3Peer {
  std::string kind;
  s3::EndpointConfig config;  // path style unless made virtual-hosted with VirtualHosted()
  std::string vhost_endpoint;
  bool conditional_put = true;
  std::string control_url;  // fault-proxy only

  s3::EndpointConfig VirtualHosted() const {
    s3::EndpointConfig vhost = config;
    vhost.endpoint = vhost_endpoint;
    vhost.path_style = false;
    return vhost;
  }
};

// Loads the description of a running peer; fails the calling test when the fixture did not
// start it (run the tests through ctest, which starts the peers).
inline S3Peer LoadS3Peer(const std::string& kind) {
  const char* dir = std::getenv("CAIRN_S3_PEERS");
  S3Peer peer;
  peer.kind = kind;
  if (dir == nullptr) {
    ADD_FAILURE() << "CAIRN_S3_PEERS is not set: run S3 tests through ctest (fixture s3_peers)";
    return peer;
  }
  std::ifstream in(std::string(dir) + "/" + kind + ".json");
  if (!in.good()) {
    ADD_FAILURE() << "S3 peer " << kind << " is not running (no " << dir << "/" << kind << ".json)";
    return peer;
  }
  nlohmann::json j = nlohmann::json::parse(in);
  peer.config.id = "peer-" + kind;
  peer.config.endpoint = j["endpoint"];
  peer.config.region = j["region"];
  peer.config.credentials = {j["access_key"], j["secret_key"]};
  peer.config.path_style = true;
  peer.config.fingerprint = j.value("fingerprint", "");
  peer.vhost_endpoint = j.value("vhost_endpoint", "");
  peer.conditional_put = j.value("conditional_put", true);
  peer.control_url = j.value("control_url", "");
  return peer;
}

// A bucket name no other test (or test process) uses.
inline std::string UniqueBucketName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const uint64_t process_tag = std::random_device{}();
  return prefix + "-" + std::to_string(process_tag % 1000000) + "-" + std::to_string(counter++);
}

}  // namespace cairn::testing

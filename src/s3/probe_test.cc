// ProbeEndpoint (`cairn s3 check`) against real peers: moto needs no quirk, s3rver ignores
// If-None-Match and must be flagged, an IP endpoint in virtual-hosted style needs path style,
// a wrong secret and a missing bucket are errors.
#include "s3/probe.h"

#include <gtest/gtest.h>

#include "testing/s3_peers.h"

namespace cairn::s3 {
namespace {

using cairn::testing::LoadS3Peer;
using cairn::testing::UniqueBucketName;

std::string CreatedBucket(const EndpointConfig& config) {
  std::string bucket = UniqueBucketName("probe");
  auto client = S3Client::Create(config, bucket);
  EXPECT_TRUE(client.ok());
  EXPECT_TRUE((*client)->CreateBucket().ok());
  return bucket;
}

const ProbeCheck* Find(const ProbeReport& report, const std::string& name) {
  for (const ProbeCheck& check : report.checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

TEST(ProbeTest, MotoNeedsNoQuirks) {
  auto peer = LoadS3Peer("moto");
  std::string bucket = CreatedBucket(peer.config);
  Result<ProbeReport> report = ProbeEndpoint(peer.VirtualHosted(), bucket);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_FALSE(report->needs_path_style);
  EXPECT_TRUE(report->needed_quirks.Names().empty());
  EXPECT_LT(std::llabs(report->clock_skew_seconds), 5);
  EXPECT_GT(report->requests.requests_of(RequestKind::kPut), 0u);
  auto client = S3Client::Create(peer.config, bucket);
  EXPECT_TRUE((*client)->ListAll("")->empty()) << "the probe cleans up its test object";
}

TEST(ProbeTest, S3rverIgnoresConditionalPut) {
  auto peer = LoadS3Peer("s3rver");
  std::string bucket = CreatedBucket(peer.config);
  Result<ProbeReport> report = ProbeEndpoint(peer.config, bucket);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  EXPECT_TRUE(report->needed_quirks.skip_if_none_match_header);
  const ProbeCheck* check = Find(*report, "conditional put");
  ASSERT_NE(check, nullptr);
  EXPECT_FALSE(check->ok);
  EXPECT_NE(check->detail.find("skip-if-none-match-header"), std::string::npos);

  EndpointConfig quirky = peer.config;
  quirky.quirks.skip_if_none_match_header = true;
  report = ProbeEndpoint(quirky, bucket);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << "configured with the quirk, the endpoint is usable";
}

TEST(ProbeTest, IpEndpointNeedsPathStyle) {
  auto peer = LoadS3Peer("moto");
  std::string bucket = CreatedBucket(peer.config);
  EndpointConfig vhost_on_ip = peer.config;  // http://127.0.0.1:PORT
  vhost_on_ip.path_style = false;
  Result<ProbeReport> report = ProbeEndpoint(vhost_on_ip, bucket);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->needs_path_style);
  EXPECT_FALSE(report->ok());
}

TEST(ProbeTest, UnusableBucketsAreErrors) {
  auto peer = LoadS3Peer("moto");
  Result<ProbeReport> missing = ProbeEndpoint(peer.config, UniqueBucketName("absent"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();

  auto auth = LoadS3Peer("moto-auth");
  std::string bucket = CreatedBucket(auth.config);
  EndpointConfig wrong = auth.config;
  wrong.credentials.secret_key = "wrong";
  Result<ProbeReport> denied = ProbeEndpoint(wrong, bucket);
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied) << denied.status().ToString();
}

}  // namespace
}  // namespace cairn::s3

// S3Client against real S3 servers on 127.0.0.1 (moto_server and s3rver, path and
// virtual-hosted style), plus credentials, TLS pinning and unreachable endpoints. The servers
// are started by the ctest fixture s3_peers (tests/s3/s3_server.py).
#include "s3/client.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "s3/hashing.h"
#include "testing/recording_clock.h"
#include "testing/s3_peers.h"
#include "testing/test_util.h"

namespace cairn::s3 {
namespace {

using cairn::testing::LoadS3Peer;
using cairn::testing::ParallelFor;
using cairn::testing::S3Peer;
using cairn::testing::UniqueBucketName;

ObjectKey Key(const std::string& key) {
  return ObjectKey::Parse(key).value();
}

S3ClientOptions FastRetries(int attempts = 4) {
  S3ClientOptions options;
  options.retry = {.max_attempts = attempts, .base_delay = 0.02, .max_delay = 1.5};
  return options;
}

struct PeerParam {
  std::string kind;
  bool path_style;
};

void PrintTo(const PeerParam& param, std::ostream* out) {
  *out << param.kind << (param.path_style ? " path style" : " virtual-hosted");
}

std::string ParamName(const ::testing::TestParamInfo<PeerParam>& info) {
  return info.param.kind + (info.param.path_style ? "_path" : "_vhost");
}

class S3ClientPeerTest : public ::testing::TestWithParam<PeerParam> {
 protected:
  void SetUp() override {
    peer_ = LoadS3Peer(GetParam().kind);
    config_ = GetParam().path_style ? peer_.config : peer_.VirtualHosted();
    Result<std::unique_ptr<S3Client>> client =
        S3Client::Create(config_, UniqueBucketName("cairn"), FastRetries());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    ASSERT_TRUE(client_->CreateBucket().ok());
  }

  S3Peer peer_;
  EndpointConfig config_;
  std::unique_ptr<S3Client> client_;
};

TEST_P(S3ClientPeerTest, BucketsExistAndAreListed) {
  EXPECT_TRUE(client_->HeadBucket().ok());
  Result<std::vector<BucketInfo>> buckets = client_->ListBuckets();
  ASSERT_TRUE(buckets.ok()) << buckets.status().ToString();
  // s3rver names a virtual-hosted bucket after the whole Host ("NAME.localhost"): its quirk.
  std::string listed_name = client_->bucket();
  if (peer_.kind == "s3rver" && !GetParam().path_style) listed_name += ".localhost";
  EXPECT_TRUE(std::any_of(buckets->begin(), buckets->end(),
                          [&](const BucketInfo& b) { return b.name == listed_name; }))
      << buckets->size() << " buckets listed";

  auto missing = S3Client::Create(config_, UniqueBucketName("missing"), FastRetries());
  ASSERT_TRUE(missing.ok());
  Status status = (*missing)->HeadBucket();
  EXPECT_EQ(status.code(), Code::kNotFound) << status.ToString();
  EXPECT_EQ((*missing)->GetObject(Key("k")).status().code(), Code::kNotFound);
}

TEST_P(S3ClientPeerTest, ObjectsRoundTrip) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{5} << 20}) {
    SCOPED_TRACE(size);
    Bytes data = cairn::testing::RandomBytes(size, size + 1);
    ObjectKey key = Key("dir/object-" + std::to_string(size));
    ASSERT_TRUE(client_->PutObject(key, data).ok());
    Result<Bytes> read = client_->GetObject(key);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, data);
    Result<ObjectInfo> info = client_->HeadObject(key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size, size);
    EXPECT_EQ(info->etag, Md5Hex(data));
    EXPECT_GT(info->last_modified, 1700000000);
    if (size >= 4096) {
      Result<Bytes> range = client_->GetObjectRange(key, 100, 1000);
      ASSERT_TRUE(range.ok()) << range.status().ToString();
      EXPECT_EQ(*range, Bytes(data.begin() + 100, data.begin() + 1100));
      Result<Bytes> tail = client_->GetObjectRange(key, size - 10, 1000);
      ASSERT_TRUE(tail.ok()) << tail.status().ToString();
      EXPECT_EQ(*tail, Bytes(data.end() - 10, data.end()));
    }
    ASSERT_TRUE(client_->DeleteObject(key).ok());
    Result<Bytes> gone = client_->GetObject(key);
    EXPECT_EQ(gone.status().code(), Code::kNotFound);
    EXPECT_NE(gone.status().message().find("dir/object-"), std::string::npos);
    EXPECT_EQ(client_->HeadObject(key).status().code(), Code::kNotFound);
    EXPECT_TRUE(client_->DeleteObject(key).ok());  // deleting a missing key is fine
  }
}

TEST_P(S3ClientPeerTest, KeysWithSpecialCharactersKeepTheirNames) {
  std::vector<std::string> keys = {
      "sp ace/pl+us",          "eq=ual&amp",
      "q?uery#hash%25",        "\xc3\xbcml\xc3\xa4ut/\xe6\x97\xa5\xe6\x9c\xac",
      "tilde~dot.dash-under_", "paren(1)!*'$,;:@"};
  for (const std::string& k : keys) {
    ASSERT_TRUE(client_->PutObject(Key(k), AsBytes(k)).ok()) << k;
  }
  for (const std::string& k : keys) {
    Result<Bytes> read = client_->GetObject(Key(k));
    ASSERT_TRUE(read.ok()) << k << ": " << read.status().ToString();
    EXPECT_EQ(AsString(*read), k);
  }
  Result<std::vector<ObjectInfo>> listed = client_->ListAll("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> names;
  for (const ObjectInfo& info : *listed) names.push_back(info.key);
  std::sort(keys.begin(), keys.end());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, keys);
}

TEST_P(S3ClientPeerTest, CreateOnlyPut) {
  ObjectKey key = Key("chunks/abc");
  Result<PutOutcome> first = client_->PutObjectIfAbsent(key, AsBytes("one"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, PutOutcome::kStored);
  Result<PutOutcome> second = client_->PutObjectIfAbsent(key, AsBytes("two"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  if (peer_.conditional_put) {
    EXPECT_EQ(*second, PutOutcome::kAlreadyExists);
    EXPECT_EQ(AsString(*client_->GetObject(key)), "one");
  } else {
    // s3rver ignores If-None-Match: the reason the skip-if-none-match-header quirk exists.
    EXPECT_EQ(AsString(*client_->GetObject(key)), "two");
  }

  EndpointConfig quirky = config_;
  quirky.quirks.skip_if_none_match_header = true;
  auto client = S3Client::Create(quirky, client_->bucket(), FastRetries());
  ASSERT_TRUE(client.ok());
  Result<PutOutcome> third = (*client)->PutObjectIfAbsent(key, AsBytes("three"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, PutOutcome::kAlreadyExists);
  Result<PutOutcome> fresh = (*client)->PutObjectIfAbsent(Key("chunks/new"), AsBytes("n"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, PutOutcome::kStored);
  EXPECT_EQ((*client)->Stats().requests_of(RequestKind::kHead), 2u);
}

TEST_P(S3ClientPeerTest, CopyObject) {
  if (peer_.kind == "s3rver" && !GetParam().path_style) {
    GTEST_SKIP() << "s3rver names virtual-hosted buckets after the whole Host, so no "
                    "x-amz-copy-source can name them";
  }
  Bytes data = cairn::testing::RandomBytes(10000, 7);
  // s3rver does not URL-decode x-amz-copy-source (AWS requires it encoded), so its source
  // key stays plain.
  std::string source = peer_.kind == "s3rver" ? "src/plain" : "src/a b+c";
  ASSERT_TRUE(client_->PutObject(Key(source), data).ok());
  Status copied = client_->CopyObject(Key(source), Key("dst/\xc3\xbc x"));
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_EQ(*client_->GetObject(Key("dst/\xc3\xbc x")), data);
  EXPECT_EQ(client_->CopyObject(Key("src/missing"), Key("dst/x")).code(), Code::kNotFound);
  EXPECT_EQ(client_->Stats().requests_of(RequestKind::kCopy), 2u);
}

TEST_P(S3ClientPeerTest, ListingPagesDelimitsAndDeletesInBatches) {
  constexpr int kObjects = 2600;
  std::vector<ObjectKey> keys;
  for (int i = 0; i < kObjects; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "store/%s/%05d", i % 2 ? "odd" : "even", i);
    keys.push_back(Key(name));
  }
  std::atomic<int> failures{0};
  ParallelFor(kObjects, 8, [&](int i) {
    if (!client_->PutObject(keys[i], AsBytes("x")).ok()) failures++;
  });
  ASSERT_EQ(failures, 0);
  ASSERT_TRUE(client_->PutObject(Key("store/evenly"), AsBytes("y")).ok());

  ListOptions options;
  options.prefix = "store/even/";
  ObjectLister lister = client_->List(options);
  ListPage page;
  int pages = 0;
  std::vector<std::string> listed;
  while (true) {
    Result<bool> more = lister.Next(&page);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++pages;
    for (const ObjectInfo& info : page.objects) listed.push_back(info.key);
  }
  EXPECT_EQ(pages, 2);  // 1300 keys: 1000 + 300
  ASSERT_EQ(listed.size(), kObjects / 2u);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(listed.front(), "store/even/00000");

  ListOptions folders;
  folders.prefix = "store/";
  folders.delimiter = "/";
  Result<ListPage> top = client_->ListObjectsPage(folders, "");
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"store/even/", "store/odd/"}));
  ASSERT_EQ(top->objects.size(), 1u);
  EXPECT_EQ(top->objects[0].key, "store/evenly");

  ListOptions after;
  after.prefix = "store/odd/";
  after.start_after = "store/odd/02499";
  Result<std::vector<ObjectInfo>> tail_pages = [&]() -> Result<std::vector<ObjectInfo>> {
    Result<ListPage> p = client_->ListObjectsPage(after, "");
    if (!p.ok()) return p.status();
    return p->objects;
  }();
  ASSERT_TRUE(tail_pages.ok());
  EXPECT_EQ(tail_pages->size(), 50u);  // 02501 .. 02599, odd only

  S3Stats before = client_->Stats();
  std::vector<ObjectKey> even(keys.begin(), keys.end());
  std::erase_if(even,
                [](const ObjectKey& k) { return k.str().find("/even/") == std::string::npos; });
  std::vector<ObjectKey> batch(even.begin(), even.begin() + 1000);
  ASSERT_TRUE(client_->DeleteObjects(batch).ok());
  EXPECT_EQ(
      client_->Stats().requests_of(RequestKind::kDelete) - before.requests_of(RequestKind::kDelete),
      1u);
  Result<std::vector<ObjectInfo>> rest = client_->ListAll("store/even/");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), kObjects / 2u - 1000);
}

TEST_P(S3ClientPeerTest, DeleteViaDeleteObjectQuirk) {
  EndpointConfig quirky = config_;
  quirky.quirks.delete_objects_via_delete_object = true;
  auto client = S3Client::Create(quirky, client_->bucket(), FastRetries());
  ASSERT_TRUE(client.ok());
  std::vector<ObjectKey> keys = {Key("q/1"), Key("q/2"), Key("q/3")};
  for (const ObjectKey& k : keys) ASSERT_TRUE((*client)->PutObject(k, AsBytes("z")).ok());
  ASSERT_TRUE((*client)->DeleteObjects(keys).ok());
  EXPECT_EQ((*client)->Stats().requests_of(RequestKind::kDelete), 3u);
  EXPECT_TRUE((*client)->ListAll("q/")->empty());
}

INSTANTIATE_TEST_SUITE_P(Peers, S3ClientPeerTest,
                         ::testing::Values(PeerParam{"moto", true}, PeerParam{"moto", false},
                                           PeerParam{"s3rver", true}, PeerParam{"s3rver", false}),
                         ParamName);

TEST(S3ClientAuthTest, WrongSecretIsACredentialsError) {
  S3Peer peer = LoadS3Peer("moto-auth");
  auto good = S3Client::Create(peer.config, UniqueBucketName("auth"), FastRetries());
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE((*good)->CreateBucket().ok());
  ASSERT_TRUE((*good)->PutObject(Key("k"), AsBytes("v")).ok());

  EndpointConfig wrong = peer.config;
  wrong.credentials.secret_key += "x";
  auto bad = S3Client::Create(wrong, (*good)->bucket(), FastRetries());
  ASSERT_TRUE(bad.ok());
  // Regression (issue 21): a refused HEAD said only "head bucket 'bkt': 403"; it now says
  // which of the credentials is wrong.
  Status head = (*bad)->HeadBucket();
  EXPECT_EQ(head.code(), Code::kPermissionDenied) << head.ToString();
  EXPECT_NE(head.message().find("SignatureDoesNotMatch: the secret key is wrong"),
            std::string::npos)
      << head.ToString();
  EndpointConfig unknown = peer.config;
  unknown.credentials.access_key = "AKIAUNKNOWNKEY000000";
  auto stranger = S3Client::Create(unknown, (*good)->bucket(), FastRetries());
  ASSERT_TRUE(stranger.ok());
  Status refused = (*stranger)->HeadBucket();
  EXPECT_EQ(refused.code(), Code::kPermissionDenied) << refused.ToString();
  EXPECT_NE(refused.message().find("InvalidAccessKeyId"), std::string::npos) << refused.ToString();
  Status put = (*bad)->PutObject(Key("k"), AsBytes("w"));
  EXPECT_EQ(put.code(), Code::kPermissionDenied) << put.ToString();
  EXPECT_NE(put.message().find("SignatureDoesNotMatch"), std::string::npos) << put.ToString();
  EXPECT_EQ((*bad)->Stats().retries, 0u);  // a credentials error is final
  EXPECT_EQ(AsString(*(*good)->GetObject(Key("k"))), "v");
}

TEST(S3ClientTlsTest, PinnedFingerprintIsRequiredAndChecked) {
  S3Peer peer = LoadS3Peer("moto-tls");
  ASSERT_FALSE(peer.config.fingerprint.empty());
  auto pinned = S3Client::Create(peer.config, UniqueBucketName("tls"), FastRetries());
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  ASSERT_TRUE((*pinned)->CreateBucket().ok());
  ASSERT_TRUE((*pinned)->PutObject(Key("k"), AsBytes("secret")).ok());
  EXPECT_EQ(AsString(*(*pinned)->GetObject(Key("k"))), "secret");

  EndpointConfig wrong = peer.config;
  wrong.fingerprint = std::string(64, 'A');
  auto mismatch = S3Client::Create(wrong, (*pinned)->bucket(), FastRetries());
  ASSERT_TRUE(mismatch.ok());
  Status status = (*mismatch)->HeadBucket();
  EXPECT_EQ(status.code(), Code::kPermissionDenied) << status.ToString();
  EXPECT_NE(status.message().find(peer.config.fingerprint), std::string::npos)
      << "the error names the fingerprint the server presented: " << status.ToString();

  EndpointConfig unpinned = peer.config;
  unpinned.fingerprint.clear();
  auto untrusted = S3Client::Create(unpinned, (*pinned)->bucket(), FastRetries());
  ASSERT_TRUE(untrusted.ok());
  status = (*untrusted)->GetObject(Key("k")).status();
  EXPECT_EQ(status.code(), Code::kPermissionDenied) << status.ToString();
}

TEST(S3ClientLimitsTest, ByteRatesAreEnforced) {
  S3Peer peer = LoadS3Peer("moto");
  std::string bucket = UniqueBucketName("limits");
  ASSERT_TRUE((*S3Client::Create(peer.config, bucket))->CreateBucket().ok());

  S3ClientOptions options = FastRetries();
  cairn::testing::RecordingClock byte_clock;
  EndpointConfig throttled = peer.config;
  throttled.rate_out = 1 << 20;  // 1 MiB/s out, burst 1 MiB
  throttled.rate_in = 2 << 20;   // 2 MiB/s in, burst 2 MiB
  options.clock = &byte_clock;
  auto client = S3Client::Create(throttled, bucket, options);
  ASSERT_TRUE(client.ok());
  Bytes data = cairn::testing::RandomBytes(4 << 20, 5);
  ASSERT_TRUE((*client)->PutObject(Key("big"), data).ok());
  double after_put = byte_clock.slept();
  EXPECT_NEAR(after_put, 3.0, 0.1);  // 4 MiB out: 1 MiB burst, 3 MiB at 1 MiB/s
  ASSERT_EQ(*(*client)->GetObject(Key("big")), data);
  EXPECT_NEAR(byte_clock.slept() - after_put, 1.0, 0.1);  // 4 MiB in: 2 MiB burst, 2 at 2 MiB/s
}

TEST(S3ClientNetworkTest, UnreachableEndpointIsUnavailableNamingTheKey) {
  EndpointConfig config;
  config.id = "nowhere";
  config.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  config.path_style = true;
  config.credentials = {"a", "b"};
  auto client = S3Client::Create(config, "bucket", FastRetries(3));
  ASSERT_TRUE(client.ok());
  Status status = (*client)->PutObject(Key("store/.chunks/0000/abc"), AsBytes("x"));
  EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
  EXPECT_TRUE(status.retryable());
  EXPECT_NE(status.message().find("store/.chunks/0000/abc"), std::string::npos);
  EXPECT_NE(status.message().find("3 attempts"), std::string::npos) << status.ToString();
  S3Stats stats = (*client)->Stats();
  EXPECT_EQ(stats.requests_of(RequestKind::kPut), 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.failures, 1u);
}

}  // namespace
}  // namespace cairn::s3

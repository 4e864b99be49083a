// Unit tests of the S3 layer's pure parts: keys, endpoints and addressing, error mapping, XML,
// backoff and the token bucket (driven by a fake clock, never by real time).
#include <gtest/gtest.h>

#include "s3/endpoint.h"
#include "s3/errors.h"
#include "s3/object_key.h"
#include "s3/retry.h"
#include "s3/xml.h"

namespace cairn::s3 {
namespace {

TEST(ObjectKeyTest, AcceptsOrdinaryAndSpecialKeys) {
  for (const char* key : {"a", "store/.chunks/0000/00ab", "with space/+=&?#%", "ünï/çødé",
                          "store/.cnt/vm/100/2025-01-01T00:00:00Z/index.json.blob"}) {
    EXPECT_TRUE(ObjectKey::Parse(key).ok()) << key;
  }
  EXPECT_TRUE(ObjectKey::Parse(std::string(kMaxKeyLength, 'k')).ok());
}

TEST(ObjectKeyTest, RefusesMalformedKeys) {
  std::string nul("a\0b", 3);
  for (std::string key : {std::string(""), std::string("/lead"), std::string("trail/"),
                          std::string("a//b"), std::string("a/../b"), std::string("./a"),
                          std::string("a/."), nul, std::string("line\nbreak"),
                          std::string("\xff\xfe"), std::string("\xc0\xaf"),  // overlong '/'
                          std::string("\xed\xa0\x80"),                       // surrogate
                          std::string(kMaxKeyLength + 1, 'k')}) {
    Result<ObjectKey> parsed = ObjectKey::Parse(key);
    ASSERT_FALSE(parsed.ok()) << key;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
  }
}

TEST(ObjectKeyTest, Prefixes) {
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("store/").ok());
  EXPECT_TRUE(ValidatePrefix("store/vm/10").ok());
  EXPECT_FALSE(ValidatePrefix("/").ok());
  EXPECT_FALSE(ValidatePrefix("a//").ok());
  EXPECT_FALSE(ValidatePrefix("../").ok());
}

EndpointConfig Config(std::string endpoint) {
  EndpointConfig config;
  config.id = "test";
  config.endpoint = std::move(endpoint);
  config.credentials = {"AK", "SK"};
  return config;
}

TEST(EndpointTest, VirtualHostedIsTheDefault) {
  Result<Endpoint> e = Endpoint::Create(Config("s3.example.com"), "bucket");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->https());
  EXPECT_EQ(e->host_header(), "bucket.s3.example.com");
  EXPECT_EQ(e->Url("a b/c+d", {}), "https://bucket.s3.example.com/a%20b/c%2Bd");
  EXPECT_EQ(e->Url("", {{"list-type", "2"}, {"prefix", "a/b"}}),
            "https://bucket.s3.example.com/?list-type=2&prefix=a%2Fb");
}

TEST(EndpointTest, PathStyleAndPorts) {
  EndpointConfig config = Config("http://127.0.0.1:9000");
  config.path_style = true;
  Result<Endpoint> e = Endpoint::Create(config, "bucket");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->https());
  EXPECT_EQ(e->host_header(), "127.0.0.1:9000");
  EXPECT_EQ(e->EncodedPath(""), "/bucket");
  EXPECT_EQ(e->Url("k", {}), "http://127.0.0.1:9000/bucket/k");

  config = Config("rgw.lan");
  config.port = 7480;
  e = Endpoint::Create(config, "b-1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Url("k", {}), "https://b-1.rgw.lan:7480/k");
  config = Config("https://rgw.lan:443");
  e = Endpoint::Create(config, "bkt");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host_header(), "bkt.rgw.lan");  // default port not written
}

TEST(EndpointTest, Templates) {
  EndpointConfig config = Config("{{bucket}}.s3.{{region}}.amazonaws.com");
  config.region = "eu-central-1";
  Result<Endpoint> e = Endpoint::Create(config, "mybucket");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host_header(), "mybucket.s3.eu-central-1.amazonaws.com");
  Result<Endpoint> service = Endpoint::Create(config, "");
  ASSERT_TRUE(service.ok());
  EXPECT_EQ(service->host_header(), "s3.eu-central-1.amazonaws.com");
  config.path_style = true;
  EXPECT_FALSE(Endpoint::Create(config, "mybucket").ok());
}

TEST(EndpointTest, RefusesBadConfigs) {
  EXPECT_FALSE(Endpoint::Create(Config("127.0.0.1:9000"), "bucket").ok());  // vhost on an IP
  EXPECT_FALSE(Endpoint::Create(Config("ftp://host"), "bucket").ok());
  EXPECT_FALSE(Endpoint::Create(Config("host/path"), "bucket").ok());
  EXPECT_FALSE(Endpoint::Create(Config("host:99999"), "bucket").ok());
  EXPECT_FALSE(Endpoint::Create(Config("s3.{{bucket}}.com"), "bucket").ok());
  EXPECT_FALSE(Endpoint::Create(Config("host"), "Bad_Bucket").ok());
  EXPECT_FALSE(Endpoint::Create(Config("host"), "ab").ok());
  EndpointConfig config = Config("host");
  config.id = "x";
  EXPECT_FALSE(ValidateEndpointConfig(config).ok());
  config = Config("host");
  config.credentials.secret_key.clear();
  EXPECT_FALSE(ValidateEndpointConfig(config).ok());
  config = Config("http://host");
  config.fingerprint = std::string(64, 'a');
  EXPECT_FALSE(ValidateEndpointConfig(config).ok());  // pin without TLS
  config = Config("host");
  config.region = "Bad Region";
  EXPECT_FALSE(ValidateEndpointConfig(config).ok());
}

TEST(EndpointTest, Fingerprints) {
  std::string hex(64, 'a');
  Result<std::string> fp = NormalizeFingerprint(hex);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->size(), 95u);
  EXPECT_EQ(fp->substr(0, 6), "AA:AA:");
  EXPECT_EQ(*NormalizeFingerprint(*fp), *fp);
  EXPECT_FALSE(NormalizeFingerprint(hex.substr(2)).ok());
  EXPECT_FALSE(NormalizeFingerprint(std::string(62, 'a') + "zz").ok());
}

TEST(EndpointTest, Quirks) {
  ProviderQuirks quirks;
  EXPECT_TRUE(quirks.Add("skip-if-none-match-header").ok());
  EXPECT_TRUE(quirks.Add("delete-objects-via-delete-object").ok());
  EXPECT_FALSE(quirks.Add("something-else").ok());
  EXPECT_EQ(quirks.Names().size(), 2u);
}

TEST(ErrorMappingTest, MapsStatusAndCodes) {
  auto body = [](const char* code) {
    return std::string("<?xml version=\"1.0\"?><Error><Code>") + code +
           "</Code><Message>msg</Message></Error>";
  };
  EXPECT_EQ(StatusFromHttpReply(404, body("NoSuchKey"), "get k").code(), Code::kNotFound);
  EXPECT_EQ(StatusFromHttpReply(404, "", "head k").code(), Code::kNotFound);
  EXPECT_EQ(StatusFromHttpReply(412, body("PreconditionFailed"), "put").code(),
            Code::kAlreadyExists);
  Status denied = StatusFromHttpReply(403, body("SignatureDoesNotMatch"), "put k");
  EXPECT_EQ(denied.code(), Code::kPermissionDenied);
  EXPECT_NE(denied.message().find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(denied.message().find("put k"), std::string::npos);
  EXPECT_EQ(StatusFromHttpReply(409, body("BucketAlreadyOwnedByYou"), "create").code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(StatusFromHttpReply(503, body("SlowDown"), "put").retryable());
  EXPECT_TRUE(StatusFromHttpReply(500, "", "put").retryable());
  EXPECT_TRUE(StatusFromHttpReply(400, body("RequestTimeout"), "put").retryable());
  EXPECT_TRUE(StatusFromHttpReply(409, body("OperationAborted"), "put").retryable());
  EXPECT_EQ(StatusFromHttpReply(501, body("NotImplemented"), "put").code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromHttpReply(400, body("InvalidArgument"), "put").code(),
            Code::kInvalidArgument);
  // A hostile code cannot inject text into the message.
  Status hostile = StatusFromHttpReply(400, body("Bad\x1b[2JCode"), "put");
  EXPECT_EQ(hostile.message().find('\x1b'), std::string::npos);
}

TEST(XmlTest, ParsesListObjectsV2) {
  const char* body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</NextContinuationToken>
  <Contents><Key>p/a%20b%2Bc</Key><LastModified>2025-11-23T10:15:00.000Z</LastModified>
    <ETag>"abc"</ETag><Size>42</Size></Contents>
  <Contents><Key>p/%C3%BC</Key><LastModified>2025-11-23T10:15:01Z</LastModified>
    <ETag>&quot;def&quot;</ETag><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>p/dir/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  Result<ListPage> page = ParseListObjectsV2(body);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a b+c");
  EXPECT_EQ(page->objects[0].size, 42u);
  EXPECT_EQ(page->objects[0].etag, "abc");
  EXPECT_EQ(page->objects[0].last_modified, 1763892900);
  EXPECT_EQ(page->objects[1].key, "p/\xc3\xbc");
  EXPECT_EQ(page->objects[1].etag, "def");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok/+=");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "p/dir/");
}

TEST(XmlTest, RefusesBrokenReplies) {
  EXPECT_EQ(ParseListObjectsV2("not xml").status().code(), Code::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<Other/>").status().code(), Code::kCorruption);
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>")
                   .ok());  // truncated without a token would loop forever
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size>"
                                  "<LastModified>2025-11-23T10:15:00Z</LastModified>"
                                  "</Contents></ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><EncodingType>url</EncodingType>"
                                  "<Contents><Key>%zz</Key><Size>1</Size>"
                                  "<LastModified>2025-11-23T10:15:00Z</LastModified>"
                                  "</Contents></ListBucketResult>")
                   .ok());
}

TEST(XmlTest, DeleteObjectsRoundTrip) {
  std::string request = BuildDeleteRequest({"a&b", "<c>", "ü"});
  EXPECT_NE(request.find("<Key>a&amp;b</Key>"), std::string::npos);
  EXPECT_NE(request.find("<Key>&lt;c&gt;</Key>"), std::string::npos);
  EXPECT_NE(request.find("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), std::string::npos);
  Result<std::vector<DeleteError>> errors = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
      "<Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].key, "b");
  EXPECT_EQ((*errors)[0].code, "AccessDenied");
}

TEST(XmlTest, ListBucketsAndErrors) {
  Result<std::vector<BucketInfo>> buckets = ParseListBuckets(
      "<ListAllMyBucketsResult><Buckets><Bucket><Name>one</Name>"
      "<CreationDate>2025-01-01T00:00:00.000Z</CreationDate></Bucket><Bucket><Name>two</Name>"
      "</Bucket></Buckets></ListAllMyBucketsResult>");
  ASSERT_TRUE(buckets.ok());
  ASSERT_EQ(buckets->size(), 2u);
  EXPECT_EQ((*buckets)[1].name, "two");
  EXPECT_EQ(ParseErrorReply("<Error><Code>SlowDown</Code></Error>").code, "SlowDown");
  EXPECT_EQ(ParseErrorReply("garbage").code, "");
}

TEST(RetryTest, BackoffGrowsIsCappedAndHonoursRetryAfter) {
  RetryPolicy policy{.max_attempts = 10, .base_delay = 0.5, .max_delay = 4};
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 2, 0.999999, std::nullopt), 0.5 * 2 * 0.999999);
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 3, 0.5, std::nullopt), 1.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 9, 1.0, std::nullopt), 4.0);  // capped
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 2, 0.0, std::nullopt), 0.0);  // full jitter
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 2, 0.0, 3.0), 3.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(policy, 2, 0.0, 60.0), 4.0);  // Retry-After capped too
  EXPECT_EQ(ParseRetryAfter("3"), 3.0);
  EXPECT_EQ(ParseRetryAfter(" 1 "), 1.0);
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter(""));
}

}  // namespace
}  // namespace cairn::s3

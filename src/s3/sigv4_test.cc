// SigV4 conformance: AWS's published test suite stage by stage (canonical request, string to
// sign, Authorization), AWS's S3 documentation examples, and botocore as an oracle over
// hundreds of generated S3 requests with hostile keys and queries.
#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/file_util.h"
#include "base/hex.h"
#include "s3/endpoint.h"
#include "s3/hashing.h"
#include "testing/test_util.h"

namespace cairn::s3 {
namespace {

using nlohmann::json;

json LoadJson(const std::string& relative) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  return json::parse(in);
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

QueryList ParseQuery(std::string_view query) {
  QueryList pairs;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    pairs.emplace_back(PercentDecode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return pairs;
}

// The generic-service rule the suite's normalize-path cases exercise (S3 never normalises):
// remove "." and ".." segments and collapse repeated slashes.
std::string NormalizePath(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string& s : segments) out += "/" + s;
  bool trailing = path.size() > 1 && path.back() == '/' && !segments.empty();
  return out.empty() ? "/" : out + (trailing ? "/" : "");
}

std::string NormalizeCommas(std::string text) {
  for (size_t pos; (pos = text.find(", ")) != std::string::npos;) text.erase(pos + 1, 1);
  return text;
}

TEST(SigV4Test, AwsTestSuiteStageByStage) {
  json suite = LoadJson("tests/testdata/sigv4/aws_suite.json");
  Credentials credentials{suite["access_key"], suite["secret_key"]};
  ASSERT_GE(suite["cases"].size(), 30u);
  for (const json& c : suite["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SigningRequest request;
    request.method = c["method"];
    std::string path = c["path"];
    if (c["needs_path_normalization"].get<bool>()) path = NormalizePath(path);
    request.encoded_path = UriEncode(path, false);
    request.query = ParseQuery(c["query"].get<std::string>());
    for (const json& h : c["headers"]) request.headers.emplace_back(h[0], h[1]);
    if (!c["session_token"].is_null() && c["name"] == "get-vanilla-with-session-token") {
      request.headers.emplace_back("X-Amz-Security-Token", c["session_token"]);
    }
    request.payload_sha256 = Sha256Hex(AsBytes(c["body"].get<std::string>()));
    Signature sig = SignV4(request, credentials, suite["amz_date"].get<std::string>(),
                           suite["region"].get<std::string>(), suite["service"].get<std::string>());
    EXPECT_EQ(sig.canonical_request, c["creq"].get<std::string>());
    EXPECT_EQ(sig.string_to_sign, c["sts"].get<std::string>());
    EXPECT_EQ(sig.authorization, c["authz"].get<std::string>());
  }
}

TEST(SigV4Test, AwsS3DocumentationExamples) {
  json doc = LoadJson("tests/testdata/sigv4/s3_examples.json");
  Credentials credentials{doc["access_key"], doc["secret_key"]};
  ASSERT_EQ(doc["cases"].size(), 4u);
  for (const json& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SigningRequest request;
    request.method = c["method"];
    request.encoded_path = UriEncode(c["path"].get<std::string>(), false);
    EXPECT_EQ(request.encoded_path, c["wire_path"].get<std::string>());
    request.query = ParseQuery(c["query"].get<std::string>());
    for (const json& h : c["headers"]) request.headers.emplace_back(h[0], h[1]);
    request.payload_sha256 = Sha256Hex(AsBytes(c["body"].get<std::string>()));
    Signature sig = SignV4(request, credentials, doc["amz_date"].get<std::string>(),
                           doc["region"].get<std::string>(), "s3");
    EXPECT_EQ(sig.canonical_request, c["creq"].get<std::string>());
    EXPECT_EQ(sig.string_to_sign, c["sts"].get<std::string>());
    EXPECT_EQ(sig.signature, c["signature"].get<std::string>());
    EXPECT_EQ(NormalizeCommas(sig.authorization), c["authz"].get<std::string>());
  }
}

TEST(SigV4Test, UriEncoding) {
  EXPECT_EQ(UriEncode("a b+c=d&e/f~g", false), "a%20b%2Bc%3Dd%26e/f~g");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xbc\xe6\x97\xa5", false), "%C3%BC%E6%97%A5");
  EXPECT_EQ(UriEncode("#?%", false), "%23%3F%25");
  EXPECT_EQ(CanonicalQueryString({{"delete", ""}}), "delete=");
  EXPECT_EQ(CanonicalQueryString({{"prefix", "a/b"}, {"list-type", "2"}}),
            "list-type=2&prefix=a%2Fb");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
}

// Characters that make S3 key and query encoding hard.
std::string RandomText(std::mt19937_64& rng, size_t max_len) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   "0",
                                                   "-",
                                                   "_",
                                                   ".",
                                                   "~",
                                                   " ",
                                                   "+",
                                                   "=",
                                                   "&",
                                                   "?",
                                                   "#",
                                                   "%",
                                                   "%20",
                                                   "/",
                                                   "!",
                                                   "*",
                                                   "'",
                                                   "(",
                                                   ")",
                                                   "$",
                                                   ",",
                                                   ";",
                                                   ":",
                                                   "@",
                                                   "[",
                                                   "]",
                                                   "\xc3\xbc",
                                                   "\xe6\x97\xa5",
                                                   "\xf0\x9f\x92\xbe",
                                                   "\"",
                                                   "<",
                                                   ">",
                                                   "\\",
                                                   "^",
                                                   "`",
                                                   "{",
                                                   "|",
                                                   "}"};
  std::string out;
  size_t len = 1 + rng() % max_len;
  while (out.size() < len) out += kPieces[rng() % kPieces.size()];
  return out;
}

std::string RandomKey(std::mt19937_64& rng) {
  std::string key;
  do {
    key.clear();
    int segments = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < segments; ++i) {
      std::string segment = RandomText(rng, 12);
      std::erase(segment, '/');
      if (segment.empty() || segment == "." || segment == "..") segment = "s";
      key += (i ? "/" : "") + segment;
    }
  } while (!ObjectKey::Parse(key).ok());
  return key;
}

TEST(SigV4Test, MatchesBotocoreOnGeneratedRequests) {
  std::mt19937_64 rng(20261123);
  struct Generated {
    json request;
    Signature ours;
  };
  std::vector<Generated> generated;
  for (int i = 0; i < 400; ++i) {
    EndpointConfig config;
    config.id = "oracle";
    static const char* kEndpoints[] = {"http://localhost:9000", "s3.example.com",
                                       "https://{{bucket}}.s3.{{region}}.amazonaws.com",
                                       "http://127.0.0.1:9000"};
    config.endpoint = kEndpoints[i % 4];
    config.path_style = i % 4 == 3 || i % 8 == 0;
    config.region = i % 3 == 0 ? "eu-central-1" : "us-east-1";
    config.credentials = {"AKID" + std::to_string(i), "secret/+" + RandomText(rng, 20)};
    Result<Endpoint> endpoint = Endpoint::Create(config, "bucket-" + std::to_string(i % 7));
    ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();

    static const char* kMethods[] = {"GET", "PUT", "HEAD", "DELETE", "POST"};
    std::string method = kMethods[rng() % 5];
    std::string key = i % 10 == 0 ? "" : RandomKey(rng);
    QueryList query;
    if (key.empty() || rng() % 3 == 0) {
      int n = static_cast<int>(rng() % 4);
      for (int q = 0; q < n; ++q) query.emplace_back(RandomText(rng, 6), RandomText(rng, 16));
      if (rng() % 2) query.emplace_back("continuation-token", "1/a+b==/" + RandomText(rng, 8));
      if (rng() % 3 == 0) query.emplace_back("delete", "");
    }
    std::string body = method == "PUT" || method == "POST" ? RandomText(rng, 64) : "";
    std::string amz_date = AmzDate(1700000000 + static_cast<int64_t>(rng() % 100000000));

    SigningRequest request;
    request.method = method;
    request.encoded_path = endpoint->EncodedPath(key);
    request.query = query;
    request.payload_sha256 = Sha256Hex(AsBytes(body));
    request.headers = {{"host", endpoint->host_header()},
                       {"x-amz-date", amz_date},
                       {"x-amz-content-sha256", request.payload_sha256}};
    if (!body.empty()) {
      request.headers.emplace_back("content-length", std::to_string(body.size()));
      request.headers.emplace_back("content-md5", Md5Base64(AsBytes(body)));
    }
    if (rng() % 4 == 0) request.headers.emplace_back("x-amz-meta-note", "  two   spaces ");
    if (rng() % 4 == 0) request.headers.emplace_back("If-None-Match", "*");
    if (rng() % 4 == 0) {
      request.headers.emplace_back("x-amz-copy-source",
                                   UriEncode("bucket/" + RandomKey(rng), false));
    }
    Signature ours = SignV4(request, config.credentials, amz_date, config.region, "s3");

    json headers = json::array();
    for (const auto& [name, value] : request.headers) headers.push_back({name, value});
    generated.push_back({{{"method", method},
                          {"url", endpoint->Url(key, query)},
                          {"headers", headers},
                          {"body_hex", HexEncode(AsBytes(body))},
                          {"region", config.region},
                          {"access_key", config.credentials.access_key},
                          {"secret_key", config.credentials.secret_key}},
                         ours});
  }

  json input = {{"requests", json::array()}};
  for (const Generated& g : generated) input["requests"].push_back(g.request);
  testing::TempDir dir;
  std::string in_path = dir.path() + "/requests.json";
  std::string out_path = dir.path() + "/signatures.json";
  ASSERT_TRUE(WriteFileAtomic(in_path, AsBytes(input.dump()), 0644).ok());
  std::string command = "python3 " + std::string(CAIRN_SOURCE_DIR) +
                        "/tests/s3/botocore_sign.py < " + in_path + " > " + out_path;
  ASSERT_EQ(std::system(command.c_str()), 0) << "botocore oracle failed: " << command;
  Result<Bytes> output = ReadFile(out_path);
  ASSERT_TRUE(output.ok());
  json results = json::parse(AsString(*output))["results"];
  ASSERT_EQ(results.size(), generated.size());
  for (size_t i = 0; i < generated.size(); ++i) {
    SCOPED_TRACE(generated[i].request["url"].get<std::string>());
    EXPECT_EQ(generated[i].ours.canonical_request, results[i]["canonical_request"]);
    EXPECT_EQ(generated[i].ours.string_to_sign, results[i]["string_to_sign"]);
    EXPECT_EQ(generated[i].ours.authorization, results[i]["authorization"]);
  }
}

}  // namespace
}  // namespace cairn::s3

#include "server/web_assets.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "base/file_util.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

std::string HeaderOf(const http::ServerResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

class WebAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(dir_.Sub("web/assets"), 0755).ok());
    Write("index.html", "<!doctype html><title>Cairn</title>" + std::string(2000, ' '));
    Write("assets/index-abc123.js", "console.log('cairn');" + std::string(4000, ';'));
    Write("assets/logo-1.png", std::string(100, '\x7f'));
    Write(".hidden", "secret");
  }
  void Write(const std::string& name, const std::string& content) {
    ASSERT_TRUE(
        WriteFileAtomic(dir_.Sub("web/" + name), AsBytes(content), 0644, SyncMode::kNone).ok());
  }
  static http::ServerRequest Get(std::string path, http::HeaderList headers = {}) {
    http::ServerRequest request;
    request.method = "GET";
    request.path = std::move(path);
    request.headers = std::move(headers);
    return request;
  }
  testing::TempDir dir_;
};

TEST_F(WebAssetsTest, ServesTheIndexAtTheRootWithItsSecurityHeadersAndNoLongCache) {
  auto assets = WebAssets::Load(dir_.Sub("web"));
  ASSERT_TRUE(assets.ok()) << assets.status().ToString();
  auto response = assets->Serve(Get("/"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.substr(0, 15), "<!doctype html>");
  EXPECT_EQ(HeaderOf(*response, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(*response, "Cache-Control"), "no-cache");
  EXPECT_NE(HeaderOf(*response, "Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(HeaderOf(*response, "X-Frame-Options"), "DENY");
  EXPECT_EQ(assets->Serve(Get("/index.html"))->body, response->body);
}

TEST_F(WebAssetsTest, HashedAssetsAreImmutableAndGzippedForClientsThatAcceptIt) {
  auto assets = WebAssets::Load(dir_.Sub("web"));
  ASSERT_TRUE(assets.ok());
  auto plain = assets->Serve(Get("/assets/index-abc123.js"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(HeaderOf(*plain, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(*plain, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(*plain, "Content-Encoding"), "");
  EXPECT_EQ(HeaderOf(*plain, "Vary"), "Accept-Encoding");
  auto gzipped = assets->Serve(Get("/assets/index-abc123.js", {{"accept-encoding", "br, gzip"}}));
  EXPECT_EQ(HeaderOf(*gzipped, "Content-Encoding"), "gzip");
  EXPECT_LT(gzipped->body.size(), plain->body.size());
  EXPECT_EQ(Gunzip(gzipped->body), plain->body);
  EXPECT_EQ(assets->CompressedSize("/assets/index-abc123.js"), gzipped->body.size());
  // "q=0" refuses an encoding; names and parameters are case-insensitive.
  for (std::string refusing : {"gzip;q=0", "GZIP; Q=0.000", "br, *;q=0"}) {
    auto refused = assets->Serve(Get("/assets/index-abc123.js", {{"accept-encoding", refusing}}));
    EXPECT_EQ(HeaderOf(*refused, "Content-Encoding"), "") << refusing;
  }
  for (std::string accepting : {"GZIP;Q=0.5", "deflate, *", "x-gzip, gzip"}) {
    auto accepted = assets->Serve(Get("/assets/index-abc123.js", {{"accept-encoding", accepting}}));
    EXPECT_EQ(HeaderOf(*accepted, "Content-Encoding"), "gzip") << accepting;
  }
  // Each representation has its own ETag.
  EXPECT_NE(HeaderOf(*gzipped, "ETag"), HeaderOf(*plain, "ETag"));
  // Images are sent as they are.
  auto png = assets->Serve(Get("/assets/logo-1.png", {{"accept-encoding", "gzip"}}));
  EXPECT_EQ(HeaderOf(*png, "Content-Type"), "image/png");
  EXPECT_EQ(HeaderOf(*png, "Content-Encoding"), "");
}

TEST_F(WebAssetsTest, AMatchingETagIsAnsweredWithNotModified) {
  auto assets = WebAssets::Load(dir_.Sub("web"));
  ASSERT_TRUE(assets.ok());
  std::string etag = HeaderOf(*assets->Serve(Get("/")), "ETag");
  ASSERT_FALSE(etag.empty());
  auto again = assets->Serve(Get("/", {{"if-none-match", "\"other\", " + etag}}));
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(assets->Serve(Get("/", {{"if-none-match", "\"other\""}}))->status, 200);
}

// Requests are looked up in the set read at start, never on disk: no path leads out of it.
TEST_F(WebAssetsTest, PathTricksAndOtherMethodsFindNothing) {
  ASSERT_TRUE(MakeDirs(dir_.Sub("outside"), 0755).ok());
  ASSERT_TRUE(
      WriteFileAtomic(dir_.Sub("outside/secret.txt"), AsBytes("no"), 0644, SyncMode::kNone).ok());
  auto assets = WebAssets::Load(dir_.Sub("web"));
  ASSERT_TRUE(assets.ok());
  for (const std::string& path : std::vector<std::string>{
           "/../outside/secret.txt", "/assets/../index.html", "/assets/%2e%2e/index.html",
           "/.hidden", "//index.html", "/index.html/", std::string("/index.html\0.js", 15),
           "/assets", "/nothing.js", "index.html"}) {
    EXPECT_FALSE(assets->Serve(Get(path)).has_value()) << path;
  }
  http::ServerRequest post = Get("/");
  post.method = "POST";
  EXPECT_FALSE(assets->Serve(post).has_value());
}

TEST_F(WebAssetsTest, ADirectoryWithoutAnIndexIsNoWebUi) {
  auto assets = WebAssets::Load(dir_.Sub("web/assets"));
  EXPECT_EQ(assets.status().code(), Code::kNotFound);
  EXPECT_NE(assets.status().message().find("index.html"), std::string::npos);
  EXPECT_EQ(WebAssets::Load(dir_.Sub("nowhere")).status().code(), Code::kNotFound);
}

TEST_F(WebAssetsTest, WithoutABuiltUiTheRootSaysHowToGetOne) {
  WebAssets missing = WebAssets::Missing("no built web UI was found");
  auto page = missing.Serve(Get("/"));
  ASSERT_TRUE(page.has_value());
  EXPECT_NE(page->body.find("--web-root"), std::string::npos);
  EXPECT_NE(page->body.find("no built web UI was found"), std::string::npos);
  EXPECT_FALSE(missing.Serve(Get("/assets/index.js")).has_value());
}

}  // namespace
}  // namespace cairn::server

#include "server/rest/params.h"

#include <gtest/gtest.h>

#include "server/rest/formatter.h"
#include "server/rest/router.h"

namespace cairn::server {
namespace {

using nlohmann::json;

http::ServerRequest Request(std::string content_type, std::string query, std::string body) {
  http::ServerRequest request;
  request.query = std::move(query);
  request.body = std::move(body);
  if (!content_type.empty()) request.headers.emplace_back("content-type", content_type);
  return request;
}

TEST(ParamsTest, JsonBodyWinsAndTheQueryIsIgnored) {
  auto raw =
      CollectParams(Request("application/json", "a=query", R"({"a": "body", "n": 3})"), false);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)["a"], "body");
  EXPECT_EQ((*raw)["n"], 3);
}

TEST(ParamsTest, FormAndQueryAreMergedAndRepeatedKeysBecomeArrays) {
  auto raw = CollectParams(Request("application/x-www-form-urlencoded; charset=UTF-8",
                                   "x=1&x=2&_dc=123&sp=a+b%2Fc", "y=%C3%A9"),
                           false);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)["x"], json::array({"1", "2"}));
  EXPECT_EQ((*raw)["sp"], "a b/c");
  EXPECT_EQ((*raw)["y"], "\xC3\xA9");
  EXPECT_FALSE(raw->contains("_dc"));
}

TEST(ParamsTest, RefusesBadBodiesAndEncodings) {
  EXPECT_FALSE(CollectParams(Request("application/json", "", "[1]"), false).ok());
  EXPECT_FALSE(CollectParams(Request("application/json", "", "{bad"), false).ok());
  EXPECT_FALSE(CollectParams(Request("text/plain", "", "a=1"), false).ok());
  EXPECT_FALSE(CollectParams(Request("", "a=%zz", ""), false).ok());
  EXPECT_FALSE(CollectParams(Request("", "a=%4", ""), false).ok());
  // A payload route reads its parameters from the query only, whatever the body is.
  auto raw = CollectParams(Request("application/octet-stream", "a=1", "\x01\x02"), true);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)["a"], "1");
}

TEST(ParamsTest, ChecksTypesNamesAndRequiredParameters) {
  std::vector<ParamSpec> specs{ParamSpec::String("store", "").Required(),
                               ParamSpec::Integer("n", "", 1, 10), ParamSpec::Boolean("flag", ""),
                               ParamSpec::StringArray("list", "")};
  ParamErrors errors;
  auto params = CheckParams(json{{"n", "7"}, {"flag", "YES"}, {"list", "one"}}, {{"store", "s1"}},
                            specs, errors);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->String("store"), "s1");
  EXPECT_EQ(params->Integer("n", 0), 7);
  EXPECT_TRUE(params->Boolean("flag", false));
  EXPECT_EQ(params->StringArray("list"), std::vector<std::string>{"one"});

  errors.clear();
  EXPECT_FALSE(CheckParams(json{{"n", "11"}, {"flag", "maybe"}, {"extra", "1"}}, {}, specs, errors)
                   .has_value());
  EXPECT_EQ(errors.size(), 4u);  // n, flag, extra, and the missing store
  EXPECT_TRUE(errors.contains("store"));
  EXPECT_TRUE(errors.contains("extra"));
  errors.clear();
  EXPECT_FALSE(CheckParams(json{{"store", std::string("a\0b", 3)}}, {}, specs, errors));
  EXPECT_TRUE(errors.contains("store"));
}

TEST(ParamsTest, BooleansAsPbsSpellsThem) {
  for (const char* yes : {"1", "on", "Yes", "TRUE"}) EXPECT_EQ(ParseBoolean(yes), true) << yes;
  for (const char* no : {"0", "off", "No", "false"}) EXPECT_EQ(ParseBoolean(no), false) << no;
  EXPECT_FALSE(ParseBoolean("2").has_value());
  EXPECT_FALSE(ParseBoolean("").has_value());
}

TEST(RouterTest, NormalisesPathsAndRefusesDotSegments) {
  auto segments = NormalizePath("//api2/json//admin/datastore/");
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(*segments, (std::vector<std::string>{"api2", "json", "admin", "datastore"}));
  EXPECT_FALSE(NormalizePath("/api2/json/../etc").ok());
  EXPECT_FALSE(NormalizePath("/api2/json/.hidden").ok());
  EXPECT_FALSE(NormalizePath("/api2/json/%2e%2e/x").ok());
  EXPECT_FALSE(NormalizePath("/api2/json/a%2Fb").ok());
  EXPECT_FALSE(NormalizePath("/api2/json/a%00b").ok());
}

TEST(RouterTest, MatchesPlaceholdersAndTellsUnknownMethodsFromUnknownPaths) {
  Router router;
  router.Add({.method = "GET",
              .path = "/admin/datastore/{store}/snapshots",
              .params = {ParamSpec::String("store", "").Required()}});
  auto match = router.Find("GET", {"admin", "datastore", "s1", "snapshots"});
  ASSERT_TRUE(match && match->route);
  EXPECT_EQ(match->path_params.at("store"), "s1");
  auto wrong_method = router.Find("POST", {"admin", "datastore", "s1", "snapshots"});
  ASSERT_TRUE(wrong_method.has_value());
  EXPECT_EQ(wrong_method->route, nullptr);
  EXPECT_FALSE(router.Find("GET", {"admin", "datastore", "s1"}).has_value());
}

TEST(FormatterTest, JsonAndExtJsShapes) {
  auto ok = FormatSuccess(OutputFormat::kJson, json{{"a", 1}}, json{{"total", 3}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body), (json{{"data", {{"a", 1}}}, {"total", 3}}));
  auto error = FormatError(OutputFormat::kJson, ApiError{404, "no such thing", {}});
  EXPECT_EQ(error.status, 404);
  EXPECT_EQ(error.body, "no such thing");
  auto extjs_ok = FormatSuccess(OutputFormat::kExtJs, 5, json::object());
  EXPECT_EQ(json::parse(extjs_ok.body), (json{{"data", 5}, {"success", true}, {"status", 200}}));
  auto extjs_error = FormatError(
      OutputFormat::kExtJs, ApiError{400, "parameter verification errors", {{"store", "missing"}}});
  EXPECT_EQ(extjs_error.status, 200);
  EXPECT_EQ(json::parse(extjs_error.body), (json{{"message", "parameter verification errors"},
                                                 {"errors", {{"store", "missing"}}},
                                                 {"success", false},
                                                 {"status", 400}}));
  EXPECT_EQ(ErrorFromStatus(Status::NotFound("x")).status, 404);
  EXPECT_EQ(ErrorFromStatus(Status::PermissionDenied("x")).status, 403);
  EXPECT_EQ(ErrorFromStatus(Status::IOError("x")).status, 500);
}

}  // namespace
}  // namespace cairn::server

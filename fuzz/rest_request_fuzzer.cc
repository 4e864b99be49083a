// Fuzzes what the server makes of a request's bytes before any handler runs
// (server/rest/params.h, router.h): the path normalisation (".." and friends must never get
// through), the parameter collection from a JSON body or a form/query string, and the check of
// the collected values against the parameter declarations of a real route.
//
// Input layout: byte 0 picks the content type and whether the route takes its parameters from
// the query only, byte 1 picks a route of the real table; the rest is "path\nquery\nbody".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "server/rest/params.h"
#include "server/rest/router.h"

namespace cairn::server {
namespace {

// A router with routes whose declarations cover what the real ones use.
const Router& Routes() {
  static const Router* router = [] {
    auto* r = new Router();
    std::vector<ParamSpec> store{ParamSpec::String("store", "", 32).Required(),
                                 ParamSpec::String("ns", "", 256)};
    std::vector<ParamSpec> snapshot = store;
    snapshot.push_back(ParamSpec::String("backup-type", "", 8).Required());
    snapshot.push_back(ParamSpec::String("backup-id", "", 128).Required());
    snapshot.push_back(ParamSpec::Integer("backup-time", "", 1).Required());
    std::vector<ParamSpec> options = store;
    options.push_back(ParamSpec::Boolean("dry-run", ""));
    options.push_back(ParamSpec::Integer("keep-last", "", 1, 1000000));
    options.push_back(ParamSpec::StringArray("statusfilter", ""));
    options.push_back(ParamSpec::String("notes", "", 65536));
    r->Add({.method = "GET", .path = "/admin/datastore/{store}/snapshots", .params = store});
    r->Add({.method = "GET", .path = "/admin/datastore/{store}/files", .params = snapshot});
    r->Add({.method = "POST", .path = "/admin/datastore/{store}/prune", .params = options});
    r->Add({.method = "POST",
            .path = "/access/ticket",
            .params = {ParamSpec::String("username", "", 128).Required(),
                       ParamSpec::String("password", "", 4096).Required(),
                       ParamSpec::Boolean("http-only", "")}});
    r->Add({.method = "GET",
            .path = "/nodes/{node}/tasks/{upid}/log",
            .params = {ParamSpec::String("node", "", 64).Required(),
                       ParamSpec::String("upid", "", 512).Required(),
                       ParamSpec::Integer("start", "", 0), ParamSpec::Integer("limit", "", 0)}});
    return r;
  }();
  return *router;
}

void FuzzRequest(const uint8_t* data, size_t size) {
  if (size < 2) return;
  static const char* const kTypes[] = {"", "application/json",
                                       "application/x-www-form-urlencoded; charset=UTF-8",
                                       "text/plain", "APPLICATION/JSON ; x=y"};
  http::ServerRequest request;
  std::string_view type = kTypes[data[0] % 5];
  if (!type.empty()) request.headers.emplace_back("content-type", std::string(type));
  bool query_only = (data[0] & 0x80) != 0;
  const auto& routes = Routes().routes();
  const Route& route = routes[data[1] % routes.size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t first = rest.find('\n');
  request.path = std::string(rest.substr(0, first));
  if (first != std::string_view::npos) {
    std::string_view tail = rest.substr(first + 1);
    size_t second = tail.find('\n');
    request.query = std::string(tail.substr(0, second));
    if (second != std::string_view::npos) request.body = std::string(tail.substr(second + 1));
  }

  auto segments = NormalizePath(request.path);
  if (segments.ok()) {
    for (const std::string& segment : *segments) {
      FUZZ_CHECK(!segment.empty() && segment[0] != '.', "a dot or empty segment got through");
      FUZZ_CHECK(segment.find('/') == std::string::npos, "a segment holds '/'");
      FUZZ_CHECK(segment.find('\0') == std::string::npos, "a segment holds NUL");
    }
    (void)Routes().Find("GET", *segments);
  }

  auto raw = CollectParams(request, query_only);
  if (!raw.ok()) return;
  FUZZ_CHECK(raw->is_object(), "collected parameters are not an object");
  ParamErrors errors;
  auto params = CheckParams(*raw, {}, route.params, errors);
  FUZZ_CHECK(params.has_value() == errors.empty(), "errors and success disagree");
  if (!params) return;
  for (const ParamSpec& spec : route.params) {
    if (!params->Has(spec.name)) {
      FUZZ_CHECK(spec.optional, "a required parameter is missing after the check");
      continue;
    }
    const auto& value = params->json().at(spec.name);
    switch (spec.type) {
      case ParamType::kString:
        FUZZ_CHECK(value.is_string() && value.get<std::string>().size() <= spec.max_length,
                   "a string parameter is not a bounded string");
        break;
      case ParamType::kInteger:
        FUZZ_CHECK(value.is_number_integer() && value.get<int64_t>() >= spec.minimum &&
                       value.get<int64_t>() <= spec.maximum,
                   "an integer parameter is out of its range");
        break;
      case ParamType::kBoolean:
        FUZZ_CHECK(value.is_boolean(), "a boolean parameter is not a boolean");
        break;
      case ParamType::kStringArray:
        FUZZ_CHECK(value.is_array(), "an array parameter is not an array");
        break;
    }
  }
  for (const auto& [name, value] : params->json().items()) {
    bool declared = false;
    for (const ParamSpec& spec : route.params) declared |= spec.name == name;
    FUZZ_CHECK(declared, "an undeclared parameter got through");
  }
}

}  // namespace
}  // namespace cairn::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::server::FuzzRequest(data, size);
  return 0;
}

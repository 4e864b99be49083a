// Fuzzes what the server makes of a request's bytes before any handler runs
// (server/api/params.h, router.h): the path normalisation (".." and friends must never get
// through), the parameter collection from a JSON body or a form/query string, and the check of
// the collected values against the parameter declarations of a real route.
//
// Input layout: byte 0 picks the content type and whether the route takes its parameters from
// the query only, byte 1 picks a route of the real table; the rest is "path\nquery\nbody".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "server/api/params.h"
#include "server/api/router.h"
#include "server/api/routes.h"

namespace cairn::server {
namespace {

const Router& RealRoutes() {
  static const Router* router = [] {
    auto* r = new Router();
    AddAllRoutes(*r);
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
  const auto& routes = RealRoutes().routes();
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
    (void)RealRoutes().Find("GET", *segments);
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

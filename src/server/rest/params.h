// Request parameters of the REST API, as PBS reads them (docs/api.md): from a JSON body when
// the Content-Type is application/json (the query string is then ignored), else from the query
// string and a form-encoded body, plus the parameters matched in the path. Form values are
// strings; a key given several times is an array. ExtJS's cache buster `_dc` is dropped.
//
// A route declares its parameters (ParamSpec); ParseParams checks the collected values against
// them: unknown names, missing required ones and values of the wrong type are errors, reported
// per parameter. Booleans accept 1/on/yes/true and 0/off/no/false in any case.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "http/server.h"

namespace cairn::server {

enum class ParamType { kString, kInteger, kBoolean, kStringArray };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool optional = true;
  std::string description;
  int64_t minimum = INT64_MIN;  // integers only
  int64_t maximum = INT64_MAX;
  size_t max_length = 4096;  // strings and array items

  static ParamSpec String(std::string name, std::string description, size_t max_length = 4096);
  static ParamSpec Integer(std::string name, std::string description, int64_t minimum = INT64_MIN,
                           int64_t maximum = INT64_MAX);
  static ParamSpec Boolean(std::string name, std::string description);
  static ParamSpec StringArray(std::string name, std::string description);
  // The same parameter, not optional.
  ParamSpec Required() const;
};

// Per-parameter errors: name -> message. Empty when the parameters are fine.
using ParamErrors = std::map<std::string, std::string>;

// Typed parameters after checking; values are JSON (string, integer, boolean, array of strings).
class Params {
 public:
  Params() = default;
  explicit Params(nlohmann::json values) : values_(std::move(values)) {}

  bool Has(std::string_view name) const;
  // REQUIRES for the typed getters: `name` declared with that type (required, or Has(name)).
  std::string String(std::string_view name) const;
  std::optional<std::string> OptString(std::string_view name) const;
  int64_t Integer(std::string_view name, int64_t fallback) const;
  std::optional<int64_t> OptInteger(std::string_view name) const;
  bool Boolean(std::string_view name, bool fallback) const;
  std::vector<std::string> StringArray(std::string_view name) const;
  const nlohmann::json& json() const { return values_; }

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

// Raw values collected from a request before checking: JSON body or form/query (strings).
// InvalidArgument for a body that is not a JSON object, a content type other than JSON or
// form, or malformed percent-encoding. `from_query_only` (download/upload handlers whose
// body is a payload) ignores the body.
Result<nlohmann::json> CollectParams(const http::ServerRequest& request, bool from_query_only);

// Checks `raw` (plus `path_params`, which win) against `specs`. Returns the typed values, or
// fills `errors` and returns nullopt.
std::optional<Params> CheckParams(const nlohmann::json& raw,
                                  const std::map<std::string, std::string>& path_params,
                                  const std::vector<ParamSpec>& specs, ParamErrors& errors);

// Parses a PBS boolean ("1", "on", "yes", "true", "0", "off", "no", "false"; any case).
std::optional<bool> ParseBoolean(std::string_view text);

}  // namespace cairn::server

#include "server/rest/params.h"

#include "server/auth/encoding.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cairn::server {
namespace {

using nlohmann::json;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Decodes a form/query component: '+' is a space, then percent-decoding.
Result<std::string> FormDecode(std::string_view text) {
  std::string plus(text);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  auto decoded = PercentDecode(plus);
  if (!decoded.ok()) return Status::InvalidArgument("malformed percent-encoding in request");
  return decoded;
}

// Adds key=value pairs of a form/query string; a repeated key becomes an array.
Status AddFormPairs(std::string_view text, json& out) {
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    CAIRN_ASSIGN_OR_RETURN(std::string key, FormDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      CAIRN_ASSIGN_OR_RETURN(value, FormDecode(pair.substr(eq + 1)));
    }
    if (key == "_dc") continue;
    if (!out.contains(key)) {
      out[key] = value;
    } else if (out[key].is_array()) {
      out[key].push_back(value);
    } else {
      out[key] = json::array({out[key], value});
    }
  }
  return Status::OK();
}

// Converts one raw value to the declared type; an error message, or empty on success.
std::string Convert(const json& raw, const ParamSpec& spec, json& out) {
  auto as_text = [](const json& value) -> std::optional<std::string> {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_integer() || value.is_boolean()) return value.dump();
    return std::nullopt;
  };
  switch (spec.type) {
    case ParamType::kString: {
      auto text = as_text(raw);
      if (!text) return "expected a string";
      if (text->size() > spec.max_length) {
        return fmt::format("value too long (at most {} bytes)", spec.max_length);
      }
      if (text->find('\0') != std::string::npos) return "value contains a NUL byte";
      out = *text;
      return "";
    }
    case ParamType::kInteger: {
      int64_t value = 0;
      if (raw.is_number_integer()) {
        value = raw.get<int64_t>();
      } else if (raw.is_string()) {
        const std::string& text = raw.get_ref<const std::string&>();
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
          return "expected an integer";
        }
      } else {
        return "expected an integer";
      }
      if (value < spec.minimum) return fmt::format("value must be at least {}", spec.minimum);
      if (value > spec.maximum) return fmt::format("value must be at most {}", spec.maximum);
      out = value;
      return "";
    }
    case ParamType::kBoolean: {
      if (raw.is_boolean()) {
        out = raw.get<bool>();
        return "";
      }
      if (raw.is_number_integer() && (raw == 0 || raw == 1)) {
        out = raw == 1;
        return "";
      }
      auto text = as_text(raw);
      auto value = text ? ParseBoolean(*text) : std::nullopt;
      if (!value) return "expected a boolean (1, 0, true, false, yes, no, on, off)";
      out = *value;
      return "";
    }
    case ParamType::kStringArray: {
      json items = raw.is_array() ? raw : json::array({raw});
      out = json::array();
      for (const json& item : items) {
        auto text = as_text(item);
        if (!text) return "expected a list of strings";
        if (text->size() > spec.max_length) return "list item too long";
        out.push_back(*text);
      }
      return "";
    }
  }
  return "unsupported parameter type";
}

}  // namespace

std::optional<bool> ParseBoolean(std::string_view text) {
  std::string lower = Lower(text);
  if (lower == "1" || lower == "on" || lower == "yes" || lower == "true") return true;
  if (lower == "0" || lower == "off" || lower == "no" || lower == "false") return false;
  return std::nullopt;
}

Result<json> CollectParams(const http::ServerRequest& request, bool from_query_only) {
  json raw = json::object();
  std::string type = Lower(request.Header("content-type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!from_query_only && type == "application/json") {
    if (request.body.empty()) return raw;
    raw = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (raw.is_discarded() || !raw.is_object()) {
      return Status::InvalidArgument("request body is not a JSON object");
    }
    return raw;
  }
  CAIRN_RETURN_IF_ERROR(AddFormPairs(request.query, raw));
  if (from_query_only) return raw;
  if (!type.empty() && type != "application/x-www-form-urlencoded") {
    return Status::InvalidArgument("unsupported content type");
  }
  CAIRN_RETURN_IF_ERROR(AddFormPairs(request.body, raw));
  return raw;
}

std::optional<Params> CheckParams(const json& raw,
                                  const std::map<std::string, std::string>& path_params,
                                  const std::vector<ParamSpec>& specs, ParamErrors& errors) {
  json merged = raw;
  for (const auto& [name, value] : path_params) merged[name] = value;
  json out = json::object();
  for (const auto& [key, value] : merged.items()) {
    const std::string& name = key;  // clang 14 cannot capture a structured binding
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const ParamSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      errors[name] = "schema does not allow additional properties";
      continue;
    }
    if (value.is_null()) continue;
    json converted;
    std::string error = Convert(value, *spec, converted);
    if (!error.empty()) {
      errors[name] = error;
    } else {
      out[name] = std::move(converted);
    }
  }
  for (const ParamSpec& spec : specs) {
    if (!spec.optional && !out.contains(spec.name) && !errors.contains(spec.name)) {
      errors[spec.name] = "parameter is missing and it is not optional";
    }
  }
  if (!errors.empty()) return std::nullopt;
  return Params(std::move(out));
}

ParamSpec ParamSpec::String(std::string name, std::string description, size_t max_length) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.description = std::move(description);
  spec.max_length = max_length;
  return spec;
}

ParamSpec ParamSpec::Integer(std::string name, std::string description, int64_t minimum,
                             int64_t maximum) {
  ParamSpec spec = String(std::move(name), std::move(description));
  spec.type = ParamType::kInteger;
  spec.minimum = minimum;
  spec.maximum = maximum;
  return spec;
}

ParamSpec ParamSpec::Boolean(std::string name, std::string description) {
  ParamSpec spec = String(std::move(name), std::move(description));
  spec.type = ParamType::kBoolean;
  return spec;
}

ParamSpec ParamSpec::StringArray(std::string name, std::string description) {
  ParamSpec spec = String(std::move(name), std::move(description));
  spec.type = ParamType::kStringArray;
  return spec;
}

ParamSpec ParamSpec::Required() const {
  ParamSpec spec = *this;
  spec.optional = false;
  return spec;
}

bool Params::Has(std::string_view name) const {
  return values_.contains(name);
}

std::string Params::String(std::string_view name) const {
  return values_.at(std::string(name)).get<std::string>();
}

std::optional<std::string> Params::OptString(std::string_view name) const {
  if (!Has(name)) return std::nullopt;
  return String(name);
}

int64_t Params::Integer(std::string_view name, int64_t fallback) const {
  return Has(name) ? values_.at(std::string(name)).get<int64_t>() : fallback;
}

std::optional<int64_t> Params::OptInteger(std::string_view name) const {
  if (!Has(name)) return std::nullopt;
  return values_.at(std::string(name)).get<int64_t>();
}

bool Params::Boolean(std::string_view name, bool fallback) const {
  return Has(name) ? values_.at(std::string(name)).get<bool>() : fallback;
}

std::vector<std::string> Params::StringArray(std::string_view name) const {
  if (!Has(name)) return {};
  return values_.at(std::string(name)).get<std::vector<std::string>>();
}

}  // namespace cairn::server

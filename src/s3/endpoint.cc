#include "s3/endpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/quote.h"

namespace cairn::s3 {
namespace {

constexpr std::string_view kBucketLabel = "{{bucket}}.";
constexpr std::string_view kRegionTemplate = "{{region}}";

Status Invalid(std::string msg) {
  return Status::InvalidArgument(std::move(msg));
}

bool IsIpAddress(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6 literal
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to);

// True when every character of `text` satisfies `allowed`.
template <typename Pred>
bool AllOf(std::string_view text, Pred allowed) {
  return std::all_of(text.begin(), text.end(),
                     [&](char c) { return allowed(static_cast<unsigned char>(c)); });
}

bool IsLowerAlnum(unsigned char c) {
  return std::islower(c) || std::isdigit(c);
}

// Host names (letters, digits, '.', '-', '_'), optionally led by "{{bucket}}." and holding
// "{{region}}" labels, or a bracketed IPv6 literal.
bool IsValidHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return AllOf(host.substr(1, host.size() - 2),
                 [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  }
  if (host.starts_with(kBucketLabel)) host.remove_prefix(kBucketLabel.size());
  std::string plain(host);
  ReplaceAll(plain, kRegionTemplate, "r");
  return !plain.empty() && AllOf(plain, [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

struct ParsedEndpoint {
  bool https = true;
  std::string host;  // may hold templates
  std::optional<uint16_t> port;
};

Result<ParsedEndpoint> ParseEndpoint(std::string_view text) {
  ParsedEndpoint parsed;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    parsed.https = false;
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Invalid(fmt::format("S3 endpoint {}: only http:// and https:// are supported",
                               QuoteForMessage(text)));
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return Invalid("S3 endpoint is empty");
  size_t colon = rest.rfind(':');
  size_t bracket = rest.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    std::string_view port = rest.substr(colon + 1);
    int value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || value > 65535) value = -1;
      if (value >= 0) value = value * 10 + (c - '0');
    }
    if (port.empty() || value <= 0 || value > 65535) {
      return Invalid(fmt::format("S3 endpoint {}: bad port", QuoteForMessage(text)));
    }
    parsed.port = static_cast<uint16_t>(value);
    rest = rest.substr(0, colon);
  }
  if (!IsValidHost(rest)) {
    return Invalid(fmt::format(
        "S3 endpoint {}: expected a host name, IP address or http(s)://host[:port] URL without "
        "a path; '{{{{bucket}}}}.' may only be the first label",
        QuoteForMessage(text)));
  }
  parsed.host = std::string(rest);
  return parsed;
}

}  // namespace

std::vector<std::string> ProviderQuirks::Names() const {
  std::vector<std::string> names;
  if (skip_if_none_match_header) names.push_back("skip-if-none-match-header");
  if (delete_objects_via_delete_object) names.push_back("delete-objects-via-delete-object");
  return names;
}

Status ProviderQuirks::Add(std::string_view name) {
  if (name == "skip-if-none-match-header") {
    skip_if_none_match_header = true;
  } else if (name == "delete-objects-via-delete-object") {
    delete_objects_via_delete_object = true;
  } else {
    return Invalid(
        fmt::format("unknown provider quirk {} (known: skip-if-none-match-header, "
                    "delete-objects-via-delete-object)",
                    QuoteForMessage(name)));
  }
  return Status::OK();
}

Result<std::string> NormalizeFingerprint(std::string_view fingerprint) {
  std::string hex;
  for (char c : fingerprint) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) hex.clear(), hex.push_back('!');
    hex.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64 || hex.find('!') != std::string::npos) {
    return Invalid(
        fmt::format("fingerprint {} is not a SHA-256 fingerprint (32 hex bytes, e.g. AB:CD:...)",
                    QuoteForMessage(fingerprint)));
  }
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (!out.empty()) out.push_back(':');
    out += hex.substr(i, 2);
  }
  return out;
}

Status ValidateBucketName(std::string_view bucket) {
  bool ok =
      bucket.size() >= 3 && bucket.size() <= 63 &&
      AllOf(bucket, [](unsigned char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; }) &&
      IsLowerAlnum(bucket.front()) && IsLowerAlnum(bucket.back()) &&
      bucket.find("..") == std::string_view::npos && !bucket.starts_with("xn--") &&
      !bucket.starts_with("sthree-") && !bucket.ends_with("-s3alias") &&
      !bucket.ends_with("--ol-s3");
  if (ok) return Status::OK();
  return Invalid(fmt::format(
      "invalid bucket name {}: 3-63 characters of a-z, 0-9, '-' and '.', starting and ending "
      "with a letter or digit",
      QuoteForMessage(bucket)));
}

Status ValidateEndpointConfig(const EndpointConfig& config) {
  bool id_ok =
      config.id.size() >= 3 && config.id.size() <= 32 &&
      std::isalnum(static_cast<unsigned char>(config.id[0])) &&
      AllOf(config.id, [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
  if (!id_ok) {
    return Invalid(fmt::format("invalid S3 endpoint id {}: 3-32 characters of A-Z a-z 0-9 _ -",
                               QuoteForMessage(config.id)));
  }
  CAIRN_ASSIGN_OR_RETURN(ParsedEndpoint parsed, ParseEndpoint(config.endpoint));
  if (parsed.port && config.port && *parsed.port != *config.port) {
    return Invalid("S3 endpoint: the URL's port and --port differ");
  }
  const std::string& region = config.region;
  bool region_ok =
      region.size() >= 2 && region.size() <= 32 && region[0] != '-' &&
      AllOf(region, [](unsigned char c) { return IsLowerAlnum(c) || c == '-' || c == '_'; });
  if (!region_ok) {
    return Invalid(fmt::format("invalid S3 region {}", QuoteForMessage(config.region)));
  }
  if (config.credentials.access_key.empty()) return Invalid("S3 access key is empty");
  if (config.credentials.secret_key.empty()) return Invalid("S3 secret key is empty");
  if (!config.fingerprint.empty()) {
    CAIRN_RETURN_IF_ERROR(NormalizeFingerprint(config.fingerprint).status());
    if (!parsed.https) return Invalid("a TLS fingerprint needs an https endpoint");
  }
  if (config.put_rate_limit < 0) return Invalid("put-rate-limit must not be negative");
  if (config.max_connections < 1 || config.max_connections > 256) {
    return Invalid("max-connections must be between 1 and 256");
  }
  if (config.path_style && parsed.host.starts_with(kBucketLabel)) {
    return Invalid("S3 endpoint: path style and a '{{bucket}}.' host template exclude each other");
  }
  return Status::OK();
}

Result<Endpoint> Endpoint::Create(const EndpointConfig& config, std::string_view bucket) {
  CAIRN_RETURN_IF_ERROR(ValidateEndpointConfig(config));
  if (!bucket.empty()) CAIRN_RETURN_IF_ERROR(ValidateBucketName(bucket));
  ParsedEndpoint parsed = ParseEndpoint(config.endpoint).value();
  std::string host = parsed.host;
  ReplaceAll(host, kRegionTemplate, config.region);
  bool templated = host.starts_with(kBucketLabel);
  if (templated) host.erase(0, kBucketLabel.size());

  Endpoint endpoint;
  endpoint.https_ = parsed.https;
  if (!bucket.empty()) {
    if (config.path_style) {
      endpoint.path_prefix_ = "/" + std::string(bucket);
    } else {
      if (IsIpAddress(host)) {
        return Invalid(fmt::format(
            "S3 endpoint {} is an IP address: virtual-hosted addressing needs a host name; "
            "use path style (--path-style)",
            QuoteForMessage(config.endpoint)));
      }
      host = std::string(bucket) + "." + host;
    }
  }
  std::optional<uint16_t> port = config.port ? config.port : parsed.port;
  uint16_t default_port = parsed.https ? 443 : 80;
  endpoint.authority_ = port && *port != default_port ? fmt::format("{}:{}", host, *port) : host;
  return endpoint;
}

std::string Endpoint::EncodedPath(std::string_view key) const {
  if (key.empty()) return path_prefix_.empty() ? "/" : path_prefix_;
  return path_prefix_ + "/" + UriEncode(key, false);
}

std::string Endpoint::Url(std::string_view key, const QueryList& query) const {
  std::string url =
      fmt::format("{}://{}{}", https_ ? "https" : "http", authority_, EncodedPath(key));
  if (!query.empty()) url += "?" + CanonicalQueryString(query);
  return url;
}

}  // namespace cairn::s3

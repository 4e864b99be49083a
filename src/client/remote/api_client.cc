#include "client/remote/api_client.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "base/file_util.h"
#include "http/answer_status.h"
#include "http/h2_client.h"
#include "http/tls_certificate.h"
#include "http/transport.h"
#include "types/backup_names.h"

namespace cairn::client {
namespace {

using nlohmann::json;

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string ScalarText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  return value.dump();
}

}  // namespace

std::string QueryString(const json& params) {
  std::string out;
  for (const auto& [key, value] : params.items()) {
    if (value.is_null()) continue;
    const json items = value.is_array() ? value : json::array({value});
    for (const json& item : items) {
      out += fmt::format("{}{}={}", out.empty() ? "" : "&", UrlEncode(key),
                         UrlEncode(ScalarText(item)));
    }
  }
  return out;
}

namespace {

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::optional<std::string> CachedFingerprint(const std::string& cache, const std::string& key) {
  if (cache.empty()) return std::nullopt;
  auto data = ReadFile(cache);
  if (!data.ok()) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    size_t space = line.find(' ');
    if (space != std::string_view::npos && line.substr(0, space) == key) {
      return Upper(std::string(line.substr(space + 1)));
    }
  }
  return std::nullopt;
}

Status RememberFingerprint(const std::string& cache, const std::string& key,
                           const std::string& fingerprint) {
  if (cache.empty()) return Status::OK();
  std::string text;
  if (auto data = ReadFile(cache); data.ok()) text.assign(data->begin(), data->end());
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += key + " " + fingerprint + "\n";
  size_t slash = cache.rfind('/');
  if (slash != std::string::npos) CAIRN_RETURN_IF_ERROR(MakeDirs(cache.substr(0, slash), 0700));
  return WriteFileAtomic(cache, AsBytes(text), 0600);
}

}  // namespace

Result<RemoteRepository> RemoteRepository::Parse(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("repository '{}': {} (expected [[auth-id@]host[:port]:]store)", text, why));
  };
  RemoteRepository out;
  size_t colon = text.rfind(':');
  std::string_view prefix;
  if (colon == std::string_view::npos) {
    out.store = std::string(text);
  } else {
    out.store = std::string(text.substr(colon + 1));
    prefix = text.substr(0, colon);
  }
  if (!ValidateDatastoreName(out.store).ok()) return invalid("bad datastore name");
  if (prefix.empty()) {
    if (colon != std::string_view::npos) return invalid("empty host");
    return out;
  }
  size_t at = prefix.rfind('@');
  if (at != std::string_view::npos) {
    out.auth_id = std::string(prefix.substr(0, at));
    prefix = prefix.substr(at + 1);
    if (out.auth_id.find('@') == std::string::npos) return invalid("auth id needs a realm");
  }
  std::optional<std::string_view> port_text;
  if (!prefix.empty() && prefix.front() == '[') {
    size_t close = prefix.find(']');
    if (close == std::string_view::npos) return invalid("unclosed '['");
    out.host = std::string(prefix.substr(1, close - 1));
    std::string_view rest = prefix.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("junk after ']'");
      port_text = rest.substr(1);
    }
  } else {
    size_t port_colon = prefix.find(':');
    out.host = std::string(prefix.substr(0, port_colon));
    if (port_colon != std::string_view::npos) port_text = prefix.substr(port_colon + 1);
  }
  if (out.host.empty() || out.host.find_first_of("/@ \t\r\n?#") != std::string::npos) {
    return invalid("bad host");
  }
  if (port_text) {
    unsigned port = 0;
    auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (ec != std::errc() || end != port_text->data() + port_text->size() || port == 0 ||
        port > 65535) {
      return invalid("bad port");
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

std::string RemoteRepository::ServerKey() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::string DefaultFingerprintCache() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return JoinPath(xdg, "cairn/fingerprints");
  }
  const char* home = std::getenv("HOME");
  return JoinPath(home ? home : "/tmp", ".config/cairn/fingerprints");
}

struct ApiClient::Impl {
  std::unique_ptr<http::Transport> transport;
  std::string pin;  // the fingerprint pinned, or "" for a certificate a CA vouches for
  std::string base_url;
  http::HeaderList auth_headers;
  bool ticket = false;
};

ApiClient::ApiClient(ApiClientOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Connect(ApiClientOptions options) {
  const RemoteRepository& repo = options.repository;
  auto impl = std::make_unique<Impl>();
  impl->base_url = "https://" + repo.ServerKey() + "/api2/json";
  std::string pin = Upper(options.fingerprint);
  if (pin.empty())
    pin = CachedFingerprint(options.fingerprint_cache, repo.ServerKey()).value_or("");
  auto make_transport = [&](const std::string& fingerprint) {
    http::TransportOptions transport;
    transport.pinned_fingerprint = fingerprint;
    transport.max_connections = 2;
    transport.min_timeout = 120;
    return http::Transport::Create(transport);
  };
  if (pin.empty()) {
    // A certificate a CA vouches for needs no pin; anything else the user must accept.
    CAIRN_ASSIGN_OR_RETURN(auto trusting_ca, make_transport(""));
    http::Request ping;
    ping.method = "GET";
    ping.url = impl->base_url + "/ping";
    auto answer = trusting_ca->Send(ping);
    if (answer.ok()) {
      impl->transport = std::move(trusting_ca);
    } else if (answer.status().code() != Code::kPermissionDenied) {
      return answer.status();
    } else {
      CAIRN_ASSIGN_OR_RETURN(std::string seen,
                             http::FetchCertificateFingerprint(repo.host, repo.port));
      if (!options.confirm || !options.confirm(seen)) {
        return Status::PermissionDenied(fmt::format(
            "the certificate of {} is not trusted (fingerprint {}); check it on the server "
            "(cairn server fingerprint) and pass --fingerprint or set CAIRN_FINGERPRINT",
            repo.ServerKey(), seen));
      }
      CAIRN_RETURN_IF_ERROR(RememberFingerprint(options.fingerprint_cache, repo.ServerKey(), seen));
      pin = seen;
    }
  }
  if (!impl->transport) {
    CAIRN_ASSIGN_OR_RETURN(impl->transport, make_transport(pin));
  }
  impl->pin = pin;
  auto client = std::unique_ptr<ApiClient>(new ApiClient(std::move(options), std::move(impl)));
  const ApiClientOptions& opts = client->options_;
  if (opts.repository.is_token()) {
    client->impl_->auth_headers.emplace_back(
        "Authorization", "PBSAPIToken " + opts.repository.auth_id + ":" + UrlEncode(opts.password));
    return client;
  }
  CAIRN_ASSIGN_OR_RETURN(ApiAnswer login, client->Call("POST", "/access/ticket",
                                                       json{{"username", opts.repository.auth_id},
                                                            {"password", opts.password}}));
  client->impl_->auth_headers = {
      {"Cookie", "PBSAuthCookie=" + UrlEncode(login.data.value("ticket", ""))},
      {"CSRFPreventionToken", login.data.value("CSRFPreventionToken", "")}};
  return client;
}

namespace {

Result<http::Response> Send(http::Transport& transport, const std::string& base_url,
                            const http::HeaderList& auth, std::string_view method,
                            std::string_view path, const json& params, std::string& body) {
  http::Request request;
  request.method = std::string(method);
  request.url = base_url + std::string(path);
  request.headers = auth;
  request.max_response_bytes = uint64_t{256} << 20;
  if (method == "GET" || method == "DELETE") {
    std::string query = QueryString(params);
    if (!query.empty()) request.url += "?" + query;
  } else {
    body = params.dump();
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = AsBytes(body);
  }
  CAIRN_ASSIGN_OR_RETURN(http::Response response, transport.Send(request));
  if (response.status < 200 || response.status > 299) {
    std::string message(response.body.begin(), response.body.end());
    return http::StatusForAnswer(response.status, std::move(message));
  }
  return response;
}

}  // namespace

Result<ApiAnswer> ApiClient::Call(std::string_view method, std::string_view path,
                                  const json& params) {
  std::string body;
  CAIRN_ASSIGN_OR_RETURN(
      http::Response response,
      Send(*impl_->transport, impl_->base_url, impl_->auth_headers, method, path, params, body));
  json parsed = json::parse(response.body.begin(), response.body.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::Corruption(fmt::format("{} {}: the answer is not a JSON object", method, path));
  }
  ApiAnswer answer;
  for (auto& [key, value] : parsed.items()) {
    if (key == "data") {
      answer.data = std::move(value);
    } else {
      answer.attributes[key] = std::move(value);
    }
  }
  return answer;
}

Result<json> ApiClient::Get(std::string_view path, const json& params) {
  CAIRN_ASSIGN_OR_RETURN(ApiAnswer answer, Call("GET", path, params));
  return std::move(answer.data);
}

Result<std::string> ApiClient::GetRaw(std::string_view path, const json& params) {
  std::string body;
  CAIRN_ASSIGN_OR_RETURN(
      http::Response response,
      Send(*impl_->transport, impl_->base_url, impl_->auth_headers, "GET", path, params, body));
  return std::string(response.body.begin(), response.body.end());
}

Result<std::unique_ptr<http::H2Client>> ApiClient::OpenSession(std::string_view path,
                                                               const json& params,
                                                               const std::string& protocol) {
  http::H2ClientOptions options;
  options.host = options_.repository.host;
  options.port = options_.repository.port;
  options.pinned_fingerprint = impl_->pin;
  options.upgrade_target = "/api2/json" + std::string(path);
  const std::string query = QueryString(params);
  if (!query.empty()) options.upgrade_target += "?" + query;
  options.protocol = protocol;
  options.headers = impl_->auth_headers;
  return http::H2Client::Connect(options);
}

}  // namespace cairn::client

// ApiClient talks to a Cairn (or PBS) server's REST API for the CLI's commands run with
// `--repository [[auth-id@]host[:port]:]store`: it logs in (a ticket for a user, the
// PBSAPIToken header for a token), pins the server's certificate and turns answers into JSON
// or a Status.
//
// Which certificate is trusted: the fingerprint given (`--fingerprint`, $CAIRN_FINGERPRINT,
// $PBS_FINGERPRINT); else one remembered in the fingerprint cache for that server; else a
// certificate a CA vouches for; else, only if `confirm` is set (the CLI sets it on a terminal),
// the fingerprint the user accepts, which is then remembered. Anything else is refused with
// PermissionDenied naming the fingerprint seen.
//
// Thread-safety: not thread-safe; one command uses one client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "http/h2_client.h"

namespace cairn::client {

// A repository spec as PBS's client takes it: [[auth-id@]host[:port]:]store. The auth id may
// itself hold '@' (alice@pbs@backup.example:store1); an IPv6 host goes in brackets.
struct RemoteRepository {
  std::string auth_id = "root@pam";
  std::string host = "localhost";
  uint16_t port = 8007;
  std::string store;

  // InvalidArgument naming the text if it is not of that form.
  static Result<RemoteRepository> Parse(std::string_view text);
  // "host:port", as the fingerprint cache keys servers.
  std::string ServerKey() const;
  bool is_token() const { return auth_id.find('!') != std::string::npos; }
};

struct ApiClientOptions {
  RemoteRepository repository;
  std::string password;           // a user's password, or a token's secret
  std::string fingerprint;        // "AA:BB:…" to pin; empty: see the file comment
  std::string fingerprint_cache;  // file of "<host:port> <fingerprint>" lines; "" = none
  // Asked to accept an unknown certificate's fingerprint; null = refuse.
  std::function<bool(const std::string& fingerprint)> confirm;
};

// An answer: its "data" and any other top-level members (e.g. "total").
struct ApiAnswer {
  nlohmann::json data;
  nlohmann::json attributes = nlohmann::json::object();
};

class ApiClient {
 public:
  // Settles which certificate to trust and logs in. PermissionDenied for an untrusted
  // certificate or refused credentials; Unavailable if the server cannot be reached.
  static Result<std::unique_ptr<ApiClient>> Connect(ApiClientOptions options);
  ~ApiClient();

  const RemoteRepository& repository() const { return options_.repository; }

  // Calls `method` on `path` (below /api2/json) with `params`: in the query string for GET and
  // DELETE, as a JSON body otherwise. Errors by the answer's status: 400 InvalidArgument,
  // 401/403 PermissionDenied, 404 NotFound, 409 Busy, 5xx Unavailable; the message is the
  // server's.
  Result<ApiAnswer> Call(std::string_view method, std::string_view path,
                         const nlohmann::json& params = nlohmann::json::object());
  Result<nlohmann::json> Get(std::string_view path,
                             const nlohmann::json& params = nlohmann::json::object());

  // The text of an answer that is not JSON (a downloaded file, a task log).
  Result<std::string> GetRaw(std::string_view path, const nlohmann::json& params);

  // Opens a session of one of PBS's upgraded protocols: GET `path` (below /api2/json, e.g.
  // "/backup") with `params` in the query and `Upgrade: protocol`, with this client's
  // credentials and certificate trust, then HTTP/2 on that connection. Errors as
  // http::H2Client::Connect.
  Result<std::unique_ptr<http::H2Client>> OpenSession(std::string_view path,
                                                      const nlohmann::json& params,
                                                      const std::string& protocol);

 private:
  struct Impl;
  ApiClient(ApiClientOptions options, std::unique_ptr<Impl> impl);
  ApiClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// `params` as a query string (without '?'): key=value pairs percent-encoded, booleans as 1/0,
// an array as its key repeated (as PBS's client sends them), nulls left out.
std::string QueryString(const nlohmann::json& params);

// The default fingerprint cache: $XDG_CONFIG_HOME/cairn/fingerprints (~/.config/cairn/...).
std::string DefaultFingerprintCache();

}  // namespace cairn::client

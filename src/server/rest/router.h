// The REST API's route table: each route is a method and a path pattern below /api2/<format>
// ("/admin/datastore/{store}/snapshots"), its declared parameters, who may call it, and its
// handler. The table is data: the dispatcher checks calls against it, and docs/api.md is
// generated from it (`cairn server routes`), so the documentation cannot drift from the code.
//
// Thread-safety: built once at server start, then read concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "http/server.h"
#include "server/rest/params.h"

namespace cairn::server {

class ApiCall;

// Who may call a route. kPrivileges routes are checked before the handler runs: the caller
// needs any of `privileges` (bits of server/auth/privileges.h) on the ACL path `acl_path`, whose
// {placeholders} are filled from the parameters. kWorld routes need no login; kAuthenticated
// ones any valid login; kHandler routes are checked by their handler as `description` says.
struct Access {
  enum class Kind { kWorld, kAuthenticated, kPrivileges, kHandler };
  Kind kind = Kind::kAuthenticated;
  std::string acl_path;
  uint64_t privileges = 0;
  std::string description;

  static Access World() { return {Kind::kWorld, "", 0, "anyone, without login"}; }
  static Access Authenticated(std::string description = "any logged-in user or token") {
    return {Kind::kAuthenticated, "", 0, std::move(description)};
  }
  static Access Privileges(std::string acl_path, uint64_t privileges) {
    return {Kind::kPrivileges, std::move(acl_path), privileges, ""};
  }
  static Access Handler(std::string description) {
    return {Kind::kHandler, "", 0, std::move(description)};
  }
};

// What a handler answers: JSON data plus extra top-level members, or a raw HTTP response
// (downloads, task logs) sent as is.
struct ApiReply {
  nlohmann::json data;
  nlohmann::json attributes = nlohmann::json::object();
  // (A pointer, not an optional: GCC 12 warns of a maybe-uninitialized optional here.)
  std::unique_ptr<http::ServerResponse> raw;

  ApiReply() = default;
  ApiReply(nlohmann::json value) : data(std::move(value)) {}  // NOLINT: implicit by design
};

using ApiHandler = std::function<Result<ApiReply>(ApiCall& call)>;

struct Route {
  std::string method;  // GET, POST, PUT, DELETE
  std::string path;    // pattern; {name} matches one path segment into parameter `name`
  std::string description;
  std::vector<ParamSpec> params;  // including the path's {name} parameters
  Access access;
  ApiHandler handler;
  bool query_only = false;  // parameters from the query string only: the body is a payload
};

class Router {
 public:
  // REQUIRES: no route with the same method and pattern yet; every {name} of the pattern is
  // declared in params.
  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  // null if the path is known but not with this method
    std::map<std::string, std::string> path_params;
  };
  // The route for `method` and the (normalised, decoded) path `segments`; nullopt if no route
  // has that path with any method.
  std::optional<Match> Find(std::string_view method,
                            const std::vector<std::string>& segments) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> patterns_;  // split routes_[i].path
};

// Splits a request path into segments: empty ones (from "//") dropped, each percent-decoded.
// InvalidArgument if a segment starts with '.', or decodes to something holding '/' or NUL.
Result<std::vector<std::string>> NormalizePath(std::string_view path);

}  // namespace cairn::server

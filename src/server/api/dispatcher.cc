#include "server/api/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/access_control.h"
#include "server/api/api_call.h"
#include "server/auth/privileges.h"
#include "server/rest/formatter.h"
#include "server/server_context.h"

namespace cairn::server {
namespace {

http::ServerResponse Delayed(http::ServerResponse response, std::chrono::milliseconds delay) {
  response.delay = delay;
  return response;
}

// Fills the {placeholders} of an ACL path template from the parameters.
std::string FillAclPath(const std::string& pattern, const Params& params) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = pattern.find('}', open);
    out += pattern.substr(pos, open - pos);
    out += params.OptString(pattern.substr(open + 1, close - open - 1)).value_or("");
    pos = close + 1;
  }
  out += pattern.substr(std::min(pos, pattern.size()));
  return out;
}

}  // namespace

ApiDispatcher::ApiDispatcher(ServerContext& context, Router router, DispatcherOptions options)
    : context_(context), router_(std::move(router)), options_(options) {}

std::map<int, uint64_t> ApiDispatcher::StatusCounts() const {
  MutexLock lock(mu_);
  return status_counts_;
}

http::ServerResponse ApiDispatcher::Handle(const http::ServerRequest& request) {
  http::ServerResponse response = Dispatch(request);
  MutexLock lock(mu_);
  ++status_counts_[response.status];
  return response;
}

http::ServerResponse ApiDispatcher::Dispatch(const http::ServerRequest& request) {
  OutputFormat format = OutputFormat::kJson;
  auto fail = [&](int status, std::string message) {
    return FormatError(format, ApiError{status, std::move(message), {}});
  };
  auto segments = NormalizePath(request.path);
  if (!segments.ok()) return fail(400, segments.status().message());
  if (segments->size() < 2 || (*segments)[0] != "api2") {
    return fail(404, fmt::format("Path '{}' not found.", request.path));
  }
  if ((*segments)[1] == "extjs") {
    format = OutputFormat::kExtJs;
  } else if ((*segments)[1] != "json") {
    return fail(400, "Unsupported output format '" + (*segments)[1] + "'.");
  }
  std::vector<std::string> route_path(segments->begin() + 2, segments->end());
  auto match = router_.Find(request.method, route_path);
  if (!match) return fail(404, fmt::format("Path '{}' not found.", request.path));
  if (!match->route) {
    return fail(501, fmt::format("Method '{} {}' not implemented", request.method, request.path));
  }
  const Route& route = *match->route;
  int64_t now = context_.Now();

  std::optional<Credentials> credentials;
  auto authenticated = context_.access().Authenticate(request, now);
  if (!authenticated.ok() && route.access.kind != Access::Kind::kWorld) {
    return Delayed(fail(401, "authentication failed - " + authenticated.status().message()),
                   options_.auth_failure_delay);
  }
  if (authenticated.ok()) credentials = *authenticated;
  if (!credentials && route.access.kind != Access::Kind::kWorld) {
    return Delayed(fail(401, "authentication failed - no authentication credentials provided."),
                   options_.auth_failure_delay);
  }
  if (credentials && credentials->by_ticket && request.method != "GET") {
    Status csrf = context_.access().CheckCsrf(credentials->auth_id.user(),
                                              request.Header("csrfpreventiontoken"), now);
    // A route open to the world (the login) is called as by anyone: a browser that still
    // holds a ticket cookie but no CSRF token must still be able to log in.
    if (!csrf.ok() && route.access.kind == Access::Kind::kWorld) {
      credentials.reset();
    } else if (!csrf.ok()) {
      return Delayed(fail(401, "authentication failed - " + csrf.message()),
                     options_.auth_failure_delay);
    }
  }

  auto raw = CollectParams(request, route.query_only);
  if (!raw.ok()) return fail(400, raw.status().message());
  ParamErrors errors;
  auto params = CheckParams(*raw, match->path_params, route.params, errors);
  if (!params) {
    return FormatError(format, ApiError{400, "parameter verification errors", std::move(errors)});
  }
  std::optional<Authid> auth_id;
  if (credentials) auth_id = credentials->auth_id;
  ApiCall call(context_, request, std::move(*params), std::move(auth_id), format);

  if (route.access.kind == Access::Kind::kPrivileges) {
    std::string acl_path = FillAclPath(route.access.acl_path, call.params());
    Status allowed = call.Require(acl_path, route.access.privileges);
    if (!allowed.ok()) {
      return Delayed(fail(403, allowed.message()), options_.forbidden_delay);
    }
  }

  Result<ApiReply> reply = route.handler(call);
  if (!reply.ok()) {
    ApiError error = ErrorFromStatus(reply.status());
    if (error.status == 500) {
      spdlog::error("api: {} {}: {}", request.method, request.path, reply.status().ToString());
    }
    http::ServerResponse response = FormatError(format, error);
    if (error.status == 403) return Delayed(std::move(response), options_.forbidden_delay);
    return response;
  }
  if (reply->raw) return std::move(*reply->raw);
  return FormatSuccess(format, reply->data, reply->attributes);
}

}  // namespace cairn::server

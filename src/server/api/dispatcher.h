// ApiDispatcher turns HTTP requests into route calls, PBS's rest.rs: it normalises the path
// (repeated '/' collapsed, segments starting with '.' refused), picks the format (/api2/json or
// /api2/extjs), finds the route, authenticates the caller (ticket cookie with a CSRF header on
// non-GET requests, or an API token), collects and checks the parameters, checks the route's
// access rule, runs the handler and formats the answer.
//
// Failures as PBS answers them: 401 "authentication failed - …" no earlier than
// `auth_failure_delay` (3 s) after the request; 403 "permission check failed…" no earlier than
// `forbidden_delay` (0.5 s); 404 "Path '…' not found."; 400 "parameter verification errors"
// listing each bad parameter; handler errors with the status of their code (formatter.h).
//
// Thread-safety: Handle is thread-safe (the HTTP server calls it from its handler threads).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>

#include "base/mutex.h"
#include "http/server.h"
#include "server/rest/router.h"

namespace cairn::server {

class ServerContext;

struct DispatcherOptions {
  std::chrono::milliseconds auth_failure_delay{3000};
  std::chrono::milliseconds forbidden_delay{500};
};

class ApiDispatcher {
 public:
  ApiDispatcher(ServerContext& context, Router router, DispatcherOptions options = {});

  http::ServerResponse Handle(const http::ServerRequest& request);

  const Router& router() const { return router_; }
  // Answers so far by HTTP status (for /metrics).
  std::map<int, uint64_t> StatusCounts() const;

 private:
  http::ServerResponse Dispatch(const http::ServerRequest& request);
  ServerContext& context_;
  const Router router_;
  const DispatcherOptions options_;
  mutable Mutex mu_;
  std::map<int, uint64_t> status_counts_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn::server

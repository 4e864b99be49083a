// Test support for the session handlers (unit tests and the backup_session fuzz target): a
// request as it reaches BackupSession::Handle or ReaderSession::Handle after the HTTP/2 layer.
#pragma once

#include <string>
#include <utility>

#include "http/server.h"

namespace cairn::server {

// `method` on `path` (relative to the session) with `query` and `body`; `json_body` marks the
// body as the JSON parameters (content-type: application/json).
inline http::ServerRequest SessionRequest(std::string method, const std::string& path,
                                          std::string query = "", std::string body = "",
                                          bool json_body = false) {
  http::ServerRequest request;
  request.method = std::move(method);
  request.path = "/" + path;
  request.query = std::move(query);
  request.target = request.path + (request.query.empty() ? "" : "?" + request.query);
  request.body = std::move(body);
  if (json_body) request.headers.emplace_back("content-type", "application/json");
  return request;
}

}  // namespace cairn::server

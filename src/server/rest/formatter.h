// The two answer formats of the REST API (PBS's formatter.rs):
//  - /api2/json: success is 200 with {"data": …} plus any extra members (e.g. "total",
//    "digest"); an error answers its HTTP status with the plain message as the body (the content
//    type still says JSON, as PBS's does, and its clients expect).
//  - /api2/extjs: always 200; {"data": …, "success": true, "status": 200} or {"message": …,
//    "errors": {param: msg}, "success": false, "status": <code>}.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "http/server.h"
#include "server/rest/params.h"

namespace cairn::server {

enum class OutputFormat { kJson, kExtJs };

// A failed call as the client sees it.
struct ApiError {
  int status = 400;
  std::string message;
  ParamErrors errors;  // per-parameter messages, if any
};

// The HTTP status for an error Status: NotFound 404, PermissionDenied 403, Busy 409,
// Unavailable 503, InvalidArgument / AlreadyExists / others the caller may fix 400, internal
// failures (IOError, Corruption) 500.
ApiError ErrorFromStatus(const Status& status);

// `attributes` members (an object) are added beside "data".
http::ServerResponse FormatSuccess(OutputFormat format, const nlohmann::json& data,
                                   const nlohmann::json& attributes);
http::ServerResponse FormatError(OutputFormat format, const ApiError& error);

inline constexpr char kJsonContentType[] = "application/json;charset=UTF-8";

}  // namespace cairn::server

#include "server/rest/formatter.h"

namespace cairn::server {

using nlohmann::json;

ApiError ErrorFromStatus(const Status& status) {
  ApiError error;
  error.message = status.message();
  switch (status.code()) {
    case Code::kNotFound: error.status = 404; break;
    case Code::kPermissionDenied: error.status = 403; break;
    case Code::kBusy: error.status = 409; break;
    case Code::kUnavailable: error.status = 503; break;
    case Code::kIOError:
    case Code::kCorruption: error.status = 500; break;
    default: error.status = 400; break;
  }
  return error;
}

http::ServerResponse FormatSuccess(OutputFormat format, const json& data, const json& attributes) {
  json body = json::object();
  body["data"] = data;
  for (const auto& [key, value] : attributes.items()) body[key] = value;
  if (format == OutputFormat::kExtJs) {
    body["success"] = true;
    body["status"] = 200;
  }
  http::ServerResponse response;
  response.headers.emplace_back("Content-Type", kJsonContentType);
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

http::ServerResponse FormatError(OutputFormat format, const ApiError& error) {
  http::ServerResponse response;
  response.headers.emplace_back("Content-Type", kJsonContentType);
  if (format == OutputFormat::kJson) {
    response.status = error.status;
    response.body = error.message;
    if (!error.errors.empty()) {
      for (const auto& [param, message] : error.errors) {
        response.body += "\n" + param + ": " + message;
      }
    }
    return response;
  }
  json body = {{"message", error.message}, {"success", false}, {"status", error.status}};
  if (!error.errors.empty()) body["errors"] = error.errors;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

}  // namespace cairn::server

// StatusForAnswer maps an HTTP error answer (of the REST API, an upgrade request, or a request
// inside an upgraded session) to a Status, once for every client of a Cairn or PBS server.
//
// Thread-safety: a pure function.
#pragma once

#include <string>

#include "base/status.h"

namespace cairn::http {

// 400 InvalidArgument, 401/403 PermissionDenied, 404 NotFound, 409/423 Busy, 5xx Unavailable,
// anything else IOError. `message` is the server's (trailing line breaks dropped), or "HTTP
// status N" if it sent none.
Status StatusForAnswer(int status, std::string message);

}  // namespace cairn::http

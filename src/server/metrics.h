// GET /metrics: the server's state in Prometheus' text exposition format (docs/server.md): per
// datastore usage, chunk count, deduplication factor, last GC and verify result and time, S3
// requests and bytes by kind; tasks by type and result; HTTP answers by status.
//
// Access: requests from the loopback address need no login (a local Prometheus or node
// exporter scrapes them); from elsewhere an API token or ticket with Sys.Audit on
// /system/status is required (401/403 otherwise).
//
// Thread-safety: thread-safe.
#pragma once

#include "http/server.h"
#include "server/api/dispatcher.h"

namespace cairn::server {

class ServerContext;

http::ServerResponse ServeMetrics(ServerContext& context, const ApiDispatcher& dispatcher,
                                  const http::ServerRequest& request);

}  // namespace cairn::server

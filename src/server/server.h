// Server is Cairn's backup server daemon (`cairn server`): the REST API of PBS over HTTPS on one
// port, backed by the datastores, users, ACLs and tasks of its config and state directories.
// Start prepares what a first start needs (a self-signed TLS certificate, the ticket and CSRF
// keys, the task directory; see docs/server.md), finishes tasks a killed predecessor left
// running (marked "unknown"), then serves until Stop.
//
// Ownership: owns the HTTP server, the API and the task manager.
// Thread-safety: Start and Stop from the owner's thread; everything else is internal.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "server/api/dispatcher.h"

namespace cairn::server {

struct ServerOptions {
  std::string listen = "[::]:8007";
  std::string config_dir;          // datastore.json, users, ACLs, keys, the TLS certificate
  std::string state_dir;           // tasks/ (logs, active, archive)
  std::string node;                // the node name in UPIDs; empty = the short host name
  std::function<int64_t()> clock;  // Unix seconds; null = the system clock
  // The built web UI served at "/" (web_assets.h); empty = DefaultWebRoot(). Without one, "/"
  // says how to get it.
  std::string web_root;
  DispatcherOptions dispatcher;
  int handler_threads = 8;
};

class Server {
 public:
  // InvalidArgument for bad options; the errors of the files it prepares or of binding.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  virtual ~Server() = default;

  virtual uint16_t port() const = 0;
  // The SHA-256 fingerprint of the certificate clients should pin.
  virtual const std::string& fingerprint() const = 0;
  // Stops accepting requests, tells running tasks to stop and waits until they have written
  // their logs and released their stores. Idempotent.
  virtual void Stop() = 0;
};

// The defaults for a server run by this user: /etc/cairn and /var/lib/cairn for root, the XDG
// directories otherwise (as the CLI's config directory).
std::string DefaultStateDir();

}  // namespace cairn::server

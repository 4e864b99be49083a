// H2Client is the client side of PBS's upgraded protocols: it connects with TLS, sends an
// HTTP/1.1 upgrade request (e.g. `GET /api2/json/backup?... Upgrade:
// proxmox-backup-protocol-v1`), and after the server's 101 speaks HTTP/2 with prior knowledge
// on the same stream. Many requests may be in flight at once, each on its own stream.
//
// TLS as Transport (transport.h): with a pinned fingerprint the leaf certificate's SHA-256
// must equal it (PermissionDenied naming both otherwise); without, the certificate must be
// valid for the host under the system CAs. TCP_NODELAY is set (small HTTP/2 frames must not
// wait for delayed ACKs).
//
// Ownership: owns its connection and one I/O thread. Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include "base/result.h"
#include "http/headers.h"
#include "http/outgoing_bytes.h"
#include "http/transport.h"

namespace cairn::http {

struct H2ClientOptions {
  std::string host;
  uint16_t port = 8007;
  std::string pinned_fingerprint;  // "AA:BB:..." or empty
  std::string upgrade_target;      // request target of the upgrade, e.g. "/api2/json/backup?..."
  std::string protocol;            // the Upgrade token
  HeaderList headers;              // added to the upgrade request (credentials)
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds idle_timeout{3600};  // no byte from the server for this long: ends
  uint32_t window = 0x7ffffffe;             // initial stream and connection window (PBS's)
  size_t max_response_bytes = size_t{1} << 30;
};

class H2Client {
 public:
  // Connects and upgrades. Unavailable if the server cannot be reached or the connection
  // breaks; PermissionDenied for a certificate that does not match; an answer other than 101
  // maps its status with the server's message (answer_status.h).
  static Result<std::unique_ptr<H2Client>> Connect(const H2ClientOptions& options);
  virtual ~H2Client() = default;

  // Sends a request on a new stream; `path` includes the query. The future holds the answer
  // (any status), or Unavailable if the connection ended or the stream was reset before it
  // was complete, or Corruption for an answer over max_response_bytes. A borrowed body must
  // stay valid until the future is ready.
  virtual std::future<Result<Response>> Send(std::string method, std::string path,
                                             HeaderList headers, OutgoingBytes body) = 0;
  Result<Response> Call(std::string method, std::string path, HeaderList headers = {},
                        OutgoingBytes body = {}) {
    return Send(std::move(method), std::move(path), std::move(headers), std::move(body)).get();
  }
  // Sends GOAWAY and closes; requests in flight fail. Idempotent; the destructor does it.
  virtual void Close() = 0;
};

}  // namespace cairn::http

// HttpServer is the server side of Cairn's HTTP plumbing: it accepts TCP connections on one
// port, tells TLS from plain HTTP by the first bytes (a TLS record starts with 0x16), answers
// plain HTTP with a redirect to https://, and serves HTTP/1.1 with keep-alive over TLS 1.2+.
// Each complete request goes to the RequestHandler; what it returns is written back.
//
// Concurrency: a few I/O threads run every connection asynchronously (Boost.Asio and
// Boost.Beast), so idle connections cost a socket and a little memory, no thread. Handlers run
// on a separate pool of handler threads, so a slow handler or a slow client never stalls other
// connections; a response's `delay` (PBS answers failed logins no earlier than 3 s later) waits
// on a timer, not on a thread.
//
// Limits (PBS's): a request target (path and query) longer than max_target_length is refused
// with 414, a body larger than max_body_size with 413, a header section larger than
// max_header_size with 431, any other malformed request with 400; each closes the connection,
// after reading and dropping what the client still sends of the refused request (up to 64 MiB
// or 3 s), so that a client busy writing a body gets to read the answer.
// The TLS handshake must finish within handshake_timeout, a request must arrive within
// idle_timeout of the previous one.
//
// Protocol upgrades (PBS's backup and reader protocols): a handler answers 101 with an
// H2Service (h2_service.h); after writing the 101 the connection, with any bytes already read
// past the request, speaks HTTP/2 and serves that service. Stop ends such sessions first and
// waits (up to h2_stop_wait) until each service has been told it is closed.
//
// Thread-safety: Start and Stop from one owner thread; the handler is called concurrently from
// the handler threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/stream.h"
#include "http/h2_service.h"
#include "http/headers.h"
#include "http/tls_certificate.h"

namespace cairn::http {

struct ServerRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent: path and query, still percent-encoded
  std::string path;    // target up to '?'
  std::string query;   // target after '?', empty if none
  HeaderList headers;  // names lower-cased, in the order received
  std::string body;
  std::string peer_address;  // the client's IP address, without port
  std::chrono::steady_clock::time_point received;

  // The first value of header `name` (compared case-insensitively), empty if absent.
  std::string_view Header(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  // Instead of `body`, for bytes the handler already holds (a chunk or file read from the
  // store): moved into an HTTP/2 answer without a copy (HTTP/1.1 copies them). Set at most one.
  Bytes octets;
  // Instead of `body`, for a body too large to hold (a file or an archive made on the fly):
  // run on a thread of its own (at most `ServerOptions::producer_threads` at once; later ones
  // wait), it writes the body to the sink, whose Write returns once the connection took the
  // bytes (http/handover_sink.h). HTTP/1.1 only; the body goes out chunked. If it fails, or the
  // client goes away, the connection is closed without the last chunk: the client sees a
  // broken body, never a complete-looking one.
  std::function<Status(ByteSink& out)> produce;
  // The response is sent no earlier than this long after the request was received.
  std::chrono::milliseconds delay{0};
  // With status 101: the HTTP/2 service the connection serves once the 101 is written.
  std::shared_ptr<H2Service> h2;
};

using RequestHandler = std::function<ServerResponse(const ServerRequest&)>;

struct ServerOptions {
  // "ADDR:PORT", "[IPv6]:PORT"; "[::]" listens on IPv6 and IPv4. Port 0 picks a free port.
  std::string listen = "[::]:8007";
  CertificateFiles certificate;
  RequestHandler handler;
  int io_threads = 2;
  int handler_threads = 8;
  // Threads for produced bodies (ServerResponse::produce): downloads running at once.
  int producer_threads = 4;
  size_t max_target_length = 3072;
  size_t max_body_size = 512 * 1024;
  size_t max_header_size = 16 * 1024;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{120};
  // After a period with traffic, free heap memory is returned to the system this often
  // (malloc_trim), so the resident size falls back after a load peak. 0 = never.
  std::chrono::seconds release_memory_interval{30};
  H2Settings h2;  // for upgraded connections
  std::chrono::seconds h2_stop_wait{60};
};

class HttpServer {
 public:
  // Loads the certificate, binds and starts serving. InvalidArgument for a bad listen address
  // or an unusable certificate/key, IOError naming the address if it cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(ServerOptions options);
  virtual ~HttpServer() = default;

  // The bound port (the chosen one when listening on port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, ends the HTTP/2 sessions and waits until their services are told (up to
  // h2_stop_wait), closes every other connection, waits for running handlers and stops the
  // threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace cairn::http

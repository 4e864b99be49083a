// Transport sends HTTP/1.1 requests with libcurl. It owns a pool of curl handles, one per
// allowed concurrent request, each keeping its connection alive between requests, so at most
// `max_connections` requests are in flight and connections are reused. A caller blocks in Send
// until a handle is free.
//
// TLS: by default the server must present a certificate valid for its name under the system
// CAs. With a pinned fingerprint the leaf certificate's SHA-256 must equal it instead (for
// self-signed servers); the pin is the identity, so the name is not checked. A mismatch is
// PermissionDenied naming both fingerprints, never retried.
//
// Timeouts are sized to the payload: connect `connect_timeout`; a request may take
// max(min_timeout, bytes / min_rate) seconds; a transfer that moves no byte for `stall_timeout`
// seconds is aborted. Transport failures (refused, reset, timeout, truncated body) are
// Unavailable, so callers retry them.
//
// Byte-rate limits are applied while data moves (in the read and write callbacks), shared by
// all requests of the transport.
//
// Thread-safety: thread-safe; Send may be called from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "http/headers.h"
#include "http/rate_limiter.h"

namespace cairn::http {

struct Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  HeaderList headers;                    // sent as given; Host included
  ByteView body;                         // borrowed for the duration of Send; sent for PUT and POST
  uint64_t expected_response_bytes = 0;  // for timeout sizing (range GETs)
  uint64_t max_response_bytes = uint64_t{16} << 20;  // larger replies fail (Corruption)
};

struct Response {
  int status = 0;
  HeaderList headers;  // names lowercased
  Bytes body;
  // The value of header `name` (lowercase), if present.
  std::optional<std::string> Header(std::string_view name) const;
};

struct TransportOptions {
  int max_connections = 8;
  std::string pinned_fingerprint;  // "AA:BB:..." or empty
  double connect_timeout = 10;
  double min_timeout = 1800;
  double min_rate = 1024;  // bytes/s assumed worst case for timeout sizing
  double stall_timeout = 120;
  std::shared_ptr<TokenBucket> rate_in;   // may be null
  std::shared_ptr<TokenBucket> rate_out;  // may be null
};

class Transport {
 public:
  // IOError if libcurl cannot be initialised.
  static Result<std::unique_ptr<Transport>> Create(TransportOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends `request` and returns the reply, whatever its HTTP status. Errors: Unavailable
  // (connection refused/reset, timeout, truncated reply), PermissionDenied (TLS certificate
  // not trusted or not the pinned one), InvalidArgument (malformed URL), Corruption (reply
  // body larger than max_response_bytes).
  Result<Response> Send(const Request& request);

 private:
  struct Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http

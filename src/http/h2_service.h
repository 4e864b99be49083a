// The server side of HTTP/2 sessions that follow an HTTP/1.1 upgrade, as PBS's backup and
// reader protocols do: a handler answers 101 with an H2Service (ServerResponse::h2), and once
// the 101 is written the connection speaks HTTP/2 with prior knowledge (no HTTP2-Settings, no
// ALPN) on the same TLS stream, serving each complete request to the service.
//
// Memory is bounded by flow control. A request body larger than max_body_size resets its
// stream (the session goes on); at most max_concurrent_streams streams are open, and each may
// send stream_window bytes before the server grants more. A stream that announces its size
// (content-length) gets more only once it is admitted: its whole body is then reserved in one
// allocation and counted, which happens while the bodies held (received or reserved, or handed
// to the service and not answered yet) leave room for it within body_budget. A stream without
// content-length gets more while the bodies held are below body_budget. If nothing is being
// received by an admitted stream or handled, the oldest waiting stream goes on anyway, so
// that a body larger than the budget, or many half-sent streams, cannot deadlock the session.
// So request bodies take at most about body_budget + max_concurrent_streams * stream_window +
// max_body_size.
// Answers are bounded per session too: a complete request waits before going to the service
// while the answers held (not sent yet, and those being made, each counted as the session's
// typical answer but at least a sixteenth of the budget) come to answer_budget. So at most 16
// requests of a session are handled at once, a reader session holds about answer_budget of
// chunks plus what the ones being read exceed the typical size by, however many it is asked
// for, and a client that does not open its flow-control windows gets no more answers made.
// A request reset while it waits is dropped. When more than
// max_pending_output bytes of answers wait to be sent while the client does not take what is
// written, the server stops reading until it does (answers waiting for the client's
// flow-control windows do not stop it: the client's window updates must get in). A connection
// without any input for idle_timeout ends.
//
// Thread-safety: Handle is called from the server's handler threads, concurrently for the
// requests of one connection; an H2Responder may be used from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "http/headers.h"

namespace cairn::http {

struct ServerRequest;
struct ServerResponse;

struct H2Settings {
  uint32_t stream_window = 256u << 10;  // PBS grants 32 MiB per stream: unbounded per session
  size_t body_budget = 16u << 20;       // also the connection window
  uint32_t max_frame = 4u << 20;        // largest frame we accept (PBS: 4 MiB)
  uint32_t max_concurrent_streams = 128;
  size_t max_body_size = (16u << 20) + 4096;  // PBS's largest chunk (16 MiB + 44) and some
  size_t max_header_bytes = 16 * 1024;        // per request, names and values
  size_t max_pending_output = 64u << 20;
  size_t answer_budget = 32u << 20;  // 8 of the client's 4 MiB chunks in flight
  std::chrono::seconds idle_timeout{3600};
};

class H2ServerConnection;

// Answers one request. Move-only; Send at most once. Dropping it unsent answers 500, so a
// handler that fails to answer does not leave the stream (and the connection's window) hanging.
class H2Responder {
 public:
  H2Responder(std::shared_ptr<H2ServerConnection> connection, int32_t stream_id, size_t body_size);
  H2Responder(H2Responder&&) noexcept = default;
  H2Responder& operator=(H2Responder&&) noexcept = default;
  H2Responder(const H2Responder&) = delete;
  H2Responder& operator=(const H2Responder&) = delete;
  ~H2Responder();

  // Queues `response` (status, headers, body; `delay` and `h2` are ignored) for sending.
  void Send(ServerResponse response);

 private:
  std::shared_ptr<H2ServerConnection> connection_;
  int32_t stream_id_ = 0;
  size_t body_size_ = 0;
};

class H2Service {
 public:
  virtual ~H2Service() = default;
  // HTTP/2 has started. `close` ends the connection from any thread (e.g. when the session's
  // task is aborted); calling it after the end does nothing.
  virtual void Opened(std::function<void()> close) = 0;
  // One complete request: `method` and `target` from :method and :path, the regular headers
  // (names lower-case), the body; `received` is when it was complete.
  virtual void Handle(ServerRequest request, H2Responder responder) = 0;
  // The connection has ended (the peer closed it, an I/O or protocol error, a timeout, or
  // `close`; `why` says which) and every Handle has answered. Called once for every service
  // of a 101 answer, also when the connection broke before the 101 was out (without Opened).
  virtual void Closed(const Status& why) = 0;
};

}  // namespace cairn::http

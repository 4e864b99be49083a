// H2Connection runs one HTTP/2 connection with libnghttp2 over a transport (h2_transport.h:
// the TLS stream of an upgraded connection): it feeds what it reads to the nghttp2 session and
// writes what the session has to send, asynchronously on the transport's executor (a strand;
// Boost.Asio). It is the part the server side (H2ServerConnection) and the client side
// (H2Client) share; they supply the session's callbacks through the virtual hooks. Internal to
// the http layer.
//
// Outgoing bodies (requests of a client, answers of a server) are kept by the connection until
// nghttp2 has framed them. While more than `max_pending_output` bytes of them wait and a write
// is under way, it stops reading, so that a peer that sends requests but does not take answers
// off the socket cannot grow its memory. Bodies held back by the peer's flow-control windows
// do not stop reading: the WINDOW_UPDATE frames that let them go are input.
//
// Ownership: shared (std::enable_shared_from_this); pending asynchronous operations keep it
// alive. Thread-safety: every method runs on the strand; other threads use Post.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/post.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "http/h2_transport.h"
#include "http/headers.h"
#include "http/outgoing_bytes.h"

namespace cairn::http {

struct H2ConnectionOptions {
  bool server = false;
  uint32_t stream_window = 32u << 20;      // initial stream window we grant
  uint32_t connection_window = 32u << 20;  // connection window we grant
  uint32_t max_frame = 4u << 20;
  uint32_t max_concurrent_streams = 256;  // what we allow the peer to open (server)
  bool manual_window_updates = false;     // the subclass returns received DATA (Release*Window)
  size_t max_pending_output = 64u << 20;
  std::chrono::seconds idle_timeout{3600};
};

class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(std::unique_ptr<H2Transport> transport, std::string already_read,
               H2ConnectionOptions options);
  virtual ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  // Sends the connection preface (client) or our SETTINGS (server), processes the bytes read
  // before the hand-over and starts reading. Call once, on the strand (or before any other
  // thread can see the connection).
  void Start();
  // Runs `fn` (which may be move-only) on the connection's strand.
  template <typename Fn>
  void Post(Fn&& fn) {
    boost::asio::post(executor_, std::forward<Fn>(fn));
  }
  // Ends the connection with `why`: a GOAWAY is sent if possible, then the transport is closed.
  void Terminate(Status why);
  bool ended() const { return ended_; }

 protected:
  nghttp2_session* session() { return session_; }
  // Submits HEADERS (and DATA with `body`, if not empty) on a new stream (client, returns its
  // id or an nghttp2 error) or as the answer on `stream_id` (server, returns 0 or an error).
  // A borrowed body is read until the stream closes or the connection ends.
  int32_t SubmitRequest(const HeaderList& pseudo_and_regular, OutgoingBytes body);
  int SubmitResponse(int32_t stream_id, const HeaderList& pseudo_and_regular, OutgoingBytes body);
  // With manual_window_updates: returns `bytes` of received DATA to the peer's connection
  // window, or to the window of stream `stream_id` (nothing if it is closed). nghttp2 sends a
  // WINDOW_UPDATE once half of a window is returned.
  void ReleaseConnectionWindow(size_t bytes);
  void ReleaseStreamWindow(int32_t stream_id, size_t bytes);
  // Raises the window of stream `stream_id` to `bytes`: the peer may then send `bytes` less
  // what it sent that was not yet returned (nothing if the stream is closed or its window is
  // that large already).
  void GrowStreamWindow(int32_t stream_id, size_t bytes);
  // Writes what nghttp2 has queued; ends the connection when neither side wants more.
  void Flush();
  // Bytes of outgoing bodies not yet taken for sending.
  size_t pending_output() const { return pending_output_; }

  // nghttp2's callbacks (see nghttp2.h); return 0 or an nghttp2 error code.
  virtual int OnBeginHeaders(const nghttp2_frame* frame) = 0;
  virtual int OnHeader(const nghttp2_frame* frame, std::string_view name,
                       std::string_view value) = 0;
  virtual int OnData(int32_t stream_id, const uint8_t* data, size_t len) = 0;
  virtual int OnFrame(const nghttp2_frame* frame) = 0;
  virtual int OnStreamClose(int32_t stream_id, uint32_t error_code) = 0;
  // The connection has ended, once; `why` is OK for an orderly close by either side.
  virtual void OnEnded(const Status& why) = 0;
  // pending_output() went down: outgoing bodies were taken for sending or dropped with their
  // stream. Called on the strand, outside nghttp2's callbacks.
  virtual void OnOutputTaken() {}

 private:
  struct OutgoingBody {
    OutgoingBytes bytes;
    size_t framed = 0;  // put into DATA frames by nghttp2
    size_t sent = 0;    // staged on the transport
  };
  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void* user_data);
  // Submits through `submit` with a data provider over `body` (none if it is empty); keeps the
  // body for the stream `submit` returns or names.
  int32_t SubmitWithBody(OutgoingBytes body,
                         const std::function<int32_t(const nghttp2_data_provider*)>& submit,
                         int32_t known_stream_id);
  void Read();
  void End(Status why);

  const std::unique_ptr<H2Transport> transport_;
  const boost::asio::any_io_executor executor_;  // the transport's
  std::string already_read_;
  const H2ConnectionOptions options_;
  nghttp2_session* session_ = nullptr;
  std::array<uint8_t, 64 * 1024> read_buffer_;
  std::map<int32_t, std::unique_ptr<OutgoingBody>> outgoing_;  // by stream id
  size_t pending_output_ = 0;
  bool output_taken_ = false;          // pending_output_ went down since the last OnOutputTaken
  std::optional<Status> terminating_;  // why Terminate was called
  bool reading_ = false;
  bool writing_ = false;
  bool ended_ = false;

  friend class H2Callbacks;
};

}  // namespace cairn::http

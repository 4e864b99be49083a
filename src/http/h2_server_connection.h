// H2ServerConnection is the server side of an upgraded HTTP/2 connection (h2_service.h): it
// collects each request, hands it to the H2Service on the handler threads and sends the
// answers. Request bodies stay charged to the connection window until their answer is sent.
// Internal to the http layer; HttpServer creates one per upgrade over the TLS stream, the
// fuzz target fuzz/h2_session_fuzzer.cc one per input over bytes in memory.
//
// Thread-safety: every method runs on the connection's strand; other threads reach Answer and
// Close through Post (an H2Responder and the session closer do).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <map>
#include <memory>

#include "http/h2_connection.h"
#include "http/h2_service.h"
#include "http/server.h"

namespace cairn::http {

class H2ServerConnection : public H2Connection {
 public:
  // Serves `service` over `transport`, whose first input is `already_read`. The service's
  // Handle and Closed run on `handlers` (the server's handler pool); `on_closed` runs after
  // Closed (the server counts live sessions with it).
  H2ServerConnection(std::unique_ptr<H2Transport> transport, std::string already_read,
                     std::string peer_address, const H2Settings& settings,
                     std::shared_ptr<H2Service> service, boost::asio::any_io_executor handlers,
                     std::function<void()> on_closed);

  // Tells the service it is open and starts the connection. On the strand, once.
  void Begin();
  // Sends the answer to `stream_id`, whose request body held `body_size` bytes of memory.
  void Answer(int32_t stream_id, size_t body_size, ServerResponse response);
  // Ends the connection (see H2Connection::Terminate).
  void Close(Status why);

 private:
  struct Incoming {
    ServerRequest request;
    size_t header_bytes = 0;
    size_t announced_size = 0;  // its content-length, if it gave one within max_body_size
    bool admitted = false;      // announced, and its whole body's memory reserved
    bool refused = false;       // body too large: reset, the rest is dropped
  };
  int OnBeginHeaders(const nghttp2_frame* frame) override;
  int OnHeader(const nghttp2_frame* frame, std::string_view name, std::string_view value) override;
  int OnData(int32_t stream_id, const uint8_t* data, size_t len) override;
  int OnFrame(const nghttp2_frame* frame) override;
  int OnStreamClose(int32_t stream_id, uint32_t error_code) override;
  void OnEnded(const Status& why) override;
  void OnOutputTaken() override;
  // `stream_id`'s request is complete: it joins the requests ready for the service.
  void Dispatch(int32_t stream_id);
  // Hands ready requests to the service, oldest first, while the answers held leave room
  // (see h2_service.h).
  void HandReady();
  bool AnswersLeaveRoom() const;
  // Grants the window owed to streams that may go on (see h2_service.h).
  void GrantOwed();
  // Whether `incoming` may receive more now; admits a stream of announced size if the budget
  // has room for its whole body, or if it is the `oldest` waiting and nothing else could free
  // memory.
  bool MayGoOn(int32_t stream_id, Incoming& incoming, bool oldest);
  // Forgets what `stream_id` had buffered and owed (reset, refused, closed early).
  void Drop(int32_t stream_id, Incoming& incoming);
  void Refuse(int32_t stream_id, Incoming& incoming, const std::string& why);
  void MaybeReportClosed();
  std::shared_ptr<H2ServerConnection> self();

  const std::string peer_address_;
  const H2Settings settings_;
  const std::shared_ptr<H2Service> service_;
  const boost::asio::any_io_executor handlers_;
  const std::function<void()> on_closed_;
  std::map<int32_t, Incoming> incoming_;
  // Memory held by request bodies received or reserved, and not answered yet (their capacity).
  size_t buffered_ = 0;
  std::map<int32_t, size_t> owed_;  // window not granted yet, by stream (oldest first)
  int admitted_ = 0;                // admitted streams still receiving
  int outstanding_ = 0;             // requests handed to the service and not answered yet
  // Complete requests not handed to the service yet, oldest first, by stream.
  std::deque<std::pair<int32_t, ServerRequest>> ready_;
  // The size an answer being made is counted as (see h2_service.h), unless smaller than a
  // sixteenth of the budget: a moving average of the answers' body sizes, from an eighth of the
  // budget.
  size_t typical_answer_;
  std::optional<Status> end_;
  bool closed_reported_ = false;
};

}  // namespace cairn::http

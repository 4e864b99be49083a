#include "http/h2_server_connection.h"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cassert>

namespace cairn::http {
namespace {

// The heap memory a body holds (none while it fits in the string itself).
size_t HeldBytes(const std::string& body) {
  static const size_t kInline = std::string().capacity();
  return body.capacity() > kInline ? body.capacity() : 0;
}

}  // namespace

H2Responder::H2Responder(std::shared_ptr<H2ServerConnection> connection, int32_t stream_id,
                         size_t body_size)
    : connection_(std::move(connection)), stream_id_(stream_id), body_size_(body_size) {}

H2Responder::~H2Responder() {
  if (!connection_) return;
  ServerResponse response;
  response.status = 500;
  response.body = "internal error: the request was not answered\n";
  Send(std::move(response));
}

void H2Responder::Send(ServerResponse response) {
  if (!connection_) return;
  std::shared_ptr<H2ServerConnection> connection = std::move(connection_);
  connection_.reset();
  connection->Post(
      [connection, id = stream_id_, size = body_size_, response = std::move(response)]() mutable {
        connection->Answer(id, size, std::move(response));
      });
}

H2ServerConnection::H2ServerConnection(std::unique_ptr<H2Transport> transport,
                                       std::string already_read, std::string peer_address,
                                       const H2Settings& settings,
                                       std::shared_ptr<H2Service> service,
                                       boost::asio::any_io_executor handlers,
                                       std::function<void()> on_closed)
    : H2Connection(std::move(transport), std::move(already_read),
                   {.server = true,
                    .stream_window = settings.stream_window,
                    .connection_window = static_cast<uint32_t>(settings.body_budget),
                    .max_frame = settings.max_frame,
                    .max_concurrent_streams = settings.max_concurrent_streams,
                    .manual_window_updates = true,
                    .max_pending_output = settings.max_pending_output,
                    .idle_timeout = settings.idle_timeout}),
      peer_address_(std::move(peer_address)),
      settings_(settings),
      service_(std::move(service)),
      handlers_(std::move(handlers)),
      on_closed_(std::move(on_closed)),
      typical_answer_(settings.answer_budget / 8) {}

std::shared_ptr<H2ServerConnection> H2ServerConnection::self() {
  return std::static_pointer_cast<H2ServerConnection>(shared_from_this());
}

void H2ServerConnection::Begin() {
  std::weak_ptr<H2ServerConnection> weak = self();
  service_->Opened([weak] {
    if (auto connection = weak.lock()) {
      connection->Post([connection] { connection->Close(Status::Aborted("session closed")); });
    }
  });
  Start();
}

void H2ServerConnection::Close(Status why) {
  Terminate(std::move(why));
}

int H2ServerConnection::OnBeginHeaders(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    incoming_[frame->hd.stream_id];
  }
  return 0;
}

int H2ServerConnection::OnHeader(const nghttp2_frame* frame, std::string_view name,
                                 std::string_view value) {
  auto it = incoming_.find(frame->hd.stream_id);
  if (it == incoming_.end()) return 0;  // trailers or a stream we dropped
  Incoming& incoming = it->second;
  incoming.header_bytes += name.size() + value.size();
  if (incoming.header_bytes > settings_.max_header_bytes) {
    spdlog::warn("http/2: stream {}: headers larger than {} bytes, reset", frame->hd.stream_id,
                 settings_.max_header_bytes);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  }
  ServerRequest& request = incoming.request;
  if (name == ":method") {
    request.method = value;
  } else if (name == ":path") {
    request.target = value;
    size_t q = value.find('?');
    request.path = value.substr(0, q);
    request.query = q == std::string_view::npos ? std::string() : std::string(value.substr(q + 1));
  } else if (!name.empty() && name.front() != ':') {
    if (name == "content-length") {
      size_t size = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
      if (ec == std::errc() && end == value.data() + value.size() &&
          size <= settings_.max_body_size) {
        incoming.announced_size = size;
      }
    }
    request.headers.emplace_back(name, value);
  }
  return 0;
}

int H2ServerConnection::OnData(int32_t stream_id, const uint8_t* data, size_t len) {
  // The connection window is returned at once: memory is bounded per stream (see GrantOwed),
  // and a connection window held back could block the one stream that must go on.
  ReleaseConnectionWindow(len);
  auto it = incoming_.find(stream_id);
  if (it == incoming_.end() || it->second.refused) return 0;
  std::string& body = it->second.request.body;
  if (body.size() + len > settings_.max_body_size) {
    Refuse(stream_id, it->second,
           "request body larger than " + std::to_string(settings_.max_body_size) + " bytes");
    return 0;
  }
  size_t before = HeldBytes(body);
  body.append(reinterpret_cast<const char*>(data), len);
  buffered_ += HeldBytes(body) - before;
  owed_[stream_id] += len;
  GrantOwed();
  return 0;
}

bool H2ServerConnection::MayGoOn(int32_t stream_id, Incoming& incoming, bool oldest) {
  if (incoming.admitted) return true;
  // Nothing being received, handled or waiting to be handled means nothing will free memory:
  // the oldest goes on. (Requests waiting for the answer budget free theirs once the client
  // takes its answers.)
  bool stuck = oldest && admitted_ == 0 && outstanding_ == 0 && ready_.empty();
  std::string& body = incoming.request.body;
  size_t announced = incoming.announced_size;
  if (announced == 0) return buffered_ <= settings_.body_budget || stuck;
  // A body of announced size is received into one allocation of that size: no copies as it
  // grows, no capacity up to twice its size, and what the stream may still send is paid for.
  size_t held = HeldBytes(body);
  size_t more = announced > held ? announced - held : 0;
  if (buffered_ + more > settings_.body_budget && !stuck) return false;
  if (announced > body.capacity()) body.reserve(announced);
  buffered_ += HeldBytes(body) - held;
  incoming.admitted = true;
  ++admitted_;
  // Its memory is reserved: the window grows to the whole body, so the rest of it comes without
  // waiting for window updates (the window counts what was received but not yet returned, so
  // no more than the body fits; nghttp2 resets a stream that sends more than its
  // content-length).
  if (announced > settings_.stream_window) GrowStreamWindow(stream_id, announced);
  return true;
}

void H2ServerConnection::GrantOwed() {
  // Oldest first; a stream that may not go on yet does not hold back younger ones that may
  // (an admitted stream must always be able to complete).
  for (auto it = owed_.begin(); it != owed_.end();) {
    auto incoming = incoming_.find(it->first);
    if (incoming == incoming_.end()) {
      it = owed_.erase(it);
      continue;
    }
    if (!MayGoOn(it->first, incoming->second, it == owed_.begin())) {
      ++it;
      continue;
    }
    ReleaseStreamWindow(it->first, it->second);
    it = owed_.erase(it);
  }
}

void H2ServerConnection::Drop(int32_t stream_id, Incoming& incoming) {
  std::string& body = incoming.request.body;
  assert(buffered_ >= HeldBytes(body));
  buffered_ -= HeldBytes(body);
  // (Assigning an empty string would keep the allocation: libstdc++ copies a short string into
  // the buffer it has.)
  std::string().swap(body);
  if (incoming.admitted) {
    incoming.admitted = false;
    --admitted_;
  }
  owed_.erase(stream_id);
  GrantOwed();
}

void H2ServerConnection::Refuse(int32_t stream_id, Incoming& incoming, const std::string& why) {
  spdlog::warn("http/2: stream {} ({} {}): {}; stream reset", stream_id, incoming.request.method,
               incoming.request.path, why);
  Drop(stream_id, incoming);
  incoming.refused = true;
  nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
}

int H2ServerConnection::OnFrame(const nghttp2_frame* frame) {
  bool request_complete = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                          (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
  if (request_complete) Dispatch(frame->hd.stream_id);
  return 0;
}

void H2ServerConnection::Dispatch(int32_t stream_id) {
  auto it = incoming_.find(stream_id);
  if (it == incoming_.end() || it->second.refused) return;
  if (it->second.admitted) --admitted_;
  ServerRequest request = std::move(it->second.request);
  incoming_.erase(it);
  // Complete: its stream window no longer matters, and GrantOwed must find a stream that
  // still sends at the head of the queue.
  owed_.erase(stream_id);
  request.received = std::chrono::steady_clock::now();
  request.peer_address = peer_address_;
  ready_.emplace_back(stream_id, std::move(request));
  HandReady();
}

bool H2ServerConnection::AnswersLeaveRoom() const {
  // At least a sixteenth of the budget each: however small the answers so far, at most 16
  // requests are being handled for one session.
  const size_t each = std::max(typical_answer_, settings_.answer_budget / 16);
  return pending_output() + outstanding_ * each < settings_.answer_budget;
}

void H2ServerConnection::HandReady() {
  while (!ready_.empty() && !ended() && AnswersLeaveRoom()) {
    auto [stream_id, request] = std::move(ready_.front());
    ready_.pop_front();
    size_t body_size = HeldBytes(request.body);
    ++outstanding_;
    H2Responder responder(self(), stream_id, body_size);
    if (request.method.empty() || request.path.empty()) {
      ServerResponse response;
      response.status = 400;
      response.body = "request without :method or :path\n";
      responder.Send(std::move(response));
      continue;
    }
    boost::asio::post(handlers_, [service = service_, request = std::move(request),
                                  responder = std::move(responder)]() mutable {
      service->Handle(std::move(request), std::move(responder));
    });
  }
}

void H2ServerConnection::OnOutputTaken() {
  HandReady();
}

void H2ServerConnection::Answer(int32_t stream_id, size_t body_size, ServerResponse response) {
  assert(outstanding_ > 0 && buffered_ >= body_size);
  --outstanding_;
  buffered_ -= body_size;
  GrantOwed();
  if (!ended()) {
    assert(response.body.empty() || response.octets.empty());
    OutgoingBytes body = response.octets.empty() ? OutgoingBytes(std::move(response.body))
                                                 : OutgoingBytes(std::move(response.octets));
    const size_t size = body.view().size();
    HeaderList headers;
    headers.emplace_back(":status", std::to_string(response.status));
    for (auto& header : response.headers) headers.push_back(std::move(header));
    headers.emplace_back("content-length", std::to_string(size));
    // Fails only if the client has reset the stream meanwhile: nothing to answer then.
    if (SubmitResponse(stream_id, headers, std::move(body)) == 0) {
      // A moving average: a reader's chunks after its small downloads, a backup's short
      // answers.
      typical_answer_ = size >= typical_answer_ ? typical_answer_ + (size - typical_answer_) / 4
                                                : typical_answer_ - (typical_answer_ - size) / 4;
    }
    Flush();
    HandReady();
  }
  MaybeReportClosed();
}

int H2ServerConnection::OnStreamClose(int32_t stream_id, uint32_t) {
  auto it = incoming_.find(stream_id);
  if (it != incoming_.end()) {  // reset or closed before the request was complete
    Drop(stream_id, it->second);
    incoming_.erase(it);
  }
  // Reset while waiting for the answer budget: nobody wants the answer, and a closed stream no
  // longer counts against max_concurrent_streams, so its request must not stay.
  auto ready = std::find_if(ready_.begin(), ready_.end(),
                            [stream_id](const auto& entry) { return entry.first == stream_id; });
  if (ready != ready_.end()) {
    assert(buffered_ >= HeldBytes(ready->second.body));
    buffered_ -= HeldBytes(ready->second.body);
    ready_.erase(ready);
    GrantOwed();
  }
  return 0;
}

void H2ServerConnection::OnEnded(const Status& why) {
  incoming_.clear();
  ready_.clear();
  owed_.clear();
  admitted_ = 0;
  end_ = why;
  MaybeReportClosed();
}

void H2ServerConnection::MaybeReportClosed() {
  if (!end_ || outstanding_ > 0 || closed_reported_) return;
  closed_reported_ = true;
  // The service's cleanup may block (removing an unfinished snapshot from S3): not on the
  // I/O threads.
  boost::asio::post(handlers_, [service = service_, why = *end_, on_closed = on_closed_] {
    service->Closed(why);
    if (on_closed) on_closed();
  });
}

}  // namespace cairn::http

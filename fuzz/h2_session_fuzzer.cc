// Fuzzes the server side of an upgraded HTTP/2 session (http/h2_server_connection.h): what a
// client sends after the 101 goes through nghttp2 and Cairn's bookkeeping of streams, request
// bodies, window grants and answers, and complete requests reach an H2Service. The connection
// runs over bytes in memory (http/h2_transport.h) on two I/O contexts that this thread runs,
// one for the connection, one standing in for the handler pool: no TLS, socket or thread, and
// the same input always takes the same course.
//
// Input layout: a flags byte, then the client's bytes after its connection preface (which the
// target sends first, so every input gets past it). Flags:
//   bits 0-2  how the bytes arrive: in reads of 64 KiB (all at once), 1, 2, 3, 7, 16, 100 or
//             1000 bytes
//   bit 3     handlers run only when the connection waits for input (requests pile up);
//             otherwise before each read
//   bit 4     the first read's bytes came with the upgrade request (`already_read`)
//   bits 5-6  how the input ends: EOF, TLS truncation, idle timeout, connection reset
//   bit 7     small limits (windows, body budget and size, header bytes, pending output) so
//             that small inputs reach them; otherwise the server's defaults
//
// The service answers by path: /hold... keeps the request unanswered until the connection
// waits with nothing else to do (answers come late, bodies stay charged), /drop... drops its
// responder (500), /close... ends the session from the service, /echo... sends the body back,
// /big... answers as many bytes as the query's digits say (at most 128 KiB), anything else a
// short answer.
//
// Checked beyond "no crash": the transport never has two reads or two writes at once, and
// nothing after Close; the server writes its SETTINGS first; the service is opened before any
// request, every request has a method and a path and a body within max_body_size, its target
// is path?query; Closed comes exactly once, after every request was answered, and no request
// after it; the connection always either reads or ends (it never just stops, to be dropped
// or to wait for good); once the session is over nothing holds the connection.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "fuzz_check.h"
#include "http/h2_server_connection.h"
#include "http/h2_service.h"
#include "http/h2_transport.h"
#include "http/server.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Bytes in memory: reads wait until the driver delivers, writes complete at once. The state
// lives in a Pipe the driver shares, as the connection (and the transport with it) may go
// first.
struct Pipe {
  explicit Pipe(asio::io_context& io) : io(io) {}
  // Posts `done` with the outcome.
  void Complete(H2Transport::Handler done, boost::system::error_code ec, size_t n) {
    asio::post(io, [done = std::move(done), ec, n] { done(ec, n); });
  }
  // For the driver: whether a read waits for input.
  bool reading() const { return static_cast<bool>(read); }
  // Completes the pending read with up to `max` bytes of `input`; returns how many it took.
  size_t Deliver(std::string_view input, size_t max) {
    size_t n = std::min({input.size(), max, read_buffer.size()});
    std::memcpy(read_buffer.data(), input.data(), n);
    Complete(std::exchange(read, nullptr), {}, n);
    return n;
  }
  void Fail(boost::system::error_code ec) { Complete(std::exchange(read, nullptr), ec, 0); }

  asio::io_context& io;
  H2Transport::Handler read;
  asio::mutable_buffer read_buffer;
  bool writing = false;
  bool closed = false;
  size_t written = 0;
};

class MemoryTransport : public H2Transport {
 public:
  explicit MemoryTransport(std::shared_ptr<Pipe> pipe) : pipe_(std::move(pipe)) {}

  asio::any_io_executor executor() override { return pipe_->io.get_executor(); }

  void ReadSome(asio::mutable_buffer buffer, std::chrono::seconds, Handler done) override {
    FUZZ_CHECK(!pipe_->read, "a second read while one is pending");
    FUZZ_CHECK(!pipe_->closed, "a read after Close");
    pipe_->read_buffer = buffer;
    pipe_->read = std::move(done);
  }

  void Stage(asio::const_buffer bytes) override {
    FUZZ_CHECK(!pipe_->writing, "bytes staged while a send is under way");
    FUZZ_CHECK(!pipe_->closed, "bytes staged after Close");
    if (pipe_->written == 0 && staged_ == 0) {
      // The server's preface: a SETTINGS frame (type 4) on stream 0.
      const auto* p = static_cast<const uint8_t*>(bytes.data());
      FUZZ_CHECK(bytes.size() >= 9 && p[3] == 4 && (p[5] | p[6] | p[7] | p[8]) == 0,
                 "the server did not start with SETTINGS");
    }
    staged_ += bytes.size();
  }

  size_t staged() const override { return staged_; }

  void Send(Handler done) override {
    FUZZ_CHECK(!pipe_->writing, "a second send while one is pending");
    FUZZ_CHECK(!pipe_->closed, "a send after Close");
    FUZZ_CHECK(staged_ > 0, "an empty send");
    pipe_->written += staged_;
    pipe_->writing = true;
    pipe_->Complete(
        [pipe = pipe_, done = std::move(done)](boost::system::error_code ec, size_t n) {
          pipe->writing = false;
          done(ec, n);
        },
        {}, std::exchange(staged_, 0));
  }

  void Close() override {
    FUZZ_CHECK(!pipe_->closed, "closed twice");
    pipe_->closed = true;
    if (pipe_->read) pipe_->Fail(asio::error::operation_aborted);
  }

 private:
  const std::shared_ptr<Pipe> pipe_;
  size_t staged_ = 0;
};

class FuzzService : public H2Service {
 public:
  explicit FuzzService(const H2Settings& settings) : settings_(settings) {}

  void Opened(std::function<void()> close) override {
    FUZZ_CHECK(!opened_ && !closed_, "Opened twice or after Closed");
    opened_ = true;
    close_ = std::move(close);
  }

  void Handle(ServerRequest request, H2Responder responder) override {
    FUZZ_CHECK(opened_, "a request before Opened");
    FUZZ_CHECK(!closed_, "a request after Closed");
    FUZZ_CHECK(!request.method.empty() && !request.path.empty(), "no :method or :path");
    FUZZ_CHECK(request.body.size() <= settings_.max_body_size, "a body over max_body_size");
    FUZZ_CHECK(
        request.target == request.path || request.target == request.path + "?" + request.query,
        "target is not path?query");
    const std::string_view path = request.path;
    if (path.starts_with("/hold")) {
      held_.push_back(std::move(responder));
      return;
    }
    if (path.starts_with("/drop")) return;  // the responder's destructor answers 500
    if (path.starts_with("/close")) close_();
    ServerResponse response;
    if (path.starts_with("/echo")) {
      response.body = std::move(request.body);
    } else if (path.starts_with("/big")) {
      size_t n = 0;
      for (char c : request.query) {
        if (c >= '0' && c <= '9') n = std::min<size_t>(n * 10 + size_t(c - '0'), 128u << 10);
      }
      response.body.assign(n, 'b');
    } else {
      response.headers.emplace_back("x-method", request.method);
      response.body = "ok " + std::to_string(request.body.size()) + "\n";
    }
    responder.Send(std::move(response));
  }

  void Closed(const Status&) override {
    FUZZ_CHECK(!closed_, "Closed twice");
    FUZZ_CHECK(held_.empty(), "Closed while a request is unanswered");
    closed_ = true;
  }

  // Answers the oldest held request; false if there is none.
  bool AnswerOneHeld() {
    if (held_.empty()) return false;
    H2Responder responder = std::move(held_.front());
    held_.pop_front();
    ServerResponse response;
    response.status = 202;
    response.body = "held\n";
    responder.Send(std::move(response));
    return true;
  }
  bool closed() const { return closed_; }

 private:
  const H2Settings settings_;
  bool opened_ = false;
  bool closed_ = false;
  std::function<void()> close_;
  std::deque<H2Responder> held_;
};

H2Settings SettingsFor(uint8_t flags) {
  H2Settings settings;
  if (flags & 0x80) {
    settings.stream_window = 100;
    settings.body_budget = 300;
    settings.max_frame = 16384;  // the smallest HTTP/2 allows
    settings.max_concurrent_streams = 4;
    settings.max_body_size = 400;
    settings.max_header_bytes = 200;
    settings.max_pending_output = 1000;
  }
  return settings;
}

// Runs what is ready on `io`; true if anything ran.
bool RunReady(asio::io_context& io) {
  io.restart();
  return io.poll() > 0;
}

void FuzzSession(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t flags = data[0];
  static constexpr size_t kReadSizes[] = {64 << 10, 1, 2, 3, 7, 16, 100, 1000};
  const size_t read_size = kReadSizes[flags & 7];
  const bool lazy_handlers = (flags & 0x08) != 0;
  const bool with_upgrade = (flags & 0x10) != 0;
  static const boost::system::error_code kEnds[] = {
      asio::error::eof, asio::ssl::error::stream_truncated, boost::beast::error::timeout,
      asio::error::connection_reset};
  const boost::system::error_code end = kEnds[(flags >> 5) & 3];
  std::string input(kPreface);
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view rest = input;
  std::string already_read;
  if (with_upgrade) {
    already_read = std::string(rest.substr(0, read_size));
    rest.remove_prefix(already_read.size());
  }

  const H2Settings settings = SettingsFor(flags);
  asio::io_context io;        // the connection's strand
  asio::io_context handlers;  // the handler pool
  auto service = std::make_shared<FuzzService>(settings);
  auto pipe = std::make_shared<Pipe>(io);
  bool on_closed_ran = false;
  auto connection = std::make_shared<H2ServerConnection>(
      std::make_unique<MemoryTransport>(pipe), std::move(already_read), "192.0.2.1", settings,
      service, handlers.get_executor(), [&] { on_closed_ran = true; });
  std::weak_ptr<H2ServerConnection> weak = connection;
  asio::post(io, [connection] { connection->Begin(); });
  connection.reset();

  bool ended_input = false;
  for (;;) {
    if (RunReady(io)) continue;
    if (!lazy_handlers || !pipe->reading() || rest.empty()) {
      if (RunReady(handlers)) continue;
    }
    if (pipe->reading()) {
      if (!rest.empty()) {
        rest.remove_prefix(pipe->Deliver(rest, read_size));
        continue;
      }
      if (service->AnswerOneHeld()) continue;
      FUZZ_CHECK(!ended_input, "the connection reads on after its input ended");
      ended_input = true;
      pipe->Fail(end);
      continue;
    }
    if (service->AnswerOneHeld()) continue;
    // Neither reading nor ended, with nothing left to run: nothing holds the connection but
    // what waits for it (held answers), or nothing at all, and it goes without ending.
    FUZZ_CHECK(pipe->closed, "the connection neither reads nor ends");
    break;
  }

  FUZZ_CHECK(service->closed() && on_closed_ran, "the service was not told that it is closed");
  FUZZ_CHECK(weak.expired(), "something still holds the connection");
}

}  // namespace
}  // namespace cairn::http

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // refused streams and resets are logged as warnings
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::http::FuzzSession(data, size);
  return 0;
}

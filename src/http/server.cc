#include "http/server.h"

#include <malloc.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "http/h2_server_connection.h"
#include "http/handover_sink.h"
#include "http/listen_address.h"
#include "http/tls_stream.h"

namespace cairn::http {

std::string_view ServerRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, boost::beast::string_view(name.data(), name.size()))) {
      return value;
    }
  }
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// Mozilla's "intermediate" TLS 1.2 ciphers (TLS 1.3 keeps OpenSSL's defaults).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

// What every connection uses, owned by the server: options, TLS context, handler pool and the
// I/O context. Upgraded streams share the I/O context, so it outlives the server if they do;
// it is declared last so that, when it goes with the server, the connections still queued in
// it are destroyed while the rest is alive.
struct Shared {
  ServerOptions options;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  asio::thread_pool handlers;
  asio::thread_pool producers;  // ServerResponse::produce
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> responses_written{0};  // or failed to write
  // The HTTP/2 sessions whose service has not been told yet that they are closed.
  Mutex h2_mu;
  CondVar h2_closed{&h2_mu};
  std::map<uint64_t, std::weak_ptr<H2ServerConnection>> h2_live CAIRN_GUARDED_BY(h2_mu);
  uint64_t h2_next_id CAIRN_GUARDED_BY(h2_mu) = 0;
  std::shared_ptr<asio::io_context> io;
  explicit Shared(ServerOptions opts)
      : options(std::move(opts)),
        handlers(static_cast<size_t>(std::max(1, options.handler_threads))),
        producers(static_cast<size_t>(std::max(1, options.producer_threads))),
        io(std::make_shared<asio::io_context>()) {}
};

ServerResponse TextResponse(int status, std::string text) {
  ServerResponse response;
  response.status = status;
  response.body = std::move(text);
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return response;
}

bool SafeHeaderText(std::string_view text) {
  return text.find_first_of("\r\n", 0) == std::string_view::npos &&
         text.find('\0') == std::string_view::npos;
}

// One HTTP/1.1 connection over Stream (TLS, or plain TCP that only gets redirects).
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Shared* shared, Stream stream, beast::flat_buffer buffer, std::string peer,
          bool redirect_only)
      : shared_(shared),
        stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        timer_(stream_.get_executor()),
        peer_(std::move(peer)),
        redirect_only_(redirect_only) {}

  void ReadRequest() {
    const ServerOptions& options = shared_->options;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options.max_header_size));
    parser_->body_limit(options.max_body_size);
    beast::get_lowest_layer(stream_).expires_after(options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

 private:
  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec == bhttp::error::header_limit) return Fail(431, "request header too large");
    // A Content-Length over the limit is refused as soon as the header is read.
    if (ec == bhttp::error::body_limit) return Fail(413, "request body too large");
    if (ec) return Fail(400, "malformed request: " + ec.message());
    received_ = std::chrono::steady_clock::now();
    const auto& header = parser_->get();
    if (header.target().size() > shared_->options.max_target_length) {
      return Fail(414, "URI too long");
    }
    if (redirect_only_) return Redirect();
    if (parser_->is_done()) return Dispatch();
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                          header.version());
      bhttp::async_write(stream_, *interim,
                         [self = this->shared_from_this(), interim](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec == bhttp::error::body_limit) {
                          return self->Fail(413, "request body too large");
                        }
                        if (ec) return self->Close();
                        self->Dispatch();
                      });
  }

  void Dispatch() {
    auto& req = parser_->get();
    auto request = std::make_shared<ServerRequest>();
    request->method = std::string(req.method_string());
    request->target = std::string(req.target());
    size_t q = request->target.find('?');
    request->path = request->target.substr(0, q);
    if (q != std::string::npos) request->query = request->target.substr(q + 1);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request->headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request->body = std::move(req.body());
    request->peer_address = peer_;
    request->received = received_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    beast::get_lowest_layer(stream_).expires_never();
    asio::post(shared_->handlers, [self = this->shared_from_this(), request]() {
      ServerResponse response;
      try {
        response = self->shared_->options.handler(*request);
      } catch (const std::exception& e) {
        spdlog::error("http: handler for {} {} threw: {}", request->method, request->path,
                      e.what());
        response = TextResponse(500, "internal error\n");
      }
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Respond(std::move(response));
      });
    });
  }

  void Respond(ServerResponse response) {
    auto due = received_ + response.delay;
    if (response.delay.count() > 0 && std::chrono::steady_clock::now() < due) {
      timer_.expires_at(due);
      timer_.async_wait([self = this->shared_from_this(), response = std::move(response)](
                            beast::error_code) mutable { self->Write(std::move(response)); });
      return;
    }
    Write(std::move(response));
  }

  void Write(ServerResponse response) {
    if (response.produce) return WriteProduced(std::move(response));
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(version_);
    out->result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
      if (!SafeHeaderText(name) || !SafeHeaderText(value)) {
        spdlog::error("http: dropped response header {:?} with a line break or NUL", name);
        continue;
      }
      out->insert(name, value);
    }
    bool upgrading = response.status == 101 && response.h2 != nullptr;
    if (!upgrading) {
      if (response.octets.empty()) {
        out->body() = std::move(response.body);
      } else {
        out->body().assign(response.octets.begin(), response.octets.end());
      }
      out->keep_alive(keep_alive_ && response.status != 400);
      out->prepare_payload();
    }
    beast::get_lowest_layer(stream_).expires_after(shared_->options.idle_timeout);
    bhttp::async_write(
        stream_, *out,
        [self = this->shared_from_this(), out, h2 = std::move(response.h2)](beast::error_code ec,
                                                                            size_t) mutable {
          self->shared_->responses_written.fetch_add(1, std::memory_order_relaxed);
          if (ec) {
            // A service whose connection broke before the 101 was out still
            // hears that it is closed.
            if (h2) {
              asio::post(self->shared_->handlers, [h2, message = ec.message()] {
                h2->Closed(Status::IOError("connection lost before the upgrade: " + message));
              });
            }
            return self->Close();
          }
          if (h2) return self->HandOver(std::move(h2));
          if (self->linger_) return self->Linger();
          if (!out->keep_alive()) return self->Shutdown();
          self->ReadRequest();
        });
  }

  // A produced body (ServerResponse::produce), chunked: the header, then each piece the
  // producer hands over (HandoverSink), then the last chunk once it returns OK.
  struct Produced {
    bhttp::response<bhttp::buffer_body> message;
    std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer;
  };

  void WriteProduced(ServerResponse response) {
    // Only chunked framing tells a broken body from a whole one; HTTP/1.0 has none.
    if (version_ < 11) {
      return Write(TextResponse(505, "this download needs HTTP/1.1\n"));
    }
    auto produced = std::make_shared<Produced>();
    produced->message.version(version_);
    produced->message.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
      if (!SafeHeaderText(name) || !SafeHeaderText(value)) {
        spdlog::error("http: dropped response header {:?} with a line break or NUL", name);
        continue;
      }
      produced->message.insert(name, value);
    }
    produced->message.keep_alive(keep_alive_);
    produced->message.chunked(true);
    produced->message.body().data = nullptr;
    produced->message.body().more = true;
    produced->serializer.emplace(produced->message);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.idle_timeout);
    bhttp::async_write_header(
        stream_, *produced->serializer,
        [self = this->shared_from_this(), produced, produce = std::move(response.produce)](
            beast::error_code ec, size_t) mutable {
          if (ec) return self->Close();
          asio::post(self->shared_->producers, [self, produced, produce = std::move(produce)] {
            HandoverSink sink(
                [self, produced](std::shared_ptr<const Bytes> piece,
                                 std::function<void(bool)> done) {
                  asio::post(self->stream_.get_executor(), [self, produced, piece, done] {
                    self->WritePiece(produced, piece, done);
                  });
                },
                self->shared_->stopping);
            Status status;
            try {
              status = produce(sink);
            } catch (const std::exception& e) {
              status = Status::IOError(std::string("the body's producer threw: ") + e.what());
            }
            if (!status.ok()) spdlog::info("http: produced body broken off: {}", status.ToString());
            asio::post(self->stream_.get_executor(),
                       [self, produced, ok = status.ok()] { self->FinishProduced(produced, ok); });
          });
        });
  }

  void WritePiece(std::shared_ptr<Produced> produced, std::shared_ptr<const Bytes> piece,
                  std::function<void(bool)> done) {
    auto& body = produced->message.body();
    body.data = const_cast<uint8_t*>(piece->data());
    body.size = piece->size();
    body.more = true;
    beast::get_lowest_layer(stream_).expires_after(shared_->options.idle_timeout);
    bhttp::async_write(
        stream_, *produced->serializer,
        [self = this->shared_from_this(), produced, piece, done](beast::error_code ec, size_t) {
          // need_buffer: the piece is out and the serializer wants the next.
          bool ok = !ec || ec == bhttp::error::need_buffer;
          done(ok);
          if (!ok) self->Close();
        });
  }

  void FinishProduced(std::shared_ptr<Produced> produced, bool ok) {
    if (!ok) return Close();
    auto& body = produced->message.body();
    body.data = nullptr;
    body.size = 0;
    body.more = false;
    bhttp::async_write(stream_, *produced->serializer,
                       [self = this->shared_from_this(), produced](beast::error_code ec, size_t) {
                         self->shared_->responses_written.fetch_add(1, std::memory_order_relaxed);
                         if (ec) return self->Close();
                         if (!produced->message.keep_alive()) return self->Shutdown();
                         self->ReadRequest();
                       });
  }

  // Turns the connection into an HTTP/2 session serving `service`; bytes read past the
  // upgrade request are its first input. The session is registered for Stop.
  void HandOver(std::shared_ptr<H2Service> service) {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      std::string already_read = beast::buffers_to_string(buffer_.data());
      beast::get_lowest_layer(stream_).expires_never();
      Shared* shared = shared_;
      uint64_t id;
      {
        MutexLock lock(shared->h2_mu);
        id = ++shared->h2_next_id;
      }
      auto connection = std::make_shared<H2ServerConnection>(
          MakeTlsTransport(std::move(stream_)), std::move(already_read), peer_, shared->options.h2,
          std::move(service), shared->handlers.get_executor(), [shared, id] {
            MutexLock lock(shared->h2_mu);
            shared->h2_live.erase(id);
            shared->h2_closed.SignalAll();
          });
      {
        MutexLock lock(shared->h2_mu);
        shared->h2_live.emplace(id, connection);
      }
      connection->Begin();
    } else {
      Close();
    }
  }

  // Answers `status` with `message` as a plain-text body and closes the connection, after
  // reading what the client still sends of the refused request (Linger).
  void Fail(int status, std::string message) {
    version_ = 11;
    keep_alive_ = false;
    linger_ = true;
    if (parser_ && parser_->is_header_done() && parser_->content_length()) {
      uint64_t buffered = buffer_.size();
      uint64_t announced = *parser_->content_length();
      unread_body_ = announced > buffered ? announced - buffered : 0;
    }
    Write(TextResponse(status, std::move(message) + "\n"));
  }

  void Redirect() {
    std::string host(parser_->get()[bhttp::field::host]);
    bool host_ok = !host.empty() && host.find_first_not_of(
                                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789.-:[]") == std::string::npos;
    if (!host_ok) return Fail(400, "plain HTTP is not served here; use https://");
    version_ = parser_->get().version();
    keep_alive_ = false;
    ServerResponse response;
    response.status = 301;
    response.headers.emplace_back("Location",
                                  "https://" + host + std::string(parser_->get().target()));
    Write(std::move(response));
  }

  // A client that is still sending a refused request's body only reads the answer once it has
  // sent it all; closing now would reset the connection under it and it would never see the
  // answer. So the rest of the body is read and dropped (all of an announced Content-Length,
  // else until the client stops), up to kLingerBytes and for at most kLingerTime, then the
  // connection is shut down.
  void Linger() {
    static constexpr uint64_t kLingerBytes = 64ull << 20;
    static constexpr auto kLingerTime = std::chrono::seconds(3);
    linger_ = false;
    if (unread_body_ && *unread_body_ == 0) return Shutdown();
    linger_left_ = std::min(kLingerBytes, unread_body_.value_or(kLingerBytes));
    buffer_.consume(buffer_.size());
    beast::get_lowest_layer(stream_).expires_after(kLingerTime);
    DropSome();
  }

  void DropSome() {
    size_t want = static_cast<size_t>(std::min<uint64_t>(linger_left_, 64 * 1024));
    stream_.async_read_some(buffer_.prepare(want),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->linger_left_ -= std::min<uint64_t>(n, self->linger_left_);
                              if (self->linger_left_ == 0) return self->Shutdown();
                              self->DropSome();
                            });
  }

  void Shutdown() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      Close();
    }
  }

  void Close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  Shared* shared_;
  Stream stream_;
  beast::flat_buffer buffer_;
  asio::steady_timer timer_;
  std::string peer_;
  bool redirect_only_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::chrono::steady_clock::time_point received_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  // Set by Fail: read and drop the rest of the request after the answer (Linger).
  bool linger_ = false;
  std::optional<uint64_t> unread_body_;  // of an announced Content-Length
  uint64_t linger_left_ = 0;
};

// Reads the first bytes of a new connection and starts the TLS or the redirecting session.
class Detector : public std::enable_shared_from_this<Detector> {
 public:
  Detector(Shared* shared, tcp::socket socket) : shared_(shared), stream_(std::move(socket)) {}

  void Run() {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      auto address = endpoint.address();
      if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
      }
      peer_ = address.to_string();
    }
    stream_.expires_after(shared_->options.handshake_timeout);
    stream_.async_read_some(
        buffer_.prepare(16),
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnFirstBytes(ec, n); });
  }

 private:
  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec || n == 0) return;
    buffer_.commit(n);
    auto first = static_cast<const uint8_t*>(buffer_.data().data());
    if (first[0] != 0x16) {
      auto session = std::make_shared<Session<beast::tcp_stream>>(
          shared_, std::move(stream_), std::move(buffer_), peer_, /*redirect_only=*/true);
      session->ReadRequest();
      return;
    }
    auto tls = std::make_shared<TlsStream>(std::move(stream_), shared_->tls);
    tls->async_handshake(
        asio::ssl::stream_base::server, buffer_.data(),
        [self = shared_from_this(), tls](beast::error_code ec, size_t used) {
          if (ec) {
            spdlog::debug("http: TLS handshake with {} failed: {}", self->peer_, ec.message());
            return;
          }
          self->buffer_.consume(used);
          auto session = std::make_shared<Session<TlsStream>>(self->shared_, std::move(*tls),
                                                              std::move(self->buffer_), self->peer_,
                                                              /*redirect_only=*/false);
          session->ReadRequest();
        });
  }

  Shared* shared_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string peer_;
};

class BeastServer : public HttpServer {
 public:
  explicit BeastServer(std::unique_ptr<Shared> shared)
      : shared_(std::move(shared)), acceptor_(*shared_->io) {}
  ~BeastServer() override { Stop(); }

  Status Listen(const ListenAddress& address) {
    beast::error_code ec;
    auto ip = asio::ip::make_address(address.host, ec);
    if (ec) return Status::InvalidArgument("listen address " + address.host + ": " + ec.message());
    tcp::endpoint endpoint(ip, address.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec && ip.is_v6() && ip.to_v6().is_unspecified()) {
      acceptor_.set_option(asio::ip::v6_only(false), ec);
    }
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError(
          fmt::format("listen on {}:{}: {}", address.host, address.port, ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    ScheduleMemoryRelease();
    for (int i = 0; i < std::max(1, shared_->options.io_threads); ++i) {
      threads_.emplace_back([io = shared_->io] { io->run(); });
    }
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    shared_->stopping = true;
    EndH2Sessions();
    // No connection makes progress once the I/O threads are gone; handlers still running finish
    // and their answers are dropped with the connections.
    shared_->io->stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    beast::error_code ec;
    acceptor_.close(ec);
    shared_->handlers.join();
    shared_->producers.join();  // their sinks fail once `stopping` is set
  }

 private:
  // Ends every HTTP/2 session and waits until their services have been told, while the I/O
  // and handler threads still run.
  void EndH2Sessions() {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    MutexLock lock(shared_->h2_mu);
    for (auto& [id, weak] : shared_->h2_live) {
      if (auto connection = weak.lock()) {
        connection->Post(
            [connection] { connection->Close(Status::Aborted("the server is stopping")); });
      }
    }
    auto deadline = std::chrono::steady_clock::now() + shared_->options.h2_stop_wait;
    while (!shared_->h2_live.empty()) {
      if (!shared_->h2_closed.WaitUntil(deadline)) {
        spdlog::warn("http: {} HTTP/2 session(s) still closing after {} s; stopping anyway",
                     shared_->h2_live.size(), shared_->options.h2_stop_wait.count());
        break;
      }
    }
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(*shared_->io),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (ec == asio::error::operation_aborted) return;
                             if (!ec) {
                               std::make_shared<Detector>(shared_.get(), std::move(socket))->Run();
                             } else {
                               spdlog::warn("http: accept failed: {}", ec.message());
                             }
                             if (acceptor_.is_open()) Accept();
                           });
  }

  // Every release_memory_interval during which responses were written, gives the memory the
  // allocator keeps free back to the system (glibc keeps the peak of a burst of large
  // responses otherwise).
  void ScheduleMemoryRelease() {
    if (shared_->options.release_memory_interval.count() <= 0) return;
    release_timer_.expires_after(shared_->options.release_memory_interval);
    release_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      uint64_t written = shared_->responses_written.load(std::memory_order_relaxed);
      if (written != written_at_last_release_) {
        written_at_last_release_ = written;
        ::malloc_trim(0);
      }
      ScheduleMemoryRelease();
    });
  }

  std::unique_ptr<Shared> shared_;
  tcp::acceptor acceptor_;
  asio::steady_timer release_timer_{*shared_->io};
  uint64_t written_at_last_release_ = 0;  // used by the timer's handler only
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

Status ConfigureTls(asio::ssl::context& tls, const CertificateFiles& files) {
  SSL_CTX* ctx = tls.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
  beast::error_code ec;
  tls.use_certificate_chain_file(files.cert_path, ec);
  if (ec) return Status::InvalidArgument(files.cert_path + ": " + ec.message());
  tls.use_private_key_file(files.key_path, asio::ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument(files.key_path + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument(files.key_path + " does not match " + files.cert_path);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ServerOptions options) {
  CAIRN_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(options.listen));
  auto shared = std::make_unique<Shared>(std::move(options));
  CAIRN_RETURN_IF_ERROR(ConfigureTls(shared->tls, shared->options.certificate));
  auto server = std::make_unique<BeastServer>(std::move(shared));
  CAIRN_RETURN_IF_ERROR(server->Listen(address));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cairn::http

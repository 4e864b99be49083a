#include "http/h2_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <thread>

#include "http/answer_status.h"
#include "http/h2_connection.h"
#include "http/tls_certificate.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// The client side of the HTTP/2 connection: one pending answer per stream.
class H2ClientConnection : public H2Connection {
 public:
  H2ClientConnection(TlsStream stream, std::string already_read, const H2ClientOptions& options,
                     std::string authority)
      : H2Connection(MakeTlsTransport(std::move(stream)), std::move(already_read),
                     {.server = false,
                      .stream_window = options.window,
                      .connection_window = options.window,
                      .max_frame = 4u << 20,
                      .idle_timeout = options.idle_timeout}),
        authority_(std::move(authority)),
        max_response_bytes_(options.max_response_bytes) {}

  // On the strand.
  void Submit(std::string method, std::string path, HeaderList headers, OutgoingBytes body,
              std::promise<Result<Response>> promise) {
    if (ended()) return promise.set_value(Status::Unavailable("HTTP/2 connection closed"));
    HeaderList all = {{":method", std::move(method)},
                      {":scheme", "https"},
                      {":authority", authority_},
                      {":path", std::move(path)}};
    for (auto& header : headers) all.push_back(std::move(header));
    if (!body.view().empty()) {
      all.emplace_back("content-length", std::to_string(body.view().size()));
    }
    int32_t id = SubmitRequest(all, std::move(body));
    if (id < 0) {
      return promise.set_value(
          Status::Unavailable(std::string("HTTP/2 request: ") + nghttp2_strerror(id)));
    }
    pending_[id].promise = std::move(promise);
    Flush();
  }

 private:
  struct Pending {
    std::promise<Result<Response>> promise;
    Response response;
    bool too_large = false;
  };
  int OnBeginHeaders(const nghttp2_frame*) override { return 0; }
  int OnHeader(const nghttp2_frame* frame, std::string_view name, std::string_view value) override {
    auto it = pending_.find(frame->hd.stream_id);
    if (it == pending_.end()) return 0;
    if (name == ":status") {
      it->second.response.status = std::atoi(std::string(value).c_str());
    } else if (!name.empty() && name.front() != ':') {
      if (name == "content-length") {
        size_t size = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
        if (ec == std::errc() && end == value.data() + value.size() &&
            size <= max_response_bytes_) {
          it->second.response.body.reserve(size);  // one allocation, no copies as it grows
        }
      }
      it->second.response.headers.emplace_back(name, value);
    }
    return 0;
  }
  int OnData(int32_t stream_id, const uint8_t* data, size_t len) override {
    auto it = pending_.find(stream_id);
    if (it == pending_.end() || it->second.too_large) return 0;
    Bytes& body = it->second.response.body;
    if (body.size() + len > max_response_bytes_) {
      it->second.too_large = true;
      nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      return 0;
    }
    body.insert(body.end(), data, data + len);
    return 0;
  }
  int OnFrame(const nghttp2_frame*) override { return 0; }
  int OnStreamClose(int32_t stream_id, uint32_t error_code) override {
    auto it = pending_.find(stream_id);
    if (it == pending_.end()) return 0;
    Pending pending = std::move(it->second);
    pending_.erase(it);
    if (pending.too_large) {
      pending.promise.set_value(Status::Corruption("HTTP/2 answer larger than " +
                                                   std::to_string(max_response_bytes_) + " bytes"));
    } else if (error_code != NGHTTP2_NO_ERROR || pending.response.status == 0) {
      pending.promise.set_value(Status::Unavailable(
          std::string("HTTP/2 stream reset by the server: ") + nghttp2_http2_strerror(error_code)));
    } else {
      pending.promise.set_value(std::move(pending.response));
    }
    return 0;
  }
  void OnEnded(const Status& why) override {
    std::string reason = why.ok() ? "HTTP/2 connection closed" : why.ToString();
    for (auto& [id, pending] : pending_) pending.promise.set_value(Status::Unavailable(reason));
    pending_.clear();
  }

  const std::string authority_;
  const size_t max_response_bytes_;
  std::map<int32_t, Pending> pending_;
};

class ClientImpl : public H2Client {
 public:
  ~ClientImpl() override { Close(); }

  static Result<std::unique_ptr<H2Client>> Connect(const H2ClientOptions& options) {
    auto client = std::unique_ptr<ClientImpl>(new ClientImpl());
    CAIRN_RETURN_IF_ERROR(client->Open(options));
    return std::unique_ptr<H2Client>(std::move(client));
  }

  std::future<Result<Response>> Send(std::string method, std::string path, HeaderList headers,
                                     OutgoingBytes body) override {
    std::promise<Result<Response>> promise;
    std::future<Result<Response>> future = promise.get_future();
    connection_->Post([connection = connection_, method = std::move(method), path = std::move(path),
                       headers = std::move(headers), body = std::move(body),
                       promise = std::move(promise)]() mutable {
      connection->Submit(std::move(method), std::move(path), std::move(headers), std::move(body),
                         std::move(promise));
    });
    return future;
  }

  void Close() override {
    if (!thread_.joinable()) return;
    connection_->Post([connection = connection_] { connection->Terminate(Status::OK()); });
    work_.reset();  // the I/O context runs out of work once the connection has ended
    thread_.join();
  }

 private:
  ClientImpl() = default;

  Status Open(const H2ClientOptions& options) {
    std::string target = options.host + ":" + std::to_string(options.port);
    tls_.set_verify_mode(asio::ssl::verify_peer);
    if (!options.pinned_fingerprint.empty()) {
      pin_.pinned = options.pinned_fingerprint;
      SSL_CTX_set_cert_verify_callback(tls_.native_handle(), VerifyCertificatePin, &pin_);
    } else {
      tls_.set_default_verify_paths();
      tls_.set_verify_callback(asio::ssl::host_name_verification(options.host));
    }
    auto stream = std::make_unique<TlsStream>(asio::make_strand(io_), tls_);
    if (!SSL_set_tlsext_host_name(stream->native_handle(), options.host.c_str())) {
      return Status::InvalidArgument("bad server name " + options.host);
    }
    beast::error_code ec;
    tcp::resolver resolver(io_);
    std::string host = options.host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto endpoints = resolver.resolve(host, std::to_string(options.port), ec);
    if (ec) return Status::Unavailable("cannot resolve " + options.host + ": " + ec.message());

    // Connect, handshake and upgrade with deadlines: asynchronous operations run here, on
    // the caller's thread, until done; the I/O thread starts with HTTP/2.
    Status status = Status::OK();
    beast::flat_buffer buffer;
    auto answer = std::make_shared<bhttp::response_parser<bhttp::string_body>>();
    answer->body_limit(1 << 20);
    auto request = std::make_shared<bhttp::request<bhttp::empty_body>>(bhttp::verb::get,
                                                                       options.upgrade_target, 11);
    request->set(bhttp::field::host, target);
    request->set(bhttp::field::user_agent, "cairn");
    for (const auto& [name, value] : options.headers) request->set(name, value);
    request->set(bhttp::field::connection, "upgrade");
    request->set(bhttp::field::upgrade, options.protocol);
    auto fail = [&](const std::string& step, beast::error_code error) {
      if (!pin_.seen.empty()) {
        status = Status::PermissionDenied("TLS certificate fingerprint " + pin_.seen + " of " +
                                          target + " does not match the pinned " + pin_.pinned);
      } else {
        status = Status::Unavailable(step + " " + target + ": " + error.message());
      }
    };
    TlsStream& s = *stream;
    beast::get_lowest_layer(s).expires_after(options.connect_timeout);
    beast::get_lowest_layer(s).async_connect(endpoints, [&](beast::error_code e, auto) {
      if (e) return fail("connect to", e);
      beast::get_lowest_layer(s).socket().set_option(tcp::no_delay(true), e);
      s.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) {
        if (e) return fail("TLS handshake with", e);
        bhttp::async_write(s, *request, [&](beast::error_code e, size_t) {
          if (e) return fail("upgrade request to", e);
          bhttp::async_read_header(s, buffer, *answer, [&](beast::error_code e, size_t) {
            if (e) return fail("upgrade answer from", e);
            if (answer->get().result_int() == 101) return;
            bhttp::async_read(s, buffer, *answer, [&](beast::error_code, size_t) {
              status = StatusForAnswer(answer->get().result_int(), answer->get().body());
            });
          });
        });
      });
    });
    io_.run();
    io_.restart();
    if (!status.ok()) return status;
    if (beast::iequals(answer->get()[bhttp::field::upgrade], options.protocol) == false) {
      return Status::Unavailable("server at " + target + " answered 101 without upgrading to " +
                                 options.protocol);
    }
    beast::get_lowest_layer(s).expires_never();
    std::string already_read = beast::buffers_to_string(buffer.data());
    connection_ = std::make_shared<H2ClientConnection>(std::move(s), std::move(already_read),
                                                       options, target);
    connection_->Post([connection = connection_] { connection->Start(); });
    // Until Close the thread runs even after the connection has ended, so that requests sent
    // meanwhile fail instead of waiting forever.
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
    return Status::OK();
  }

  asio::io_context io_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  CertificatePin pin_;
  std::shared_ptr<H2ClientConnection> connection_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<H2Client>> H2Client::Connect(const H2ClientOptions& options) {
  return ClientImpl::Connect(options);
}

}  // namespace cairn::http

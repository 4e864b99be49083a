// RawClient: a blocking TLS (or plain TCP) client for the HTTP server's tests, for what a
// well-behaved client (libcurl) never sends: plain HTTP, oversized targets, upgrades followed
// at once by the next protocol's bytes. Beast parses the replies.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::http {

class RawClient {
 public:
  using tcp = boost::asio::ip::tcp;
  explicit RawClient(uint16_t port) : tls_context_(boost::asio::ssl::context::tls_client) {
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  void StartTls() {
    tls_.emplace(std::move(socket_), tls_context_);
    tls_->handshake(boost::asio::ssl::stream_base::client);
  }
  void Send(std::string_view bytes) {
    if (tls_) {
      boost::asio::write(*tls_, boost::asio::buffer(bytes.data(), bytes.size()));
    } else {
      boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()));
    }
  }
  // While corked, what Send writes is held back and then leaves in as few segments as
  // possible (TCP_CORK): several TLS records arrive at the server in one read.
  void Cork(bool on) {
    int value = on ? 1 : 0;
    auto& socket = tls_ ? tls_->next_layer() : socket_;
    ASSERT_EQ(::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &value, sizeof(value)),
              0);
  }
  boost::beast::http::response<boost::beast::http::string_body> Read() {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.skip(false);
    boost::beast::error_code ec;
    if (tls_) {
      boost::beast::http::read(*tls_, buffer_, parser, ec);
    } else {
      boost::beast::http::read(socket_, buffer_, parser, ec);
    }
    EXPECT_FALSE(ec) << ec.message();
    return parser.release();
  }
  // Reads the header of a 101 answer only, leaving the stream after it.
  int ReadUpgradeStatus() {
    boost::beast::http::response_parser<boost::beast::http::empty_body> parser;
    parser.skip(true);  // a 101 has no body
    boost::beast::http::read_header(*tls_, buffer_, parser);
    return static_cast<int>(parser.get().result_int());
  }
  // What arrives within `wait`: bytes already buffered, else what one read returns if it
  // completes in time, else nothing. (Polling the socket would miss records the TLS layer has
  // already read from it: the read goes through the TLS stream.)
  std::string ReadAvailable(std::chrono::milliseconds wait) {
    std::string out = boost::beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!out.empty()) return out;
    char chunk[16384];
    std::optional<size_t> got;
    tls_->async_read_some(boost::asio::buffer(chunk, sizeof(chunk)),
                          [&got](boost::system::error_code ec, size_t n) { got = ec ? 0 : n; });
    io_.restart();
    io_.run_for(wait);
    if (!got) {
      tls_->next_layer().cancel();
      io_.restart();
      io_.run();
    }
    return std::string(chunk, got.value_or(0));
  }
  // What has arrived: bytes already buffered, else one read (at least one byte).
  std::string ReadSome() {
    std::string out = boost::beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!out.empty()) return out;
    char chunk[16384];
    size_t got = tls_->read_some(boost::asio::buffer(chunk, sizeof(chunk)));
    return std::string(chunk, got);
  }
  std::string ReadExactly(size_t n) {
    std::string out = boost::beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    while (out.size() < n) {
      char chunk[256];
      size_t got =
          tls_->read_some(boost::asio::buffer(chunk, std::min(sizeof(chunk), n - out.size())));
      out.append(chunk, got);
    }
    return out;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ssl::context tls_context_;
  tcp::socket socket_{io_};
  std::optional<boost::beast::ssl_stream<tcp::socket>> tls_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace cairn::http

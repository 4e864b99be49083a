#include "http/h2_transport.h"

#include <boost/asio/write.hpp>

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

class TlsTransport : public H2Transport {
 public:
  explicit TlsTransport(TlsStream stream) : stream_(std::move(stream)) {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().set_option(asio::ip::tcp::no_delay(true), ec);
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  void ReadSome(asio::mutable_buffer buffer, std::chrono::seconds timeout, Handler done) override {
    beast::get_lowest_layer(stream_).expires_after(timeout);
    stream_.async_read_some(buffer, std::move(done));
  }

  void Write(asio::const_buffer buffer, Handler done) override {
    asio::async_write(stream_, buffer, std::move(done));
  }

  void Close() override {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

 private:
  TlsStream stream_;
};

}  // namespace

std::unique_ptr<H2Transport> MakeTlsTransport(TlsStream stream) {
  return std::make_unique<TlsTransport>(std::move(stream));
}

}  // namespace cairn::http

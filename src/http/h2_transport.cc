#include "http/h2_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

// How much ciphertext one socket read may bring: many TLS records, so that a fast peer costs
// one system call per this much, not one per record (Asio's TLS stream moves records through
// a 17 KiB buffer, one read or write per record).
constexpr size_t kSocketReadSize = 256 * 1024;
// The largest TLS record's payload; pieces smaller than this are gathered before encryption.
constexpr size_t kRecordSize = 16 * 1024;

// The TLS layer of an established stream, driven directly through OpenSSL. The stream's SSL
// object is taken over from Asio's TLS engine: its BIO is replaced by one over this
// transport's own buffers (ciphertext read from the socket, ciphertext to send), so that
// SSL_read and SSL_write work on many records per socket operation. The Asio stream is kept
// for its socket, its timer and its ownership of the SSL object, but its TLS operations are
// no longer used.
//
// The state lives in a Core that the pending socket operations share, so that a completion
// arriving after the transport is gone finds it (and does nothing).
class TlsCore : public std::enable_shared_from_this<TlsCore> {
 public:
  explicit TlsCore(TlsStream stream) : stream_(std::move(stream)), input_(kSocketReadSize) {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().set_option(asio::ip::tcp::no_delay(true), ec);
    ssl_ = stream_.native_handle();
    BIO* engine = SSL_get_rbio(ssl_);
    // Ciphertext the engine read from the socket that OpenSSL has not taken yet is the first
    // input. It is all in the engine's BIO pair: the engine reads from the socket only when
    // OpenSSL wants input, by then OpenSSL has drained the pair (a partial record waits in
    // OpenSSL's own buffer, which stays with the SSL object), and one read (17 KiB) fits the
    // empty pair (17 KiB). Ciphertext not yet sent cannot be recovered; there is none after a
    // completed write, which the upgrade's answer or request was.
    size_t unread = engine != nullptr ? BIO_ctrl_pending(engine) : 0;
    if (unread > input_.size()) input_.resize(unread);
    if (unread > 0) {
      int n = BIO_read(engine, input_.data(), static_cast<int>(unread));
      input_end_ = n > 0 ? size_t(n) : 0;
    }
    if (engine != nullptr && BIO_ctrl_wpending(engine) > 0) {
      broken_ = asio::error::make_error_code(asio::error::broken_pipe);
    }
    BIO* bio = BIO_new(Method());
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);  // frees the engine's end of its BIO pair
    SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  }

  ~TlsCore() {
    // The SSL object (freed with the stream) must not call back into this transport.
    BIO* bio = SSL_get_rbio(ssl_);
    if (bio != nullptr) BIO_set_data(bio, nullptr);
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  void ReadSome(asio::mutable_buffer buffer, std::chrono::seconds timeout,
                H2Transport::Handler done) {
    read_buffer_ = buffer;
    read_timeout_ = timeout;
    TryRead(std::move(done));
  }

  void Stage(asio::const_buffer bytes) {
    staged_ += bytes.size();
    const auto* data = static_cast<const uint8_t*>(bytes.data());
    size_t size = bytes.size();
    // Small pieces (frame headers, control frames) are gathered into full records.
    if (!plain_.empty() || size < kRecordSize) {
      size_t take = std::min(size, kRecordSize - plain_.size());
      plain_.append(reinterpret_cast<const char*>(data), take);
      data += take;
      size -= take;
      if (plain_.size() < kRecordSize) return;
      Encrypt(plain_.data(), plain_.size());
      plain_.clear();
    }
    if (size >= kRecordSize) {
      Encrypt(data, size);
    } else if (size > 0) {
      plain_.assign(reinterpret_cast<const char*>(data), size);
    }
  }

  size_t staged() const { return staged_; }

  void Send(H2Transport::Handler done) {
    if (!plain_.empty()) {
      Encrypt(plain_.data(), plain_.size());
      plain_.clear();
    }
    write_size_ = std::exchange(staged_, 0);
    if (broken_) {
      output_.clear();
      return Complete(std::move(done), broken_, 0);
    }
    Flush(std::move(done));
  }

  void Close() {
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

 private:
  static BIO_METHOD* Method() {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cairn-h2");
      BIO_meth_set_read(m, &BioRead);
      BIO_meth_set_write(m, &BioWrite);
      BIO_meth_set_ctrl(m, &BioCtrl);
      return m;
    }();
    return method;
  }
  static int BioRead(BIO* bio, char* out, int size) {
    auto* self = static_cast<TlsCore*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self == nullptr || size <= 0) return 0;
    size_t n = std::min(size_t(size), self->input_end_ - self->input_begin_);
    if (n == 0) {
      BIO_set_retry_read(bio);
      return -1;
    }
    std::memcpy(out, self->input_.data() + self->input_begin_, n);
    self->input_begin_ += n;
    return static_cast<int>(n);
  }
  static int BioWrite(BIO* bio, const char* in, int size) {
    auto* self = static_cast<TlsCore*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self == nullptr || size < 0) return -1;
    self->output_.append(in, size_t(size));
    return size;
  }
  static long BioCtrl(BIO*, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's
    return command == BIO_CTRL_FLUSH ? 1 : 0;
  }

  // The error OpenSSL reports for a failed call that returned `rv`.
  boost::system::error_code SslError(int rv) {
    int code = SSL_get_error(ssl_, rv);
    if (code == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
    unsigned long error = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's
    ERR_clear_error();  // the rest of the queue would mislead the next call on this thread
    if (error == 0) return asio::ssl::error::stream_truncated;
    return {static_cast<int>(error), asio::error::get_ssl_category()};
  }

  void Complete(H2Transport::Handler done, boost::system::error_code ec, size_t n) {
    asio::post(stream_.get_executor(), [done = std::move(done), ec, n] { done(ec, n); });
  }

  // Decrypts what is buffered into read_buffer_ and completes the read with it; reads more
  // from the socket if that was not even one byte. The handler travels with the socket
  // operation (not in a member), so that destroying a stopped I/O context frees the connection.
  void TryRead(H2Transport::Handler done) {
    if (closed_) return Complete(std::move(done), asio::error::operation_aborted, 0);
    auto* out = static_cast<uint8_t*>(read_buffer_.data());
    size_t got = 0;
    boost::system::error_code error;
    while (got < read_buffer_.size()) {
      ERR_clear_error();
      size_t n = 0;
      int rv = SSL_read_ex(ssl_, out + got, read_buffer_.size() - got, &n);
      if (rv == 1) {
        got += n;
        continue;
      }
      if (SSL_get_error(ssl_, rv) != SSL_ERROR_WANT_READ) error = SslError(rv);
      break;
    }
    if (input_begin_ == input_end_) input_begin_ = input_end_ = 0;
    if (!output_.empty()) Flush(nullptr);  // what OpenSSL answered on its own (a key update)
    if (got > 0) return Complete(std::move(done), {}, got);
    if (error) return Complete(std::move(done), error, 0);
    if (broken_) return Complete(std::move(done), broken_, 0);
    if (socket_ended_) return Complete(std::move(done), asio::ssl::error::stream_truncated, 0);
    if (input_.size() - input_end_ < kSocketReadSize / 4) {  // room for many records
      std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
      input_end_ -= input_begin_;
      input_begin_ = 0;
      if (input_.size() - input_end_ < kSocketReadSize / 4)
        input_.resize(input_end_ + kSocketReadSize);
    }
    auto& socket = beast::get_lowest_layer(stream_);
    socket.expires_after(read_timeout_);
    socket.async_read_some(asio::buffer(input_.data() + input_end_, input_.size() - input_end_),
                           [this, self = shared_from_this(), done = std::move(done)](
                               beast::error_code ec, size_t n) mutable {
                             if (ec == asio::error::eof) {
                               socket_ended_ = true;
                             } else if (ec) {
                               return Complete(std::move(done), ec, 0);
                             }
                             input_end_ += n;
                             TryRead(std::move(done));
                           });
  }

  // Encrypts `size` bytes into output_; a failure breaks the stream.
  void Encrypt(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (size > 0 && !broken_) {
      ERR_clear_error();
      size_t written = 0;
      if (SSL_write_ex(ssl_, p, size, &written) != 1) {
        broken_ = SslError(0);
        return;
      }
      p += written;
      size -= written;
    }
  }

  // Sends the ciphertext produced so far, then completes `done` (none for what OpenSSL wrote
  // on its own while reading). If a send is under way, `done` waits for it in write_done_.
  void Flush(H2Transport::Handler done) {
    if (sending_) {
      if (done) write_done_ = std::move(done);
      return;
    }
    if (closed_) {
      output_.clear();
      if (done) Complete(std::move(done), asio::error::operation_aborted, 0);
      return;
    }
    if (output_.empty()) {
      if (done) Complete(std::move(done), broken_, broken_ ? 0 : write_size_);
      return;
    }
    sending_ = true;
    std::swap(output_, in_flight_);
    asio::async_write(beast::get_lowest_layer(stream_), asio::buffer(in_flight_),
                      [this, self = shared_from_this(), done = std::move(done)](
                          beast::error_code ec, size_t) mutable {
                        sending_ = false;
                        in_flight_.clear();
                        if (!done) done = std::exchange(write_done_, nullptr);
                        if (ec) {
                          broken_ = ec;
                          output_.clear();
                          if (done) Complete(std::move(done), ec, 0);
                          return;
                        }
                        Flush(std::move(done));
                      });
  }

  TlsStream stream_;
  SSL* ssl_ = nullptr;
  std::vector<uint8_t> input_;  // ciphertext from the socket; [input_begin_, input_end_) unread
  size_t input_begin_ = 0;
  size_t input_end_ = 0;
  std::string plain_;      // staged plaintext not yet encrypted (less than a record)
  size_t staged_ = 0;      // bytes staged since the last Send
  std::string output_;     // ciphertext OpenSSL produced, not yet being sent
  std::string in_flight_;  // ciphertext being sent
  asio::mutable_buffer read_buffer_;
  std::chrono::seconds read_timeout_{0};
  H2Transport::Handler write_done_;  // a Send that waits for a send of OpenSSL's own output
  size_t write_size_ = 0;
  boost::system::error_code broken_;  // the socket failed while writing
  bool sending_ = false;
  bool socket_ended_ = false;
  bool closed_ = false;
};

class TlsTransport : public H2Transport {
 public:
  explicit TlsTransport(TlsStream stream) : core_(std::make_shared<TlsCore>(std::move(stream))) {}
  ~TlsTransport() override { core_->Close(); }

  asio::any_io_executor executor() override { return core_->executor(); }
  void ReadSome(asio::mutable_buffer buffer, std::chrono::seconds timeout, Handler done) override {
    core_->ReadSome(buffer, timeout, std::move(done));
  }
  void Stage(asio::const_buffer bytes) override { core_->Stage(bytes); }
  size_t staged() const override { return core_->staged(); }
  void Send(Handler done) override { core_->Send(std::move(done)); }
  void Close() override { core_->Close(); }

 private:
  const std::shared_ptr<TlsCore> core_;
};

}  // namespace

std::unique_ptr<H2Transport> MakeTlsTransport(TlsStream stream) {
  return std::make_unique<TlsTransport>(std::move(stream));
}

}  // namespace cairn::http

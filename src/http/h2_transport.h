// H2Transport is the byte stream under an H2Connection. The server and the client run HTTP/2
// over the TLS stream of an upgraded connection (MakeTlsTransport); the fuzz target of the
// server side (fuzz/h2_session_fuzzer.cc) runs it over bytes in memory, without TLS, sockets
// or threads. The connection reads through it asynchronously, one read at a time at most,
// and writes by staging bytes and sending them, one send at a time at most.
//
// Every completion handler runs on executor(), which serializes them (a strand, or an I/O
// context run by one thread); the connection posts its own work there too.
//
// Internal to the http layer. Thread-safety: executor() may be called from any thread, the
// other methods only on that executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "http/tls_stream.h"

namespace cairn::http {

class H2Transport {
 public:
  // Called once, on executor(), with the bytes moved or an error: boost::asio::error::eof or
  // boost::asio::ssl::error::stream_truncated when the peer has closed,
  // boost::beast::error::timeout when the idle timer ran out, anything else for a broken
  // stream (and operation_aborted, or another error, after Close).
  using Handler = std::function<void(boost::system::error_code, size_t)>;

  virtual ~H2Transport() = default;

  virtual boost::asio::any_io_executor executor() = 0;
  // Reads at least one byte into `buffer` (valid until `done`). Restarts the idle timer: if
  // `timeout` passes before the read completes, the pending operations fail with timeout.
  virtual void ReadSome(boost::asio::mutable_buffer buffer, std::chrono::seconds timeout,
                        Handler done) = 0;
  // Takes `bytes` to send with the next Send, at once (the TLS transport encrypts them now;
  // the buffer need not outlive the call). Not while a Send is under way.
  virtual void Stage(boost::asio::const_buffer bytes) = 0;
  // How many bytes were staged since the last Send.
  virtual size_t staged() const = 0;
  // Sends everything staged; `done` gets their count once all of it is out.
  virtual void Send(Handler done) = 0;
  // Shuts both directions down and closes the stream; pending operations complete with an
  // error. Nothing is read or written afterwards.
  virtual void Close() = 0;
};

// The transport over an established TLS stream, with TCP_NODELAY set (small HTTP/2 frames
// must not wait for delayed ACKs). It takes the stream's SSL object over from Asio's TLS
// engine and moves many records per system call (h2_transport.cc).
std::unique_ptr<H2Transport> MakeTlsTransport(TlsStream stream);

}  // namespace cairn::http

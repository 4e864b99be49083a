// The TLS stream type the HTTP server and the HTTP/2 connections share (Boost.Beast over
// Asio), kept out of the public headers. Internal to the http layer.
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

namespace cairn::http {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

}  // namespace cairn::http

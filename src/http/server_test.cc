#include "http/server.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <future>
#include <mutex>

#include <fmt/format.h>

#include "http/raw_client_test_util.h"
#include "http/transport.h"
#include "testing/test_util.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cert_dir_ = new testing::TempDir();
    ASSERT_TRUE(
        EnsureSelfSignedCertificate(CertificateFiles::InDir(cert_dir_->path()), {"localhost"})
            .ok());
  }
  static void TearDownTestSuite() { delete cert_dir_; }

  void StartServer(RequestHandler handler, ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.certificate = CertificateFiles::InDir(cert_dir_->path());
    options.handler = std::move(handler);
    auto server = HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  std::string Url(std::string_view target) const {
    return fmt::format("https://127.0.0.1:{}{}", server_->port(), target);
  }

  Result<Response> Get(std::string_view target, HeaderList headers = {}) {
    auto fingerprint =
        CertificateFileFingerprint(CertificateFiles::InDir(cert_dir_->path()).cert_path);
    TransportOptions options;
    options.pinned_fingerprint = *fingerprint;
    CAIRN_ASSIGN_OR_RETURN(auto transport, Transport::Create(options));
    Request request;
    request.method = "GET";
    request.url = Url(target);
    request.headers = std::move(headers);
    return transport->Send(request);
  }

  static testing::TempDir* cert_dir_;
  std::unique_ptr<HttpServer> server_;
};
testing::TempDir* HttpServerTest::cert_dir_ = nullptr;

ServerResponse Echo(const ServerRequest& request) {
  ServerResponse response;
  response.body =
      fmt::format("{} path={} query={} body={} x={} peer={}", request.method, request.path,
                  request.query, request.body, request.Header("X-Test"), request.peer_address);
  response.headers.emplace_back("X-Reply", "yes");
  return response;
}

TEST_F(HttpServerTest, ServesRequestsOverTlsToAPinningClient) {
  StartServer(Echo);
  auto response = Get("/api2/json/version?a=1&b=2", {{"X-Test", "hello"}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(std::string(response->body.begin(), response->body.end()),
            "GET path=/api2/json/version query=a=1&b=2 body= x=hello peer=127.0.0.1");
  EXPECT_EQ(response->Header("x-reply"), "yes");
}

TEST_F(HttpServerTest, KeepsTheConnectionAliveBetweenRequests) {
  StartServer(Echo);
  RawClient client(server_->port());
  client.StartTls();
  for (int i = 0; i < 3; ++i) {
    client.Send(fmt::format("POST /n{} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", i));
    auto reply = client.Read();
    EXPECT_EQ(reply.result_int(), 200u);
    EXPECT_EQ(reply.body(), fmt::format("POST path=/n{} query= body=abc x= peer=127.0.0.1", i));
    EXPECT_TRUE(reply.keep_alive());
  }
}

TEST_F(HttpServerTest, PlainHttpOnTheSamePortIsRedirectedToHttps) {
  StartServer(Echo);
  RawClient client(server_->port());
  client.Send("GET /some/path?x=1 HTTP/1.1\r\nHost: backup.example:8007\r\n\r\n");
  auto reply = client.Read();
  EXPECT_EQ(reply.result_int(), 301u);
  EXPECT_EQ(reply[bhttp::field::location], "https://backup.example:8007/some/path?x=1");
}

TEST_F(HttpServerTest, PlainHttpWithAHostileHostHeaderGetsNoRedirect) {
  StartServer(Echo);
  RawClient client(server_->port());
  client.Send("GET / HTTP/1.1\r\nHost: evil.example/phish?\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 400u);
}

TEST_F(HttpServerTest, RefusesOverlongTargetsAndBodies) {
  std::atomic<int> handled{0};
  ServerOptions options;
  options.max_body_size = 1024;
  StartServer(
      [&](const ServerRequest& request) {
        ++handled;
        return Echo(request);
      },
      options);
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("GET /" + std::string(3100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 414u);
  }
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                std::string(2000, 'b'));
    EXPECT_EQ(client.Read().result_int(), 413u);
  }
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'c') + "\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 431u);
  }
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("GET / HTTP/1.1\r\nHost x\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 400u);
  }
  EXPECT_EQ(handled.load(), 0);
}

// CI once failed server_e2e's "600 KiB body -> 413" check with a broken pipe: the server
// answered 413 as soon as it read the Content-Length and closed the connection while the
// client was still writing the body, so the client never got to read the answer. Now the rest
// of a refused body is read and dropped before the connection is closed.
TEST_F(HttpServerTest, AClientStillSendingARefusedBodyGetsTheAnswer) {
  ServerOptions options;
  options.max_body_size = 1024;
  StartServer(Echo, options);
  const size_t body_size = 24u << 20;  // more than loopback's socket buffers take
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body_size) +
                "\r\n\r\n");
    client.Send(std::string(body_size, 'b'));
    EXPECT_EQ(client.Read().result_int(), 413u);
  }
  {
    RawClient client(server_->port());
    client.StartTls();
    client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string chunk(body_size, 'c');
    client.Send(fmt::format("{:x}\r\n", chunk.size()) + chunk + "\r\n0\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 413u);
  }
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotStallOtherClients) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  StartServer([&](const ServerRequest& request) {
    if (request.path == "/slow") released.wait();
    return Echo(request);
  });
  auto slow = std::async(std::launch::async, [&] { return Get("/slow"); });
  for (int i = 0; i < 5; ++i) {
    auto fast = Get("/fast");
    ASSERT_TRUE(fast.ok());
    EXPECT_EQ(fast->status, 200);
  }
  release.set_value();
  ASSERT_TRUE(slow.get().ok());
}

TEST_F(HttpServerTest, ADelayedResponseIsNotSentEarly) {
  StartServer([](const ServerRequest&) {
    ServerResponse response;
    response.status = 401;
    response.delay = std::chrono::milliseconds(300);
    return response;
  });
  auto start = std::chrono::steady_clock::now();
  auto response = Get("/");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

size_t ThreadCount() {
  size_t count = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

TEST_F(HttpServerTest, IdleConnectionsCostNoThreads) {
  StartServer(Echo);
  ASSERT_TRUE(Get("/warm-up").ok());  // starts every pool thread
  size_t before = ThreadCount();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<RawClient>(server_->port()));
    idle.back()->StartTls();
  }
  auto response = Get("/still-served");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_LE(ThreadCount(), before + 2);  // the second Get's curl resolver thread at most
  server_->Stop();                       // with 200 connections open
}

// A body produced while it is sent (a download larger than memory should hold).
ServerResponse Produced(std::function<Status(ByteSink&)> produce) {
  ServerResponse response;
  response.headers.emplace_back("Content-Type", "application/octet-stream");
  response.produce = std::move(produce);
  return response;
}

Bytes Pattern(size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  return out;
}

TEST_F(HttpServerTest, AProducedBodyArrivesWholeAndChunked) {
  const Bytes expected = Pattern((3 << 20) + 17);
  StartServer([&](const ServerRequest&) {
    return Produced([&](ByteSink& out) {
      ByteView rest(expected);
      for (size_t step = 1; !rest.empty(); step = step * 3 + 1) {
        size_t n = std::min(rest.size(), step);
        CAIRN_RETURN_IF_ERROR(out.Write(rest.first(n)));
        rest = rest.subspan(n);
      }
      return Status::OK();
    });
  });
  auto response = Get("/file");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body == expected);
  bool chunked = false;
  for (const auto& [name, value] : response->headers) {
    chunked |= name == "transfer-encoding" && value == "chunked";
  }
  EXPECT_TRUE(chunked);
  // The connection goes on after a produced body: a browser downloads the next file on it.
  RawClient raw(server_->port());
  raw.StartTls();
  for (int i = 0; i < 2; ++i) {
    raw.Send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    auto reply = raw.Read();
    EXPECT_EQ(reply.result_int(), 200u);
    EXPECT_EQ(reply.body().size(), expected.size());
  }
  // HTTP/1.0 has no chunks to tell a broken body from a whole one: refused.
  RawClient old(server_->port());
  old.StartTls();
  old.Send("GET /file HTTP/1.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(old.Read().result_int(), 505u);
}

TEST_F(HttpServerTest, AProducerThatFailsLeavesABrokenBodyNotAShortOne) {
  StartServer([](const ServerRequest&) {
    return Produced([](ByteSink& out) {
      CAIRN_RETURN_IF_ERROR(out.Write(Pattern(1 << 20)));
      return Status::IOError("chunk 1234 is missing");
    });
  });
  auto response = Get("/file");
  EXPECT_FALSE(response.ok()) << "a body without its last chunk must not look complete";
}

// A client that stops reading or goes away must not leave a producer (and what it holds, such
// as a snapshot reader) waiting forever.
TEST_F(HttpServerTest, AClientThatGoesAwayOrAServerThatStopsEndsTheProducer) {
  std::promise<Status> gone_result, stop_result;
  std::promise<void> stalled_started;
  std::atomic<int> calls{0};
  StartServer([&](const ServerRequest&) {
    int call = calls++;
    return Produced([&, call](ByteSink& out) {
      if (call == 1) stalled_started.set_value();
      const Bytes piece = Pattern(1 << 20);
      Status status;
      for (int i = 0; i < 100000 && status.ok(); ++i) status = out.Write(piece);
      (call == 0 ? gone_result : stop_result).set_value(status);
      return status;
    });
  });
  {
    RawClient raw(server_->port());
    raw.StartTls();
    raw.Send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(raw.ReadExactly(12), "HTTP/1.1 200");
  }  // closed
  auto gone = gone_result.get_future();
  ASSERT_EQ(gone.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(gone.get().code(), Code::kUnavailable);
  // A client that stays but reads nothing: the producer waits until the server stops.
  RawClient stalled(server_->port());
  stalled.StartTls();
  stalled.Send("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(stalled.ReadExactly(12), "HTTP/1.1 200");
  // (The header can be out before its write completes and the producer starts.)
  ASSERT_EQ(stalled_started.get_future().wait_for(std::chrono::seconds(60)),
            std::future_status::ready);
  server_->Stop();
  auto stopped = stop_result.get_future();
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_FALSE(stopped.get().ok());
}

}  // namespace
}  // namespace cairn::http

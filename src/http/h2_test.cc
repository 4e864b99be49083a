#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <atomic>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "http/h2_client.h"
#include "http/raw_client_test_util.h"
#include "http/server.h"
#include "testing/test_util.h"

namespace cairn::http {
namespace {

// Answers each request with "<method> <path>?<query> <body size>" and a header echoing
// x-tag; counts what it saw; remembers how the connection ended.
class EchoService : public H2Service {
 public:
  void Opened(std::function<void()> close) override {
    std::lock_guard lock(mu_);
    close_ = std::move(close);
  }
  void Handle(ServerRequest request, H2Responder responder) override {
    ++handled_;
    if (request.path == "/drop") return;  // the responder's destructor answers 500
    if (request.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ServerResponse response;
    response.headers.emplace_back("x-tag", request.Header("x-tag"));
    response.body = fmt::format("{} {}?{} {}", request.method, request.path, request.query,
                                request.body.size());
    if (request.path == "/echo-body") response.body = request.body;
    if (request.path == "/big") {  // one body or the other, never both (ServerResponse)
      response.body.clear();
      response.octets.assign(std::stoul(request.query), 'b');
    }
    responder.Send(std::move(response));
  }
  void Closed(const Status& why) override { closed_.set_value(why); }

  void CloseFromServer() {
    std::lock_guard lock(mu_);
    close_();
  }
  Status WaitClosed() { return closed_future_.get(); }
  bool IsClosed() const {
    return closed_future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  int handled() const { return handled_; }

 private:
  std::mutex mu_;
  std::function<void()> close_;
  std::atomic<int> handled_{0};
  std::promise<Status> closed_;
  std::shared_future<Status> closed_future_ = closed_.get_future().share();
};

class H2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(EnsureSelfSignedCertificate(certificate(), {"localhost"}).ok());
    fingerprint_ = *CertificateFileFingerprint(certificate().cert_path);
  }
  CertificateFiles certificate() const { return CertificateFiles::InDir(dir_.path()); }

  // A server whose /upgrade answers 101 with `service_` for the "test-protocol" token, 403
  // for any other token.
  void StartServer(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.certificate = certificate();
    options.handler = [this](const ServerRequest& request) {
      ServerResponse response;
      if (request.Header("upgrade") != "test-protocol") {
        response.status = 403;
        response.body = "not this protocol\n";
        return response;
      }
      response.status = 101;
      response.headers.emplace_back("Upgrade", "test-protocol");
      response.headers.emplace_back("Connection", "upgrade");
      response.h2 = service_;
      return response;
    };
    auto server = HttpServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  Result<std::unique_ptr<H2Client>> Connect(std::string protocol = "test-protocol") {
    H2ClientOptions options;
    options.host = "127.0.0.1";
    options.port = server_->port();
    options.pinned_fingerprint = fingerprint_;
    options.upgrade_target = "/upgrade?x=1";
    options.protocol = std::move(protocol);
    return H2Client::Connect(options);
  }

  testing::TempDir dir_;
  std::string fingerprint_;
  std::shared_ptr<EchoService> service_ = std::make_shared<EchoService>();
  std::unique_ptr<HttpServer> server_;
};

// Story: the first version returned a request's window only once it was answered. A client
// with 300 uploads in flight interleaves their DATA frames, so the connection window filled
// with 256 half-sent bodies, none could complete, nothing was answered and both sides waited
// forever. Now the window is returned at once within the body budget, and beyond it the
// oldest stream is let on so that it completes.
TEST_F(H2Test, ManyRequestsInFlightOnOneConnectionAreEachAnswered) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  std::vector<std::future<Result<Response>>> answers;
  for (int i = 0; i < 300; ++i) {
    std::string body(size_t(i) * 1000, char('a' + i % 26));
    answers.push_back((*client)->Send(i % 2 ? "POST" : "PUT", fmt::format("/item/{}?n={}", i, i),
                                      {{"X-Tag", std::to_string(i)}}, std::move(body)));
  }
  for (int i = 0; i < 300; ++i) {
    auto answer = answers[i].get();
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(AsString(answer->body),
              fmt::format("{} /item/{}?n={} {}", i % 2 ? "POST" : "PUT", i, i, i * 1000));
    EXPECT_EQ(answer->Header("x-tag"), std::to_string(i));
  }
  // A large body comes back whole (many DATA frames and window updates both ways).
  std::string big(12u << 20, 'z');
  big[12345] = 'y';
  auto echoed = (*client)->Call("POST", "/echo-body", {}, big);
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_TRUE(AsString(echoed->body) == big);

  (*client)->Close();
  EXPECT_TRUE(service_->WaitClosed().ok());
  EXPECT_EQ(service_->handled(), 301);
}

// Story: over the body budget the server lets only the oldest stream that still owes it window
// go on. Review found two stalls: the connection window was held back with the streams', so the
// one stream let on could be blocked at the connection level; and the "oldest" could be a
// stream already complete, whose grant woke nobody. Small windows, a small budget and a slow
// handler keep the server over its budget all the time; every request must still be answered.
TEST_F(H2Test, ManyHalfSentBodiesOverTheBudgetAllComplete) {
  ServerOptions options;
  options.h2.body_budget = 1 << 20;
  options.h2.stream_window = 64 << 10;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client.ok());
  std::vector<std::future<Result<Response>>> answers;
  for (int i = 0; i < 100; ++i) {
    answers.push_back(
        (*client)->Send("POST", "/slow", {}, std::string(256 << 10, char('a' + i % 26))));
  }
  for (auto& answer : answers) {
    // A generous bound that only a stall can reach (the whole test takes about a second).
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(120)), std::future_status::ready);
    auto reply = answer.get();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(AsString(reply->body), "POST /slow? 262144");
  }
}

TEST_F(H2Test, AnUpgradeTheServerRefusesIsAnErrorWithItsMessage) {
  StartServer();
  auto client = Connect("other-protocol");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), Code::kPermissionDenied);
  EXPECT_NE(client.status().message().find("not this protocol"), std::string::npos);
}

TEST_F(H2Test, AWrongFingerprintIsRefusedBeforeAnythingIsSent) {
  StartServer();
  H2ClientOptions options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  options.pinned_fingerprint = std::string(95, 'A');
  options.upgrade_target = "/upgrade";
  options.protocol = "test-protocol";
  auto client = H2Client::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), Code::kPermissionDenied);
  EXPECT_NE(client.status().message().find(fingerprint_), std::string::npos);
  EXPECT_EQ(service_->handled(), 0);
}

// Story: a refused body was let go with `body = std::string()`, which in libstdc++ keeps the
// allocation, so a reset stream held its memory (uncounted) until it closed; the sanitizer
// build's accounting assertion caught it here.
TEST_F(H2Test, ABodyOverTheLimitResetsItsStreamAndTheSessionGoesOn) {
  ServerOptions options;
  options.h2.max_body_size = 1 << 20;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client.ok());
  auto refused = (*client)->Call("POST", "/big", {}, std::string((1 << 20) + 1, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  auto fine = (*client)->Call("POST", "/small", {}, std::string(1 << 20, 'x'));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(AsString(fine->body), "POST /small? 1048576");
}

// Story: the connection stopped reading while more than max_pending_output bytes of answers
// waited, to push back on a client that does not read them. But an answer also waits for the
// client's flow-control window, and the WINDOW_UPDATE that opens it is input: with a client
// window smaller than what was pending, the updates went unread, and with neither a read nor
// a write pending nothing held the connection any more. It was destroyed without ending: the
// socket closed under the client mid-answer, and the service was never told that the session
// had closed (here Stop then waited h2_stop_wait for it). The fuzz target h2_session found it
// with a 64 KiB window and a limit of 1000 bytes (fuzz/regressions/h2_session). Now only a
// write the client does not take stops reading.
TEST_F(H2Test, AnAnswerWaitingForTheClientsWindowDoesNotStopReading) {
  ServerOptions options;
  options.h2.max_pending_output = 64 << 10;
  StartServer(options);
  H2ClientOptions client_options;
  client_options.host = "127.0.0.1";
  client_options.port = server_->port();
  client_options.pinned_fingerprint = fingerprint_;
  client_options.upgrade_target = "/upgrade";
  client_options.protocol = "test-protocol";
  client_options.window = 65535;  // HTTP/2's default; the server has 1 MiB to send
  auto client = H2Client::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  std::string body(1 << 20, 'w');
  auto answer = (*client)->Send("POST", "/echo-body", {}, body);
  // A generous bound that only a stall can reach.
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto reply = answer.get();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(AsString(reply->body) == body);
}

TEST_F(H2Test, AnUnansweredRequestGets500) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client.ok());
  auto answer = (*client)->Call("GET", "/drop");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 500);
}

TEST_F(H2Test, TheServiceCanEndTheSessionAndLaterRequestsFail) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Call("GET", "/before").ok());
  service_->CloseFromServer();
  Status why = service_->WaitClosed();
  EXPECT_EQ(why.code(), Code::kAborted);
  auto after = (*client)->Call("GET", "/after");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), Code::kUnavailable);
}

TEST_F(H2Test, StoppingTheServerClosesSessionsFirst) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Call("GET", "/x").ok());
  server_->Stop();
  // Stop returned only after the service was told.
  ASSERT_TRUE(service_->IsClosed());
  EXPECT_EQ(service_->WaitClosed().code(), Code::kAborted);
}

// The HTTP/2 bytes a client writes for one GET of `path`: preface, SETTINGS, HEADERS; and a
// session to read the answer with.
struct NgClient {
  nghttp2_session* session = nullptr;
  std::string status;  // of the last answer whose header came
  int answers = 0;     // answers whose header came
  std::string body;
  bool closed = false;  // a stream has closed
  int streams_closed = 0;
  size_t data_sent = 0;            // bytes of request bodies sent
  std::list<size_t> upload_left_;  // per Post, what its body still has to send
  // Without automatic window updates the client never grants the server more window than
  // HTTP/2's initial 64 KiB (per stream and for the connection).
  explicit NgClient(bool auto_window_updates = true) {
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_frame_send_callback(
        callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* self) {
          if (frame->hd.type == NGHTTP2_DATA)
            static_cast<NgClient*>(self)->data_sent += frame->hd.length;
          return 0;
        });
    nghttp2_session_callbacks_set_on_header_callback(
        callbacks, [](nghttp2_session*, const nghttp2_frame*, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* self) {
          if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
            ++static_cast<NgClient*>(self)->answers;
            static_cast<NgClient*>(self)->status.assign(reinterpret_cast<const char*>(value),
                                                        valuelen);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        callbacks,
        [](nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t len, void* self) {
          static_cast<NgClient*>(self)->body.append(reinterpret_cast<const char*>(data), len);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        callbacks, [](nghttp2_session*, int32_t, uint32_t, void* self) {
          static_cast<NgClient*>(self)->closed = true;
          ++static_cast<NgClient*>(self)->streams_closed;
          return 0;
        });
    nghttp2_option* option;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_auto_window_update(option, auto_window_updates ? 0 : 1);
    nghttp2_session_client_new2(&session, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  // Submits a POST of `path` with a body of `size` bytes (content-length announced).
  void Post(std::string_view path, size_t size) {
    std::string p(path), length = std::to_string(size);
    nghttp2_nv nva[] = {
        {(uint8_t*)":method", (uint8_t*)"POST", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":scheme", (uint8_t*)"https", 7, 5, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":authority", (uint8_t*)"localhost:8007", 10, 14, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":path", (uint8_t*)p.data(), 5, p.size(), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)"content-length", (uint8_t*)length.data(), 14, length.size(),
         NGHTTP2_NV_FLAG_NONE},
    };
    upload_left_.push_back(size);
    nghttp2_data_provider body;
    body.source.ptr = &upload_left_.back();
    body.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void*) -> ssize_t {
      size_t& left = *static_cast<size_t*>(source->ptr);
      size_t n = std::min(length, left);
      std::fill(buf, buf + n, 'p');
      left -= n;
      if (left == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    };
    nghttp2_submit_request(session, nullptr, nva, 5, &body, nullptr);
  }
  ~NgClient() { nghttp2_session_del(session); }
  std::string Get(std::string_view path) {
    std::string p(path);
    nghttp2_nv nva[] = {
        {(uint8_t*)":method", (uint8_t*)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":scheme", (uint8_t*)"https", 7, 5, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":authority", (uint8_t*)"localhost:8007", 10, 14, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":path", (uint8_t*)p.data(), 5, p.size(), NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_submit_request(session, nullptr, nva, 4, nullptr, nullptr);
    return Output();
  }
  std::string Output() {
    std::string out;
    const uint8_t* data;
    while (ssize_t n = nghttp2_session_mem_send(session, &data)) out.append((const char*)data, n);
    return out;
  }
};

// Story: the real client writes its HTTP/2 preface only after reading the 101, but nothing
// stops a client from sending it right behind the upgrade request. Those bytes are read with
// the request; they must start the HTTP/2 session, not be lost.
TEST_F(H2Test, HttpTwoBytesSentWithTheUpgradeRequestAreNotLost) {
  StartServer();
  RawClient raw(server_->port());
  raw.StartTls();
  NgClient h2;
  raw.Send(
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: test-protocol\r\nConnection: upgrade\r\n"
      "\r\n" +
      h2.Get("/early?q=1"));
  EXPECT_EQ(raw.ReadUpgradeStatus(), 101);
  while (!h2.closed) {
    std::string in = raw.ReadSome();
    ASSERT_GE(nghttp2_session_mem_recv(h2.session, (const uint8_t*)in.data(), in.size()), 0);
    raw.Send(h2.Output());  // SETTINGS ACK, window updates
  }
  EXPECT_EQ(h2.status, "200");
  EXPECT_EQ(h2.body, "GET /early?q=1 0");
}

// Story: once the session has taken the TLS stream over from Asio's engine, records the engine
// had already read from the socket but not decrypted (the client's HTTP/2 bytes, sent in their
// own record right behind the upgrade request's) sit in the engine's buffer. They must become
// the session's first input, not be dropped with the engine.
TEST_F(H2Test, RecordsReadBeforeTheHandOverAreNotLost) {
  StartServer();
  RawClient raw(server_->port());
  raw.StartTls();
  NgClient h2;
  raw.Cork(true);  // both records reach the server in one segment, so it reads them at once
  raw.Send(
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: test-protocol\r\nConnection: upgrade\r\n\r\n");
  raw.Send(h2.Get("/second-record?q=2"));
  raw.Cork(false);
  EXPECT_EQ(raw.ReadUpgradeStatus(), 101);
  while (!h2.closed) {
    std::string in = raw.ReadSome();
    ASSERT_GE(nghttp2_session_mem_recv(h2.session, (const uint8_t*)in.data(), in.size()), 0);
    raw.Send(h2.Output());
  }
  EXPECT_EQ(h2.status, "200");
  EXPECT_EQ(h2.body, "GET /second-record?q=2 0");
}

// Story: every complete request went to the service at once, and its answer stayed in memory
// until the client took it. A reader session asked for 128 chunks at a time and gave no
// flow-control window held up to 128 chunks of 16 MiB; a client taking them slower than the
// store read them held the server's memory at whatever it had asked for. Now requests wait
// while the answers held come to the session's answer budget. A review then found two ways
// around it, covered here too: small answers first (the typical answer size fell to a few bytes,
// so a burst of large ones all went at once; now each counts at least a sixteenth of the
// budget), and requests reset while waiting (they stayed queued and were handled for nobody).
TEST_F(H2Test, AClientThatTakesNoAnswersGetsNoMoreMade) {
  ServerOptions options;
  options.h2.answer_budget = 1 << 20;
  StartServer(options);
  RawClient raw(server_->port());
  raw.StartTls();
  NgClient h2;  // grants HTTP/2's default 64 KiB windows and, until told, no more
  auto take_answers_until = [&](int closed) {
    while (h2.streams_closed < closed) {
      std::string in = raw.ReadSome();
      ASSERT_FALSE(in.empty());
      ASSERT_GE(nghttp2_session_mem_recv(h2.session, (const uint8_t*)in.data(), in.size()), 0);
      raw.Send(h2.Output());  // SETTINGS ack, window updates
    }
  };
  auto wait_handled = [&](int count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (service_->handled() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(service_->handled(), count);
  };
  // 30 one-byte answers first.
  constexpr int kSmall = 30;
  std::string requests;
  for (int i = 0; i < kSmall; ++i) requests += h2.Get("/big?1");
  raw.Send(
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: test-protocol\r\n"
      "Connection: upgrade\r\n\r\n" +
      requests);
  EXPECT_EQ(raw.ReadUpgradeStatus(), 101);
  take_answers_until(kSmall);
  // Then 40 of 256 KiB at once, and the client takes none of them.
  constexpr int kLarge = 40;
  constexpr size_t kAnswer = 256 << 10;
  requests.clear();
  for (int i = 0; i < kLarge; ++i) requests += h2.Get("/big?" + std::to_string(kAnswer));
  raw.Send(requests);
  // At most 16 are made at once, and once about 1 MiB waits for the client's window, no more.
  // (Without the budget all 40 are made within milliseconds.)
  wait_handled(kSmall + 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(service_->handled(), kSmall + 20);
  // The client gives up on the last 20 (stream ids 2n+1 in request order): they are dropped.
  for (int i = kSmall + kLarge - 20; i < kSmall + kLarge; ++i) {
    nghttp2_submit_rst_stream(h2.session, NGHTTP2_FLAG_NONE, 2 * i + 1, NGHTTP2_CANCEL);
  }
  // Once the client takes them (with 16 MiB windows now), every other answer comes, whole.
  nghttp2_settings_entry window{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16 << 20};
  nghttp2_submit_settings(h2.session, NGHTTP2_FLAG_NONE, &window, 1);
  nghttp2_session_set_local_window_size(h2.session, NGHTTP2_FLAG_NONE, 0, 16 << 20);
  raw.Send(h2.Output());
  take_answers_until(kSmall + kLarge);
  EXPECT_EQ(h2.status, "200");
  EXPECT_EQ(h2.body.size(), kSmall + (kLarge - 20) * kAnswer);
  EXPECT_EQ(service_->handled(), kSmall + kLarge - 20);
}

// Story: the session lets the oldest waiting upload past the body budget when nothing else
// could free memory ("stuck": nothing received, nothing handled). Once requests waited for the
// answer budget they were neither, so with answers the client did not take, every upload in
// turn was let past the budget and received whole: each one's body held until the client took
// its answers. Complete requests waiting to be handled now count as something that will free
// memory (once the client takes its answers).
TEST_F(H2Test, UploadsWaitingForTheAnswerBudgetKeepLaterBodiesOut) {
  ServerOptions options;
  options.h2.body_budget = 1 << 20;
  options.h2.answer_budget = 512 << 10;
  StartServer(options);
  RawClient raw(server_->port());
  raw.StartTls();
  NgClient h2(/*auto_window_updates=*/false);
  // 1 MiB of answers the client does not take: the answer budget is full.
  std::string requests;
  for (int i = 0; i < 4; ++i) requests += h2.Get("/big?" + std::to_string(256 << 10));
  raw.Send(
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: test-protocol\r\n"
      "Connection: upgrade\r\n\r\n" +
      requests);
  EXPECT_EQ(raw.ReadUpgradeStatus(), 101);
  // Exchanges frames until `done` (or a minute passed), then until nothing more comes for a
  // while: what the server should not allow would show.
  auto exchange_until = [&](auto done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int idle = 0; idle < 3;) {
      raw.Send(h2.Output());
      std::string in = raw.ReadAvailable(std::chrono::milliseconds(100));
      bool waiting = !done() && std::chrono::steady_clock::now() < deadline;
      idle = in.empty() && !waiting ? idle + 1 : 0;
      ASSERT_GE(nghttp2_session_mem_recv(h2.session, (const uint8_t*)in.data(), in.size()), 0);
    }
  };
  // Once the 4 answers are made (their headers need no window), the budget is full.
  exchange_until([&] { return h2.answers == 4; });
  ASSERT_EQ(h2.answers, 4);
  // Then 2 uploads of 400 KiB, which fit the 1 MiB body budget and are received whole, then
  // 4 more: each may send its first 256 KiB (the stream window) and must then wait.
  constexpr size_t kUpload = 400 << 10;
  for (int i = 0; i < 2; ++i) h2.Post("/upload", kUpload);
  exchange_until([&] { return h2.data_sent >= 2 * kUpload; });
  EXPECT_EQ(h2.data_sent, 2 * kUpload);
  for (int i = 0; i < 4; ++i) h2.Post("/upload", kUpload);
  constexpr size_t kWindows = 2 * kUpload + 4 * (256 << 10);
  exchange_until([&] { return h2.data_sent >= kWindows; });
  EXPECT_EQ(h2.data_sent, kWindows);
  EXPECT_EQ(service_->handled(), 4);
}

}  // namespace
}  // namespace cairn::http

// The server started for real on 127.0.0.1 with an injected clock, driven by Cairn's libcurl
// transport: tickets expire and renew on the clock, cookie writes need the CSRF token, failed
// logins are answered late, and jobs started over the API run as tasks. The wider API surface
// is covered end to end in tests/server/server_test.py.
#include "server/server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "base/file_util.h"
#include "config/datastore_admin.h"
#include "http/transport.h"
#include "server/auth/authenticator.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string config = dir_.Sub("config");
    ASSERT_TRUE(MakeDirs(config, 0700).ok());
    auto datastores = config::DatastoreConfig::Load(config);
    ASSERT_TRUE(datastores.ok());
    config::CreateDatastoreRequest create;
    create.name = "store1";
    create.path = dir_.Sub("store1");
    ASSERT_TRUE(config::CreateDatastore(*datastores, create).ok());
    Authenticator auth(config);
    ASSERT_TRUE(auth.CreateUser(UserEntry(*Userid::Parse("alice@pbs")), "alice-secret").ok());
    AclUpdate grant;
    grant.path = "/datastore/store1";
    grant.role = "DatastoreAdmin";
    grant.authid = Authid(*Userid::Parse("alice@pbs"));
    ASSERT_TRUE(auth.UpdateAcl(grant).ok());

    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.config_dir = config;
    options.state_dir = dir_.Sub("state");
    options.node = "testnode";
    options.clock = [this] { return now_.load(); };
    options.dispatcher.auth_failure_delay = std::chrono::milliseconds(0);
    options.dispatcher.forbidden_delay = std::chrono::milliseconds(0);
    auto server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    http::TransportOptions transport;
    transport.pinned_fingerprint = server_->fingerprint();
    auto created = http::Transport::Create(transport);
    ASSERT_TRUE(created.ok());
    transport_ = std::move(created).value();
  }

  struct Reply {
    int status = 0;
    std::string body;
    http::HeaderList headers;
    json Json() const { return json::parse(body); }
    std::string Header(std::string_view name) const {
      for (const auto& [key, value] : headers) {
        if (key == name) return value;
      }
      return {};
    }
  };

  Reply Call(std::string method, std::string path, http::HeaderList headers = {},
             std::string body = "") {
    http::Request request;
    request.method = std::move(method);
    request.url = fmt::format("https://127.0.0.1:{}/api2/json{}", server_->port(), path);
    request.headers = std::move(headers);
    request.body = AsBytes(body);
    auto response = transport_->Send(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return {};
    return {response->status, std::string(response->body.begin(), response->body.end()),
            response->headers};
  }

  // Logs in as alice: {ticket, CSRF token}.
  std::pair<std::string, std::string> Login(const std::string& password = "alice-secret") {
    Reply reply = Call("POST", "/access/ticket", {{"Content-Type", "application/json"}},
                       json{{"username", "alice@pbs"}, {"password", password}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    if (reply.status != 200) return {};
    json data = reply.Json()["data"];
    return {data["ticket"], data["CSRFPreventionToken"]};
  }

  static http::HeaderList Cookie(const std::string& ticket) {
    return {{"Cookie", "PBSAuthCookie=" + ticket}};
  }

  testing::TempDir dir_;
  std::atomic<int64_t> now_{1'800'000'000};
  std::unique_ptr<Server> server_;
  std::unique_ptr<http::Transport> transport_;
};

TEST_F(ServerTest, TicketsExpireAfterTwoHoursAndRenewWithTheTicketAsPassword) {
  auto [ticket, csrf] = Login();
  EXPECT_EQ(Call("GET", "/version", Cookie(ticket)).status, 200);
  now_ += 7000;
  auto [renewed, renewed_csrf] = Login(ticket);  // the ticket renews itself
  EXPECT_NE(renewed, ticket);
  now_ += 201;  // the first ticket is now 7201 s old
  Reply expired = Call("GET", "/version", Cookie(ticket));
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("authentication failed"), std::string::npos) << expired.body;
  EXPECT_EQ(Call("GET", "/version", Cookie(renewed)).status, 200);
  // An expired ticket renews nothing.
  Reply refused = Call("POST", "/access/ticket", {{"Content-Type", "application/json"}},
                       json{{"username", "alice@pbs"}, {"password", ticket}}.dump());
  EXPECT_EQ(refused.status, 401);
  // Nor does a ticket from the future beyond the 300 s clock-skew allowance.
  now_ -= 7201 + 301;
  EXPECT_EQ(Call("GET", "/version", Cookie(renewed)).status, 401);
}

// The web UI logs in with http-only: the ticket comes as a Secure HttpOnly cookie the page's
// scripts cannot read, so the UI renews it by sending the ticket info as the password; the
// ticket then comes from the cookie.
TEST_F(ServerTest, AnHttpOnlyTicketRenewsThroughItsCookie) {
  auto login = [&](const std::string& password, http::HeaderList headers) {
    headers.emplace_back("Content-Type", "application/json");
    return Call(
        "POST", "/access/ticket", headers,
        json{{"username", "alice@pbs"}, {"password", password}, {"http-only", true}}.dump());
  };
  Reply first = login("alice-secret", {});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(first.Json()["data"].contains("ticket"));
  std::string info = first.Json()["data"]["ticket-info"];
  std::string cookie = first.Header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Secure"), std::string::npos) << cookie;
  std::string pair = cookie.substr(0, cookie.find(';'));  // __Host-PBSAuthCookie=<ticket>
  now_ += 3600;
  Reply renewed = login(info, {{"Cookie", pair}});
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  std::string renewed_pair = renewed.Header("set-cookie");
  renewed_pair = renewed_pair.substr(0, renewed_pair.find(';'));
  EXPECT_NE(renewed_pair, pair);
  now_ += 3601;  // the first ticket has expired, the renewed one has not
  EXPECT_EQ(Call("GET", "/version", {{"Cookie", pair}}).status, 401);
  EXPECT_EQ(Call("GET", "/version", {{"Cookie", renewed_pair}}).status, 200);
  // Renewed through the cookie, the ticket never comes back in the body, http-only or not.
  Reply plain = Call("POST", "/access/ticket",
                     {{"Content-Type", "application/json"}, {"Cookie", renewed_pair}},
                     json{{"username", "alice@pbs"}, {"password", info}}.dump());
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_FALSE(plain.Json()["data"].contains("ticket")) << plain.body;
  // The ticket info alone is no password, and an expired cookie renews nothing.
  EXPECT_EQ(login(info, {}).status, 401);
  EXPECT_EQ(login(info, {{"Cookie", pair}}).status, 401);
}

TEST_F(ServerTest, CookieWritesNeedTheCsrfTokenOfTheSameUser) {
  auto [ticket, csrf] = Login();
  http::HeaderList no_csrf = Cookie(ticket);
  EXPECT_EQ(Call("POST", "/admin/datastore/store1/gc", no_csrf).status, 401);
  http::HeaderList bad_csrf = Cookie(ticket);
  bad_csrf.emplace_back("CSRFPreventionToken", csrf.substr(0, 9) + "AAAA");
  EXPECT_EQ(Call("POST", "/admin/datastore/store1/gc", bad_csrf).status, 401);
  http::HeaderList good = Cookie(ticket);
  good.emplace_back("CSRFPreventionToken", csrf);
  Reply started = Call("POST", "/admin/datastore/store1/gc", good);
  EXPECT_EQ(started.status, 200) << started.body;
  EXPECT_TRUE(started.Json()["data"].get<std::string>().starts_with("UPID:testnode:"));
}

TEST_F(ServerTest, AGarbageCollectionStartedOverTheApiRunsAsATaskWithItsLog) {
  auto [ticket, csrf] = Login();
  http::HeaderList headers = Cookie(ticket);
  headers.emplace_back("CSRFPreventionToken", csrf);
  // The store's tuning sets the GC's atime cutoff; a bad one is refused naming the key.
  http::HeaderList json_headers = headers;
  json_headers.emplace_back("Content-Type", "application/json");
  Reply tuned = Call("PUT", "/config/datastore/store1", json_headers,
                     json{{"tuning", "gc-atime-cutoff=30"}}.dump());
  ASSERT_EQ(tuned.status, 200) << tuned.body;
  Reply refused = Call("PUT", "/config/datastore/store1", json_headers,
                       json{{"tuning", "gc-atime-cutoff=0"}}.dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("gc-atime-cutoff"), std::string::npos) << refused.body;
  EXPECT_EQ(Call("GET", "/config/datastore/store1", Cookie(ticket)).Json()["data"]["tuning"],
            "gc-atime-cutoff=30");
  Reply started = Call("POST", "/admin/datastore/store1/gc", headers);
  ASSERT_EQ(started.status, 200) << started.body;
  std::string upid = started.Json()["data"];
  std::string status_path = "/nodes/localhost/tasks/" + upid + "/status";
  json status;
  for (int i = 0; i < 600; ++i) {  // bounded: a GC of an empty store takes milliseconds
    status = Call("GET", status_path, Cookie(ticket)).Json()["data"];
    if (status["status"] == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status["status"], "stopped") << status.dump();
  EXPECT_EQ(status["exitstatus"], "OK");
  EXPECT_EQ(status["type"], "garbage_collection");
  Reply log = Call("GET", "/nodes/localhost/tasks/" + upid + "/log?limit=0", Cookie(ticket));
  ASSERT_EQ(log.status, 200);
  json lines = log.Json()["data"];
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front()["t"].get<std::string>().find("starting garbage collection"),
            std::string::npos);
  EXPECT_NE(lines.front()["t"].get<std::string>().find("atime cutoff 30 minutes"),
            std::string::npos)
      << lines.front();
  EXPECT_NE(lines.back()["t"].get<std::string>().find("TASK OK"), std::string::npos);
  Reply list = Call("GET", "/nodes/localhost/tasks?typefilter=garbage", Cookie(ticket));
  EXPECT_EQ(list.Json()["total"], 1);
  EXPECT_EQ(list.Json()["data"][0]["upid"], upid);
}

TEST_F(ServerTest, AFailedLoginIsAnsweredNoEarlierThanThreeSeconds) {
  auto start = std::chrono::steady_clock::now();
  Reply refused = Call("POST", "/access/ticket", {{"Content-Type", "application/json"}},
                       json{{"username", "alice@pbs"}, {"password", "wrong"}}.dump());
  EXPECT_EQ(refused.status, 401);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// The config directory holds private keys. A server pointed at a directory shared with other
// things (--config-dir /etc by mistake) must not chmod it; one of its own is made 0700.
TEST(ServerConfigDirTest, IsMadePrivateOnlyWhenItHoldsNothingButCairnFiles) {
  testing::TempDir dir;
  std::string shared = dir.Sub("shared");
  ASSERT_TRUE(MakeDirs(shared, 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(shared, "passwd"), AsBytes("x")).ok());
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.config_dir = shared;
  options.state_dir = dir.Sub("state");
  auto refused = Server::Start(options);
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  struct stat st;
  ASSERT_EQ(::stat(shared.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);

  std::string own = dir.Sub("own");
  ASSERT_TRUE(MakeDirs(own, 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(own, "datastore.json"), AsBytes("{}")).ok());
  options.config_dir = own;
  auto started = Server::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  (*started)->Stop();
  ASSERT_EQ(::stat(own.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace cairn::server

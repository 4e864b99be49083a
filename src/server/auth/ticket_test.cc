#include "server/auth/ticket.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file_util.h"
#include "server/auth/csrf.h"
#include "server/auth/encoding.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

constexpr int64_t kNow = 1'700'000'000;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class TicketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = TicketKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = std::move(*key);
  }
  TicketError Check(std::string_view ticket, int64_t now) {
    TicketError why = TicketError::kNone;
    auto user = key_->VerifyTicket(ticket, now, &why);
    EXPECT_EQ(user.ok(), why == TicketError::kNone);
    if (!user.ok()) {
      EXPECT_EQ(user.status().code(), Code::kPermissionDenied);
    }
    return why;
  }
  std::unique_ptr<TicketKey> key_;
  Userid alice_ = *Userid::Parse("alice@pbs");
};

TEST_F(TicketTest, FormatAndRoundTrip) {
  auto ticket = key_->CreateTicket(alice_, kNow);
  ASSERT_TRUE(ticket.ok());
  EXPECT_TRUE(ticket->starts_with("PBS:alice@pbs:6553F100::")) << *ticket;
  EXPECT_EQ(ticket->find('='), std::string::npos);
  EXPECT_EQ(ticket->size(), std::string("PBS:alice@pbs:6553F100::").size() + 86);  // 64-byte sig
  auto user = key_->VerifyTicket(*ticket, kNow);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(*user, alice_);
}

TEST_F(TicketTest, AgeWindow) {
  const std::string ticket = *key_->CreateTicket(alice_, kNow);
  EXPECT_EQ(Check(ticket, kNow - 300), TicketError::kNone);
  EXPECT_EQ(Check(ticket, kNow + 7200), TicketError::kNone);
  EXPECT_EQ(Check(ticket, kNow - 301), TicketError::kNotYetValid);
  EXPECT_EQ(Check(ticket, kNow + 7201), TicketError::kExpired);
  auto st = key_->VerifyTicket(ticket, kNow + 7201).status();
  EXPECT_NE(st.message().find("expired"), std::string::npos) << st.ToString();
}

TEST_F(TicketTest, TamperedAndForeignTicketsAreRefused) {
  const std::string ticket = *key_->CreateTicket(alice_, kNow);
  std::string other_user = ticket;
  other_user.replace(4, 5, "bobby");  // PBS:bobby@pbs:...
  EXPECT_EQ(Check(other_user, kNow), TicketError::kBadSignature);
  std::string other_time = ticket;
  other_time[21] = other_time[21] == '0' ? '1' : '0';
  EXPECT_EQ(Check(other_time, kNow), TicketError::kBadSignature);
  std::string lower_hex = ticket;
  lower_hex.replace(14, 8, "6553f100");
  EXPECT_EQ(Check(lower_hex, kNow), TicketError::kBadSignature);
  std::string other_sig = ticket;
  other_sig[other_sig.size() - 5] = other_sig[other_sig.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Check(other_sig, kNow), TicketError::kBadSignature);
  auto foreign = TicketKey::Generate();
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(Check(*(*foreign)->CreateTicket(alice_, kNow), kNow), TicketError::kBadSignature);
}

TEST_F(TicketTest, MalformedTicketsAreRefused) {
  const std::string ticket = *key_->CreateTicket(alice_, kNow);
  const std::string sig = ticket.substr(ticket.find("::") + 2);
  for (const std::string& bad :
       {std::string(""), std::string("PBS"), std::string("PBS:alice@pbs:6553F100"),
        "PBS:alice@pbs:6553F100:" + sig, "PVE:alice@pbs:6553F100::" + sig,
        "PBS:alice:6553F100::" + sig, "PBS:alice@pbs:-6553F10::" + sig,
        "PBS:alice@pbs:6553G100::" + sig, "PBS:alice@pbs:::" + sig,
        std::string("PBS:alice@pbs:6553F100::"),
        "PBS:alice@pbs:6553F100::" + sig + "==", std::string("PBS:alice@pbs:6553F100::***"),
        "PBS:alice%@pbs:6553F100::" + sig, "PBS:al%3Aice@pbs:6553F100::" + sig,
        "PBS:alice@pbs:11112222333344445::" + sig, "PBS:alice@pbs:6553F100::" + sig + ":x"}) {
    EXPECT_EQ(Check(bad, kNow), TicketError::kMalformed) << bad;
  }
}

TEST_F(TicketTest, NonAsciiUserIsPercentEncoded) {
  const Userid joerg = *Userid::Parse("j\xc3\xb6rg@pbs");
  auto ticket = key_->CreateTicket(joerg, kNow);
  ASSERT_TRUE(ticket.ok());
  EXPECT_TRUE(ticket->starts_with("PBS:j%C3%B6rg@pbs:")) << *ticket;
  auto user = key_->VerifyTicket(*ticket, kNow);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(*user, joerg);
}

TEST(TicketKeyTest, LoadOrCreateWritesKeysWithModesAndReloadsThem) {
  testing::TempDir dir;
  auto key = TicketKey::LoadOrCreate(dir.path());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ModeOf(dir.Sub("authkey.key")), 0600u);
  EXPECT_EQ(ModeOf(dir.Sub("authkey.pub")), 0644u);
  EXPECT_TRUE(AsString(*ReadFile(dir.Sub("authkey.key"))).starts_with("-----BEGIN PRIVATE KEY"));
  EXPECT_TRUE(AsString(*ReadFile(dir.Sub("authkey.pub"))).starts_with("-----BEGIN PUBLIC KEY"));
  const Userid user = Userid::Root();
  const std::string ticket = *(*key)->CreateTicket(user, kNow);
  auto again = TicketKey::LoadOrCreate(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->VerifyTicket(ticket, kNow).ok());
  testing::WriteTestFile(dir.Sub("authkey.key"), AsBytes("garbage"));
  auto bad = TicketKey::LoadOrCreate(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
}

TEST(CsrfTest, CreateVerifyAndWindow) {
  testing::TempDir dir;
  auto key = CsrfKey::LoadOrCreate(dir.path());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ModeOf(dir.Sub("csrf.key")), 0600u);
  auto raw = Base64Decode(AsString(*ReadFile(dir.Sub("csrf.key"))).substr(0, 88));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 64u);
  const Userid alice = *Userid::Parse("alice@pbs");
  const std::string token = key->CreateToken(alice, kNow);
  EXPECT_TRUE(token.starts_with("6553F100:")) << token;
  EXPECT_EQ(token.size(), 9u + 43u);  // 32-byte MAC, unpadded base64
  EXPECT_TRUE(key->VerifyToken(alice, token, kNow).ok());
  EXPECT_TRUE(key->VerifyToken(alice, token, kNow + 7200).ok());
  EXPECT_TRUE(key->VerifyToken(alice, token, kNow - 300).ok());
  EXPECT_FALSE(key->VerifyToken(alice, token, kNow + 7201).ok());
  EXPECT_FALSE(key->VerifyToken(alice, token, kNow - 301).ok());
  EXPECT_FALSE(key->VerifyToken(*Userid::Parse("bob@pbs"), token, kNow).ok());
  EXPECT_FALSE(key->VerifyToken(alice, "6553F101" + token.substr(8), kNow).ok());
  EXPECT_FALSE(key->VerifyToken(alice, token + "A", kNow).ok());
  EXPECT_FALSE(key->VerifyToken(alice, "", kNow).ok());
  EXPECT_FALSE(key->VerifyToken(alice, "zz:abc", kNow).ok());
  auto st = key->VerifyToken(alice, token.substr(0, 9) + "x", kNow);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_NE(st.message().find("invalid csrf token"), std::string::npos);
  // The same file gives the same key.
  auto again = CsrfKey::LoadOrCreate(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->VerifyToken(alice, token, kNow).ok());
  // A known key gives a known MAC: HMAC-SHA3-256 of "6553F100:alice@pbs:" under 64 zero bytes.
  CsrfKey zero(Bytes(64, 0));
  EXPECT_EQ(zero.CreateToken(alice, kNow).size(), 52u);
}

}  // namespace
}  // namespace cairn::server

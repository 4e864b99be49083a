#include "server/auth/auth_id.h"

#include <gtest/gtest.h>

#include "server/auth/encoding.h"

namespace cairn::server {
namespace {

TEST(AuthIdTest, ParsesUsersAndTokens) {
  auto user = Userid::Parse("alice@pbs");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->name(), "alice");
  EXPECT_EQ(user->realm(), "pbs");
  EXPECT_EQ(user->ToString(), "alice@pbs");
  EXPECT_FALSE(user->IsRoot());
  EXPECT_TRUE(Userid::Parse("root@pam")->IsRoot());

  auto token = Authid::Parse("alice@pbs!backup-1.x");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(token->is_token());
  EXPECT_EQ(token->token_name(), "backup-1.x");
  EXPECT_EQ(token->user(), *user);
  EXPECT_EQ(token->realm(), "pbs");
  EXPECT_EQ(token->ToString(), "alice@pbs!backup-1.x");

  auto plain = Authid::Parse("alice@pbs");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->is_token());
  EXPECT_EQ(*plain, Authid(*user));
  EXPECT_TRUE(Authid::Parse("root@pam")->IsSuperuser());
  EXPECT_FALSE(Authid::Parse("root@pam!t")->IsSuperuser());
  // Unicode and punctuation are fine in user names.
  EXPECT_TRUE(Userid::Parse("j\xc3\xb6rg.o'neil+x@pbs").ok());
}

TEST(AuthIdTest, RefusesMalformedAndHostileIds) {
  const std::string nul("a\0b@pbs", 7);
  for (const std::string& bad : {std::string("alice"),
                                 std::string("@pbs"),
                                 std::string("alice@"),
                                 std::string("alice@p"),
                                 std::string("a b@pbs"),
                                 std::string("a:b@pbs"),
                                 std::string("a/b@pbs"),
                                 std::string("../x@pbs"),
                                 std::string("a@b@pbs"),
                                 std::string("a\t@pbs"),
                                 std::string("a\x7f@pbs"),
                                 nul,
                                 std::string(65, 'a') + "@pbs",
                                 "alice@" + std::string(33, 'r'),
                                 std::string("alice@.pbs"),
                                 std::string("alice@pb/s"),
                                 std::string("alice@pbs!"),
                                 std::string("alice@pbs!-x"),
                                 std::string("alice@pbs!a!b"),
                                 std::string("alice@pbs!a/b"),
                                 "alice@pbs!" + std::string(65, 't'),
                                 std::string("alice@pbs!a:b")}) {
    EXPECT_FALSE(Authid::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Userid::Parse(std::string(64, 'a') + "@pbs").ok());
  EXPECT_FALSE(Userid::Parse("alice@pbs!tok").ok());
}

TEST(AuthIdTest, OrderingAndEquality) {
  auto a = *Authid::Parse("a@pbs");
  auto at = *Authid::Parse("a@pbs!t");
  auto b = *Authid::Parse("b@pbs");
  EXPECT_LT(a, at);
  EXPECT_LT(at, b);
  EXPECT_NE(a, at);
}

TEST(EncodingTest, Base64RoundTripsWithAndWithoutPadding) {
  for (size_t n = 0; n < 10; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 37 + 1);
    for (bool pad : {true, false}) {
      const std::string text = Base64Encode(data, pad);
      if (!pad) {
        EXPECT_EQ(text.find('='), std::string::npos);
      }
      auto back = Base64Decode(text);
      ASSERT_TRUE(back.ok()) << text;
      EXPECT_EQ(*back, data) << text;
    }
  }
  EXPECT_EQ(Base64Encode(AsBytes("ab"), false), "YWI");
  EXPECT_EQ(Base64Encode(AsBytes("ab"), true), "YWI=");
}

TEST(EncodingTest, Base64RefusesGarbage) {
  for (const char* bad : {"Y", "YWI==", "YW=I", "Y WI", "YWI\n", "YW*I", "YWI===", "=", "A==="}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

TEST(EncodingTest, PercentEncoding) {
  EXPECT_EQ(PercentEncode("a:b%c\n\xc3\xb6"), "a%3Ab%25c%0A%C3%B6");
  EXPECT_EQ(*PercentDecode("a%3Ab%25c%0a%C3%B6"), "a:b%c\n\xc3\xb6");
  EXPECT_EQ(*PercentDecode("plain+text"), "plain+text");
  EXPECT_FALSE(PercentDecode("a%").ok());
  EXPECT_FALSE(PercentDecode("a%4").ok());
  EXPECT_FALSE(PercentDecode("a%zz").ok());
}

}  // namespace
}  // namespace cairn::server

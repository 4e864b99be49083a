#include "server/auth/shadow.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "testing/test_util.h"

namespace cairn::server {
namespace {

constexpr char kSha256CryptHash[] =
    "$5$bx7fjhlS8yMPM3Nc$yRgB5vyoTWeRcYn31RFTg5hAGyTInUq.l0HqLKzRuRC";
constexpr char kPassword[] = "supersecretpassphrasenoonewillguess";

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(ShadowTest, ParseAndSerialize) {
  auto entries = ParseShadow(R"({"alice": "$y$abc", "bob": "$5$x$y"})");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u);
  EXPECT_EQ(entries->at("alice"), "$y$abc");
  auto back = ParseShadow(SerializeShadow(*entries));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *entries);
  EXPECT_TRUE(ParseShadow("")->empty());
  EXPECT_TRUE(ParseShadow("{}")->empty());
  for (const char* bad : {"[]", "{", "{\"a\": 1}", "{\"a\": null}", "\"x\"", "{\"a\":\"b\"} x"}) {
    auto st = ParseShadow(bad).status();
    EXPECT_EQ(st.code(), Code::kCorruption) << bad;
  }
}

TEST(ShadowTest, PasswordsSetVerifyRemoveWithMode0600) {
  testing::TempDir dir;
  ShadowFile shadow(dir.path(), ShadowFile::Kind::kPasswords);
  EXPECT_EQ(*shadow.Verify("alice", "pw"), false);  // no file yet
  ASSERT_TRUE(shadow.Set("alice", "correct horse").ok());
  EXPECT_EQ(ModeOf(dir.Sub("shadow.json")), 0600u);
  EXPECT_TRUE(*shadow.Verify("alice", "correct horse"));
  EXPECT_FALSE(*shadow.Verify("alice", "wrong"));
  EXPECT_FALSE(*shadow.Verify("bob", "correct horse"));
  EXPECT_TRUE(shadow.ReadAll()->at("alice").starts_with("$y$j9T$"));
  EXPECT_FALSE(shadow.Set("alice", "").ok());
  ASSERT_TRUE(shadow.Remove("alice").ok());
  ASSERT_TRUE(shadow.Remove("alice").ok());
  EXPECT_FALSE(*shadow.Verify("alice", "correct horse"));
}

TEST(ShadowTest, Sha256CryptIsRehashedAfterSuccessfulVerify) {
  testing::TempDir dir;
  testing::WriteTestFile(dir.Sub("shadow.json"),
                         AsBytes(std::string(R"({"old": ")") + kSha256CryptHash + "\"}"));
  ShadowFile shadow(dir.path(), ShadowFile::Kind::kPasswords);
  EXPECT_FALSE(*shadow.Verify("old", "not it"));
  EXPECT_EQ(shadow.ReadAll()->at("old"), kSha256CryptHash);  // no re-hash on failure
  EXPECT_TRUE(*shadow.Verify("old", kPassword));
  const std::string rehashed = shadow.ReadAll()->at("old");
  EXPECT_TRUE(rehashed.starts_with("$y$j9T$")) << rehashed;
  EXPECT_TRUE(*shadow.Verify("old", kPassword));
  EXPECT_EQ(ModeOf(dir.Sub("shadow.json")), 0600u);
}

TEST(ShadowTest, TokenSecretsAndCacheFollowTheFile) {
  testing::TempDir dir;
  ShadowFile tokens(dir.path(), ShadowFile::Kind::kTokens);
  auto secret = GenerateTokenSecret();
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(std::regex_match(*secret, std::regex("^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")))
      << *secret;
  ASSERT_TRUE(tokens.Set("alice@pbs!t", *secret).ok());
  EXPECT_EQ(ModeOf(dir.Sub("token.shadow")), 0640u);
  EXPECT_TRUE(*tokens.Verify("alice@pbs!t", *secret));
  EXPECT_TRUE(*tokens.Verify("alice@pbs!t", *secret));  // from the cache
  EXPECT_FALSE(*tokens.Verify("alice@pbs!t", "wrong"));
  EXPECT_FALSE(*tokens.Verify("alice@pbs!u", *secret));
  // Another process replaces the secret: the cached one must stop working at once.
  ShadowFile other(dir.path(), ShadowFile::Kind::kTokens);
  ASSERT_TRUE(other.Set("alice@pbs!t", "new-secret").ok());
  EXPECT_FALSE(*tokens.Verify("alice@pbs!t", *secret));
  EXPECT_TRUE(*tokens.Verify("alice@pbs!t", "new-secret"));
  ASSERT_TRUE(other.Remove("alice@pbs!t").ok());
  EXPECT_FALSE(*tokens.Verify("alice@pbs!t", "new-secret"));
}

TEST(ShadowTest, CorruptFileIsAnErrorNotAMismatch) {
  testing::TempDir dir;
  testing::WriteTestFile(dir.Sub("token.shadow"), AsBytes("{not json"));
  ShadowFile tokens(dir.path(), ShadowFile::Kind::kTokens);
  auto result = tokens.Verify("a@pbs!t", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("token.shadow"), std::string::npos);
  EXPECT_FALSE(tokens.Set("a@pbs!t", "x").ok());
}

}  // namespace
}  // namespace cairn::server

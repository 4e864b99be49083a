#include "server/auth/password.h"

#include <gtest/gtest.h>

#include <regex>

#include "server/auth/crypto_util.h"

namespace cairn::server {
namespace {

// The test vector of PBS's proxmox-sys crypt.rs (spec 4.1).
constexpr char kPassword[] = "supersecretpassphrasenoonewillguess";
constexpr char kSha256CryptHash[] =
    "$5$bx7fjhlS8yMPM3Nc$yRgB5vyoTWeRcYn31RFTg5hAGyTInUq.l0HqLKzRuRC";

TEST(PasswordTest, VerifiesThePbsSha256CryptVectorAndAsksForRehash) {
  PasswordCheck check = VerifyPassword(kPassword, kSha256CryptHash);
  EXPECT_TRUE(check.ok);
  EXPECT_TRUE(check.needs_rehash);
  check = VerifyPassword("supersecretpassphrasenoonewillgues", kSha256CryptHash);
  EXPECT_FALSE(check.ok);
  EXPECT_FALSE(check.needs_rehash);
}

TEST(PasswordTest, NewHashesAreYescrypt) {
  auto hash = HashPassword(kPassword);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$y$j9T$")) << *hash;
  auto again = HashPassword(kPassword);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);  // fresh salt
  PasswordCheck check = VerifyPassword(kPassword, *hash);
  EXPECT_TRUE(check.ok);
  EXPECT_FALSE(check.needs_rehash);
  EXPECT_FALSE(VerifyPassword("wrong", *hash).ok);
  EXPECT_FALSE(VerifyPassword("", *hash).ok);
}

TEST(PasswordTest, MalformedHashesAndNulNeverMatch) {
  EXPECT_FALSE(VerifyPassword(kPassword, "").ok);
  EXPECT_FALSE(VerifyPassword(kPassword, "*").ok);
  EXPECT_FALSE(VerifyPassword(kPassword, "$y$garbage").ok);
  EXPECT_FALSE(VerifyPassword(kPassword, "plaintext").ok);
  EXPECT_FALSE(VerifyPassword(std::string("a\0b", 3), kSha256CryptHash).ok);
  EXPECT_FALSE(HashPassword(std::string("a\0b", 3)).ok());
}

TEST(CryptoUtilTest, UuidV4Shape) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 20; ++i) {
    auto uuid = NewUuidV4();
    ASSERT_TRUE(uuid.ok());
    EXPECT_TRUE(std::regex_match(*uuid, shape)) << *uuid;
  }
  EXPECT_NE(*NewUuidV4(), *NewUuidV4());
}

TEST(CryptoUtilTest, ConstantTimeEqualAndSha256) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
  EXPECT_EQ(Sha256Hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace cairn::server

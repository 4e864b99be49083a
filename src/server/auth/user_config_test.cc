#include "server/auth/user_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server/auth/config_file.h"
#include "server/auth/crypto_util.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

constexpr char kConfig[] =
    "user: root@pam\n"
    "\tcomment Superuser\n"
    "\temail root@example.com\n"
    "\tenable true\n"
    "\texpire 0\n"
    "\n"
    "# a comment line\n"
    "user: alice@pbs\n"
    "\tcomment Alice in  the lab\n"
    "    enable 0\n"
    "\texpire 1700000000\n"
    "\tfirstname Alice\n"
    "\tlastname Liddell\n"
    "\n"
    "token: alice@pbs!sync\n"
    "\tcomment nightly\n"
    "\tenable yes\n";

Userid U(const char* s) {
  return *Userid::Parse(s);
}
Authid A(const char* s) {
  return *Authid::Parse(s);
}

TEST(UserConfigTest, ParsesPbsFormat) {
  auto config = UserConfig::Parse(kConfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->users().size(), 2u);
  const UserEntry* alice = config->FindUser(U("alice@pbs"));
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->comment, "Alice in  the lab");
  EXPECT_EQ(alice->enable, false);
  EXPECT_EQ(alice->expire, 1700000000);
  EXPECT_EQ(alice->firstname, "Alice");
  EXPECT_EQ(alice->lastname, "Liddell");
  EXPECT_EQ(config->FindUser(U("root@pam"))->email, "root@example.com");
  const TokenEntry* sync = config->FindToken(A("alice@pbs!sync"));
  ASSERT_NE(sync, nullptr);
  EXPECT_EQ(sync->comment, "nightly");
  EXPECT_EQ(sync->enable, true);
  EXPECT_EQ(config->TokensOf(U("alice@pbs")).size(), 1u);
  EXPECT_EQ(config->digest(), Sha256Hex(AsBytes(kConfig)));
}

TEST(UserConfigTest, SerializeRoundTrips) {
  auto config = UserConfig::Parse(kConfig);
  ASSERT_TRUE(config.ok());
  const std::string text = config->Serialize();
  auto again = UserConfig::Parse(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(again->users(), config->users());
  EXPECT_EQ(again->tokens(), config->tokens());
  EXPECT_EQ(again->Serialize(), text);
  EXPECT_NE(text.find("user: alice@pbs\n\tcomment Alice in  the lab\n\tenable false\n"
                      "\texpire 1700000000\n\tfirstname Alice\n\tlastname Liddell\n\n"),
            std::string::npos)
      << text;
}

TEST(UserConfigTest, RootIsAlwaysPresent) {
  auto empty = UserConfig::Parse("");
  ASSERT_TRUE(empty.ok());
  ASSERT_NE(empty->FindUser(Userid::Root()), nullptr);
  EXPECT_EQ(empty->FindUser(Userid::Root())->comment, "Superuser");
  auto other = UserConfig::Parse("user: bob@pbs\n");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->users().size(), 2u);
  EXPECT_TRUE(other->IsActive(Authid(Userid::Root()), 0));
  UserConfig config;
  EXPECT_FALSE(config.RemoveUser(Userid::Root()).ok());
}

TEST(UserConfigTest, ActivityRules) {
  auto config = UserConfig::Parse(
      "user: on@pbs\n\texpire 2000\n\n"
      "user: off@pbs\n\tenable false\n\n"
      "token: on@pbs!t\n\n"
      "token: on@pbs!expired\n\texpire 1000\n\n"
      "token: off@pbs!t\n\n"
      "token: ghost@pbs!t\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->IsActive(A("on@pbs"), 1999));
  EXPECT_FALSE(config->IsActive(A("on@pbs"), 2000));  // expire <= now has passed
  EXPECT_FALSE(config->IsActive(A("off@pbs"), 0));
  EXPECT_TRUE(config->IsActive(A("on@pbs!t"), 1500));
  EXPECT_FALSE(config->IsActive(A("on@pbs!t"), 2500));  // its user expired
  EXPECT_FALSE(config->IsActive(A("on@pbs!expired"), 1500));
  EXPECT_FALSE(config->IsActive(A("off@pbs!t"), 0));    // its user is disabled
  EXPECT_FALSE(config->IsActive(A("ghost@pbs!t"), 0));  // no such user
  EXPECT_FALSE(config->IsActive(A("on@pbs!missing"), 0));
  EXPECT_FALSE(config->IsActive(A("nobody@pbs"), 0));
}

TEST(UserConfigTest, MalformedConfigsGiveClearErrors) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"\tcomment x\n", "line 1: property outside of a section"},
      {"user alice@pbs\n", "line 1: expected a section header"},
      {"group: admins\n", "unknown section type"},
      {"user: alice\n", "user id has no realm"},
      {"user: a:b@pbs\n", "invalid character in user name"},
      {"user: a@pbs\n\tcolor red\n", "line 2"},
      {"user: a@pbs\n\tenable maybe\n", "expected a boolean"},
      {"user: a@pbs\n\texpire -1\n", "expected an epoch time"},
      {"user: a@pbs\n\texpire 12x\n", "expected an epoch time"},
      {"user: a@pbs\n\tcomment a\n\tcomment b\n", "duplicate property"},
      {"user: a@pbs\n\nuser: a@pbs\n", "line 3: duplicate section"},
      {"user: a@pbs\n\tcomment\n", "has no value"},
      {"user: a@pbs\n\tcomment a\x01z\n", "control character"},
      {"token: a@pbs\n", "is not an API token id"},
      {"token: a@pbs!t\n\tfirstname x\n", "unknown property"},
      {"user: a@pbs\0\n", "NUL"},
  };
  for (const Case& c : cases) {
    const std::string text(c.text, std::char_traits<char>::length(c.text) +
                                       (std::string_view(c.expect) == "NUL" ? 2 : 0));
    auto config = UserConfig::Parse(text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_NE(config.status().message().find(c.expect), std::string::npos)
        << config.status().ToString();
  }
}

TEST(UserConfigTest, EditsValidate) {
  UserConfig config;
  UserEntry bob(U("bob@pbs"));
  bob.comment = "line\nbreak";
  EXPECT_FALSE(config.AddUser(bob).ok());
  bob.comment = "ok";
  EXPECT_TRUE(config.AddUser(bob).ok());
  EXPECT_TRUE(config.AddUser(bob).IsAlreadyExists());
  EXPECT_TRUE(config.AddToken(TokenEntry(A("carol@pbs!t"))).IsNotFound());
  EXPECT_TRUE(config.AddToken(TokenEntry(A("bob@pbs!t"))).ok());
  EXPECT_FALSE(config.AddToken(TokenEntry(A("bob@pbs"))).ok());
  EXPECT_TRUE(config.RemoveUser(U("bob@pbs")).ok());
  EXPECT_TRUE(config.tokens().empty());  // tokens go with their user
  EXPECT_TRUE(config.RemoveUser(U("bob@pbs")).IsNotFound());
}

TEST(UserConfigTest, LoadAndSaveWithMode0640) {
  testing::TempDir dir;
  auto missing = UserConfig::Load(dir.path());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->users().size(), 1u);
  UserConfig config = *missing;
  ASSERT_TRUE(config.AddUser(UserEntry(U("bob@pbs"))).ok());
  {
    auto lock = LockConfig(dir.Sub("user.cfg"));
    ASSERT_TRUE(lock.ok());
    ASSERT_TRUE(config.Save(dir.path()).ok());
  }
  struct stat st;
  ASSERT_EQ(::stat(dir.Sub("user.cfg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  auto loaded = UserConfig::Load(dir.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_NE(loaded->FindUser(U("bob@pbs")), nullptr);
  EXPECT_EQ(loaded->digest(), Sha256Hex(AsBytes(config.Serialize())));
  testing::WriteTestFile(dir.Sub("user.cfg"), AsBytes("user: x\n"));
  auto bad = UserConfig::Load(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("user.cfg"), std::string::npos);
  EXPECT_TRUE(CheckDigest("", "abc").ok());
  EXPECT_TRUE(CheckDigest("ABC", "abc").ok());
  EXPECT_FALSE(CheckDigest("abd", "abc").ok());
}

}  // namespace
}  // namespace cairn::server

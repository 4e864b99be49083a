#include "server/auth/authenticator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server/auth/api_token_header.h"
#include "server/auth/shadow.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

constexpr int64_t kNow = 1'700'000'000;

Userid U(const char* s) {
  return *Userid::Parse(s);
}
Authid A(const char* s) {
  return *Authid::Parse(s);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest()
      : auth_(dir_.path(), [this](std::string_view user, std::string_view password) {
          pam_calls_++;
          return user == "root" && password == "pam-root-pw" ? Status::OK()
                                                             : Status::PermissionDenied("pam");
        }) {}

  void ExpectDenied(const Status& st) {
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.ToString();
    EXPECT_EQ(st.message(), "authentication failed");
  }

  testing::TempDir dir_;
  int pam_calls_ = 0;
  Authenticator auth_;
};

TEST_F(AuthenticatorTest, PbsRealmPasswords) {
  ASSERT_TRUE(auth_.CreateUser(UserEntry(U("alice@pbs")), std::string("s3cret-pw")).ok());
  EXPECT_EQ(ModeOf(dir_.Sub("user.cfg")), 0640u);
  EXPECT_EQ(ModeOf(dir_.Sub("shadow.json")), 0600u);
  EXPECT_TRUE(auth_.Authenticate(U("alice@pbs"), "s3cret-pw", kNow).ok());
  ExpectDenied(auth_.Authenticate(U("alice@pbs"), "wrong", kNow));
  ExpectDenied(auth_.Authenticate(U("alice@pbs"), "", kNow));
  ExpectDenied(auth_.Authenticate(U("bob@pbs"), "s3cret-pw", kNow));     // no such user
  ExpectDenied(auth_.Authenticate(U("alice@ldap"), "s3cret-pw", kNow));  // unknown realm
  ASSERT_TRUE(auth_.SetPassword(U("alice@pbs"), "other-pw").ok());
  ExpectDenied(auth_.Authenticate(U("alice@pbs"), "s3cret-pw", kNow));
  EXPECT_TRUE(auth_.Authenticate(U("alice@pbs"), "other-pw", kNow).ok());
  // Disabled or expired users are refused with the same message.
  UserUpdate disable;
  disable.enable = false;
  ASSERT_TRUE(auth_.UpdateUser(U("alice@pbs"), disable).ok());
  ExpectDenied(auth_.Authenticate(U("alice@pbs"), "other-pw", kNow));
  UserUpdate expire;
  expire.enable = true;
  expire.expire = kNow;
  ASSERT_TRUE(auth_.UpdateUser(U("alice@pbs"), expire).ok());
  ExpectDenied(auth_.Authenticate(U("alice@pbs"), "other-pw", kNow));
  EXPECT_TRUE(auth_.Authenticate(U("alice@pbs"), "other-pw", kNow - 1).ok());
}

TEST_F(AuthenticatorTest, PamRealmIsRoutedToPamAndRootIsImplicit) {
  EXPECT_TRUE(auth_.Authenticate(U("root@pam"), "pam-root-pw", kNow).ok());
  ExpectDenied(auth_.Authenticate(U("root@pam"), "nope", kNow));
  // PAM accepting a system user is not enough: the user must be in user.cfg.
  ExpectDenied(auth_.Authenticate(U("daemon@pam"), "pam-root-pw", kNow));
  EXPECT_EQ(pam_calls_, 3);
  EXPECT_FALSE(auth_.CreateUser(UserEntry(U("bob@pam")), std::string("password")).ok());
  EXPECT_TRUE(auth_.CreateUser(UserEntry(U("bob@pam")), std::nullopt).ok());
  EXPECT_FALSE(auth_.CreateUser(UserEntry(U("bob@ldap")), std::nullopt).ok());
}

TEST_F(AuthenticatorTest, TokensLifecycle) {
  ASSERT_TRUE(auth_.CreateUser(UserEntry(U("alice@pbs")), std::nullopt).ok());
  TokenEntry entry(A("alice@pbs!backup"));
  entry.comment = "nightly";
  auto secret = auth_.CreateToken(entry);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->tokenid, "alice@pbs!backup");
  EXPECT_EQ(secret->value.size(), 36u);
  EXPECT_EQ(ModeOf(dir_.Sub("token.shadow")), 0640u);
  EXPECT_TRUE(auth_.CreateToken(entry).status().IsAlreadyExists());
  EXPECT_TRUE(auth_.CreateToken(TokenEntry(A("ghost@pbs!t"))).status().IsNotFound());

  auto who = auth_.AuthenticateToken("alice@pbs!backup", secret->value, kNow);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, A("alice@pbs!backup"));
  ExpectDenied(auth_.AuthenticateToken("alice@pbs!backup", "wrong", kNow).status());
  ExpectDenied(auth_.AuthenticateToken("alice@pbs", secret->value, kNow).status());
  ExpectDenied(auth_.AuthenticateToken("garbage", secret->value, kNow).status());

  // The header form the HTTP layer sees.
  auto creds = ParseApiTokenHeader("PBSAPIToken=alice@pbs!backup:" + secret->value);
  ASSERT_TRUE(creds.ok());
  EXPECT_TRUE(auth_.AuthenticateToken(creds->tokenid.ToString(), creds->secret, kNow).ok());

  // Disabling the user disables the token.
  UserUpdate disable;
  disable.enable = false;
  ASSERT_TRUE(auth_.UpdateUser(U("alice@pbs"), disable).ok());
  ExpectDenied(auth_.AuthenticateToken("alice@pbs!backup", secret->value, kNow).status());
  disable.enable = true;
  ASSERT_TRUE(auth_.UpdateUser(U("alice@pbs"), disable).ok());

  TokenUpdate regen;
  regen.regenerate = true;
  regen.delete_props = {"comment"};
  auto fresh = auth_.UpdateToken(A("alice@pbs!backup"), regen);
  ASSERT_TRUE(fresh.ok() && fresh->has_value());
  ExpectDenied(auth_.AuthenticateToken("alice@pbs!backup", secret->value, kNow).status());
  EXPECT_TRUE(auth_.AuthenticateToken("alice@pbs!backup", **fresh, kNow).ok());
  EXPECT_EQ(auth_.ReadUsers()->FindToken(A("alice@pbs!backup"))->comment, "");

  ASSERT_TRUE(auth_.DeleteToken(A("alice@pbs!backup")).ok());
  ExpectDenied(auth_.AuthenticateToken("alice@pbs!backup", **fresh, kNow).status());
  EXPECT_TRUE(ShadowFile(dir_.path(), ShadowFile::Kind::kTokens).ReadAll()->empty());
  EXPECT_TRUE(auth_.DeleteToken(A("alice@pbs!backup")).IsNotFound());
}

TEST_F(AuthenticatorTest, DeleteUserRemovesEverything) {
  ASSERT_TRUE(auth_.CreateUser(UserEntry(U("alice@pbs")), std::string("password")).ok());
  ASSERT_TRUE(auth_.CreateToken(TokenEntry(A("alice@pbs!t"))).ok());
  AclUpdate grant{"/datastore/s1", "DatastoreBackup", true, A("alice@pbs"), std::nullopt, false};
  ASSERT_TRUE(auth_.UpdateAcl(grant).ok());
  grant.authid = A("alice@pbs!t");
  ASSERT_TRUE(auth_.UpdateAcl(grant).ok());
  EXPECT_EQ(AclTree::Load(dir_.path())->Entries().size(), 2u);

  ASSERT_TRUE(auth_.DeleteUser(U("alice@pbs")).ok());
  EXPECT_EQ(auth_.ReadUsers()->FindUser(U("alice@pbs")), nullptr);
  EXPECT_TRUE(auth_.ReadUsers()->tokens().empty());
  EXPECT_TRUE(ShadowFile(dir_.path(), ShadowFile::Kind::kPasswords).ReadAll()->empty());
  EXPECT_TRUE(ShadowFile(dir_.path(), ShadowFile::Kind::kTokens).ReadAll()->empty());
  EXPECT_TRUE(AclTree::Load(dir_.path())->Entries().empty());
  EXPECT_TRUE(auth_.DeleteUser(U("alice@pbs")).IsNotFound());
  EXPECT_FALSE(auth_.DeleteUser(Userid::Root()).ok());
}

TEST_F(AuthenticatorTest, DigestsAndValidation) {
  auto users = auth_.ReadUsers();
  ASSERT_TRUE(users.ok());
  const std::string digest = users->digest();
  ASSERT_TRUE(auth_.CreateUser(UserEntry(U("a@pbs")), std::nullopt, digest).ok());
  // The file changed: the old digest is refused.
  Status st = auth_.CreateUser(UserEntry(U("b@pbs")), std::nullopt, digest);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("detected modified configuration"), std::string::npos);
  EXPECT_FALSE(auth_.CreateUser(UserEntry(U("c@pbs")), std::string("1234")).ok());  // short
  EXPECT_EQ(auth_.ReadUsers()->FindUser(U("c@pbs")), nullptr);
  UserUpdate bad;
  bad.delete_props = {"enable"};
  EXPECT_FALSE(auth_.UpdateUser(U("a@pbs"), bad).ok());
  UserUpdate ctrl;
  ctrl.comment = "two\nlines";
  EXPECT_FALSE(auth_.UpdateUser(U("a@pbs"), ctrl).ok());
  EXPECT_TRUE(auth_.UpdateUser(U("zz@pbs"), UserUpdate{}).IsNotFound());
  EXPECT_TRUE(auth_.SetPassword(U("zz@pbs"), "password").IsNotFound());
  EXPECT_FALSE(auth_.SetPassword(Userid::Root(), "password").ok());  // realm pam
}

TEST_F(AuthenticatorTest, AclUpdates) {
  AclUpdate grant{"/datastore/s1", "DatastoreAdmin", true, A("nobody@pbs"), std::nullopt, false};
  EXPECT_TRUE(auth_.UpdateAcl(grant).IsNotFound());
  grant.authid = A("root@pam!t");
  EXPECT_TRUE(auth_.UpdateAcl(grant).IsNotFound());
  ASSERT_TRUE(auth_.CreateUser(UserEntry(U("a@pbs")), std::nullopt).ok());
  grant.authid = A("a@pbs");
  grant.role = "Wizard";
  EXPECT_EQ(auth_.UpdateAcl(grant).code(), Code::kInvalidArgument);
  grant.role = "DatastoreAdmin";
  grant.path = "/datastore/../../etc";
  EXPECT_EQ(auth_.UpdateAcl(grant).code(), Code::kInvalidArgument);
  grant.path = "/datastore/s1";
  ASSERT_TRUE(auth_.UpdateAcl(grant).ok());
  EXPECT_EQ(ModeOf(dir_.Sub("acl.cfg")), 0640u);
  AclUpdate group{"/", "Audit", true, std::nullopt, std::string("admins"), false};
  EXPECT_EQ(auth_.UpdateAcl(group).code(), Code::kInvalidArgument);
  group.remove = true;
  EXPECT_TRUE(auth_.UpdateAcl(group).ok());
  grant.remove = true;
  ASSERT_TRUE(auth_.UpdateAcl(grant, AclTree::Load(dir_.path())->digest()).ok());
  EXPECT_TRUE(AclTree::Load(dir_.path())->Entries().empty());
}

TEST_F(AuthenticatorTest, ConcurrentChangesAndChecks) {
  // Writers in several threads serialise on the file locks: no update is lost.
  testing::ParallelFor(8, 4, [&](int i) {
    const std::string name = "u" + std::to_string(i) + "@pbs";
    EXPECT_TRUE(auth_.CreateUser(UserEntry(U(name.c_str())), std::nullopt).ok());
    EXPECT_TRUE(auth_.CreateToken(TokenEntry(A((name + "!t").c_str()))).ok());
  });
  auto users = auth_.ReadUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->users().size(), 9u);
  EXPECT_EQ(users->tokens().size(), 8u);
  EXPECT_EQ(ShadowFile(dir_.path(), ShadowFile::Kind::kTokens).ReadAll()->size(), 8u);
  // Token checks share the secret cache.
  TokenUpdate regen;
  regen.regenerate = true;
  auto secret = auth_.UpdateToken(A("u0@pbs!t"), regen);
  ASSERT_TRUE(secret.ok() && secret->has_value());
  testing::ParallelFor(16, 4, [&](int i) {
    const bool right = i % 2 == 0;
    auto who = auth_.AuthenticateToken("u0@pbs!t", right ? **secret : "wrong", kNow);
    EXPECT_EQ(who.ok(), right);
  });
}

TEST(ApiTokenHeaderTest, ParsesBothSeparatorsAndDecodesTheSecret) {
  auto a = ParseApiTokenHeader("PBSAPIToken root@pam!t1:0a1b-2c3d");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->tokenid.ToString(), "root@pam!t1");
  EXPECT_EQ(a->secret, "0a1b-2c3d");
  auto b = ParseApiTokenHeader("PBSAPIToken=root@pam!t1:se%3Acret%25");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->secret, "se:cret%");
  for (const char* bad :
       {"", "PBSAPIToken", "PBSAPIToken ", "PBSAPITokenroot@pam!t:x", "PVEAPIToken=root@pam!t=x",
        "PBSAPIToken=root@pam!t", "PBSAPIToken=root@pam:secret", "PBSAPIToken=root@pam!t:",
        "PBSAPIToken=root@pam!t:%zz", "Bearer abc", "PBSAPIToken=../x@pbs!t:s"}) {
    EXPECT_FALSE(ParseApiTokenHeader(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cairn::server

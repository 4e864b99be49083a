#include "server/auth/user_info.h"

#include <gtest/gtest.h>

#include "server/auth/privileges.h"

namespace cairn::server {
namespace {

Authid A(const char* s) {
  return *Authid::Parse(s);
}
std::vector<std::string> P(const char* path) {
  return SplitAclPath(path);
}

UserInfo Make(const char* users, const char* acl, int64_t now = 1000) {
  auto u = UserConfig::Parse(users);
  auto a = AclTree::Parse(acl);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return UserInfo(*u, *a, now);
}

constexpr char kUsers[] =
    "user: alice@pbs\n\n"
    "user: bob@pbs\n\tenable false\n\n"
    "user: carol@pbs\n\texpire 500\n\n"
    "token: alice@pbs!narrow\n\n"
    "token: alice@pbs!wide\n\n"
    "token: alice@pbs!off\n\tenable false\n\n"
    "token: root@pam!t\n\n";

constexpr char kAcl[] =
    "acl:1:/datastore/s1:alice@pbs:DatastoreBackup\n"
    "acl:1:/datastore/s1:alice@pbs!narrow:DatastoreAudit\n"
    "acl:1:/datastore:alice@pbs!wide:Admin\n"
    "acl:1:/datastore:alice@pbs!off:Admin\n"
    "acl:1:/datastore:bob@pbs:Admin\n"
    "acl:1:/datastore:carol@pbs:Admin\n"
    "acl:0:/system:alice@pbs:Audit\n";

TEST(UserInfoTest, RootHasEverythingButNotItsTokens) {
  UserInfo info = Make(kUsers, kAcl);
  EXPECT_EQ(info.LookupPrivs(A("root@pam"), P("/anything")), UINT64_MAX);
  EXPECT_TRUE(info.CheckPrivs(A("root@pam"), P("/"), kAllPrivileges).ok());
  EXPECT_EQ(info.LookupPrivs(A("root@pam!t"), P("/datastore/s1")), 0u);
}

TEST(UserInfoTest, TokenPrivilegesAreTheirOwnAndTheirUsers) {
  UserInfo info = Make(kUsers, kAcl);
  const auto s1 = P("/datastore/s1");
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs"), s1), priv::kDatastoreBackup);
  // The token's own role (Audit) AND its user's (Backup): nothing in common.
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs!narrow"), s1), 0u);
  // Admin on the token, limited to what alice has.
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs!wide"), s1), priv::kDatastoreBackup);
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs!wide"), P("/datastore/s2")), 0u);
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs!missing"), s1), 0u);
}

TEST(UserInfoTest, InactiveHaveNothing) {
  UserInfo info = Make(kUsers, kAcl);
  EXPECT_EQ(info.LookupPrivs(A("bob@pbs"), P("/datastore")), 0u);    // disabled
  EXPECT_EQ(info.LookupPrivs(A("carol@pbs"), P("/datastore")), 0u);  // expired at 500
  EXPECT_EQ(info.LookupPrivs(A("alice@pbs!off"), P("/datastore")), 0u);
  EXPECT_EQ(info.LookupPrivs(A("nobody@pbs"), P("/datastore")), 0u);
  UserInfo earlier = Make(kUsers, kAcl, 499);
  EXPECT_EQ(earlier.LookupPrivs(A("carol@pbs"), P("/datastore")), UINT64_MAX);
  EXPECT_FALSE(info.AnyPrivsBelow(A("bob@pbs"), P("/"), UINT64_MAX));
}

TEST(UserInfoTest, CheckPrivsMessages) {
  UserInfo info = Make(kUsers, kAcl);
  const auto s1 = P("/datastore/s1");
  EXPECT_TRUE(info.CheckPrivs(A("alice@pbs"), s1, priv::kDatastoreBackup).ok());
  Status st = info.CheckPrivs(A("alice@pbs"), s1, priv::kDatastoreAudit | priv::kDatastoreBackup);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "missing permissions 'Datastore.Audit&Datastore.Backup' on '/datastore/s1'");
  EXPECT_TRUE(info.CheckPrivs(A("alice@pbs"), s1, priv::kDatastoreAudit | priv::kDatastoreBackup,
                              /*any=*/true)
                  .ok());
  EXPECT_TRUE(info.CheckPrivs(A("alice@pbs"), P("/system"), priv::kSysAudit).ok());
  EXPECT_FALSE(info.CheckPrivs(A("alice@pbs"), P("/system/tasks"), priv::kSysAudit).ok());
}

TEST(UserInfoTest, NamespacePrivs) {
  UserInfo info = Make(kUsers, kAcl);
  const auto ns = *BackupNamespace::Parse("dev/web");
  constexpr uint64_t kFull = priv::kDatastoreAudit | priv::kDatastoreRead;
  constexpr uint64_t kPartial = priv::kDatastoreBackup;
  auto access = info.CheckNamespacePrivs("s1", ns, A("alice@pbs"), kFull, kPartial);
  ASSERT_TRUE(access.ok());
  EXPECT_EQ(*access, NamespaceAccess::kPartialOwnedOnly);
  access = info.CheckNamespacePrivs("s1", ns, A("root@pam"), kFull, kPartial);
  ASSERT_TRUE(access.ok());
  EXPECT_EQ(*access, NamespaceAccess::kFull);
  access = info.CheckNamespacePrivs("s2", ns, A("alice@pbs"), kFull, kPartial);
  ASSERT_FALSE(access.ok());
  EXPECT_EQ(access.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(access.status().message(),
            "permission check failed - missing Datastore.Audit|Datastore.Read|Datastore.Backup "
            "on /datastore/s2/dev/web");
}

TEST(UserInfoTest, Ownership) {
  EXPECT_TRUE(UserInfo::IsOwner(A("alice@pbs"), A("alice@pbs")));
  EXPECT_TRUE(UserInfo::IsOwner(A("alice@pbs!t"), A("alice@pbs")));   // a user owns its tokens'
  EXPECT_FALSE(UserInfo::IsOwner(A("alice@pbs"), A("alice@pbs!t")));  // not the other way
  EXPECT_FALSE(UserInfo::IsOwner(A("alice@pbs!t"), A("alice@pbs!u")));
  EXPECT_FALSE(UserInfo::IsOwner(A("alice@pbs!t"), A("alice@pam")));
  EXPECT_FALSE(UserInfo::IsOwner(A("bob@pbs"), A("alice@pbs")));
}

TEST(UserInfoTest, ListPermissions) {
  UserInfo info = Make(kUsers, kAcl);
  auto perms = info.ListPermissions(A("alice@pbs"), std::nullopt);
  ASSERT_EQ(perms.size(), 2u);
  EXPECT_EQ(perms.at("/datastore/s1"), (std::map<std::string, bool>{{"Datastore.Backup", true}}));
  EXPECT_EQ(perms.at("/system"),
            (std::map<std::string, bool>{{"Sys.Audit", false}, {"Datastore.Audit", false}}));
  EXPECT_EQ(perms.count("/datastore"), 0u);
  auto one = info.ListPermissions(A("alice@pbs"), std::string("/datastore/s1/ns"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.at("/datastore/s1/ns").at("Datastore.Backup"));
  auto root = info.ListPermissions(A("root@pam"), std::nullopt);
  EXPECT_EQ(root.at("/").size(), 23u);
  EXPECT_TRUE(root.at("/").at("Realm.Allocate"));
}

}  // namespace
}  // namespace cairn::server

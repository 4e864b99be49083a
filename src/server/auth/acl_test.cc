#include "server/auth/acl.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server/auth/config_file.h"
#include "server/auth/privileges.h"
#include "testing/test_util.h"

namespace cairn::server {
namespace {

Authid A(const char* s) {
  return *Authid::Parse(s);
}

// "Role1,Role2" of `authid` at `path`, sorted, as PBS's check_roles test helper.
std::string RolesAt(const AclTree& tree, const char* authid, const char* path) {
  std::string out;
  for (const auto& [role, propagate] : tree.Roles(A(authid), SplitAclPath(path))) {
    if (!out.empty()) out += ",";
    out += role;
  }
  return out;
}

TEST(PrivilegesTest, BitsRolesAndNames) {
  EXPECT_EQ(priv::kSysAudit, 1u);
  EXPECT_EQ(priv::kDatastoreBackup, 1u << 8);
  EXPECT_EQ(priv::kSysConsole, 1u << 17);
  EXPECT_EQ(priv::kRealmAllocate, 1u << 22);
  EXPECT_EQ(AllPrivilegeInfos().size(), 23u);
  EXPECT_EQ(*RolePrivileges("Admin"), UINT64_MAX);
  EXPECT_EQ(*RolePrivileges("NoAccess"), 0u);
  EXPECT_EQ(*RolePrivileges("DatastoreReader"),
            priv::kDatastoreAudit | priv::kDatastoreVerify | priv::kDatastoreRead);
  EXPECT_EQ(*RolePrivileges("DatastorePowerUser"), priv::kDatastorePrune | priv::kDatastoreBackup);
  EXPECT_EQ(*RolePrivileges("RemoteDatastoreAdmin"),
            priv::kRemoteAudit | priv::kRemoteDatastoreBackup | priv::kRemoteDatastoreModify |
                priv::kRemoteDatastorePrune);
  EXPECT_EQ(*RolePrivileges("TapeOperator"), priv::kTapeAudit | priv::kTapeRead | priv::kTapeWrite);
  EXPECT_FALSE(RolePrivileges("admin"));
  EXPECT_EQ(AllRoles().size(), 18u);
  EXPECT_EQ(*PrivilegeBit("Datastore.Prune"), priv::kDatastorePrune);
  EXPECT_EQ(PrivilegeNames(priv::kDatastoreAudit | priv::kDatastoreBackup, "|"),
            "Datastore.Audit|Datastore.Backup");
  EXPECT_EQ(PrivilegeNames(UINT64_MAX, ",").find("Realm.Allocate") != std::string::npos, true);
}

TEST(AclPathTest, ValidAndInvalidPaths) {
  for (const char* ok :
       {"/", "/access", "/access/acl", "/access/users", "/access/domains", "/datastore",
        "/datastore/store1", "/datastore/s/a/b/c/d/e/f/g", "/remote/r1/store/ns1", "/system",
        "/system/tasks", "/system/services/proxy", "/system/network",
        "/system/network/interfaces/eth0", "/system/s3-endpoint/ep1", "/system/encryption-keys/k1",
        "/tape", "/tape/pool/p1"}) {
    EXPECT_TRUE(ValidateAclPath(ok).ok()) << ok;
  }
  const std::string nul("/datastore/a\0b", 14);
  for (const std::string& bad :
       {std::string(""), std::string("datastore"), std::string("//"), std::string("/datastore/"),
        std::string("/datastore//x"), std::string("/datastore/.."), std::string("/datastore/../x"),
        std::string("/datastore/-x"), std::string("/datastore/a b"), nul,
        std::string("/datastore/s/a/b/c/d/e/f/g/h"), std::string("/foo"),
        std::string("/access/acl/x"), std::string("/system/tasks/x"), std::string("/tape/x"),
        "/datastore/" + std::string(118, 'a')}) {
    EXPECT_FALSE(ValidateAclPath(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateAclPath("/datastore/" + std::string(117, 'a')).ok());
  EXPECT_EQ(JoinAclPath(SplitAclPath("/a/b")), "/a/b");
  EXPECT_EQ(JoinAclPath(SplitAclPath("/")), "/");
  EXPECT_EQ(JoinAclPath(NamespaceAclPath("s1", *BackupNamespace::Parse("dev/web"))),
            "/datastore/s1/dev/web");
}

TEST(AclTest, PropagationAndReplacement) {
  auto tree = AclTree::Parse(
      "acl:1:/datastore:user1@pbs:Admin\n"
      "acl:1:/datastore/store1:user1@pbs:DatastoreBackup\n"
      "acl:1:/datastore/store2:user2@pbs:DatastoreBackup\n"
      "acl:0:/datastore/store3:user2@pbs:DatastoreReader\n");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/"), "");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore"), "Admin");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore/store1"), "DatastoreBackup");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore/store2"), "Admin");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore/store2/ns"), "Admin");
  EXPECT_EQ(RolesAt(*tree, "user2@pbs", "/datastore"), "");
  EXPECT_EQ(RolesAt(*tree, "user2@pbs", "/datastore/store2/ns/deep"), "DatastoreBackup");
  // A non-propagating role holds at its node only.
  EXPECT_EQ(RolesAt(*tree, "user2@pbs", "/datastore/store3"), "DatastoreReader");
  EXPECT_EQ(RolesAt(*tree, "user2@pbs", "/datastore/store3/ns"), "");
  // Tokens have their own entries; their user's do not apply to them here.
  EXPECT_EQ(RolesAt(*tree, "user1@pbs!t", "/datastore"), "");
}

TEST(AclTest, NoAccess) {
  auto tree = AclTree::Parse(
      "acl:1:/:user1@pbs:Admin\n"
      "acl:1:/datastore:user1@pbs:NoAccess\n"
      "acl:1:/datastore/store1:user1@pbs:DatastoreBackup\n"
      "acl:0:/system:user1@pbs:NoAccess\n");
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/"), "Admin");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore"), "NoAccess");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore/store1"), "DatastoreBackup");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/datastore/store2"), "NoAccess");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/system"), "NoAccess");
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/system/tasks"), "Admin");  // not propagated
  EXPECT_EQ(RolesAt(*tree, "user1@pbs", "/access"), "Admin");
  EXPECT_TRUE(
      tree->AnyPrivsBelow(A("user1@pbs"), SplitAclPath("/datastore"), priv::kDatastoreBackup));
  EXPECT_FALSE(tree->AnyPrivsBelow(A("user1@pbs!t"), SplitAclPath("/"), UINT64_MAX));
}

TEST(AclTest, AddRemoveAndNoAccessOverwrite) {
  AclTree tree;
  const Authid u = A("user1@pbs");
  ASSERT_TRUE(tree.AddUserRole("/datastore", u, "Admin", true).ok());
  ASSERT_TRUE(tree.AddUserRole("/datastore", u, "Audit", true).ok());
  EXPECT_EQ(RolesAt(tree, "user1@pbs", "/datastore"), "Admin,Audit");
  ASSERT_TRUE(tree.AddUserRole("/datastore", u, "NoAccess", true).ok());
  EXPECT_EQ(RolesAt(tree, "user1@pbs", "/datastore"), "NoAccess");
  EXPECT_EQ(tree.Serialize(), "acl:1:/datastore:user1@pbs:NoAccess\n");
  ASSERT_TRUE(tree.AddUserRole("/datastore", u, "DatastoreAudit", false).ok());
  EXPECT_EQ(RolesAt(tree, "user1@pbs", "/datastore"), "DatastoreAudit");
  tree.RemoveUserRole("/datastore", u, "DatastoreAudit");
  tree.RemoveUserRole("/nowhere", u, "Admin");
  EXPECT_EQ(tree.Serialize(), "");
  EXPECT_FALSE(tree.AddUserRole("/datastore", u, "Superuser", true).ok());
  EXPECT_FALSE(tree.AddUserRole("/datastore/../etc", u, "Admin", true).ok());
  ASSERT_TRUE(tree.AddUserRole("/", A("user1@pbs!tok"), "Audit", true).ok());
  ASSERT_TRUE(tree.AddUserRole("/system", u, "Audit", true).ok());
  tree.RemoveAuthid(u);
  EXPECT_EQ(tree.Serialize(), "acl:1:/:user1@pbs!tok:Audit\n");
}

TEST(AclTest, SerializeGroupsLinesAsPbsAndRoundTrips) {
  const char* text =
      "acl:0:/datastore/store2:user1@pbs:Admin\n"
      "acl:0:/datastore/store2:user2@pbs:Admin\n"
      "acl:0:/datastore/store2:user1@pbs:DatastoreBackup\n"
      "acl:0:/datastore/store2:user2@pbs:DatastoreBackup\n"
      "acl:1:/:@admins:Audit\n"
      "acl:1:/:root@pam:Admin\n"
      "acl:1:/remote/r1: user3@pbs!t , user4@pam :RemoteAudit, RemoteSyncOperator\n";
  auto tree = AclTree::Parse(text);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  const std::string out = tree->Serialize();
  EXPECT_EQ(out,
            "acl:1:/:@admins:Audit\n"
            "acl:0:/datastore/store2:user1@pbs,user2@pbs:Admin,DatastoreBackup\n"
            "acl:1:/remote/r1:user3@pbs!t,user4@pam:RemoteAudit,RemoteSyncOperator\n");
  auto again = AclTree::Parse(out);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Serialize(), out);
  EXPECT_EQ(again->Entries().size(), 9u);
  EXPECT_EQ(again->Entries()[0], (AclEntry{"/", "admins", true, true, "Audit"}));
  EXPECT_EQ(again->NodePaths(),
            (std::vector<std::string>{"/datastore", "/datastore/store2", "/remote", "/remote/r1"}));
}

TEST(AclTest, MalformedLinesGiveClearErrors) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"acl:1:/:user1@pbs\n", "line 1: wrong number of items"},
      {"\nacl:2:/:user1@pbs:Admin\n", "line 2: expected '0' or '1'"},
      {"xyz:1:/:user1@pbs:Admin\n", "does not start with 'acl'"},
      {"acl:1:/nope:user1@pbs:Admin\n", "invalid acl path"},
      {"acl:1:/datastore/..:user1@pbs:Admin\n", "invalid acl path"},
      {"acl:1:/:user1:Admin\n", "no realm"},
      {"acl:1:/:user1@pbs:Wizard\n", "unknown role"},
      {"acl:1:/:user1@pbs,:Admin\n", "no realm"},
      {"acl:1:/:@:Admin\n", "invalid group name"},
      {"acl:1:/:user1@pbs:\n", "unknown role"},
  };
  for (const Case& c : cases) {
    auto tree = AclTree::Parse(c.text);
    ASSERT_FALSE(tree.ok()) << c.text;
    EXPECT_NE(tree.status().message().find(c.expect), std::string::npos)
        << tree.status().ToString();
  }
}

TEST(AclTest, ModifyAclConfigWritesAtomicallyWithDigestCheck) {
  testing::TempDir dir;
  Status st = ModifyAclConfig(dir.path(), "", [](AclTree& tree) {
    return tree.AddUserRole("/datastore/s1", *Authid::Parse("a@pbs"), "DatastoreBackup", true);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  struct stat info;
  ASSERT_EQ(::stat(dir.Sub("acl.cfg").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  auto loaded = AclTree::Load(dir.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Serialize(), "acl:1:/datastore/s1:a@pbs:DatastoreBackup\n");
  const std::string digest = loaded->digest();
  st = ModifyAclConfig(dir.path(), "0000", [](AclTree&) { return Status::OK(); });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  st = ModifyAclConfig(dir.path(), digest, [](AclTree& tree) {
    tree.RemoveUserRole("/datastore/s1", *Authid::Parse("a@pbs"), "DatastoreBackup");
    return Status::OK();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(AclTree::Load(dir.path())->Serialize(), "");
  // A failing change leaves the file alone.
  st = ModifyAclConfig(dir.path(), "", [](AclTree&) { return Status::Aborted("no"); });
  EXPECT_EQ(st.code(), Code::kAborted);
}

}  // namespace
}  // namespace cairn::server

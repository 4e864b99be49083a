#include "types/backup_names.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(NamesTest, NamespaceParseAndPaths) {
  auto ns = BackupNamespace::Parse("a/b.c/d-1");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->depth(), 3u);
  EXPECT_EQ(ns->ToString(), "a/b.c/d-1");
  EXPECT_EQ(ns->RelativePath(), "ns/a/ns/b.c/ns/d-1");
  EXPECT_EQ(ns->Parent().ToString(), "a/b.c");
  EXPECT_TRUE(ns->IsWithin(*BackupNamespace::Parse("a")));
  EXPECT_FALSE(BackupNamespace::Parse("a")->IsWithin(*ns));
  EXPECT_TRUE(BackupNamespace::Parse("")->IsRoot());
}

TEST(NamesTest, NamespaceLimits) {
  EXPECT_TRUE(BackupNamespace::Parse("1/2/3/4/5/6/7").ok());
  EXPECT_FALSE(BackupNamespace::Parse("1/2/3/4/5/6/7/8").ok());
  std::string long_ns(100, 'a');
  long_ns += "/" + std::string(100, 'b') + "/" + std::string(60, 'c');  // 262 chars
  EXPECT_FALSE(BackupNamespace::Parse(long_ns).ok());
}

TEST(NamesTest, HostileNamesAreRefused) {
  const std::string nul("a\0b", 3);
  for (const std::string& bad :
       {std::string(".."), std::string("."), std::string("a/../b"), std::string("/a"),
        std::string("a/"), std::string("a//b"), nul, std::string(300, 'x'), std::string(".hidden"),
        std::string("-dash"), std::string("a b")}) {
    EXPECT_FALSE(BackupNamespace::Parse(bad).ok()) << bad;
    EXPECT_FALSE(BackupGroup::Make(BackupType::kVm, bad).ok()) << bad;
  }
  EXPECT_FALSE(BackupGroup::Parse("vm/100/x").ok());
  EXPECT_FALSE(BackupGroup::Parse("disk/100").ok());
  EXPECT_FALSE(SnapshotRef::Parse("vm/100/../../etc").ok());
  EXPECT_FALSE(SnapshotRef::Parse("vm/100/2026-11-23T10:00:00").ok());
  EXPECT_FALSE(ValidateDatastoreName("ab").ok());
  EXPECT_FALSE(ValidateDatastoreName("../store").ok());
  EXPECT_TRUE(ValidateDatastoreName("store1").ok());
}

TEST(NamesTest, ErrorMessagesShowControlCharactersEscaped) {
  auto st = BackupGroup::Make(BackupType::kVm, std::string("a\0b", 3)).status();
  EXPECT_NE(st.message().find("a\\x00b"), std::string::npos) << st.message();
}

TEST(NamesTest, SnapshotRoundTrip) {
  auto snap = SnapshotRef::Parse("vm/100/2026-11-23T10:00:00Z");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->group.type, BackupType::kVm);
  EXPECT_EQ(snap->group.id, "100");
  EXPECT_EQ(snap->ToString(), "vm/100/2026-11-23T10:00:00Z");
  EXPECT_FALSE(SnapshotRef::Make(snap->group, 0).ok());
}

}  // namespace
}  // namespace cairn

// Random access to pxar archives through the GOODBYE tables.
#include "format/pxar/accessor.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "base/file_util.h"
#include "format/pxar/encoder.h"

namespace cairn::pxar {
namespace {

Metadata Meta(uint64_t mode) {
  Metadata m;
  m.stat.mode = mode;
  m.stat.mtime_secs = 1700000000;
  return m;
}

std::string Content(const std::string& path) {
  return "content of " + path + "\n";
}

// Writes a tree of 3 levels with many names per directory; returns every path and its kind.
std::map<std::string, EntryKind> WriteTree(Encoder& e) {
  std::map<std::string, EntryKind> paths;
  LinkOffset first{};
  for (int d = 0; d < 5; ++d) {
    std::string dir = "dir" + std::to_string(d);
    EXPECT_TRUE(e.OpenDirectory(dir, Meta(040755)).ok());
    paths[dir] = EntryKind::kDirectory;
    for (int f = 0; f < 37; ++f) {
      std::string path = dir + "/file" + std::to_string(f);
      auto link = e.AddFile("file" + std::to_string(f), Meta(0100644), AsBytes(Content(path)));
      EXPECT_TRUE(link.ok());
      if (d == 0 && f == 0) first = *link;
      paths[path] = EntryKind::kFile;
    }
    EXPECT_TRUE(e.OpenDirectory("sub", Meta(040700)).ok());
    paths[dir + "/sub"] = EntryKind::kDirectory;
    EXPECT_TRUE(e.AddSymlink("link", Meta(0120777), "../file1").ok());
    paths[dir + "/sub/link"] = EntryKind::kSymlink;
    EXPECT_TRUE(e.AddHardlink("hard", "dir0/file0", first).ok());
    paths[dir + "/sub/hard"] = EntryKind::kHardlink;
    EXPECT_TRUE(e.CloseDirectory().ok());
    EXPECT_TRUE(e.CloseDirectory().ok());
  }
  EXPECT_TRUE(e.AddSpecial("fifo", Meta(010600)).ok());
  paths["fifo"] = EntryKind::kFifo;
  EXPECT_TRUE(e.Finish().ok());
  return paths;
}

std::string ReadAll(ByteSource& source) {
  std::string out;
  char buf[100];
  for (;;) {
    auto n = source.Read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf), sizeof(buf)));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}

class PxarAccessorTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto e = Encoder::Create(&archive_, GetParam() ? &payload_ : nullptr, Meta(040755));
    ASSERT_TRUE(e.ok());
    paths_ = WriteTree(**e);
    a_ = std::make_unique<ByteViewRandomAccess>(archive_.bytes());
    p_ = std::make_unique<ByteViewRandomAccess>(payload_.bytes());
  }
  BytesSink archive_, payload_;
  std::map<std::string, EntryKind> paths_;
  std::unique_ptr<ByteViewRandomAccess> a_, p_;
};

TEST_P(PxarAccessorTest, LooksUpEveryPathAndReadsContents) {
  auto acc = Accessor::Open(a_.get(), GetParam() ? p_.get() : nullptr);
  ASSERT_TRUE(acc.ok()) << acc.status().ToString();
  for (const auto& [path, kind] : paths_) {
    auto e = (*acc)->Lookup(path);
    ASSERT_TRUE(e.ok()) << path << ": " << e.status().ToString();
    EXPECT_EQ(e->path, path);
    EXPECT_EQ(e->kind, kind) << path;
    if (kind == EntryKind::kFile) {
      auto content = (*acc)->OpenContent(*e);
      ASSERT_TRUE(content.ok()) << content.status().ToString();
      EXPECT_EQ(ReadAll(**content), Content(path));
    }
    if (kind == EntryKind::kHardlink) {
      auto target = (*acc)->ResolveHardlink(*e);
      ASSERT_TRUE(target.ok()) << target.status().ToString();
      EXPECT_EQ(target->path, "dir0/file0");
      EXPECT_EQ(ReadAll(**(*acc)->OpenContent(*target)), Content("dir0/file0"));
    }
  }
  EXPECT_TRUE((*acc)->Lookup("/dir3/file9/").ok());
  EXPECT_EQ((*acc)->Lookup("dir3/nope").status().code(), Code::kNotFound);
  EXPECT_EQ((*acc)->Lookup("nope").status().code(), Code::kNotFound);
  EXPECT_EQ((*acc)->Lookup("dir3/file9/x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ((*acc)->Lookup("").value().kind, EntryKind::kDirectory);
}

TEST_P(PxarAccessorTest, ListsChildrenInArchiveOrder) {
  auto acc = Accessor::Open(a_.get(), nullptr);
  ASSERT_TRUE(acc.ok());
  auto root = (*acc)->List((*acc)->root());
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  ASSERT_EQ(root->size(), 6u);
  EXPECT_EQ((*root)[0].path, "dir0");
  EXPECT_EQ((*root)[5].path, "fifo");
  auto dir = (*acc)->List((*root)[2]);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  ASSERT_EQ(dir->size(), 38u);
  EXPECT_EQ((*dir)[0].path, "dir2/file0");
  EXPECT_EQ((*dir)[37].path, "dir2/sub");
  EXPECT_EQ((*acc)->List((*dir)[0]).status().code(), Code::kInvalidArgument);
}

TEST_P(PxarAccessorTest, DamagedArchivesGiveErrorsNotCrashes) {
  std::mt19937 rng(7);
  size_t errors = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes damaged = archive_.bytes();
    size_t at = rng() % damaged.size();
    if (i % 2) at = damaged.size() - 1 - rng() % std::min<size_t>(damaged.size(), 600);
    damaged[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    ByteViewRandomAccess a(damaged);
    auto acc = Accessor::Open(&a, GetParam() ? p_.get() : nullptr);
    if (!acc.ok()) {
      ++errors;
      continue;
    }
    for (const char* path : {"dir4/sub/hard", "dir1/file36", "fifo"}) {
      auto e = (*acc)->Lookup(path);
      if (!e.ok()) {
        ++errors;
        continue;
      }
      if (e->kind == EntryKind::kFile) {
        auto c = (*acc)->OpenContent(*e);
        if (c.ok()) ReadAll(**c);
      }
    }
  }
  EXPECT_GT(errors, 100u);
  ByteViewRandomAccess truncated(ByteView(archive_.bytes()).first(archive_.bytes().size() - 1));
  EXPECT_FALSE(Accessor::Open(&truncated, nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(Layouts, PxarAccessorTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Split" : "Unified"; });

TEST(PxarAccessorFixtureTest, FindsFilesInPbsArchives) {
  auto bytes = ReadFile(std::string(CAIRN_SOURCE_DIR) +
                        "/tests/testdata/pxar/backup-client-pxar-expected.mpxar");
  ASSERT_TRUE(bytes.ok());
  ByteViewRandomAccess a(*bytes);
  auto acc = Accessor::Open(&a, nullptr);
  ASSERT_TRUE(acc.ok()) << acc.status().ToString();
  auto e = (*acc)->Lookup("folder_3/file_7");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*e->payload_offset, 32 + 37 * (16 + (1u << 20)));
  EXPECT_EQ(e->file_size, 1u << 20);
  auto root = (*acc)->List((*acc)->root());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->size(), 10u);
}

}  // namespace
}  // namespace cairn::pxar

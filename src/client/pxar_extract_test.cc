// Extraction of hostile archives: nothing is ever written outside the target, through a symlink,
// or over an existing file; bad content leaves no partial file.
#include "client/pxar_extract.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file_util.h"
#include "format/pxar/encoder.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

pxar::Metadata Meta(uint64_t mode) {
  pxar::Metadata m;
  m.stat.mode = mode;
  m.stat.uid = ::geteuid();
  m.stat.gid = ::getegid();
  m.stat.mtime_secs = 1700000000;
  return m;
}

Result<ExtractStats> Extract(ByteView archive, const std::string& target,
                             const std::string& subtree = "") {
  ByteViewSource source(archive);
  CAIRN_ASSIGN_OR_RETURN(auto decoder, pxar::Decoder::Open(&source, nullptr));
  ExtractOptions options;
  options.subtree = subtree;
  return ExtractArchive(*decoder, target, options);
}

class PxarExtractTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_.Sub("outside")); }
  bool OutsideIsEmpty() { return fs::is_empty(dir_.Sub("outside")); }
  testing::TempDir dir_;
};

TEST_F(PxarExtractTest, AFileIsNeverWrittenThroughASymlink) {
  // A symlink "x" pointing outside, then a directory of the same name with a file in it: a
  // naive extractor would follow "x" and write outside/f.
  BytesSink archive;
  auto e = pxar::Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->AddSymlink("x", Meta(0120777), dir_.Sub("outside")).ok());
  ASSERT_TRUE((*e)->OpenDirectory("x", Meta(040755)).ok());
  ASSERT_TRUE((*e)->AddFile("f", Meta(0100644), AsBytes(std::string_view("evil"))).ok());
  ASSERT_TRUE((*e)->CloseDirectory().ok());
  ASSERT_TRUE((*e)->Finish().ok());
  auto r = Extract(archive.bytes(), dir_.Sub("target"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(PxarExtractTest, ADuplicateNameNeverReplacesAFile) {
  BytesSink archive;
  auto e = pxar::Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->AddFile("a", Meta(0100644), AsBytes(std::string_view("first"))).ok());
  ASSERT_TRUE((*e)->AddSymlink("a", Meta(0120777), dir_.Sub("outside/b")).ok());
  ASSERT_TRUE((*e)->Finish().ok());
  auto r = Extract(archive.bytes(), dir_.Sub("target"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*ReadFile(dir_.Sub("target/a")), (Bytes{'f', 'i', 'r', 's', 't'}));
  EXPECT_TRUE(OutsideIsEmpty());
}

TEST_F(PxarExtractTest, HardLinksOnlyReachFilesThisRestoreCreated) {
  // "link" claims to be a hard link to "s/passwd", where "s" is a symlink to the outside.
  fs::create_directories(dir_.Sub("outside"));
  BytesSink archive;
  auto e = pxar::Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  auto real = (*e)->AddFile("real", Meta(0100644), AsBytes(std::string_view("x")));
  ASSERT_TRUE(real.ok());
  ASSERT_TRUE((*e)->AddSymlink("s", Meta(0120777), dir_.Sub("outside")).ok());
  ASSERT_TRUE((*e)->AddHardlink("link", "s/passwd", *real).ok());
  ASSERT_TRUE((*e)->Finish().ok());
  testing::WriteTestFile(dir_.Sub("outside/passwd"), AsBytes(std::string_view("secret")));
  auto r = Extract(archive.bytes(), dir_.Sub("target"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_FALSE(fs::exists(dir_.Sub("target/link")));
  struct stat st;
  ASSERT_EQ(::stat(dir_.Sub("outside/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(PxarExtractTest, TruncatedContentLeavesNoPartialFile) {
  BytesSink archive;
  auto e = pxar::Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->AddFile("ok", Meta(0100644), AsBytes(std::string_view("fine"))).ok());
  Bytes big = testing::RandomBytes(100000, 1);
  ASSERT_TRUE((*e)->AddFile("big", Meta(0100644), big).ok());
  ASSERT_TRUE((*e)->Finish().ok());
  // Cut the archive in the middle of big's content.
  ByteView cut = ByteView(archive.bytes()).first(archive.bytes().size() - 60000);
  auto r = Extract(cut, dir_.Sub("target"));
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("big"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_.Sub("target/ok")));
  EXPECT_FALSE(fs::exists(dir_.Sub("target/big")));
}

TEST_F(PxarExtractTest, ASubtreeLandsBelowTheTarget) {
  BytesSink archive;
  auto e = pxar::Encoder::Create(&archive, nullptr, Meta(040755));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->OpenDirectory("etc", Meta(040755)).ok());
  ASSERT_TRUE((*e)->AddFile("hosts", Meta(0100644), AsBytes(std::string_view("h"))).ok());
  ASSERT_TRUE((*e)->AddFile("passwd", Meta(0100644), AsBytes(std::string_view("p"))).ok());
  ASSERT_TRUE((*e)->CloseDirectory().ok());
  ASSERT_TRUE((*e)->AddFile("other", Meta(0100644), AsBytes(std::string_view("o"))).ok());
  ASSERT_TRUE((*e)->Finish().ok());
  auto r = Extract(archive.bytes(), dir_.Sub("one"), "etc/hosts");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 1u);
  EXPECT_TRUE(fs::exists(dir_.Sub("one/hosts")));
  EXPECT_FALSE(fs::exists(dir_.Sub("one/passwd")));
  r = Extract(archive.bytes(), dir_.Sub("two"), "etc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(fs::exists(dir_.Sub("two/etc/passwd")));
  EXPECT_FALSE(fs::exists(dir_.Sub("two/other")));
}

}  // namespace
}  // namespace cairn

#include "format/pxar/catalog.h"

#include <gtest/gtest.h>

#include <random>

#include "base/hex.h"

namespace cairn {
namespace {

std::string Hex(const std::string& s) {
  return HexEncode(AsBytes(s));
}

TEST(CatalogVarintTest, MatchesTheSpecVectors) {
  const std::pair<uint64_t, const char*> unsigned_cases[] = {{0, "00"},
                                                             {127, "7f"},
                                                             {128, "8001"},
                                                             {300, "ac02"},
                                                             {16384, "808001"},
                                                             {1430487000, "d8ff8daa05"},
                                                             {UINT64_MAX, "ffffffffffffffffff01"}};
  for (const auto& [v, hex] : unsigned_cases) {
    std::string out;
    AppendCatalogU64(out, v);
    EXPECT_EQ(Hex(out), hex) << v;
    size_t pos = 0;
    EXPECT_EQ(*ReadCatalogU64(out, &pos), v);
    EXPECT_EQ(pos, out.size());
  }
  const std::pair<int64_t, const char*> signed_cases[] = {{0, "00"},
                                                          {-1, "8100"},
                                                          {-64, "c000"},
                                                          {-127, "ff00"},
                                                          {-128, "808100"},
                                                          {-305112600, "98ccbe918100"},
                                                          {INT64_MIN,
                                                           "808080808080808080810"
                                                           "0"},
                                                          {INT64_MAX, "ffffffffffffffff7f"},
                                                          {1430487000, "d8ff8daa05"}};
  for (const auto& [v, hex] : signed_cases) {
    std::string out;
    AppendCatalogI64(out, v);
    EXPECT_EQ(Hex(out), hex) << v;
    size_t pos = 0;
    auto back = ReadCatalogI64(out, &pos);
    ASSERT_TRUE(back.ok()) << v << ": " << back.status().ToString();
    EXPECT_EQ(*back, v);
    EXPECT_EQ(pos, out.size());
  }
  size_t pos = 0;
  EXPECT_FALSE(ReadCatalogU64(std::string("\x80\x80", 2), &pos).ok());
  pos = 0;
  EXPECT_FALSE(ReadCatalogU64(std::string(11, '\xff'), &pos).ok());
}

// A worked example, computed by hand from the format (not made by PBS): 70 bytes for an archive
// with a file, a subdirectory with a symlink, and a hard link.
TEST(CatalogTest, WritesTheSpecExampleAndReadsItBack) {
  BytesSink sink;
  auto w = CatalogWriter::Create(&sink);
  ASSERT_TRUE(w.ok());
  (*w)->StartDirectory("root.pxar.didx");
  (*w)->AddFile("a.txt", 5, 1430487000);
  (*w)->StartDirectory("sub");
  (*w)->AddEntry(CatalogType::kSymlink, "link");
  ASSERT_TRUE((*w)->EndDirectory().ok());
  (*w)->AddEntry(CatalogType::kHardlink, "hard");
  ASSERT_TRUE((*w)->EndDirectory().ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ(HexEncode(sink.bytes()),
            "91fd60f9c46758d5"
            "07016c046c696e6b"
            "1a03"
            "660561"
            "2e747874"
            "05d8ff8daa05"
            "6403737562"
            "08"
            "680468617264"
            "1201640e726f6f742e707861722e64696478"
            "1b"
            "2b00000000000000");

  ByteViewRandomAccess source(sink.bytes());
  auto r = CatalogReader::Open(&source);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto root = (*r)->List((*r)->root());
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->size(), 1u);
  EXPECT_EQ((*root)[0].name, "root.pxar.didx");
  auto archive = (*r)->List((*root)[0].block_offset);
  ASSERT_TRUE(archive.ok());
  ASSERT_EQ(archive->size(), 3u);
  EXPECT_EQ((*archive)[0].size, 5u);
  EXPECT_EQ((*archive)[0].mtime, 1430487000);
  auto link = (*r)->Lookup("root.pxar.didx/sub/link");
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->type, CatalogType::kSymlink);
  EXPECT_EQ((*r)->Lookup("root.pxar.didx/nope").status().code(), Code::kNotFound);
}

TEST(CatalogTest, DamagedCatalogsGiveErrorsNotCrashes) {
  BytesSink sink;
  auto w = CatalogWriter::Create(&sink);
  ASSERT_TRUE(w.ok());
  (*w)->StartDirectory("root.pxar.didx");
  for (int d = 0; d < 20; ++d) {
    (*w)->StartDirectory("d" + std::to_string(d));
    for (int f = 0; f < 20; ++f) (*w)->AddFile("f" + std::to_string(f), f * 1000, -f);
    ASSERT_TRUE((*w)->EndDirectory().ok());
  }
  ASSERT_TRUE((*w)->EndDirectory().ok());
  ASSERT_TRUE((*w)->Finish().ok());
  std::mt19937 rng(3);
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes damaged = sink.bytes();
    damaged[rng() % damaged.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    ByteViewRandomAccess source(damaged);
    auto r = CatalogReader::Open(&source);
    if (!r.ok()) {
      ++errors;
      continue;
    }
    errors += !(*r)->Lookup("root.pxar.didx/d7/f19").ok();
    errors += !(*r)->Lookup("root.pxar.didx/d19/f0").ok();
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace cairn

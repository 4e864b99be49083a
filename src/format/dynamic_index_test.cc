#include "format/dynamic_index.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

namespace cairn {
namespace {

constexpr const char* kName = "host/web/2026-01-01T00:00:00Z/root.pxar.didx";

Digest D(uint8_t fill) {
  Digest d;
  d.fill(fill);
  return d;
}

IndexUuid TestUuid() {
  IndexUuid u;
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(0xa0 + i);
  return u;
}

Result<DynamicIndexBuilder::Output> Build(const std::vector<uint64_t>& lengths) {
  CAIRN_ASSIGN_OR_RETURN(DynamicIndexBuilder b, DynamicIndexBuilder::Create());
  b.set_uuid(TestUuid());
  b.set_ctime(-5);  // negative ctimes are stored as two's complement
  for (size_t i = 0; i < lengths.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(b.Append(lengths[i], D(static_cast<uint8_t>(i + 1))));
  }
  return b.Finish();
}

void ExpectCorruption(ByteView data, const std::string& why) {
  auto r = DynamicIndex::Parse(data, kName);
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_EQ(r.status().code(), Code::kCorruption) << why << ": " << r.status().ToString();
  EXPECT_NE(r.status().message().find(kName), std::string::npos) << r.status().ToString();
}

// Rewrites the csum from the entries, so a test isolates the check it means.
void FixCsum(Bytes* f) {
  std::vector<DynamicIndexEntry> entries;
  for (size_t off = 4096; off + 40 <= f->size(); off += 40) {
    DynamicIndexEntry e;
    e.end = GetLE64(f->data() + off);
    std::memcpy(e.digest.data(), f->data() + off + 8, 32);
    entries.push_back(e);
  }
  Digest csum = DynamicIndexCsum(entries);
  std::memcpy(f->data() + 32, csum.data(), 32);
}

TEST(DynamicIndexTest, MatchesHandBuiltLayoutByteByByte) {
  // Chunks of 100, 4194304 and 805596 bytes: ends 100 (0x64), 4194404 (0x400064),
  // 5000000 (0x4c4b40).
  Bytes expected(4096, 0);
  const uint8_t magic[8] = {0x1c, 0x91, 0x4e, 0xa5, 0x19, 0xba, 0xb3, 0xcd};
  std::memcpy(&expected[0], magic, 8);
  IndexUuid uuid = TestUuid();
  std::memcpy(&expected[8], uuid.data(), 16);
  const uint8_t ctime_le[8] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // -5
  std::memcpy(&expected[24], ctime_le, 8);
  const uint8_t ends_le[3][8] = {{0x64, 0, 0, 0, 0, 0, 0, 0},
                                 {0x64, 0x00, 0x40, 0, 0, 0, 0, 0},
                                 {0x40, 0x4b, 0x4c, 0, 0, 0, 0, 0}};
  Bytes body;
  for (int i = 0; i < 3; ++i) {
    body.insert(body.end(), ends_le[i], ends_le[i] + 8);
    Digest d = D(static_cast<uint8_t>(i + 1));
    body.insert(body.end(), d.begin(), d.end());
  }
  Digest csum = Sha256Of(body);  // SHA256(end1_le || digest1 || end2_le || digest2 || ...)
  std::memcpy(&expected[32], csum.data(), 32);
  expected.insert(expected.end(), body.begin(), body.end());
  ASSERT_EQ(expected.size(), 4096u + 3 * 40);

  auto built = Build({100, 4194304, 805596});
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  ASSERT_EQ(built->bytes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(built->bytes[i], expected[i]) << "byte " << i;
  }
  EXPECT_EQ(built->csum, csum);

  auto index = DynamicIndex::Parse(expected, kName);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->ctime(), -5);
  EXPECT_EQ(index->uuid(), TestUuid());
  EXPECT_EQ(index->csum(), csum);
  EXPECT_EQ(index->size(), 5000000u);
  ASSERT_EQ(index->chunk_count(), 3u);
  EXPECT_EQ(index->digest(1), D(2));
  EXPECT_EQ(index->entries()[2].end, 5000000u);
  EXPECT_EQ(index->chunk_range(0), (ChunkRange{0, 100}));
  EXPECT_EQ(index->chunk_range(1), (ChunkRange{100, 4194404}));
  EXPECT_EQ(index->chunk_range(2), (ChunkRange{4194404, 5000000}));
  EXPECT_EQ(*index->ChunkAt(0), 0u);
  EXPECT_EQ(*index->ChunkAt(99), 0u);
  EXPECT_EQ(*index->ChunkAt(100), 1u);
  EXPECT_EQ(*index->ChunkAt(4194403), 1u);
  EXPECT_EQ(*index->ChunkAt(4194404), 2u);
  EXPECT_EQ(*index->ChunkAt(4999999), 2u);
  EXPECT_EQ(index->ChunkAt(5000000).status().code(), Code::kInvalidArgument);
}

TEST(DynamicIndexTest, EmptyIndex) {
  auto built = Build({});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->bytes.size(), 4096u);
  EXPECT_EQ(DigestToHex(built->csum),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto index = DynamicIndex::Parse(built->bytes, kName);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->chunk_count(), 0u);
  EXPECT_FALSE(index->ChunkAt(0).ok());
}

TEST(DynamicIndexTest, ChunkAtAgreesWithLinearScan) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> lengths;
  for (int i = 0; i < 1000; ++i) lengths.push_back(1 + rng() % 5000);
  auto built = Build(lengths);
  ASSERT_TRUE(built.ok());
  auto index = DynamicIndex::Parse(built->bytes, kName);
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->chunk_count(), 1000u);
  for (int t = 0; t < 2000; ++t) {
    uint64_t off = rng() % index->size();
    size_t expected = 0;
    while (index->chunk_range(expected).end <= off) ++expected;
    ASSERT_EQ(*index->ChunkAt(off), expected) << off;
    ChunkRange r = index->chunk_range(expected);
    ASSERT_TRUE(r.start <= off && off < r.end);
  }
}

TEST(DynamicIndexTest, BuilderRejectsBadInput) {
  auto b = DynamicIndexBuilder::Create();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Append(0, D(1)).code(), Code::kInvalidArgument);
  EXPECT_TRUE(b->Append(std::numeric_limits<uint64_t>::max() - 1, D(1)).ok());
  EXPECT_TRUE(b->Append(1, D(2)).ok());
  EXPECT_EQ(b->Append(1, D(3)).code(), Code::kInvalidArgument);  // would overflow
  EXPECT_EQ(b->chunk_count(), 2u);
  EXPECT_EQ(b->size(), std::numeric_limits<uint64_t>::max());
  auto index = DynamicIndex::Parse(b->Finish().bytes, kName);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index->ChunkAt(std::numeric_limits<uint64_t>::max() - 1), 1u);
}

TEST(DynamicIndexTest, RejectsBadMagic) {
  auto built = Build({10, 20});
  ASSERT_TRUE(built.ok());
  for (size_t i = 0; i < 8; ++i) {
    Bytes f = built->bytes;
    f[i] ^= 0x40;
    ExpectCorruption(f, "magic byte " + std::to_string(i));
  }
  Bytes f = built->bytes;
  const uint8_t fidx_magic[8] = {0x2f, 0x7f, 0x41, 0xed, 0x91, 0xfd, 0x0f, 0xcd};
  std::memcpy(f.data(), fidx_magic, 8);
  ExpectCorruption(f, "fidx magic");
}

TEST(DynamicIndexTest, RejectsTruncationAndWrongLength) {
  auto built = Build({10, 20, 30});
  ASSERT_TRUE(built.ok());
  const Bytes& f = built->bytes;
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, size_t{24}, size_t{32}, size_t{63},
                     size_t{64}, size_t{4095}}) {
    ExpectCorruption(ByteView(f.data(), len), "truncated to " + std::to_string(len));
  }
  // Cut inside an entry: never a multiple of 40.
  for (size_t cut = 1; cut < 40; ++cut) {
    ExpectCorruption(ByteView(f.data(), f.size() - cut), "cut " + std::to_string(cut));
    Bytes longer = f;
    longer.resize(f.size() + cut, 0);
    ExpectCorruption(longer, "extra " + std::to_string(cut));
  }
  // Cut at an entry boundary: the length is fine but the csum no longer matches.
  ExpectCorruption(ByteView(f.data(), f.size() - 40), "one entry dropped");
  ExpectCorruption(ByteView(f.data(), 4096), "all entries dropped");
}

TEST(DynamicIndexTest, RejectsEmptyOrBackwardChunks) {
  auto built = Build({10, 20, 30});  // ends 10, 30, 60
  ASSERT_TRUE(built.ok());
  struct Case {
    size_t entry;
    uint64_t end;
    const char* why;
  } cases[] = {
      {0, 0, "first chunk empty"},       {1, 10, "equal to previous"},    {1, 9, "before previous"},
      {2, 30, "last equal to previous"}, {2, 29, "last before previous"}, {1, 61, "after the next"},
  };
  for (const Case& c : cases) {
    Bytes f = built->bytes;
    PutLE64(f.data() + 4096 + 40 * c.entry, c.end);
    FixCsum(&f);  // only the ordering check can fail
    ExpectCorruption(f, c.why);
  }
  Bytes f = built->bytes;
  FixCsum(&f);
  EXPECT_TRUE(DynamicIndex::Parse(f, kName).ok());
}

TEST(DynamicIndexTest, RejectsBadCsum) {
  auto built = Build({10, 20});
  ASSERT_TRUE(built.ok());
  Bytes f = built->bytes;
  f[63] ^= 0x01;
  ExpectCorruption(f, "flipped csum");
  f = built->bytes;
  f[4096 + 40 + 8] ^= 0x01;  // second digest
  ExpectCorruption(f, "flipped digest");
  f = built->bytes;
  PutLE64(f.data() + 4096 + 40, 31);  // second end, still increasing
  ExpectCorruption(f, "changed end offset");
  auto empty = Build({});
  ASSERT_TRUE(empty.ok());
  f = empty->bytes;
  std::memset(f.data() + 32, 0, 32);
  ExpectCorruption(f, "empty index, zero csum");
}

}  // namespace
}  // namespace cairn

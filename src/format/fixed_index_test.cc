#include "format/fixed_index.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "base/file_util.h"

namespace cairn {
namespace {

constexpr uint64_t k4MiB = 4u << 20;
constexpr const char* kName = "vm/100/2026-01-01T00:00:00Z/drive-scsi0.img.fidx";

Digest D(uint8_t fill) {
  Digest d;
  d.fill(fill);
  return d;
}

IndexUuid TestUuid() {
  IndexUuid u;
  for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(0x10 + i);
  return u;
}

// A .fidx written out by hand, field by field, from the layout in
// docs/format-index-and-manifest.md (not from our code).
Bytes HandBuiltFidx(const uint8_t size_le[8], const uint8_t chunk_size_le[8],
                    const std::vector<Digest>& digests) {
  Bytes f(4096, 0);
  const uint8_t magic[8] = {0x2f, 0x7f, 0x41, 0xed, 0x91, 0xfd, 0x0f, 0xcd};
  std::memcpy(&f[0], magic, 8);
  IndexUuid uuid = TestUuid();
  std::memcpy(&f[8], uuid.data(), 16);
  const uint8_t ctime_le[8] = {0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00};  // 1700000000
  std::memcpy(&f[24], ctime_le, 8);
  Bytes concat;
  for (const Digest& d : digests) concat.insert(concat.end(), d.begin(), d.end());
  Digest csum = Sha256Of(concat);  // SHA256(digest1 || digest2 || ...)
  std::memcpy(&f[32], csum.data(), 32);
  std::memcpy(&f[64], size_le, 8);
  std::memcpy(&f[72], chunk_size_le, 8);
  f.insert(f.end(), concat.begin(), concat.end());
  return f;
}

Result<FixedIndexBuilder::Output> BuildAppending(uint64_t chunk_size,
                                                 const std::vector<uint64_t>& lengths) {
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder b, FixedIndexBuilder::Create(chunk_size));
  b.set_uuid(TestUuid());
  b.set_ctime(1700000000);
  for (size_t i = 0; i < lengths.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(b.Append(D(static_cast<uint8_t>(i + 1)), lengths[i]));
  }
  return b.Finish();
}

void ExpectCorruption(ByteView data, const std::string& why) {
  auto r = FixedIndex::Parse(data, kName);
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_EQ(r.status().code(), Code::kCorruption) << why << ": " << r.status().ToString();
  EXPECT_NE(r.status().message().find(kName), std::string::npos) << r.status().ToString();
}

// Rewrites the header csum so a test reaches the check after it.
void FixCsum(Bytes* f) {
  size_t n = (f->size() - 4096) / 32;
  std::vector<Digest> digests(n);
  if (n > 0) std::memcpy(digests.data(), f->data() + 4096, n * 32);
  Digest csum = FixedIndexCsum(digests);
  std::memcpy(f->data() + 32, csum.data(), 32);
}

TEST(FixedIndexTest, MatchesHandBuiltLayoutByteByByte) {
  // size = 2 * 4 MiB + 1000 = 0x8003e8, chunk size 4 MiB = 0x400000: three chunks, last short.
  const uint8_t size_le[8] = {0xe8, 0x03, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00};
  const uint8_t cs_le[8] = {0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00};
  Bytes expected = HandBuiltFidx(size_le, cs_le, {D(1), D(2), D(3)});
  ASSERT_EQ(expected.size(), 4096u + 3 * 32);

  auto built = BuildAppending(k4MiB, {k4MiB, k4MiB, 1000});
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  ASSERT_EQ(built->bytes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(built->bytes[i], expected[i]) << "byte " << i;
  }
  EXPECT_EQ(0, std::memcmp(built->csum.data(), &expected[32], 32));

  auto index = FixedIndex::Parse(expected, kName);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->size(), 2 * k4MiB + 1000);
  EXPECT_EQ(index->chunk_size(), k4MiB);
  EXPECT_EQ(index->ctime(), 1700000000);
  EXPECT_EQ(index->uuid(), TestUuid());
  EXPECT_EQ(index->csum(), built->csum);
  ASSERT_EQ(index->chunk_count(), 3u);
  EXPECT_EQ(index->digest(0), D(1));
  EXPECT_EQ(index->digest(2), D(3));
  EXPECT_EQ(index->chunk_range(0), (ChunkRange{0, k4MiB}));
  EXPECT_EQ(index->chunk_range(1), (ChunkRange{k4MiB, 2 * k4MiB}));
  EXPECT_EQ(index->chunk_range(2), (ChunkRange{2 * k4MiB, 2 * k4MiB + 1000}));
  EXPECT_EQ(index->chunk_range(2).length(), 1000u);
  EXPECT_EQ(*index->ChunkAt(0), 0u);
  EXPECT_EQ(*index->ChunkAt(k4MiB - 1), 0u);
  EXPECT_EQ(*index->ChunkAt(k4MiB), 1u);
  EXPECT_EQ(*index->ChunkAt(2 * k4MiB + 999), 2u);
  EXPECT_EQ(index->ChunkAt(2 * k4MiB + 1000).status().code(), Code::kInvalidArgument);
}

TEST(FixedIndexTest, EmptyImage) {
  auto built = BuildAppending(k4MiB, {});
  ASSERT_TRUE(built.ok());
  ASSERT_EQ(built->bytes.size(), 4096u);
  // SHA-256 of nothing.
  EXPECT_EQ(DigestToHex(built->csum),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto index = FixedIndex::Parse(built->bytes, kName);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->chunk_count(), 0u);
  EXPECT_FALSE(index->ChunkAt(0).ok());

  auto known = FixedIndexBuilder::CreateWithSize(0, k4MiB);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(known->chunk_count(), 0u);
  auto out = known->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->csum, built->csum);
}

TEST(FixedIndexTest, ExactMultipleAndTinyChunks) {
  auto built = BuildAppending(4096, {4096, 4096});
  ASSERT_TRUE(built.ok());
  auto index = FixedIndex::Parse(built->bytes, kName);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), 8192u);
  EXPECT_EQ(index->chunk_range(1), (ChunkRange{4096, 8192}));

  // chunk size 1 is a power of two too.
  built = BuildAppending(1, {1, 1, 1});
  ASSERT_TRUE(built.ok());
  index = FixedIndex::Parse(built->bytes, kName);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->chunk_count(), 3u);
  EXPECT_EQ(*index->ChunkAt(2), 2u);
}

TEST(FixedIndexTest, KnownSizeFilledOutOfOrder) {
  auto b = FixedIndexBuilder::CreateWithSize(2 * k4MiB + 1, k4MiB);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->chunk_count(), 3u);
  b->set_uuid(TestUuid());
  b->set_ctime(1700000000);
  EXPECT_TRUE(b->SetDigest(2, D(3)).ok());
  EXPECT_TRUE(b->SetDigest(0, D(1)).ok());
  auto incomplete = b->Finish();
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.status().code(), Code::kInvalidArgument);
  EXPECT_NE(incomplete.status().message().find("chunk 1"), std::string::npos);
  EXPECT_EQ(b->SetDigest(3, D(9)).code(), Code::kInvalidArgument);
  EXPECT_TRUE(b->SetDigest(1, D(2)).ok());
  auto out = b->Finish();
  ASSERT_TRUE(out.ok());

  auto appended = BuildAppending(k4MiB, {k4MiB, k4MiB, 1});
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(out->bytes, appended->bytes);
  EXPECT_EQ(out->csum, FixedIndexCsum(std::vector<Digest>{D(1), D(2), D(3)}));
}

TEST(FixedIndexTest, KnownSizeAppendChecksLengths) {
  auto b = FixedIndexBuilder::CreateWithSize(k4MiB + 10, k4MiB);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Append(D(1), 10).code(), Code::kInvalidArgument);  // first must be full
  EXPECT_TRUE(b->Append(D(1), k4MiB).ok());
  EXPECT_EQ(b->Append(D(2), k4MiB).code(), Code::kInvalidArgument);  // last is 10 bytes
  EXPECT_TRUE(b->Append(D(2), 10).ok());
  EXPECT_EQ(b->Append(D(3), 10).code(), Code::kInvalidArgument);  // full
  EXPECT_TRUE(b->Finish().ok());
}

TEST(FixedIndexTest, BuilderRejectsBadInput) {
  for (uint64_t cs :
       {uint64_t{0}, uint64_t{3}, uint64_t{4194303}, uint64_t{4194305}, uint64_t{3} << 20}) {
    EXPECT_EQ(FixedIndexBuilder::Create(cs).status().code(), Code::kInvalidArgument) << cs;
    EXPECT_EQ(FixedIndexBuilder::CreateWithSize(100, cs).status().code(), Code::kInvalidArgument)
        << cs;
  }
  auto b = FixedIndexBuilder::Create(4096);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Append(D(1), 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(b->Append(D(1), 4097).code(), Code::kInvalidArgument);
  EXPECT_EQ(b->SetDigest(0, D(1)).code(), Code::kInvalidArgument);  // size unknown
  EXPECT_TRUE(b->Append(D(1), 100).ok());
  EXPECT_EQ(b->Append(D(2), 4096).code(), Code::kInvalidArgument);  // after a short chunk
  EXPECT_EQ(b->size(), 100u);
  // Too many chunks for memory is refused, not attempted.
  EXPECT_EQ(
      FixedIndexBuilder::CreateWithSize(std::numeric_limits<uint64_t>::max(), 1).status().code(),
      Code::kInvalidArgument);
}

TEST(FixedIndexTest, RejectsBadMagic) {
  auto built = BuildAppending(k4MiB, {k4MiB, 5});
  ASSERT_TRUE(built.ok());
  for (size_t i = 0; i < 8; ++i) {
    Bytes f = built->bytes;
    f[i] ^= 0x01;
    ExpectCorruption(f, "magic byte " + std::to_string(i));
  }
  // A dynamic index is not a fixed index.
  Bytes f = built->bytes;
  const uint8_t didx_magic[8] = {0x1c, 0x91, 0x4e, 0xa5, 0x19, 0xba, 0xb3, 0xcd};
  std::memcpy(f.data(), didx_magic, 8);
  ExpectCorruption(f, "didx magic");
}

TEST(FixedIndexTest, RejectsTruncationAtEveryInterestingLength) {
  auto built = BuildAppending(k4MiB, {k4MiB, k4MiB, 7});
  ASSERT_TRUE(built.ok());
  const Bytes& f = built->bytes;
  for (size_t len :
       {size_t{0},    size_t{1},        size_t{7},         size_t{8},         size_t{23},
        size_t{24},   size_t{31},       size_t{32},        size_t{63},        size_t{64},
        size_t{71},   size_t{72},       size_t{79},        size_t{80},        size_t{4095},
        size_t{4096}, size_t{4096 + 1}, size_t{4096 + 31}, size_t{4096 + 32}, size_t{4096 + 64},
        f.size() - 1}) {
    ExpectCorruption(ByteView(f.data(), len), "truncated to " + std::to_string(len));
  }
  EXPECT_TRUE(FixedIndex::Parse(f, kName).ok());
}

TEST(FixedIndexTest, RejectsWrongLength) {
  auto built = BuildAppending(k4MiB, {k4MiB, 7});
  ASSERT_TRUE(built.ok());
  for (size_t extra : {1u, 31u, 32u, 33u, 64u}) {
    Bytes f = built->bytes;
    f.resize(f.size() + extra, 0);
    ExpectCorruption(f, "extra " + std::to_string(extra));
  }
  // A size field that implies another chunk count: 3 chunks announced, 2 present.
  Bytes f = built->bytes;
  PutLE64(f.data() + 64, 2 * k4MiB + 1);
  ExpectCorruption(f, "size implies 3 chunks");
  // Size 0 with digests present.
  f = built->bytes;
  PutLE64(f.data() + 64, 0);
  ExpectCorruption(f, "size 0 with digests");
  // A size so large that 32 * n would overflow.
  f = built->bytes;
  PutLE64(f.data() + 64, std::numeric_limits<uint64_t>::max());
  PutLE64(f.data() + 72, 1);
  ExpectCorruption(f, "overflowing chunk count");
}

TEST(FixedIndexTest, RejectsNonPowerOfTwoChunkSize) {
  auto built = BuildAppending(k4MiB, {k4MiB, 7});
  ASSERT_TRUE(built.ok());
  for (uint64_t cs : {uint64_t{0}, uint64_t{3}, uint64_t{4194303}, uint64_t{4194305},
                      uint64_t{6} << 20, std::numeric_limits<uint64_t>::max()}) {
    Bytes f = built->bytes;
    PutLE64(f.data() + 72, cs);
    ExpectCorruption(f, "chunk size " + std::to_string(cs));
  }
}

// Regression (found by fuzz/fixed_index_fuzzer, input fuzz/regressions/fixed_index/
// chunk-range-overflow): size 2^64 - 1 with chunk size 2^63 has two chunks whose entries and
// checksum were valid, but the second one's end wrapped around to 0, so chunk_range() gave it
// a negative length. Such an index is now refused.
TEST(FixedIndexTest, RejectsSizesWhoseChunksCannotBeAddressed) {
  auto built = BuildAppending(k4MiB, {k4MiB, 7});
  ASSERT_TRUE(built.ok());
  Bytes f = built->bytes;
  PutLE64(f.data() + 64, std::numeric_limits<uint64_t>::max());
  PutLE64(f.data() + 72, uint64_t{1} << 63);
  FixCsum(&f);
  ExpectCorruption(f, "chunk end beyond 2^64");
  auto fuzzed = ReadFile(std::string(CAIRN_SOURCE_DIR) +
                         "/fuzz/regressions/fixed_index/chunk-range-overflow");
  ASSERT_TRUE(fuzzed.ok());
  ExpectCorruption(*fuzzed, "the fuzzer's input");
}

TEST(FixedIndexTest, RejectsBadCsum) {
  auto built = BuildAppending(k4MiB, {k4MiB, 7});
  ASSERT_TRUE(built.ok());
  Bytes f = built->bytes;
  f[32] ^= 0x80;
  ExpectCorruption(f, "flipped csum");
  f = built->bytes;
  f[4096 + 40] ^= 0x01;  // a digest byte
  ExpectCorruption(f, "flipped digest");
  FixCsum(&f);
  EXPECT_TRUE(FixedIndex::Parse(f, kName).ok());
  // Empty index with a zero csum.
  auto empty = BuildAppending(k4MiB, {});
  ASSERT_TRUE(empty.ok());
  f = empty->bytes;
  std::memset(f.data() + 32, 0, 32);
  ExpectCorruption(f, "empty index, zero csum");
}

TEST(FixedIndexTest, ReservedBytesAreIgnored) {
  auto built = BuildAppending(k4MiB, {k4MiB});
  ASSERT_TRUE(built.ok());
  Bytes f = built->bytes;
  f[80] = 0xff;
  f[4095] = 0xff;
  EXPECT_TRUE(FixedIndex::Parse(f, kName).ok());
}

TEST(FixedIndexTest, GeneratedUuidsAreRandomVersion4) {
  auto a = GenerateIndexUuid();
  auto b = GenerateIndexUuid();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ((*a)[6] & 0xf0, 0x40);
  EXPECT_EQ((*a)[8] & 0xc0, 0x80);
  auto b1 = FixedIndexBuilder::Create(k4MiB);
  auto b2 = FixedIndexBuilder::Create(k4MiB);
  ASSERT_TRUE(b1.ok() && b2.ok());
  auto o1 = b1->Finish();
  auto o2 = b2->Finish();
  EXPECT_NE(0, std::memcmp(o1->bytes.data() + 8, o2->bytes.data() + 8, 16));
}

}  // namespace
}  // namespace cairn

#include "format/chunker.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "testing/test_util.h"

namespace cairn {
namespace {

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * 1024;

// ---- Input generators, the same as the oracle harness that produced the vectors ----

// PBS's test_chunker1 pattern: a little-endian u32 counter.
Bytes CounterBytes(size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>((i / 4) >> (8 * (i % 4)));
  return out;
}

// Four symbols: two bits of entropy per byte.
Bytes LowEntropyBytes(size_t size, uint64_t seed) {
  Bytes out = testing::RandomBytes(size, seed);
  for (uint8_t& b : out) b = "ACGT"[b & 3];
  return out;
}

Bytes PeriodicBytes(size_t size, uint64_t seed, size_t period) {
  Bytes pattern = testing::RandomBytes(period, seed);
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = pattern[i % period];
  return out;
}

uint64_t Fnv1a64(ByteView data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : data) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

// casync's table, from PBS's chunker.rs. Kept apart from chunker.cc's copy on purpose: a typo in
// either shows up as a mismatch against the PBS vectors or between the two implementations.
constexpr uint32_t kTable[256] = {
    0x458be752, 0xc10748cc, 0xfbbcdbb8, 0x6ded5b68, 0xb10a82b5, 0x20d75648, 0xdfc5665f, 0xa8428801,
    0x7ebf5191, 0x841135c7, 0x65cc53b3, 0x280a597c, 0x16f60255, 0xc78cbc3e, 0x294415f5, 0xb938d494,
    0xec85c4e6, 0xb7d33edc, 0xe549b544, 0xfdeda5aa, 0x882bf287, 0x3116737c, 0x05569956, 0xe8cc1f68,
    0x0806ac5e, 0x22a14443, 0x15297e10, 0x50d090e7, 0x4ba60f6f, 0xefd9f1a7, 0x5c5c885c, 0x82482f93,
    0x9bfd7c64, 0x0b3e7276, 0xf2688e77, 0x8fad8abc, 0xb0509568, 0xf1ada29f, 0xa53efdfe, 0xcb2b1d00,
    0xf2a9e986, 0x6463432b, 0x95094051, 0x5a223ad2, 0x9be8401b, 0x61e579cb, 0x1a556a14, 0x5840fdc2,
    0x9261ddf6, 0xcde002bb, 0x52432bb0, 0xbf17373e, 0x7b7c222f, 0x2955ed16, 0x9f10ca59, 0xe840c4c9,
    0xccabd806, 0x14543f34, 0x1462417a, 0x0d4a1f9c, 0x087ed925, 0xd7f8f24c, 0x7338c425, 0xcf86c8f5,
    0xb19165cd, 0x9891c393, 0x325384ac, 0x0308459d, 0x86141d7e, 0xc922116a, 0xe2ffa6b6, 0x53f52aed,
    0x2cd86197, 0xf5b9f498, 0xbf319c8f, 0xe0411fae, 0x977eb18c, 0xd8770976, 0x9833466a, 0xc674df7f,
    0x8c297d45, 0x8ca48d26, 0xc49ed8e2, 0x7344f874, 0x556f79c7, 0x6b25eaed, 0xa03e2b42, 0xf68f66a4,
    0x8e8b09a2, 0xf2e0e62a, 0x0d3a9806, 0x9729e493, 0x8c72b0fc, 0x160b94f6, 0x450e4d3d, 0x7a320e85,
    0xbef8f0e1, 0x21d73653, 0x4e3d977a, 0x1e7b3929, 0x1cc6c719, 0xbe478d53, 0x8d752809, 0xe6d8c2c6,
    0x275f0892, 0xc8acc273, 0x4cc21580, 0xecc4a617, 0xf5f7be70, 0xe795248a, 0x375a2fe9, 0x425570b6,
    0x8898dcf8, 0xdc2d97c4, 0x0106114b, 0x364dc22f, 0x1e0cad1f, 0xbe63803c, 0x5f69fac2, 0x4d5afa6f,
    0x1bc0dfb5, 0xfb273589, 0x0ea47f7b, 0x3c1c2b50, 0x21b2a932, 0x6b1223fd, 0x2fe706a8, 0xf9bd6ce2,
    0xa268e64e, 0xe987f486, 0x3eacf563, 0x1ca2018c, 0x65e18228, 0x2207360a, 0x57cf1715, 0x34c37d2b,
    0x1f8f3cde, 0x93b657cf, 0x31a019fd, 0xe69eb729, 0x8bca7b9b, 0x4c9d5bed, 0x277ebeaf, 0xe0d8f8ae,
    0xd150821c, 0x31381871, 0xafc3f1b0, 0x927db328, 0xe95effac, 0x305a47bd, 0x426ba35b, 0x1233af3f,
    0x686a5b83, 0x50e072e5, 0xd9d3bb2a, 0x8befc475, 0x487f0de6, 0xc88dff89, 0xbd664d5e, 0x971b5d18,
    0x63b14847, 0xd7d3c1ce, 0x7f583cf3, 0x72cbcb09, 0xc0d0a81c, 0x7fa3429b, 0xe9158a1b, 0x225ea19a,
    0xd8ca9ea3, 0xc763b282, 0xbb0c6341, 0x020b8293, 0xd4cd299d, 0x58cfa7f8, 0x91b4ee53, 0x37e4d140,
    0x95ec764c, 0x30f76b06, 0x5ee68d24, 0x679c8661, 0xa41979c2, 0xf2b61284, 0x4fac1475, 0x0adb49f9,
    0x19727a23, 0x15a7e374, 0xc43a18d5, 0x3fb1aa73, 0x342fc615, 0x924c0793, 0xbee2d7f0, 0x8a279de9,
    0x4aa2d70c, 0xe24dd37f, 0xbe862c0b, 0x177c22c2, 0x5388e5ee, 0xcd8a7510, 0xf901b4fd, 0xdbc13dbc,
    0x6c0bae5b, 0x64efe8c7, 0x48b02079, 0x80331a49, 0xca3d8ae6, 0xf3546190, 0xfed7108b, 0xc49b941b,
    0x32baf4a9, 0xeb833a4a, 0x88a3f1a5, 0x3a91ce0a, 0x3cc27da1, 0x7112e684, 0x4a3096b1, 0x3794574c,
    0xa3c8b6f3, 0x1d213941, 0x6e0a2e00, 0x233479f1, 0x0f4cd82f, 0x6093edd2, 0x5d7d209e, 0x464fe319,
    0xd4dcac9e, 0x0db845cb, 0xfb5e4bc3, 0xe0256ce1, 0x09fb4ed1, 0x0914be1e, 0xa5bdb2c3, 0xc6eb57bb,
    0x30320350, 0x3f397e91, 0xa67791bc, 0x86bc0e2c, 0xefa0a7e2, 0xe9ff7543, 0xe733612c, 0xd185897b,
    0x329e5388, 0x91dd236b, 0x2ecb0d93, 0xf4d82a3d, 0x35b5c03f, 0xe4e606f0, 0x05b21843, 0x37b45964,
    0x5eff22f4, 0x6027f4cc, 0x77178b3c, 0xae507131, 0x7bf7cabc, 0xf9c18d66, 0x593ade65, 0xd95ddf11,
};
// ---- Reference: a line-by-line transliteration of PBS's Chunker::scan (no skipping) ----

class ReferenceChunker {
 public:
  explicit ReferenceChunker(size_t avg)
      : min_(avg / 4), max_(avg * 4), mask_(static_cast<uint32_t>(avg * 2 - 1)) {}

  size_t Scan(ByteView data) {
    size_t pos = 0;
    if (window_size_ < 64) {
      size_t copy = std::min(64 - window_size_, data.size());
      for (size_t i = 0; i < copy; ++i) {
        window_[window_size_++] = data[pos];
        h_ = std::rotl(h_, 1) ^ Table(data[pos++]);
      }
      chunk_size_ += copy;
      if (window_size_ < 64) return 0;
    }
    size_t idx = chunk_size_ & 63;
    while (pos < data.size()) {
      uint8_t enter = data[pos];
      h_ = std::rotl(h_, 1) ^ Table(window_[idx]) ^ Table(enter);
      ++chunk_size_;
      ++pos;
      window_[idx] = enter;
      if (chunk_size_ >= max_ || (chunk_size_ >= min_ && (h_ & mask_) >= mask_ - 2)) {
        h_ = 0;
        chunk_size_ = 0;
        window_size_ = 0;
        return pos;
      }
      idx = chunk_size_ & 63;
    }
    return 0;
  }

 private:
  static uint32_t Table(uint8_t b) { return kTable[b]; }

  size_t min_, max_;
  uint32_t mask_;
  uint32_t h_ = 0;
  size_t window_size_ = 0;
  size_t chunk_size_ = 0;
  uint8_t window_[64] = {};
};

std::vector<uint64_t> ReferenceEnds(size_t avg, ByteView data) {
  ReferenceChunker chunker(avg);
  std::vector<uint64_t> ends;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t k = chunker.Scan(data.subspan(pos));
    if (k == 0) break;
    pos += k;
    ends.push_back(pos);
  }
  if (pos < data.size()) ends.push_back(data.size());
  return ends;
}

// ---- Feeding helpers ----

// Feeds `data` in pieces of random length in [1, max_piece] (small pieces favoured), the way a
// reader loop does: after a cut the rest of the piece is scanned again.
std::vector<uint64_t> EndsInPieces(Chunker& chunker, ByteView data, size_t max_piece,
                                   uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> ends;
  chunker.Reset();
  size_t pos = 0;
  while (pos < data.size()) {
    size_t limit = (rng() % 4 == 0) ? 200 : max_piece;  // a quarter of the pieces are tiny
    size_t len = std::min<size_t>(1 + rng() % limit, data.size() - pos);
    ByteView piece = data.subspan(pos, len);
    while (!piece.empty()) {
      size_t k = chunker.Scan(piece);
      if (k == 0) break;
      EXPECT_LE(k, piece.size());
      ends.push_back(pos + (len - piece.size()) + k);
      piece = piece.subspan(k);
    }
    pos += len;
  }
  if (ends.empty() ? !data.empty() : ends.back() != data.size()) ends.push_back(data.size());
  return ends;
}

std::vector<uint64_t> EndsByteByByte(Chunker& chunker, ByteView data) {
  std::vector<uint64_t> ends;
  chunker.Reset();
  for (size_t i = 0; i < data.size(); ++i) {
    size_t k = chunker.Scan(data.subspan(i, 1));
    if (k != 0) {
      EXPECT_EQ(k, 1u);
      ends.push_back(i + 1);
    }
  }
  if (ends.empty() ? !data.empty() : ends.back() != data.size()) ends.push_back(data.size());
  return ends;
}

// ---- FixedChunker ----

TEST(FixedChunkerTest, AcceptsPowersOfTwoFrom64KiBTo4MiB) {
  for (uint64_t size = 64 * KiB; size <= 4 * MiB; size *= 2) {
    EXPECT_TRUE(FixedChunker::ValidateChunkSize(size).ok()) << size;
    auto chunker = FixedChunker::Create(size);
    ASSERT_TRUE(chunker.ok());
    EXPECT_EQ(chunker->chunk_size(), size);
  }
  EXPECT_EQ(FixedChunker().chunk_size(), 4 * MiB);
}

TEST(FixedChunkerTest, RejectsOtherSizes) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, 32 * KiB, 8 * MiB, 3 * 64 * KiB, uint64_t{100000},
                        4 * MiB + 1, uint64_t{1} << 40}) {
    Status s = FixedChunker::ValidateChunkSize(size);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << size;
    EXPECT_NE(s.message().find(std::to_string(size)), std::string::npos) << s.ToString();
    EXPECT_EQ(FixedChunker::Create(size).status().code(), Code::kInvalidArgument);
  }
}

TEST(FixedChunkerTest, CountsChunks) {
  FixedChunker chunker = *FixedChunker::Create(64 * KiB);
  EXPECT_EQ(chunker.ChunkCount(0), 0u);
  EXPECT_EQ(chunker.ChunkCount(1), 1u);
  EXPECT_EQ(chunker.ChunkCount(64 * KiB), 1u);
  EXPECT_EQ(chunker.ChunkCount(64 * KiB + 1), 2u);
  EXPECT_EQ(FixedChunker().ChunkCount(uint64_t{1} << 40), uint64_t{1} << 18);
}

TEST(FixedChunkerTest, CutsEveryChunkSizeBytesHoweverFed) {
  FixedChunker chunker = *FixedChunker::Create(64 * KiB);
  Bytes data = testing::RandomBytes(5 * 64 * KiB + 123, 7);
  std::vector<uint64_t> want;
  for (uint64_t end = 64 * KiB; end < data.size(); end += 64 * KiB) want.push_back(end);
  want.push_back(data.size());
  EXPECT_EQ(ChunkEnds(chunker, data), want);
  EXPECT_EQ(EndsInPieces(chunker, data, 100 * KiB, 1), want);
  EXPECT_EQ(EndsByteByByte(chunker, data), want);
  // Exact multiple: no empty trailing chunk.
  EXPECT_EQ(ChunkEnds(chunker, ByteView(data).first(128 * KiB)),
            (std::vector<uint64_t>{64 * KiB, 128 * KiB}));
  EXPECT_TRUE(ChunkEnds(chunker, ByteView()).empty());
  EXPECT_EQ(chunker.Scan(ByteView()), 0u);
}

TEST(FixedChunkerTest, ResetStartsANewChunk) {
  FixedChunker chunker = *FixedChunker::Create(64 * KiB);
  Bytes data(64 * KiB);
  EXPECT_EQ(chunker.Scan(ByteView(data).first(1000)), 0u);
  chunker.Reset();
  EXPECT_EQ(chunker.Scan(data), 64 * KiB);
}

// ---- BuzhashChunker: parameters ----

TEST(BuzhashChunkerTest, DerivesPbsParameters) {
  BuzhashChunker def;
  EXPECT_EQ(def.avg_size(), 4 * MiB);
  EXPECT_EQ(def.min_size(), 1 * MiB);
  EXPECT_EQ(def.max_size(), 16 * MiB);
  auto catalog = BuzhashChunker::Create(BuzhashChunker::kCatalogAvgSize);
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->min_size(), 128 * KiB);
  EXPECT_EQ(catalog->max_size(), 2 * MiB);
}

TEST(BuzhashChunkerTest, RejectsNonPowerOfTwoAndOutOfRange) {
  for (size_t avg :
       {size_t{0}, size_t{3}, size_t{32}, 3 * MiB, 4 * MiB + 1, size_t{100000}, size_t{2} << 30}) {
    Status s = BuzhashChunker::ValidateAvgSize(avg);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << avg;
    EXPECT_NE(s.message().find(std::to_string(avg)), std::string::npos) << s.ToString();
    EXPECT_EQ(BuzhashChunker::Create(avg).status().code(), Code::kInvalidArgument);
  }
  for (size_t avg = 64; avg <= (size_t{1} << 30); avg *= 2) {
    EXPECT_TRUE(BuzhashChunker::ValidateAvgSize(avg).ok()) << avg;
  }
}

// ---- BuzhashChunker: PBS oracle vectors ----

struct Vector {
  std::string name;
  std::string generator;
  size_t size = 0;
  uint64_t seed = 0;
  size_t period = 0;
  size_t avg = 0;
  uint64_t input_fnv1a64 = 0;
  std::vector<uint64_t> boundaries;
};

std::vector<Vector> LoadVectors() {
  std::string path = std::string(CAIRN_SOURCE_DIR) + "/tests/testdata/buzhash_vectors.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<Vector> out;
  for (const auto& c : doc.at("cases")) {
    Vector v;
    v.name = c.at("name");
    v.generator = c.at("generator");
    v.size = c.at("size");
    v.seed = c.at("seed");
    v.period = c.at("period");
    v.avg = c.at("avg");
    v.input_fnv1a64 = std::stoull(c.at("input_fnv1a64").get<std::string>(), nullptr, 16);
    v.boundaries = c.at("boundaries").get<std::vector<uint64_t>>();
    out.push_back(std::move(v));
  }
  return out;
}

Bytes Generate(const Vector& v) {
  if (v.generator == "random") return testing::RandomBytes(v.size, v.seed);
  if (v.generator == "counter") return CounterBytes(v.size);
  if (v.generator == "zeros") return Bytes(v.size, 0);
  if (v.generator == "lowentropy") return LowEntropyBytes(v.size, v.seed);
  if (v.generator == "periodic") return PeriodicBytes(v.size, v.seed, v.period);
  ADD_FAILURE() << "unknown generator " << v.generator;
  return {};
}

TEST(BuzhashChunkerTest, ReproducesPbsVectors) {
  std::vector<Vector> vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 15u);
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.name);
    Bytes data = Generate(v);
    // Same input bytes as the oracle saw (proves the generator port).
    ASSERT_EQ(Fnv1a64(data), v.input_fnv1a64);
    std::vector<uint64_t> want = v.boundaries;
    if (want.empty() || want.back() != data.size()) want.push_back(data.size());

    auto chunker = BuzhashChunker::Create(v.avg);
    ASSERT_TRUE(chunker.ok());
    EXPECT_EQ(ChunkEnds(*chunker, data), want) << "whole buffer";
    EXPECT_EQ(EndsInPieces(*chunker, data, 3 * v.avg, v.seed + 100), want) << "random pieces";
    EXPECT_EQ(EndsInPieces(*chunker, data, 100, v.seed + 200), want) << "small pieces";
    if (data.size() <= 8 * MiB) {
      EXPECT_EQ(EndsByteByByte(*chunker, data), want) << "byte by byte";
    }
  }
}

// The vectors include PBS's own test_chunker1 input (1 MiB counter, avg 64 KiB).
TEST(BuzhashChunkerTest, VectorsCoverPbsUnitTestInput) {
  bool found = false;
  for (const Vector& v : LoadVectors()) {
    found |= v.generator == "counter" && v.size == 1 * MiB && v.avg == 64 * KiB;
  }
  EXPECT_TRUE(found);
}

// ---- BuzhashChunker: against the transliterated reference on more inputs ----

TEST(BuzhashChunkerTest, MatchesReferenceOnManyInputs) {
  for (size_t avg : {size_t{64}, size_t{128}, size_t{256}, 4 * KiB, 16 * KiB}) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      SCOPED_TRACE("avg " + std::to_string(avg) + " seed " + std::to_string(seed));
      size_t size = std::min<size_t>(avg * 64, 2 * MiB) + seed * 977;
      for (const Bytes& data : {testing::RandomBytes(size, seed), LowEntropyBytes(size, seed),
                                PeriodicBytes(size, seed, 61 + 700 * seed), Bytes(size, 0x5a)}) {
        std::vector<uint64_t> want = ReferenceEnds(avg, data);
        BuzhashChunker chunker = *BuzhashChunker::Create(avg);
        EXPECT_EQ(ChunkEnds(chunker, data), want);
        EXPECT_EQ(EndsInPieces(chunker, data, 2 * avg, seed), want);
        EXPECT_EQ(EndsInPieces(chunker, data, 70, seed), want);
        EXPECT_EQ(EndsByteByByte(chunker, data), want);
      }
    }
  }
}

// The skip-ahead must still test the very first length PBS tests (min): search short random
// inputs for chunks cut exactly at min and check each against the reference.
TEST(BuzhashChunkerTest, CutsExactlyAtMinLikePbs) {
  constexpr size_t kAvg = 1024;  // min 256
  BuzhashChunker chunker = *BuzhashChunker::Create(kAvg);
  int at_min = 0;
  for (uint64_t seed = 1; seed < 50000 && at_min < 5; ++seed) {
    Bytes data = testing::RandomBytes(300, seed);
    std::vector<uint64_t> want = ReferenceEnds(kAvg, data);
    ASSERT_EQ(ChunkEnds(chunker, data), want) << seed;
    ASSERT_EQ(EndsByteByByte(chunker, data), want) << seed;
    if (want.front() == chunker.min_size()) ++at_min;
  }
  EXPECT_EQ(at_min, 5);
}

TEST(BuzhashChunkerTest, ChunkLengthsStayWithinMinAndMax) {
  BuzhashChunker chunker = *BuzhashChunker::Create(64 * KiB);
  Bytes data = testing::RandomBytes(16 * MiB, 42);
  std::vector<uint64_t> ends = ChunkEnds(chunker, data);
  ASSERT_GT(ends.size(), 100u);
  uint64_t start = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    uint64_t len = ends[i] - start;
    EXPECT_LE(len, chunker.max_size());
    if (i + 1 < ends.size()) {
      EXPECT_GE(len, chunker.min_size());
    }
    start = ends[i];
  }
  // Average near avg (expected about min + 2*avg/3 for random data).
  double mean = static_cast<double>(data.size()) / static_cast<double>(ends.size());
  EXPECT_GT(mean, 0.6 * 64 * KiB);
  EXPECT_LT(mean, 1.4 * 64 * KiB);
}

TEST(BuzhashChunkerTest, ResetDropsTheCurrentChunk) {
  Bytes data = testing::RandomBytes(2 * MiB, 9);
  BuzhashChunker chunker = *BuzhashChunker::Create(64 * KiB);
  std::vector<uint64_t> fresh = ChunkEnds(chunker, data);
  // Scan unrelated bytes partway into a chunk (past min, so the window is live), then Reset.
  Bytes junk = testing::RandomBytes(1 * MiB, 10);
  ByteView before_cut = ByteView(junk).first(ChunkEnds(chunker, junk)[0] - 1);
  ASSERT_GT(before_cut.size(), chunker.min_size());
  ASSERT_EQ(chunker.Scan(before_cut), 0u);
  chunker.Reset();
  size_t pos = 0;
  std::vector<uint64_t> ends;
  while (size_t k = chunker.Scan(ByteView(data).subspan(pos))) {
    pos += k;
    ends.push_back(pos);
  }
  ends.push_back(data.size());
  EXPECT_EQ(ends, fresh);
}

// Inserting bytes only changes the chunks near the insertion: the point of content-defined
// chunking.
TEST(BuzhashChunkerTest, InsertionResynchronizes) {
  Bytes data = testing::RandomBytes(8 * MiB, 11);
  Bytes edited = data;
  edited.insert(edited.begin() + 3 * MiB, 1000, 0x42);
  BuzhashChunker chunker = *BuzhashChunker::Create(64 * KiB);
  std::vector<uint64_t> a = ChunkEnds(chunker, data);
  std::vector<uint64_t> b = ChunkEnds(chunker, edited);
  size_t shared_after = 0;
  for (uint64_t end : a) {
    if (end > 4 * MiB && std::find(b.begin(), b.end(), end + 1000) != b.end()) ++shared_after;
  }
  size_t after = std::count_if(a.begin(), a.end(), [](uint64_t e) { return e > 4 * MiB; });
  EXPECT_EQ(shared_after, after);
}

}  // namespace
}  // namespace cairn

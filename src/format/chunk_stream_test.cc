#include "format/chunk_stream.h"

#include <gtest/gtest.h>

#include <random>

namespace cairn {
namespace {

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

std::vector<size_t> ChunkSizes(ByteView data, size_t piece, std::vector<size_t> suggest_at = {},
                               size_t min = 0) {
  auto chunker = BuzhashChunker::Create(4096);
  EXPECT_TRUE(chunker.ok());
  std::vector<size_t> sizes;
  ChunkStream stream(*chunker, [&](Bytes chunk) {
    sizes.push_back(chunk.size());
    return Status::OK();
  });
  size_t pos = 0;
  for (size_t next : suggest_at) {
    for (; pos < next; pos += std::min(piece, next - pos)) {
      EXPECT_TRUE(stream.Write(data.subspan(pos, std::min(piece, next - pos))).ok());
    }
    EXPECT_TRUE(stream.CutIfAtLeast(min).ok());
  }
  for (; pos < data.size(); pos += std::min(piece, data.size() - pos)) {
    EXPECT_TRUE(stream.Write(data.subspan(pos, std::min(piece, data.size() - pos))).ok());
  }
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_EQ(stream.position(), data.size());
  return sizes;
}

TEST(ChunkStreamTest, CutsDoNotDependOnHowWritesAreSplit) {
  Bytes data = RandomBytes(300000, 1);
  std::vector<size_t> whole = ChunkSizes(data, data.size());
  EXPECT_GT(whole.size(), 20u);
  EXPECT_EQ(ChunkSizes(data, 1), whole);
  EXPECT_EQ(ChunkSizes(data, 4095), whole);
  size_t total = 0;
  for (size_t s : whole) total += s;
  EXPECT_EQ(total, data.size());
}

TEST(ChunkStreamTest, SuggestedBoundariesCutOnlyLongEnoughChunks) {
  Bytes zeros(100000, 0);  // buzhash never cuts zeros below max (16 KiB here)
  // Suggestions at 500 (too early for min 1024), 3000 (cut), 3500 (too early), 9000 (cut).
  std::vector<size_t> sizes = ChunkSizes(zeros, 777, {500, 3000, 3500, 9000}, 1024);
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 3000u);
  EXPECT_EQ(sizes[1], 6000u);
  EXPECT_EQ(sizes[2], 16384u);  // max chunk (4 * avg)
}

TEST(ChunkStreamTest, AnErrorFromTheConsumerStopsTheStream) {
  auto chunker = BuzhashChunker::Create(64);
  ASSERT_TRUE(chunker.ok());
  ChunkStream stream(*chunker, [](Bytes) { return Status::IOError("disk full"); });
  Bytes data = RandomBytes(10000, 2);
  Status s = stream.Write(data);
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_EQ(stream.Write(data).code(), Code::kIOError);
  EXPECT_EQ(stream.Finish().code(), Code::kIOError);
}

}  // namespace
}  // namespace cairn

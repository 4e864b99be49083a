#include "server/protocol/index_writers.h"

#include <gtest/gtest.h>

#include "format/digest.h"

namespace cairn::server {
namespace {

constexpr uint64_t kChunk = 4u << 20;

Digest D(uint8_t n) {
  Digest d{};
  d.fill(n);
  return d;
}

TEST(DynamicIndexWriterTest, AppendsInOrderAndClosesWithMatchingFigures) {
  auto writer = DynamicIndexWriter::Create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Append(0, D(1), 100).ok());
  ASSERT_TRUE(writer->Append(100, D(2), 50).ok());
  std::vector<DynamicIndexEntry> entries = {{100, D(1)}, {150, D(2)}};
  Digest csum = DynamicIndexCsum(entries);

  auto bytes = writer->Close(2, 150, csum);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto index = DynamicIndex::Parse(*bytes, "x.didx");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->chunk_count(), 2u);
  EXPECT_EQ(index->size(), 150u);
  EXPECT_EQ(index->csum(), csum);

  EXPECT_NE(writer->Close(3, 150, csum).status().message().find("unexpected chunk count"),
            std::string::npos);
  EXPECT_NE(writer->Close(2, 151, csum).status().message().find("unexpected file size"),
            std::string::npos);
  EXPECT_NE(writer->Close(2, 150, D(9)).status().message().find("unexpected checksum"),
            std::string::npos);
}

TEST(DynamicIndexWriterTest, AnAppendOutOfOrderIsRefused) {
  auto writer = DynamicIndexWriter::Create();
  ASSERT_TRUE(writer->Append(0, D(1), 100).ok());
  Status gap = writer->Append(101, D(2), 10);
  EXPECT_EQ(gap.code(), Code::kInvalidArgument);
  EXPECT_NE(gap.message().find("strange chunk offset (101 != 100)"), std::string::npos);
  EXPECT_FALSE(writer->Append(0, D(2), 10).ok());  // a rewind too
  EXPECT_FALSE(writer->Append(100, D(2), 0).ok());
  EXPECT_EQ(writer->chunk_count(), 1u);
}

TEST(FixedIndexWriterTest, AnnouncedSizeTakesAppendsInAnyOrderAndRewrites) {
  uint64_t size = 2 * kChunk + 10;
  auto writer = FixedIndexWriter::Create(size, kChunk);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Append(2 * kChunk, D(3), 10).ok());
  ASSERT_TRUE(writer->Append(0, D(9), kChunk).ok());
  ASSERT_TRUE(writer->Append(kChunk, D(2), kChunk).ok());
  ASSERT_TRUE(writer->Append(0, D(1), kChunk).ok());  // slot 0 again
  std::vector<Digest> digests = {D(1), D(2), D(3)};
  Digest csum = FixedIndexCsum(digests);
  // Four appends, three slots: PBS counts appends, and a non-incremental close also wants
  // the slot count, so a rewritten slot makes the close fail as in PBS.
  EXPECT_FALSE(writer->Close(4, size, csum).ok());

  auto fresh = FixedIndexWriter::Create(size, kChunk);
  ASSERT_TRUE(fresh->Append(kChunk, D(2), kChunk).ok());
  ASSERT_TRUE(fresh->Append(2 * kChunk, D(3), 10).ok());
  ASSERT_TRUE(fresh->Append(0, D(1), kChunk).ok());
  auto bytes = fresh->Close(3, size, csum);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto index = FixedIndex::Parse(*bytes, "x.fidx");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), size);
  EXPECT_EQ(index->digest(0), D(1));
  EXPECT_EQ(index->digest(2), D(3));
  EXPECT_EQ(index->csum(), csum);
}

TEST(FixedIndexWriterTest, RefusesMisalignedShortAndOutOfRangeChunks) {
  auto writer = FixedIndexWriter::Create(2 * kChunk, kChunk);
  EXPECT_FALSE(writer->Append(1, D(1), kChunk).ok());                        // not aligned
  EXPECT_FALSE(writer->Append(0, D(1), kChunk - 1).ok());                    // short, not the end
  EXPECT_FALSE(writer->Append(2 * kChunk, D(1), kChunk).ok());               // past the end
  EXPECT_FALSE(writer->Append(0, D(1), kChunk + 1).ok());                    // longer than a chunk
  EXPECT_FALSE(writer->Append(0, D(1), 0).ok());                             // empty
  EXPECT_FALSE(writer->Append(UINT64_MAX - kChunk + 1, D(1), kChunk).ok());  // wraps
  EXPECT_FALSE(FixedIndexWriter::Create(0, kChunk).ok());
  EXPECT_FALSE(FixedIndexWriter::Create(10, 3).ok());
}

TEST(FixedIndexWriterTest, WithoutASizeTheIndexGrowsUntilAShortChunk) {
  auto writer = FixedIndexWriter::Create(std::nullopt, kChunk);
  ASSERT_TRUE(writer->Append(kChunk, D(2), kChunk).ok());
  ASSERT_TRUE(writer->Append(0, D(1), kChunk).ok());
  ASSERT_TRUE(writer->Append(2 * kChunk, D(3), 7).ok());
  EXPECT_EQ(writer->size(), 2 * kChunk + 7);
  EXPECT_FALSE(writer->Append(3 * kChunk, D(4), kChunk).ok());  // the short chunk ended it
  std::vector<Digest> digests = {D(1), D(2), D(3)};
  auto bytes = writer->Close(3, 2 * kChunk + 7, FixedIndexCsum(digests));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
}

TEST(FixedIndexWriterTest, ASlotNeverWrittenCannotBeClosed) {
  auto writer = FixedIndexWriter::Create(std::nullopt, kChunk);
  ASSERT_TRUE(writer->Append(kChunk, D(2), kChunk).ok());  // slot 0 is left out
  std::vector<Digest> digests = {Digest{}, D(2)};
  auto closed = writer->Close(1, 2 * kChunk, FixedIndexCsum(digests));
  ASSERT_FALSE(closed.ok());
}

// The story: a writer allocated room for every slot of the size the client announced, so one
// `POST fixed_index?size=2^48` cost the server 2 GiB before any chunk arrived, and a session may
// open 256 writers (found by the backup_session fuzzer). Memory now follows the appends: 256
// writers of the largest image, each with its last slot written, cost next to nothing (the old
// writers would have needed 256 x 2 GiB), and closing one that is not complete is refused.
TEST(FixedIndexWriterTest, AnAnnouncedHugeImageCostsNothingUntilItsChunksArrive) {
  const uint64_t huge = kMaxFixedIndexChunks * kChunk;
  std::vector<FixedIndexWriter> writers;
  for (int i = 0; i < 256; ++i) {
    auto writer = FixedIndexWriter::Create(huge, kChunk);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE(writer->Append(huge - kChunk, D(1), kChunk).ok());
    writers.push_back(std::move(writer).value());
  }
  auto closed = writers[0].Close(1, huge, Digest{});
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.status().message().find("unexpected chunk count"), std::string::npos)
      << closed.status().ToString();
}

TEST(FixedIndexWriterTest, AnIncrementalWriterRewritesOnlyChangedSlots) {
  auto base_writer = FixedIndexWriter::Create(3 * kChunk, kChunk);
  for (uint8_t i = 0; i < 3; ++i) ASSERT_TRUE(base_writer->Append(i * kChunk, D(i), kChunk).ok());
  std::vector<Digest> base_digests = {D(0), D(1), D(2)};
  auto base_bytes = base_writer->Close(3, 3 * kChunk, FixedIndexCsum(base_digests));
  ASSERT_TRUE(base_bytes.ok());
  auto base = FixedIndex::Parse(*base_bytes, "base.fidx");
  ASSERT_TRUE(base.ok());

  auto writer = FixedIndexWriter::CreateIncremental(*base, 3 * kChunk);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Append(kChunk, D(7), kChunk).ok());
  std::vector<Digest> digests = {D(0), D(7), D(2)};
  auto bytes = writer->Close(1, 3 * kChunk, FixedIndexCsum(digests));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(FixedIndex::Parse(*bytes, "x.fidx")->digest(1), D(7));
  EXPECT_FALSE(FixedIndexWriter::CreateIncremental(*base, 2 * kChunk).ok());
}

}  // namespace
}  // namespace cairn::server

#include "client/chunk_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "format/data_blob.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

using testing::RandomBytes;

// Chunks held in memory: the logic above the repository interface is what is tested here (the
// repositories themselves are tested on every backend by the restore tests).
class MemoryReader final : public SnapshotReader {
 public:
  MemoryReader() : ref_(*SnapshotRef::Make(*BackupGroup::Parse("host/test"), 1000)) {}

  void Put(const Digest& digest, Bytes encoded) { chunks_[digest] = std::move(encoded); }
  void Remove(const Digest& digest) { chunks_.erase(digest); }
  std::set<Digest> fetched() const {
    std::lock_guard lock(mu_);
    return fetched_;
  }

  const SnapshotRef& snapshot() const override { return ref_; }
  Result<Manifest> ReadManifest() override { return Status::NotFound("no manifest"); }
  Result<Bytes> ReadArchive(const std::string& filename) override {
    return Status::NotFound(filename);
  }
  Result<Bytes> ReadChunk(const Digest& digest) override {
    {
      std::lock_guard lock(mu_);
      fetched_.insert(digest);
    }
    auto it = chunks_.find(digest);
    if (it == chunks_.end())
      return Status::NotFound("chunk " + DigestToHex(digest) + " is missing");
    return it->second;
  }

 private:
  SnapshotRef ref_;
  std::map<Digest, Bytes> chunks_;  // written before any read
  mutable std::mutex mu_;
  std::set<Digest> fetched_;
};

// A stream of `count` chunks of varied sizes, stored in `reader`, and its index.
struct Stream {
  Bytes bytes;
  std::vector<Digest> digests;
  std::unique_ptr<DynamicIndex> index;
};

Stream MakeStream(MemoryReader& reader, size_t count) {
  Stream s;
  auto builder = *DynamicIndexBuilder::Create();
  for (size_t i = 0; i < count; ++i) {
    Bytes chunk = RandomBytes(1000 + 997 * (i % 7), 100 + i);
    const Digest digest = Sha256Of(chunk);
    reader.Put(digest, *EncodeBlob(chunk, nullptr, true));
    EXPECT_TRUE(builder.Append(chunk.size(), digest).ok());
    s.bytes.insert(s.bytes.end(), chunk.begin(), chunk.end());
    s.digests.push_back(digest);
  }
  s.index = std::make_unique<DynamicIndex>(*DynamicIndex::Parse(builder.Finish().bytes, "test"));
  return s;
}

Bytes ReadAll(ByteSource& source, size_t piece) {
  Bytes out;
  Bytes buf(piece);
  for (;;) {
    auto n = source.Read(buf);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*n));
  }
}

TEST(IndexSourceTest, ReadsTheStreamInOrderWhateverTheReadAheadAndReadSizes) {
  MemoryReader reader;
  Stream s = MakeStream(reader, 40);
  for (unsigned read_ahead : {1u, 2u, 5u, 64u}) {
    for (size_t piece : {size_t{1} << 20, size_t{777}, size_t{1}}) {
      IndexSource source(reader, *s.index, nullptr, read_ahead);
      EXPECT_EQ(ReadAll(source, piece), s.bytes) << read_ahead << " " << piece;
      EXPECT_EQ(source.chunks_read(), 40u);
    }
  }
}

TEST(IndexSourceTest, SkipPassesWholeChunksWithoutFetchingThem) {
  MemoryReader reader;
  Stream s = MakeStream(reader, 20);
  const uint64_t start = s.index->chunk_range(6).start + 10;
  IndexSource source(reader, *s.index, nullptr, 3);
  ASSERT_EQ(*source.Skip(start), start);
  EXPECT_EQ(ReadAll(source, 4096),
            Bytes(s.bytes.begin() + static_cast<ptrdiff_t>(start), s.bytes.end()));
  const std::set<Digest> fetched = reader.fetched();
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(fetched.count(s.digests[i]), 0u) << i;
  EXPECT_EQ(fetched.size(), 14u);
}

TEST(IndexSourceTest, SkippingPastTheReadAheadStartsOverThere) {
  // Read a little (chunks 0.. queued), then skip far beyond the queued chunks and read on.
  MemoryReader reader;
  Stream s = MakeStream(reader, 30);
  IndexSource source(reader, *s.index, nullptr, 4);
  Bytes head(100);
  ASSERT_EQ(*source.Read(head), 100u);
  const uint64_t target = s.index->chunk_range(25).start + 5;
  ASSERT_EQ(*source.Skip(target - 100), target - 100);
  EXPECT_EQ(ReadAll(source, 1000),
            Bytes(s.bytes.begin() + static_cast<ptrdiff_t>(target), s.bytes.end()));
}

TEST(IndexSourceTest, AMissingOrDamagedChunkFailsTheReadThatNeedsIt) {
  MemoryReader reader;
  Stream s = MakeStream(reader, 12);
  reader.Remove(s.digests[5]);
  {
    IndexSource source(reader, *s.index, nullptr, 4);
    Bytes buf(s.index->chunk_range(5).start);
    ASSERT_EQ(*source.Read(buf), buf.size());  // chunks 0-4 are fine
    Bytes more(10);
    auto r = source.Read(more);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(DigestToHex(s.digests[5])), std::string::npos);
  }  // destroyed with fetches of later chunks possibly under way
  // Content that does not match its digest (a valid blob of other bytes).
  reader.Put(s.digests[5],
             *EncodeBlob(RandomBytes(s.index->chunk_range(5).length(), 9), nullptr, true));
  IndexSource source(reader, *s.index, nullptr, 2);
  Bytes buf(s.bytes.size());
  auto r = source.Read(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(DigestToHex(s.digests[5])), std::string::npos);
}

TEST(IndexSourceTest, AnAbandonedSourceStopsCleanly) {
  // Destroyed right after its first read, with a deep read-ahead queued: its workers finish
  // or drop their fetches and exit (ASan/TSan runs check nothing is touched afterwards).
  MemoryReader reader;
  Stream s = MakeStream(reader, 50);
  for (int round = 0; round < 20; ++round) {
    IndexSource source(reader, *s.index, nullptr, 8);
    Bytes buf(10);
    ASSERT_TRUE(source.Read(buf).ok());
  }
}

}  // namespace
}  // namespace cairn

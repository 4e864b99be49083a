// Fuzzes the fixed index parser (format/fixed_index.h): a `.fidx` as read from a datastore or
// uploaded by a client. Each input is parsed as it is, then with its index_csum recomputed, then
// (if few) with as many digests as its size and chunk size call for, so that mutations of the
// header and the digests get past the length and checksum checks. A parsed index is walked as
// restore and verify walk it: every chunk's range and ChunkAt at both ends of each range must
// agree with the header (contiguous ranges from 0 to size, only the last one shorter), and
// rebuilding it with FixedIndexBuilder must give the same index.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "format/fixed_index.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

constexpr size_t kCsumOffset = 32;
constexpr size_t kSizeOffset = 64;
constexpr size_t kChunkSizeOffset = 72;
constexpr uint64_t kMaxRepairedChunks = 256;

void CheckIndex(const FixedIndex& index) {
  const uint64_t size = index.size();
  const uint64_t chunk_size = index.chunk_size();
  const uint64_t expected = size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
  FUZZ_CHECK(index.chunk_count() == expected, "chunk count does not match size / chunk size");
  FUZZ_CHECK(index.csum() == FixedIndexCsum(index.digests()), "csum does not match digests");
  uint64_t pos = 0;
  for (size_t i = 0; i < index.chunk_count(); ++i) {
    const ChunkRange range = index.chunk_range(i);
    FUZZ_CHECK(range.start == pos, "chunk ranges are not contiguous");
    FUZZ_CHECK(range.end > range.start, "empty or backwards chunk range");
    FUZZ_CHECK(range.length() <= chunk_size, "chunk longer than the chunk size");
    const bool last = i + 1 == index.chunk_count();
    FUZZ_CHECK(last || range.length() == chunk_size, "a chunk other than the last is short");
    auto first = index.ChunkAt(range.start);
    auto final = index.ChunkAt(range.end - 1);
    FUZZ_CHECK(first.ok() && *first == i && final.ok() && *final == i,
               "ChunkAt disagrees with chunk_range");
    pos = range.end;
  }
  FUZZ_CHECK(pos == size, "chunk ranges do not end at the image size");
  FUZZ_CHECK(!index.ChunkAt(size).ok(), "ChunkAt accepts the image size");

  auto builder = FixedIndexBuilder::CreateWithSize(size, chunk_size);
  if (!builder.ok()) return;
  builder->set_uuid(index.uuid());
  builder->set_ctime(index.ctime());
  for (size_t i = 0; i < index.chunk_count(); ++i) {
    FUZZ_CHECK(builder->SetDigest(i, index.digest(i)).ok(), "SetDigest refused a slot");
  }
  auto out = builder->Finish();
  FUZZ_CHECK(out.ok() && out->csum == index.csum(), "rebuilt index has another csum");
  auto again = FixedIndex::Parse(out->bytes, "rebuilt");
  FUZZ_CHECK(again.ok() && again->size() == size && again->chunk_size() == chunk_size &&
                 again->uuid() == index.uuid() && again->ctime() == index.ctime() &&
                 std::equal(again->digests().begin(), again->digests().end(),
                            index.digests().begin(), index.digests().end()),
             "a rebuilt index does not parse back to the same index");
}

// The header of `data` followed by `n` digests (those of `data`, then zeros) and with the
// index_csum of those digests. REQUIRES: data.size() >= kIndexHeaderSize.
Bytes Repaired(ByteView data, size_t n) {
  Bytes out(kIndexHeaderSize + n * kFixedIndexEntrySize, 0);
  std::memcpy(out.data(), data.data(), std::min(out.size(), data.size()));
  std::vector<Digest> digests(n);
  if (n > 0) std::memcpy(digests.data(), out.data() + kIndexHeaderSize, n * sizeof(Digest));
  const Digest csum = FixedIndexCsum(digests);
  std::memcpy(out.data() + kCsumOffset, csum.data(), csum.size());
  return out;
}

void FuzzFixedIndex(ByteView data) {
  auto index = FixedIndex::Parse(data, "fuzz.fidx");
  if (index.ok()) CheckIndex(*index);
  if (data.size() < kIndexHeaderSize) return;
  // The same bytes with a matching index_csum over whatever digests follow the header.
  const size_t present = (data.size() - kIndexHeaderSize) / kFixedIndexEntrySize;
  auto repaired = FixedIndex::Parse(Repaired(data, present), "fuzz.fidx");
  if (repaired.ok()) CheckIndex(*repaired);
  // And with as many digests as the header's size and chunk size call for (when few), so that
  // mutations of those two fields alone reach the code that walks a parsed index.
  const uint64_t size = GetLE64(data.data() + kSizeOffset);
  const uint64_t chunk_size = GetLE64(data.data() + kChunkSizeOffset);
  if (chunk_size == 0) return;
  const uint64_t wanted = size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
  if (wanted == present || wanted > kMaxRepairedChunks) return;
  auto resized = FixedIndex::Parse(Repaired(data, wanted), "fuzz.fidx");
  if (resized.ok()) CheckIndex(*resized);
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzFixedIndex(cairn::ByteView(data, size));
  return 0;
}

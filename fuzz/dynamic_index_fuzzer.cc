// Fuzzes the dynamic index parser (format/dynamic_index.h): a `.didx` (file archive, catalog)
// as read from a datastore or uploaded by a client. Each input is parsed as it is, then with its
// index_csum recomputed so that mutated entries get past the checksum. A parsed index is walked
// as restore walks it: ranges contiguous from 0 to size, ChunkAt (a binary search) at both ends
// of every range, and a rebuild with DynamicIndexBuilder that must give the same entries.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "format/dynamic_index.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

constexpr size_t kCsumOffset = 32;

void CheckIndex(const DynamicIndex& index) {
  FUZZ_CHECK(index.csum() == DynamicIndexCsum(index.entries()), "csum does not match entries");
  uint64_t pos = 0;
  for (size_t i = 0; i < index.chunk_count(); ++i) {
    const ChunkRange range = index.chunk_range(i);
    FUZZ_CHECK(range.start == pos && range.end > range.start, "bad chunk range");
    auto first = index.ChunkAt(range.start);
    auto final = index.ChunkAt(range.end - 1);
    FUZZ_CHECK(first.ok() && *first == i && final.ok() && *final == i,
               "ChunkAt disagrees with chunk_range");
    pos = range.end;
  }
  FUZZ_CHECK(pos == index.size(), "chunk ranges do not end at the stream size");
  FUZZ_CHECK(!index.ChunkAt(index.size()).ok(), "ChunkAt accepts the stream size");

  auto builder = DynamicIndexBuilder::Create();
  FUZZ_CHECK(builder.ok(), "DynamicIndexBuilder::Create failed");
  builder->set_uuid(index.uuid());
  builder->set_ctime(index.ctime());
  for (size_t i = 0; i < index.chunk_count(); ++i) {
    FUZZ_CHECK(builder->Append(index.chunk_range(i).length(), index.digest(i)).ok(),
               "Append refused a parsed chunk");
  }
  auto out = builder->Finish();
  FUZZ_CHECK(out.csum == index.csum(), "rebuilt index has another csum");
  auto again = DynamicIndex::Parse(out.bytes, "rebuilt");
  FUZZ_CHECK(again.ok() && again->uuid() == index.uuid() && again->ctime() == index.ctime() &&
                 std::equal(again->entries().begin(), again->entries().end(),
                            index.entries().begin(), index.entries().end()),
             "a rebuilt index does not parse back to the same entries");
}

void FuzzDynamicIndex(ByteView data) {
  auto index = DynamicIndex::Parse(data, "fuzz.didx");
  if (index.ok()) CheckIndex(*index);
  if (data.size() < kIndexHeaderSize) return;
  // The same bytes with a matching index_csum over the whole entries that follow the header.
  std::vector<DynamicIndexEntry> entries((data.size() - kIndexHeaderSize) / kDynamicIndexEntrySize);
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint8_t* p = data.data() + kIndexHeaderSize + i * kDynamicIndexEntrySize;
    entries[i].end = GetLE64(p);
    std::memcpy(entries[i].digest.data(), p + 8, entries[i].digest.size());
  }
  const Digest csum = DynamicIndexCsum(entries);
  Bytes fixed(data.begin(), data.end());
  std::memcpy(fixed.data() + kCsumOffset, csum.data(), csum.size());
  auto repaired = DynamicIndex::Parse(fixed, "fuzz.didx");
  if (repaired.ok()) CheckIndex(*repaired);
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzDynamicIndex(cairn::ByteView(data, size));
  return 0;
}

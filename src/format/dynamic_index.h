// The dynamic index (`.didx`): the chunk list of a stream cut at content-defined boundaries
// (pxar archives, catalogs; docs/format-index-and-manifest.md), byte-compatible with PBS.
// Integers little-endian.
//
//   offset  size  field
//   0       8     magic 1c 91 4e a5 19 ba b3 cd
//   8       16    uuid (random, version 4)
//   24      8     ctime, i64 epoch seconds
//   32      32    index_csum = SHA256(end_0 (u64 LE) || digest_0 || end_1 || digest_1 || ...)
//   64      4032  reserved, zero
//   4096    40*n  entries: end offset u64 LE (exclusive end of the chunk in the stream) + digest
//
// Chunk i covers [end_{i-1}, end_i) with end_{-1} = 0; the stream size is the last end offset
// (0 for an index without entries). End offsets strictly increase: a zero-length chunk is invalid.
//
// No I/O: DynamicIndex parses bytes the caller read, DynamicIndexBuilder produces bytes the
// caller writes. Shared header helpers (kIndexHeaderSize, IndexUuid, ChunkRange) come from
// fixed_index.h.
//
// Thread-safety: a DynamicIndex is immutable after Parse and may be read concurrently. A
// DynamicIndexBuilder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"
#include "format/fixed_index.h"

namespace cairn {

inline constexpr size_t kDynamicIndexEntrySize = 40;

struct DynamicIndexEntry {
  uint64_t end = 0;  // exclusive end offset of the chunk in the stream
  Digest digest{};
  bool operator==(const DynamicIndexEntry&) const = default;
};

// index_csum of a dynamic index: SHA256 over (end as u64 LE || digest) per entry, in order.
// This is also the `csum` the backup protocol's dynamic_close and the manifest carry.
Digest DynamicIndexCsum(std::span<const DynamicIndexEntry> entries);

class DynamicIndex {
 public:
  // Parses and validates a whole `.didx` file; `object_name` is only used in error messages.
  // Copies what it needs. Corruption naming `object_name` if: shorter than the header, wrong
  // magic, (length - 4096) not a multiple of 40, an end offset not strictly greater than the
  // previous one (the first must be > 0), or the stored index_csum does not match.
  static Result<DynamicIndex> Parse(ByteView data, std::string_view object_name);

  int64_t ctime() const { return ctime_; }
  const IndexUuid& uuid() const { return uuid_; }
  const Digest& csum() const { return csum_; }

  // Total stream size: the last end offset, 0 without entries.
  uint64_t size() const { return entries_.empty() ? 0 : entries_.back().end; }
  size_t chunk_count() const { return entries_.size(); }
  std::span<const DynamicIndexEntry> entries() const { return entries_; }
  // REQUIRES: i < chunk_count().
  const Digest& digest(size_t i) const { return entries_[i].digest; }
  ChunkRange chunk_range(size_t i) const {
    return ChunkRange{i == 0 ? 0 : entries_[i - 1].end, entries_[i].end};
  }
  // Index of the chunk holding byte `offset` (binary search). InvalidArgument if
  // offset >= size().
  Result<size_t> ChunkAt(uint64_t offset) const;

 private:
  DynamicIndex() = default;

  int64_t ctime_ = 0;
  IndexUuid uuid_{};
  Digest csum_{};
  std::vector<DynamicIndexEntry> entries_;
};

// Builds the bytes of a `.didx` from chunks appended in stream order. The uuid is random and
// ctime is now unless set; Finish computes the header csum.
class DynamicIndexBuilder {
 public:
  // IOError if the RNG fails.
  static Result<DynamicIndexBuilder> Create();

  // Appends the next chunk of `length` bytes. InvalidArgument if length is 0 or the stream
  // size would overflow 64 bits.
  Status Append(uint64_t length, const Digest& digest);

  void set_uuid(const IndexUuid& uuid) { uuid_ = uuid; }
  void set_ctime(int64_t ctime) { ctime_ = ctime; }

  uint64_t size() const { return entries_.empty() ? 0 : entries_.back().end; }
  size_t chunk_count() const { return entries_.size(); }

  struct Output {
    Bytes bytes;  // the whole file, 4096 + 40*n bytes
    Digest csum;  // index_csum, as stored in the header
  };
  // Serializes the file (an index without entries is valid). The builder stays usable.
  Output Finish() const;

 private:
  explicit DynamicIndexBuilder(const IndexUuid& uuid);

  IndexUuid uuid_;
  int64_t ctime_;
  std::vector<DynamicIndexEntry> entries_;
};

}  // namespace cairn

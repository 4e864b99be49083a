// The fixed index (`.fidx`): the chunk list of an image cut into equal power-of-two chunks
// (docs/format-index-and-manifest.md), byte-compatible with PBS. All integers little-endian.
//
//   offset  size  field
//   0       8     magic 2f 7f 41 ed 91 fd 0f cd
//   8       16    uuid (random, version 4)
//   24      8     ctime, i64 epoch seconds
//   32      32    index_csum = SHA256(digest_0 || digest_1 || ...)
//   64      8     size, u64: image size in bytes
//   72      8     chunk_size, u64: a power of two (PBS uses 4 MiB)
//   80      4016  reserved, zero
//   4096    32*n  digests, n = ceil(size / chunk_size)
//
// Chunk i covers [i*chunk_size, min((i+1)*chunk_size, size)): only the last may be smaller. An
// empty image (size 0) has no chunks and is a valid 4096-byte file.
//
// This layer does no I/O: FixedIndex parses bytes the caller read, FixedIndexBuilder produces
// bytes the caller writes (atomically). The header's layout prefix (magic, uuid, ctime, csum)
// is shared with the dynamic index, so the shared helpers live here.
//
// Thread-safety: a FixedIndex is immutable after Parse and may be read concurrently. A
// FixedIndexBuilder is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"
#include "format/file_formats.h"

namespace cairn {

inline constexpr size_t kIndexHeaderSize = 4096;  // both .fidx and .didx
inline constexpr size_t kFixedIndexEntrySize = 32;
// Most slots CreateWithSize preallocates (2 GiB of digests; 256 TiB at 4 MiB chunks), so a
// hostile announced size fails cleanly instead of exhausting memory.
inline constexpr uint64_t kMaxFixedIndexChunks = uint64_t{1} << 26;

using IndexUuid = std::array<uint8_t, 16>;

// A random version-4 UUID from OpenSSL's RAND_bytes. IOError if the RNG fails.
Result<IndexUuid> GenerateIndexUuid();

// The checks both index parsers start with: at least a whole header, and `magic` at offset 0.
// Corruption "<object_name>: <kind> index ..." otherwise (`kind` is "fixed" or "dynamic").
Status CheckIndexHeader(ByteView data, const Magic& magic, std::string_view kind,
                        std::string_view object_name);

// Writes the header fields both index kinds share (magic, uuid, ctime, csum) into `header`,
// which must hold kIndexHeaderSize zeroed bytes.
void WriteIndexHeader(uint8_t* header, const Magic& magic, const IndexUuid& uuid, int64_t ctime,
                      const Digest& csum);

// Half-open byte range [start, end) of a chunk within the image or archive stream.
struct ChunkRange {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t length() const { return end - start; }
  bool operator==(const ChunkRange&) const = default;
};

// index_csum of a fixed index: SHA256 over the digests in order (SHA256 of nothing for none).
// This is also the `csum` the backup protocol's fixed_close and the manifest carry.
Digest FixedIndexCsum(std::span<const Digest> digests);

class FixedIndex {
 public:
  // Parses and validates a whole `.fidx` file. `object_name` (e.g. the snapshot-relative path)
  // is only used in error messages. Copies what it needs: `data` may be freed afterwards.
  // Corruption naming `object_name` if: the file is shorter than the header, the magic is
  // wrong, chunk_size is zero or not a power of two, the length is not 4096 + 32*ceil(size /
  // chunk_size), or the stored index_csum does not match the digests. Reserved bytes are not
  // checked (PBS does not check them either).
  static Result<FixedIndex> Parse(ByteView data, std::string_view object_name);

  uint64_t size() const { return size_; }
  uint64_t chunk_size() const { return chunk_size_; }
  int64_t ctime() const { return ctime_; }
  const IndexUuid& uuid() const { return uuid_; }
  const Digest& csum() const { return csum_; }

  size_t chunk_count() const { return digests_.size(); }
  std::span<const Digest> digests() const { return digests_; }
  // REQUIRES: i < chunk_count().
  const Digest& digest(size_t i) const { return digests_[i]; }
  // Byte range of chunk i; only the last chunk may be shorter than chunk_size().
  // REQUIRES: i < chunk_count().
  ChunkRange chunk_range(size_t i) const;
  // Index of the chunk holding byte `offset`. InvalidArgument if offset >= size().
  Result<size_t> ChunkAt(uint64_t offset) const;

 private:
  FixedIndex() = default;

  uint64_t size_ = 0;
  uint64_t chunk_size_ = 0;
  int64_t ctime_ = 0;
  IndexUuid uuid_{};
  Digest csum_{};
  std::vector<Digest> digests_;
};

// Builds the bytes of a `.fidx`. Two ways to use it:
//  - size unknown (Create): Append chunks in order; every chunk but the last must be exactly
//    chunk_size long; the image size is the sum of the lengths.
//  - size known (CreateWithSize): the n = ceil(size/chunk_size) slots exist up front and may be
//    filled in any order with SetDigest, or in order with Append; all must be filled by Finish.
// The uuid is random and ctime is now unless set; the header csum is computed by Finish.
class FixedIndexBuilder {
 public:
  // InvalidArgument if chunk_size is zero or not a power of two (CreateWithSize also if the
  // size needs more than kMaxFixedIndexChunks chunks); IOError if the RNG fails.
  static Result<FixedIndexBuilder> Create(uint64_t chunk_size);
  static Result<FixedIndexBuilder> CreateWithSize(uint64_t size, uint64_t chunk_size);

  // Appends the next chunk. InvalidArgument if length is 0 or above chunk_size, if a shorter
  // chunk was already appended (only the last may be short), if the size would overflow, or,
  // with a known size, if every slot is taken or `length` is not the next slot's length.
  Status Append(const Digest& digest, uint64_t length);

  // Sets digest i. InvalidArgument without a known size or if i >= chunk_count().
  Status SetDigest(size_t i, const Digest& digest);

  void set_uuid(const IndexUuid& uuid) { uuid_ = uuid; }
  void set_ctime(int64_t ctime) { ctime_ = ctime; }

  // Image size so far (known size: the announced size).
  uint64_t size() const { return size_; }
  uint64_t chunk_size() const { return chunk_size_; }
  size_t chunk_count() const { return digests_.size(); }

  struct Output {
    Bytes bytes;  // the whole file, 4096 + 32*n bytes
    Digest csum;  // index_csum, as stored in the header
  };
  // Serializes the file. InvalidArgument naming the first unset slot if a known-size index is
  // incomplete. The builder stays usable.
  Result<Output> Finish() const;

 private:
  FixedIndexBuilder(uint64_t chunk_size, const IndexUuid& uuid);

  uint64_t chunk_size_;
  uint64_t size_ = 0;
  bool size_known_ = false;
  bool saw_short_chunk_ = false;  // size unknown: a short chunk ends the image
  size_t next_append_ = 0;        // size known: next slot Append fills
  IndexUuid uuid_;
  int64_t ctime_;
  std::vector<Digest> digests_;
  std::vector<bool> filled_;  // size known: which slots are set
};

}  // namespace cairn

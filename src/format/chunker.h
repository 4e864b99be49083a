// Chunkers cut a byte stream into the chunks that are hashed, stored and deduplicated
// (docs/chunking.md). Two kinds, both with PBS's exact cut points so that Cairn and PBS produce
// the same chunks (and therefore the same digests) from the same data:
//
//   FixedChunker    equal power-of-two chunks (images); only the last chunk may be shorter.
//   BuzhashChunker  content-defined chunks (pxar archives, catalogs): PBS's rewrite of casync's
//                   buzhash chunker, a 64-byte rolling hash cut with min avg/4 and max avg*4.
//                   Insertions shift only the chunks around them, so unchanged data dedups.
//
// Both are streaming: the caller feeds any pieces of the stream, in order, to Scan(). Cut points
// do not depend on how the stream is split into pieces. The chunker never copies or keeps the
// caller's data beyond what Scan() needs (a 64-byte window); the caller buffers the chunk bytes.
// See docs/chunking.md for the exact cut rule and how equivalence with PBS is tested.
//
// Thread-safety: a chunker is a small value holding the state of one stream; one thread at a
// time. Distinct chunkers are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

// The streaming interface shared by both chunkers.
class Chunker {
 public:
  virtual ~Chunker() = default;

  // Scans the next piece of the stream, which continues the current chunk.
  // Returns n in [1, data.size()] if the current chunk ends after data[n-1]: the chunker has
  // started a new chunk at data[n], and the caller passes data.subspan(n) (plus what follows)
  // to the next call. Returns 0 if the chunk does not end inside `data` (always for empty
  // `data`): feed more. The end of the stream ends the last chunk; that is the caller's to do.
  virtual size_t Scan(ByteView data) = 0;

  // Forgets the current chunk: the next byte scanned starts a new chunk.
  virtual void Reset() = 0;
};

// End offsets (exclusive, relative to data.begin()) of every chunk of the whole stream `data`,
// in order; the last is data.size() for a non-empty stream (the final, possibly short chunk).
// Empty for empty data. Resets `chunker` before and after.
std::vector<uint64_t> ChunkEnds(Chunker& chunker, ByteView data);

// Equal chunks of chunk_size bytes (PBS's FixedChunkStream and fixed index; docs/chunking.md).
class FixedChunker final : public Chunker {
 public:
  static constexpr uint64_t kMinChunkSize = 64u << 10;
  static constexpr uint64_t kMaxChunkSize = 4u << 20;
  static constexpr uint64_t kDefaultChunkSize = 4u << 20;

  // OK if chunk_size is a power of two in [64 KiB, 4 MiB] (the sizes PBS's client accepts);
  // InvalidArgument naming the value otherwise.
  static Status ValidateChunkSize(uint64_t chunk_size);

  // A chunker for `chunk_size`; InvalidArgument as ValidateChunkSize.
  static Result<FixedChunker> Create(uint64_t chunk_size);

  // kDefaultChunkSize (4 MiB).
  FixedChunker() = default;

  uint64_t chunk_size() const { return chunk_size_; }

  // Number of chunks of a stream of `stream_size` bytes: ceil(stream_size / chunk_size).
  uint64_t ChunkCount(uint64_t stream_size) const;

  size_t Scan(ByteView data) override;
  void Reset() override { filled_ = 0; }

 private:
  explicit FixedChunker(uint64_t chunk_size) : chunk_size_(chunk_size) {}

  uint64_t chunk_size_ = kDefaultChunkSize;
  uint64_t filled_ = 0;  // bytes of the current chunk scanned so far, < chunk_size_
};

// PBS's buzhash chunker (pbs-datastore/src/chunker.rs), cut for cut. With avg a power of two:
//   min = avg/4, max = avg*4, window 64 bytes, mask = 2*avg - 1 (a u32).
//   h(i) = XOR over j in [0, 64) of rotl32(T[b(i-j)], j): the buzhash of the chunk's last 64
//   bytes up to byte i, T the 256-entry casync table.
//   The chunk ends after byte i (chunk length c = i+1, counted from the chunk's start) at the
//   first c > 64 with c >= max, or c >= min and (h(i) & mask) >= mask - 2.
// After a cut, the next chunk starts with an empty window and hash.
class BuzhashChunker final : public Chunker {
 public:
  static constexpr size_t kWindowSize = 64;
  static constexpr size_t kDefaultAvgSize = 4u << 20;    // pxar archives
  static constexpr size_t kCatalogAvgSize = 512u << 10;  // the catalog (.pcat1.didx)
  static constexpr size_t kMinAvgSize = 64;
  static constexpr size_t kMaxAvgSize = size_t{1} << 30;

  // OK if avg_size is a power of two in [64 B, 1 GiB]; InvalidArgument naming it otherwise.
  static Status ValidateAvgSize(size_t avg_size);

  // A chunker with average chunk size `avg_size`; InvalidArgument as ValidateAvgSize.
  static Result<BuzhashChunker> Create(size_t avg_size);

  // kDefaultAvgSize (4 MiB).
  BuzhashChunker() : BuzhashChunker(kDefaultAvgSize) {}

  size_t avg_size() const { return avg_; }
  size_t min_size() const { return min_; }
  size_t max_size() const { return max_; }

  // See Chunker::Scan. Chunks are never longer than max_size(); all but the stream's last are
  // at least min_size() (and more than 64) bytes long.
  size_t Scan(ByteView data) override;
  void Reset() override;

 private:
  explicit BuzhashChunker(size_t avg_size);

  // Cuts the chunk: the next byte starts a new one.
  void StartChunk() {
    h_ = 0;
    chunk_size_ = 0;
  }

  size_t avg_;
  size_t min_;
  size_t max_;
  uint32_t mask_;
  uint32_t threshold_;  // mask_ - 2
  size_t first_test_;   // first chunk length tested: max(min_, 65)
  size_t fill_start_;   // first_test_ - 64: bytes before it never reach a tested window

  uint32_t h_ = 0;
  size_t chunk_size_ = 0;  // bytes of the current chunk scanned so far
  // Once chunk_size_ >= fill_start_: the chunk's bytes from max(fill_start_, chunk_size_ - 64),
  // oldest first (all 64 of them once chunk_size_ >= first_test_).
  uint8_t window_[kWindowSize] = {};
};

}  // namespace cairn

// The index writers of a backup session (PBS's backup protocol, spec 2.4 and 2.5): a client
// opens a writer per archive, appends chunks it has uploaded or registered by digest and
// offset, and closes it with the chunk count, size and csum it computed, which must match.
// Close returns the index file to store.
//
//  - DynamicIndexWriter (`.didx`): each append must start where the previous chunk ended.
//  - FixedIndexWriter (`.fidx`, fixed chunk size): appends name a slot by its aligned start
//    offset, in any order, and may write a slot again. Every chunk is chunk_size long except
//    the last of the image. With an announced size the slots exist up front; without, the
//    index grows with the appends, and a short chunk ends the image. An incremental writer
//    starts from a base index's digests (reuse-csum) and rewrites only changed slots.
//
// Stricter than PBS: a fixed index cannot be closed while a slot was never written (PBS
// would store a zero digest there).
//
// Thread-safety: not thread-safe; the session serializes calls per writer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"
#include "format/dynamic_index.h"
#include "format/fixed_index.h"

namespace cairn::server {

class DynamicIndexWriter {
 public:
  // IOError if the RNG for the uuid fails.
  static Result<DynamicIndexWriter> Create();

  // InvalidArgument "got strange chunk offset (X != Y)" unless `offset` is the current end;
  // InvalidArgument for a zero size.
  Status Append(uint64_t offset, const Digest& digest, uint64_t size);

  // The `.didx` bytes. InvalidArgument naming the first of chunk count, size or csum that
  // differs from what was appended.
  Result<Bytes> Close(uint64_t chunk_count, uint64_t size, const Digest& csum) const;

  uint64_t size() const { return builder_.size(); }
  size_t chunk_count() const { return builder_.chunk_count(); }

 private:
  explicit DynamicIndexWriter(DynamicIndexBuilder builder) : builder_(std::move(builder)) {}
  DynamicIndexBuilder builder_;
};

class FixedIndexWriter {
 public:
  // `size` is the announced image size (nullopt: grows with the appends). InvalidArgument
  // for a zero size or one needing more than kMaxFixedIndexChunks chunks.
  static Result<FixedIndexWriter> Create(std::optional<uint64_t> size, uint64_t chunk_size);
  // An incremental writer: the base index's digests are copied in; InvalidArgument if its
  // chunk size differs or `size` does not match its size.
  static Result<FixedIndexWriter> CreateIncremental(const FixedIndex& base,
                                                    std::optional<uint64_t> size);

  // InvalidArgument for an offset not aligned to the chunk size, a size of 0 or above the
  // chunk size, a short chunk that does not end the image, or a chunk past the image end.
  Status Append(uint64_t offset, const Digest& digest, uint64_t size);

  // The `.fidx` bytes. InvalidArgument if `chunk_count` differs from the number of appends,
  // (not incremental) from the number of slots, if `size` differs from the image size, if a
  // slot was never written, or if `csum` differs from the index csum.
  Result<Bytes> Close(uint64_t chunk_count, uint64_t size, const Digest& csum);

  uint64_t chunk_size() const { return chunk_size_; }
  uint64_t size() const { return size_; }

 private:
  FixedIndexWriter(uint64_t chunk_size, uint64_t size, bool growable)
      : chunk_size_(chunk_size), size_(size), growable_(growable) {}
  size_t SlotCount() const { return static_cast<size_t>((size_ + chunk_size_ - 1) / chunk_size_); }

  uint64_t chunk_size_;
  uint64_t size_;           // image size so far (the announced size if there was one)
  bool growable_;           // no announced size and no short chunk yet
  bool announced_ = false;  // the client gave a size
  bool incremental_ = false;
  uint64_t appends_ = 0;
  // The slots written so far: memory grows with the appends received, never with the size a
  // client announces (a 2^48-byte image must not cost 2 GiB before any chunk arrives).
  std::map<uint64_t, Digest> slots_;
};

}  // namespace cairn::server

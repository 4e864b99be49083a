// Reading the chunks of a snapshot's archives back: fetching a chunk, checking it (CRC,
// decryption tag, digest, length) and decoding it, and a ByteSource that streams a dynamic
// index's chunks in order with a bounded read-ahead on several threads.
//
// Thread-safety: LoadChunk is thread-safe (as SnapshotReader::ReadChunk). An IndexSource is
// read by one thread; its prefetch threads are internal.
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/stream.h"
#include "client/repository.h"
#include "format/crypt_config.h"
#include "format/dynamic_index.h"

namespace cairn {

// Reads the dynamic index `file` of the snapshot and checks it against the manifest's size and
// checksum (Corruption naming the file otherwise).
Result<DynamicIndex> LoadDynamicIndex(SnapshotReader& reader, const Manifest& manifest,
                                      const std::string& file);

// Fetches chunk `digest`, checks it and decodes it into *plain (a buffer the caller may reuse).
// Corruption naming the chunk if any check fails or it is not `expected_size` bytes; NotFound
// if it is missing.
Status LoadChunk(SnapshotReader& reader, const Digest& digest, uint64_t expected_size,
                 const CryptConfig* crypt, Bytes* plain);

// The stream described by a dynamic index, read chunk by chunk. Up to `read_ahead` chunks are
// fetched and decoded ahead of the reader, in parallel on as many threads of its own (each with
// its decoder state, decoding into buffers of consumed chunks: no fresh pages per chunk).
// Skip() passes whole chunks without fetching them.
class IndexSource final : public ByteSource {
 public:
  // Borrows reader, index and crypt, which must outlive the source.
  IndexSource(SnapshotReader& reader, const DynamicIndex& index, const CryptConfig* crypt,
              unsigned read_ahead);
  ~IndexSource() override;  // waits for fetches under way

  Result<size_t> Read(std::span<uint8_t> buf) override;
  Result<uint64_t> Skip(uint64_t n) override;

  uint64_t chunks_read() const { return chunks_read_; }

 private:
  struct Fetch {
    size_t chunk;
    Bytes data;
    Status status;
    bool started = false;
    bool done = false;
  };
  // Makes the chunk holding position_ current (fetching it, or taking it from the read-ahead).
  Status LoadCurrent();
  // Queues fetches up to read_ahead_ chunks ahead.
  void PrefetchLocked() CAIRN_REQUIRES(mu_);
  // Waits for the oldest fetch, removes it and keeps its buffer.
  void DropOldestLocked() CAIRN_REQUIRES(mu_);
  // The first queued fetch no worker has started; null if none.
  Fetch* FirstUnstartedLocked() CAIRN_REQUIRES(mu_);
  void WorkerLoop() CAIRN_EXCLUDES(mu_);

  SnapshotReader& reader_;
  const DynamicIndex& index_;
  const CryptConfig* crypt_;
  const unsigned read_ahead_;
  uint64_t position_ = 0;
  size_t current_ = SIZE_MAX;  // chunk held in plain_
  Bytes plain_;
  uint64_t chunks_read_ = 0;

  Mutex mu_;
  CondVar cv_{&mu_};  // a fetch was queued or finished, or the source is closing
  size_t next_fetch_ CAIRN_GUARDED_BY(mu_) = 0;  // first chunk not yet queued for prefetch
  // Buffers of consumed chunks, for the next fetches.
  std::vector<Bytes> spare_ CAIRN_GUARDED_BY(mu_);
  // In chunk order; a worker owns a started one (its data and status) until it is done.
  std::deque<std::unique_ptr<Fetch>> ahead_ CAIRN_GUARDED_BY(mu_);
  bool closing_ CAIRN_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// Random access to the stream described by a dynamic index: each ReadAt fetches (and checks)
// the chunks it covers, keeping the last `cache_chunks` decoded chunks for the next reads.
class IndexRandomAccess final : public RandomAccessSource {
 public:
  // Borrows reader, index and crypt, which must outlive it.
  IndexRandomAccess(SnapshotReader& reader, const DynamicIndex& index, const CryptConfig* crypt,
                    size_t cache_chunks = 8)
      : reader_(reader), index_(index), crypt_(crypt), cache_chunks_(cache_chunks) {}

  uint64_t size() const override { return index_.size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> buf) override;
  uint64_t chunks_fetched() const { return fetched_; }

 private:
  Result<const Bytes*> Chunk(size_t i);

  SnapshotReader& reader_;
  const DynamicIndex& index_;
  const CryptConfig* crypt_;
  const size_t cache_chunks_;
  std::deque<std::pair<size_t, Bytes>> cache_;  // most recently used first
  uint64_t fetched_ = 0;
};

}  // namespace cairn

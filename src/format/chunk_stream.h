// ChunkStream is a ByteSink that cuts the bytes written to it into chunks with a Chunker and
// hands each finished chunk, in stream order, to a callback (which typically hashes, compresses
// and uploads it, and appends it to a dynamic index). Cut points depend only on the stream's
// bytes and on suggested boundaries, never on how the writes are split.
//
// Suggested boundaries: a writer that knows where a record starts (the pxar payload stream,
// where each file starts with a PAYLOAD header) calls CutIfAtLeast(min) just before writing it;
// the current chunk ends there if it already holds `min` bytes. Files then tend to start
// chunks, which makes unchanged files dedup and lets later backups reuse whole chunks.
//
// Ownership: borrows the chunker, which must outlive the stream. Thread-safety: one thread.
#pragma once

#include <functional>

#include "base/stream.h"
#include "format/chunker.h"
#include "format/digest.h"

namespace cairn {

class ChunkStream final : public ByteSink {
 public:
  // Receives each chunk (ownership passes); an error stops the stream and is returned by the
  // Write / Finish that produced the chunk, and by every later call.
  using ChunkFn = std::function<Status(Bytes chunk)>;
  // Gives a buffer to fill for the next chunk (e.g. one recycled by the uploader); may be null.
  using BufferFn = std::function<Bytes()>;

  // Receives each injected chunk.
  using InjectFn = std::function<Status(uint64_t length, const Digest& digest)>;

  ChunkStream(Chunker& chunker, ChunkFn on_chunk, BufferFn take_buffer = nullptr,
              InjectFn on_inject = nullptr);

  Status Write(ByteView data) override;

  // Ends the current chunk at the current position if it holds at least `min_bytes` bytes.
  Status CutIfAtLeast(size_t min_bytes);

  // Appends a whole chunk of `length` bytes that the caller already has (a chunk of an earlier
  // stream, reused by digest) without scanning or copying it: ends the current chunk first (at
  // any size), then reports the chunk to the inject callback. InvalidArgument without one.
  Status Inject(uint64_t length, const Digest& digest);

  // Hands over the last chunk (if any bytes are pending). Later writes are InvalidArgument.
  Status Finish();

  // Bytes written so far.
  uint64_t position() const { return position_; }

 private:
  Status Emit();
  void StartChunk();

  Chunker& chunker_;
  ChunkFn on_chunk_;
  BufferFn take_buffer_;
  InjectFn on_inject_;
  Bytes current_;
  uint64_t position_ = 0;
  Status failed_;
  bool finished_ = false;
};

}  // namespace cairn

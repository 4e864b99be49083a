// Byte streams: ByteSink consumes bytes written in order, ByteSource produces them in order.
// Encoders and decoders of streaming formats (pxar, catalogs) talk to these so the same code
// writes to memory, a file or a chunk pipeline, and reads from memory, a file or chunks fetched
// from a store.
//
// Ownership: whoever creates a sink or source owns it; encoders and decoders borrow them.
// Thread-safety: one thread at a time per object.
#pragma once

#include <cstddef>
#include <span>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Appends `data`. On error the sink is unusable; the error names what failed.
  virtual Status Write(ByteView data) = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to buf.size() bytes. Returns the count read, 0 only at the end of the stream (or
  // for an empty buf). Errors name what failed.
  virtual Result<size_t> Read(std::span<uint8_t> buf) = 0;
  // Skips up to `n` bytes; returns the count skipped (< n only at the end of the stream). The
  // default reads and discards; sources that can skip without reading override it.
  virtual Result<uint64_t> Skip(uint64_t n);
};

// A sink that appends to a byte vector it owns.
class BytesSink final : public ByteSink {
 public:
  Status Write(ByteView data) override {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return Status::OK();
  }
  const Bytes& bytes() const { return bytes_; }
  Bytes Take() { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

// A source over borrowed bytes, which must outlive it.
class ByteViewSource final : public ByteSource {
 public:
  explicit ByteViewSource(ByteView data) : data_(data) {}
  Result<size_t> Read(std::span<uint8_t> buf) override;
  Result<uint64_t> Skip(uint64_t n) override;

 private:
  ByteView data_;
  size_t pos_ = 0;
};

// Bytes that can be read at any offset (an archive held in memory, a file, a stream stored as
// chunks). Thread-safety: as the implementation says; ReadAt from one thread unless stated.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly buf.size() bytes at `offset`. Corruption if that range goes past size().
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> buf) = 0;
};

// Random access over borrowed bytes, which must outlive it.
class ByteViewRandomAccess final : public RandomAccessSource {
 public:
  explicit ByteViewRandomAccess(ByteView data) : data_(data) {}
  uint64_t size() const override { return data_.size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> buf) override;

 private:
  ByteView data_;
};

// A ByteSource reading [offset, offset + length) of a RandomAccessSource (borrowed).
class RangeSource final : public ByteSource {
 public:
  RangeSource(RandomAccessSource& source, uint64_t offset, uint64_t length)
      : source_(source), pos_(offset), end_(offset + length) {}
  Result<size_t> Read(std::span<uint8_t> buf) override;
  Result<uint64_t> Skip(uint64_t n) override;

 private:
  RandomAccessSource& source_;
  uint64_t pos_;
  uint64_t end_;
};

// Reads until `buf` is full or the source ends; returns the count read (< buf.size() only at
// the end of the stream).
Result<size_t> ReadFull(ByteSource& source, std::span<uint8_t> buf);

}  // namespace cairn

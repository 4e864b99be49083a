#include "format/fixed_index.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/time.h"
#include "format/file_formats.h"

namespace cairn {
namespace {

constexpr size_t kUuidOffset = 8;
constexpr size_t kCtimeOffset = 24;
constexpr size_t kCsumOffset = 32;
constexpr size_t kSizeOffset = 64;
constexpr size_t kChunkSizeOffset = 72;

static_assert(sizeof(Digest) == kFixedIndexEntrySize, "digests are copied as one block");

bool IsPowerOfTwo(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

// ceil(size / chunk_size) without overflow. REQUIRES: chunk_size != 0.
uint64_t ChunkCount(uint64_t size, uint64_t chunk_size) {
  return size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
}

Status Corrupt(std::string_view object_name, const std::string& what) {
  return Status::Corruption(std::string(object_name) + ": fixed index " + what);
}

}  // namespace

Result<IndexUuid> GenerateIndexUuid() {
  IndexUuid uuid;
  if (RAND_bytes(uuid.data(), static_cast<int>(uuid.size())) != 1) {
    return Status::IOError("RAND_bytes failed generating an index uuid");
  }
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

Digest FixedIndexCsum(std::span<const Digest> digests) {
  Sha256 sha;
  for (const Digest& d : digests) sha.Update(d);
  return sha.Finish();
}

Status CheckIndexHeader(ByteView data, const Magic& magic, std::string_view kind,
                        std::string_view object_name) {
  const std::string prefix = std::string(object_name) + ": " + std::string(kind) + " index ";
  if (data.size() < kIndexHeaderSize) {
    return Status::Corruption(prefix + "truncated: " + std::to_string(data.size()) +
                              " bytes, header needs " + std::to_string(kIndexHeaderSize));
  }
  if (!std::equal(magic.begin(), magic.end(), data.begin())) {
    return Status::Corruption(prefix + "has a wrong magic number");
  }
  return Status::OK();
}

void WriteIndexHeader(uint8_t* header, const Magic& magic, const IndexUuid& uuid, int64_t ctime,
                      const Digest& csum) {
  std::memcpy(header, magic.data(), magic.size());
  std::memcpy(header + kUuidOffset, uuid.data(), uuid.size());
  PutLE64(header + kCtimeOffset, static_cast<uint64_t>(ctime));
  std::memcpy(header + kCsumOffset, csum.data(), csum.size());
}

Result<FixedIndex> FixedIndex::Parse(ByteView data, std::string_view object_name) {
  CAIRN_RETURN_IF_ERROR(CheckIndexHeader(data, kFixedIndexMagic, "fixed", object_name));
  FixedIndex index;
  std::memcpy(index.uuid_.data(), data.data() + kUuidOffset, index.uuid_.size());
  index.ctime_ = static_cast<int64_t>(GetLE64(data.data() + kCtimeOffset));
  std::memcpy(index.csum_.data(), data.data() + kCsumOffset, index.csum_.size());
  index.size_ = GetLE64(data.data() + kSizeOffset);
  index.chunk_size_ = GetLE64(data.data() + kChunkSizeOffset);
  if (!IsPowerOfTwo(index.chunk_size_)) {
    return Corrupt(object_name,
                   "chunk size " + std::to_string(index.chunk_size_) + " is not a power of two");
  }
  uint64_t n = ChunkCount(index.size_, index.chunk_size_);
  // Found by fuzzing: a size near 2^64 with a huge chunk size made the last chunk's end wrap
  // around (and its length negative).
  if (n > std::numeric_limits<uint64_t>::max() / index.chunk_size_) {
    return Corrupt(object_name, "size " + std::to_string(index.size_) + " with chunk size " +
                                    std::to_string(index.chunk_size_) + " cannot be addressed");
  }
  uint64_t body = data.size() - kIndexHeaderSize;
  if (n > body / kFixedIndexEntrySize || body != n * kFixedIndexEntrySize) {
    return Corrupt(object_name, "has length " + std::to_string(data.size()) +
                                    ", expected 4096 + 32 * " + std::to_string(n) + " for size " +
                                    std::to_string(index.size_) + " and chunk size " +
                                    std::to_string(index.chunk_size_));
  }
  index.digests_.resize(n);
  if (n > 0) {
    std::memcpy(index.digests_.data(), data.data() + kIndexHeaderSize, body);
  }
  if (FixedIndexCsum(index.digests_) != index.csum_) {
    return Corrupt(object_name, "checksum does not match its digests");
  }
  return index;
}

ChunkRange FixedIndex::chunk_range(size_t i) const {
  uint64_t start = static_cast<uint64_t>(i) * chunk_size_;
  uint64_t end = std::min(size_, start + chunk_size_);
  return ChunkRange{start, end};
}

Result<size_t> FixedIndex::ChunkAt(uint64_t offset) const {
  if (offset >= size_) {
    return Status::InvalidArgument("offset " + std::to_string(offset) +
                                   " is beyond the end of a fixed index of size " +
                                   std::to_string(size_));
  }
  return static_cast<size_t>(offset / chunk_size_);
}

FixedIndexBuilder::FixedIndexBuilder(uint64_t chunk_size, const IndexUuid& uuid)
    : chunk_size_(chunk_size), uuid_(uuid), ctime_(NowEpoch()) {}

Result<FixedIndexBuilder> FixedIndexBuilder::Create(uint64_t chunk_size) {
  if (!IsPowerOfTwo(chunk_size)) {
    return Status::InvalidArgument("fixed index chunk size " + std::to_string(chunk_size) +
                                   " is not a power of two");
  }
  CAIRN_ASSIGN_OR_RETURN(IndexUuid uuid, GenerateIndexUuid());
  return FixedIndexBuilder(chunk_size, uuid);
}

Result<FixedIndexBuilder> FixedIndexBuilder::CreateWithSize(uint64_t size, uint64_t chunk_size) {
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder builder, Create(chunk_size));
  uint64_t n = ChunkCount(size, chunk_size);
  if (n > kMaxFixedIndexChunks) {
    return Status::InvalidArgument("fixed index of size " + std::to_string(size) +
                                   " and chunk size " + std::to_string(chunk_size) + " needs " +
                                   std::to_string(n) + " chunks, more than " +
                                   std::to_string(kMaxFixedIndexChunks));
  }
  builder.size_ = size;
  builder.size_known_ = true;
  builder.digests_.assign(n, Digest{});
  builder.filled_.assign(n, false);
  return builder;
}

Status FixedIndexBuilder::Append(const Digest& digest, uint64_t length) {
  if (length == 0 || length > chunk_size_) {
    return Status::InvalidArgument("fixed index chunk length " + std::to_string(length) +
                                   " is not in 1.." + std::to_string(chunk_size_));
  }
  if (size_known_) {
    if (next_append_ >= digests_.size()) {
      return Status::InvalidArgument("fixed index of size " + std::to_string(size_) +
                                     " is already full");
    }
    uint64_t start = static_cast<uint64_t>(next_append_) * chunk_size_;
    uint64_t expected = std::min(size_ - start, chunk_size_);
    if (length != expected) {
      return Status::InvalidArgument("fixed index chunk " + std::to_string(next_append_) +
                                     " has length " + std::to_string(length) + ", expected " +
                                     std::to_string(expected));
    }
    digests_[next_append_] = digest;
    filled_[next_append_] = true;
    ++next_append_;
    return Status::OK();
  }
  if (saw_short_chunk_) {
    return Status::InvalidArgument(
        "fixed index: a chunk follows a short one (only the last chunk may be smaller)");
  }
  if (size_ > std::numeric_limits<uint64_t>::max() - length) {
    return Status::InvalidArgument("fixed index size overflows");
  }
  size_ += length;
  saw_short_chunk_ = length < chunk_size_;
  digests_.push_back(digest);
  return Status::OK();
}

Status FixedIndexBuilder::SetDigest(size_t i, const Digest& digest) {
  if (!size_known_) {
    return Status::InvalidArgument("fixed index: SetDigest needs a known size");
  }
  if (i >= digests_.size()) {
    return Status::InvalidArgument("fixed index chunk " + std::to_string(i) +
                                   " out of range (count " + std::to_string(digests_.size()) + ")");
  }
  digests_[i] = digest;
  filled_[i] = true;
  return Status::OK();
}

Result<FixedIndexBuilder::Output> FixedIndexBuilder::Finish() const {
  if (size_known_) {
    auto unset = std::find(filled_.begin(), filled_.end(), false);
    if (unset != filled_.end()) {
      return Status::InvalidArgument("fixed index chunk " +
                                     std::to_string(unset - filled_.begin()) + " of " +
                                     std::to_string(filled_.size()) + " was never set");
    }
  }
  Output out;
  out.csum = FixedIndexCsum(digests_);
  out.bytes.assign(kIndexHeaderSize + digests_.size() * kFixedIndexEntrySize, 0);
  uint8_t* p = out.bytes.data();
  WriteIndexHeader(p, kFixedIndexMagic, uuid_, ctime_, out.csum);
  PutLE64(p + kSizeOffset, size_);
  PutLE64(p + kChunkSizeOffset, chunk_size_);
  if (!digests_.empty()) {
    std::memcpy(p + kIndexHeaderSize, digests_.data(), digests_.size() * kFixedIndexEntrySize);
  }
  return out;
}

}  // namespace cairn

#include "format/dynamic_index.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "base/time.h"
#include "format/file_formats.h"

namespace cairn {
namespace {

constexpr size_t kUuidOffset = 8;
constexpr size_t kCtimeOffset = 24;
constexpr size_t kCsumOffset = 32;

Status Corrupt(std::string_view object_name, const std::string& what) {
  return Status::Corruption(std::string(object_name) + ": dynamic index " + what);
}

}  // namespace

Digest DynamicIndexCsum(std::span<const DynamicIndexEntry> entries) {
  Sha256 sha;
  uint8_t end_le[8];
  for (const DynamicIndexEntry& e : entries) {
    PutLE64(end_le, e.end);
    sha.Update(ByteView(end_le, sizeof(end_le)));
    sha.Update(e.digest);
  }
  return sha.Finish();
}

Result<DynamicIndex> DynamicIndex::Parse(ByteView data, std::string_view object_name) {
  CAIRN_RETURN_IF_ERROR(CheckIndexHeader(data, kDynamicIndexMagic, "dynamic", object_name));
  size_t body = data.size() - kIndexHeaderSize;
  if (body % kDynamicIndexEntrySize != 0) {
    return Corrupt(object_name, "has length " + std::to_string(data.size()) +
                                    ", not 4096 plus a multiple of 40");
  }
  DynamicIndex index;
  std::memcpy(index.uuid_.data(), data.data() + kUuidOffset, index.uuid_.size());
  index.ctime_ = static_cast<int64_t>(GetLE64(data.data() + kCtimeOffset));
  std::memcpy(index.csum_.data(), data.data() + kCsumOffset, index.csum_.size());

  size_t n = body / kDynamicIndexEntrySize;
  index.entries_.resize(n);
  uint64_t prev_end = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data.data() + kIndexHeaderSize + i * kDynamicIndexEntrySize;
    DynamicIndexEntry& e = index.entries_[i];
    e.end = GetLE64(p);
    std::memcpy(e.digest.data(), p + 8, e.digest.size());
    if (e.end <= prev_end) {
      return Corrupt(object_name, "entry " + std::to_string(i) + " ends at " +
                                      std::to_string(e.end) + ", not after " +
                                      std::to_string(prev_end) + " (empty or backwards chunk)");
    }
    prev_end = e.end;
  }
  if (DynamicIndexCsum(index.entries_) != index.csum_) {
    return Corrupt(object_name, "checksum does not match its entries");
  }
  return index;
}

Result<size_t> DynamicIndex::ChunkAt(uint64_t offset) const {
  if (offset >= size()) {
    return Status::InvalidArgument("offset " + std::to_string(offset) +
                                   " is beyond the end of a dynamic index of size " +
                                   std::to_string(size()));
  }
  // The first chunk whose end lies beyond `offset` holds it.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), offset,
                             [](uint64_t off, const DynamicIndexEntry& e) { return off < e.end; });
  return static_cast<size_t>(it - entries_.begin());
}

DynamicIndexBuilder::DynamicIndexBuilder(const IndexUuid& uuid) : uuid_(uuid), ctime_(NowEpoch()) {}

Result<DynamicIndexBuilder> DynamicIndexBuilder::Create() {
  CAIRN_ASSIGN_OR_RETURN(IndexUuid uuid, GenerateIndexUuid());
  return DynamicIndexBuilder(uuid);
}

Status DynamicIndexBuilder::Append(uint64_t length, const Digest& digest) {
  if (length == 0) {
    return Status::InvalidArgument("dynamic index: zero-length chunk " +
                                   std::to_string(entries_.size()));
  }
  uint64_t start = size();
  if (start > std::numeric_limits<uint64_t>::max() - length) {
    return Status::InvalidArgument("dynamic index size overflows");
  }
  entries_.push_back(DynamicIndexEntry{start + length, digest});
  return Status::OK();
}

DynamicIndexBuilder::Output DynamicIndexBuilder::Finish() const {
  Output out;
  out.csum = DynamicIndexCsum(entries_);
  out.bytes.assign(kIndexHeaderSize + entries_.size() * kDynamicIndexEntrySize, 0);
  uint8_t* p = out.bytes.data();
  WriteIndexHeader(p, kDynamicIndexMagic, uuid_, ctime_, out.csum);
  uint8_t* e = p + kIndexHeaderSize;
  for (const DynamicIndexEntry& entry : entries_) {
    PutLE64(e, entry.end);
    std::memcpy(e + 8, entry.digest.data(), entry.digest.size());
    e += kDynamicIndexEntrySize;
  }
  return out;
}

}  // namespace cairn

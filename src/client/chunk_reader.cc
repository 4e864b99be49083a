#include "client/chunk_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "format/data_blob.h"

namespace cairn {

Result<DynamicIndex> LoadDynamicIndex(SnapshotReader& reader, const Manifest& manifest,
                                      const std::string& file) {
  const std::string object = reader.snapshot().ToString() + "/" + file;
  CAIRN_ASSIGN_OR_RETURN(Bytes raw, reader.ReadArchive(file));
  CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, DynamicIndex::Parse(raw, object));
  const ManifestFile* entry = manifest.FindFile(file);
  if (entry == nullptr || index.size() != entry->size || index.csum() != entry->csum) {
    return Status::Corruption(object + ": index does not match the manifest (size or checksum)");
  }
  return index;
}

Status LoadChunk(SnapshotReader& reader, const Digest& digest, uint64_t expected_size,
                 const CryptConfig* crypt, Bytes* plain) {
  const std::string name = "chunk " + DigestToHex(digest);
  CAIRN_ASSIGN_OR_RETURN(Bytes encoded, reader.ReadChunk(digest));
  CAIRN_ASSIGN_OR_RETURN(BlobKind kind, InspectBlob(encoded));
  if (IsEncrypted(kind) != (crypt != nullptr)) {
    return Status::Corruption(name + ": encryption mode does not match the archive");
  }
  Status decoded = DecodeBlobInto(encoded, crypt, plain);
  if (!decoded.ok()) return decoded.WithContext(name);
  Digest actual = crypt ? crypt->ComputeDigest(*plain) : Sha256Of(*plain);
  if (actual != digest) return Status::Corruption(name + ": content does not match its digest");
  if (plain->size() != expected_size) {
    return Status::Corruption(
        fmt::format("{}: {} bytes, index expects {}", name, plain->size(), expected_size));
  }
  return Status::OK();
}

IndexSource::IndexSource(SnapshotReader& reader, const DynamicIndex& index,
                         const CryptConfig* crypt, unsigned read_ahead)
    : reader_(reader), index_(index), crypt_(crypt), read_ahead_(std::max(1u, read_ahead)) {}

IndexSource::~IndexSource() {
  for (auto& [i, f] : ahead_) f.wait();
}

void IndexSource::Prefetch() {
  while (ahead_.size() < read_ahead_ && next_fetch_ < index_.chunk_count()) {
    size_t i = next_fetch_++;
    ahead_.emplace_back(i, std::async(std::launch::async, [this, i]() -> Result<Bytes> {
      Bytes plain;
      CAIRN_RETURN_IF_ERROR(
          LoadChunk(reader_, index_.digest(i), index_.chunk_range(i).length(), crypt_, &plain));
      return plain;
    }));
  }
}

Status IndexSource::LoadCurrent() {
  CAIRN_ASSIGN_OR_RETURN(size_t i, index_.ChunkAt(position_));
  if (i == current_) return Status::OK();
  // Drop read-ahead for chunks that were skipped.
  while (!ahead_.empty() && ahead_.front().first < i) {
    ahead_.front().second.wait();
    ahead_.pop_front();
  }
  if (ahead_.empty() || ahead_.front().first != i) {
    for (auto& [j, f] : ahead_) f.wait();
    ahead_.clear();
    next_fetch_ = i;
  }
  Prefetch();
  Result<Bytes> chunk = ahead_.front().second.get();
  ahead_.pop_front();
  Prefetch();
  if (!chunk.ok()) return chunk.status();
  plain_ = std::move(chunk).value();
  current_ = i;
  ++chunks_read_;
  return Status::OK();
}

Result<size_t> IndexSource::Read(std::span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size() && position_ < index_.size()) {
    CAIRN_RETURN_IF_ERROR(LoadCurrent());
    const ChunkRange range = index_.chunk_range(current_);
    const size_t offset = static_cast<size_t>(position_ - range.start);
    const size_t n = std::min(buf.size() - done, plain_.size() - offset);
    std::memcpy(buf.data() + done, plain_.data() + offset, n);
    done += n;
    position_ += n;
  }
  return done;
}

Result<uint64_t> IndexSource::Skip(uint64_t n) {
  uint64_t skipped = std::min(n, index_.size() - position_);
  position_ += skipped;
  return skipped;
}

Result<const Bytes*> IndexRandomAccess::Chunk(size_t i) {
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first == i) {
      if (it != cache_.begin()) {
        auto entry = std::move(*it);
        cache_.erase(it);
        cache_.push_front(std::move(entry));
      }
      return &cache_.front().second;
    }
  }
  Bytes plain;
  CAIRN_RETURN_IF_ERROR(
      LoadChunk(reader_, index_.digest(i), index_.chunk_range(i).length(), crypt_, &plain));
  ++fetched_;
  cache_.emplace_front(i, std::move(plain));
  if (cache_.size() > cache_chunks_) cache_.pop_back();
  return &cache_.front().second;
}

Status IndexRandomAccess::ReadAt(uint64_t offset, std::span<uint8_t> buf) {
  if (offset > index_.size() || buf.size() > index_.size() - offset) {
    return Status::Corruption(fmt::format("read of {} bytes at {} past the end of the {}-byte "
                                          "stream", buf.size(), offset, index_.size()));
  }
  size_t done = 0;
  while (done < buf.size()) {
    CAIRN_ASSIGN_OR_RETURN(size_t i, index_.ChunkAt(offset + done));
    CAIRN_ASSIGN_OR_RETURN(const Bytes* chunk, Chunk(i));
    const size_t in_chunk = static_cast<size_t>(offset + done - index_.chunk_range(i).start);
    const size_t n = std::min(buf.size() - done, chunk->size() - in_chunk);
    std::memcpy(buf.data() + done, chunk->data() + in_chunk, n);
    done += n;
  }
  return Status::OK();
}

}  // namespace cairn

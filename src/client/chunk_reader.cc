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
  // ReadChunk checked the CRC; the digest below covers every byte again.
  Status decoded = DecodeCrcCheckedBlobInto(encoded, crypt, plain);
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
    : reader_(reader), index_(index), crypt_(crypt), read_ahead_(std::max(1u, read_ahead)) {
  for (unsigned t = 0; t < read_ahead_; ++t) workers_.emplace_back([this] { WorkerLoop(); });
}

IndexSource::~IndexSource() {
  {
    MutexLock lock(mu_);
    closing_ = true;
  }
  cv_.SignalAll();
  for (std::thread& t : workers_) t.join();
}

IndexSource::Fetch* IndexSource::FirstUnstartedLocked() {
  for (auto& f : ahead_) {
    if (!f->started) return f.get();
  }
  return nullptr;
}

void IndexSource::WorkerLoop() {
  MutexLock lock(mu_);
  for (;;) {
    Fetch* fetch = nullptr;
    while (!closing_ && (fetch = FirstUnstartedLocked()) == nullptr) cv_.Wait();
    if (closing_) return;
    fetch->started = true;  // the fetch is this worker's until done
    mu_.Unlock();
    fetch->status = LoadChunk(reader_, index_.digest(fetch->chunk),
                              index_.chunk_range(fetch->chunk).length(), crypt_, &fetch->data);
    mu_.Lock();
    fetch->done = true;
    cv_.SignalAll();
  }
}

void IndexSource::PrefetchLocked() {
  while (ahead_.size() < read_ahead_ && next_fetch_ < index_.chunk_count()) {
    auto fetch = std::make_unique<Fetch>();
    fetch->chunk = next_fetch_++;
    if (!spare_.empty()) {
      fetch->data = std::move(spare_.back());
      spare_.pop_back();
    }
    ahead_.push_back(std::move(fetch));
  }
  cv_.SignalAll();
}

void IndexSource::DropOldestLocked() {
  while (ahead_.front()->started && !ahead_.front()->done) cv_.Wait();
  spare_.push_back(std::move(ahead_.front()->data));
  ahead_.pop_front();
}

Status IndexSource::LoadCurrent() {
  CAIRN_ASSIGN_OR_RETURN(size_t i, index_.ChunkAt(position_));
  if (i == current_) return Status::OK();
  std::unique_ptr<Fetch> fetch;
  {
    MutexLock lock(mu_);
    // Drop read-ahead for chunks that were skipped; start over if chunk i was not queued.
    while (!ahead_.empty() && ahead_.front()->chunk < i) DropOldestLocked();
    if (ahead_.empty() || ahead_.front()->chunk != i) {
      while (!ahead_.empty()) DropOldestLocked();
      next_fetch_ = i;
    }
    PrefetchLocked();
    while (!ahead_.front()->done) cv_.Wait();
    fetch = std::move(ahead_.front());
    ahead_.pop_front();
    if (plain_.capacity() > 0) spare_.push_back(std::move(plain_));
    PrefetchLocked();
  }
  if (!fetch->status.ok()) return fetch->status;
  plain_ = std::move(fetch->data);
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
    return Status::Corruption(
        fmt::format("read of {} bytes at {} past the end of the {}-byte "
                    "stream",
                    buf.size(), offset, index_.size()));
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

#include "client/chunk_uploader.h"

#include <algorithm>
#include <cstring>

#include "format/data_blob.h"

namespace cairn {
namespace {

bool IsAllZero(ByteView data) {
  static constexpr uint8_t kZeros[4096] = {};
  size_t i = 0;
  for (; i + sizeof(kZeros) <= data.size(); i += sizeof(kZeros)) {
    if (std::memcmp(data.data() + i, kZeros, sizeof(kZeros)) != 0) return false;
  }
  return std::memcmp(data.data() + i, kZeros, data.size() - i) == 0;
}

}  // namespace

ChunkUploader::ChunkUploader(BackupSession& session, IndexUpload& index, const CryptConfig* crypt,
                             unsigned threads, size_t max_in_flight)
    : session_(session),
      index_(index),
      crypt_(crypt),
      max_in_flight_(std::max<size_t>(1, max_in_flight)) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ChunkUploader::~ChunkUploader() {
  {
    MutexLock lock(mu_);
    closing_ = true;
  }
  work_cv_.SignalAll();
  for (auto& t : workers_) t.join();
}

Result<std::vector<Digest>> ChunkUploader::UseBaseChunks(std::span<const Digest> digests) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> lost, session_.RegisterKnownChunks(digests));
  MutexLock lock(mu_);
  lost_.insert(lost.begin(), lost.end());
  for (const Digest& d : digests) {
    if (lost_.count(d) == 0) known_.insert(d);
  }
  return lost;
}

Bytes ChunkUploader::TakeBuffer() {
  MutexLock lock(mu_);
  if (free_buffers_.empty()) return Bytes();
  Bytes buffer = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return buffer;
}

Status ChunkUploader::Submit(uint64_t seq, Bytes plaintext) {
  {
    MutexLock lock(mu_);
    while (in_flight_ >= max_in_flight_ && error_.ok()) space_cv_.Wait();
    if (!error_.ok()) return error_;
    stats_.chunks++;
    stats_.bytes += plaintext.size();
    queue_.push_back(Job{seq, std::move(plaintext)});
    in_flight_++;
  }
  work_cv_.Signal();
  return Status::OK();
}

Status ChunkUploader::Finish() {
  MutexLock lock(mu_);
  while (in_flight_ != 0) space_cv_.Wait();
  return error_;
}

ChunkUploaderStats ChunkUploader::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void ChunkUploader::WorkerLoop() {
  for (;;) {
    Job job;
    {
      MutexLock lock(mu_);
      while (!closing_ && queue_.empty()) work_cv_.Wait();
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (!error_.ok()) {  // drain without work after a failure
        in_flight_--;
        space_cv_.SignalAll();
        continue;
      }
    }
    Status st = Process(job);
    {
      MutexLock lock(mu_);
      if (!st.ok() && error_.ok()) error_ = st;
      if (free_buffers_.size() <= max_in_flight_) free_buffers_.push_back(std::move(job.data));
      in_flight_--;
    }
    space_cv_.SignalAll();
  }
}

Digest ChunkUploader::DigestFor(ByteView data, bool* is_zero) {
  *is_zero = IsAllZero(data);
  if (*is_zero) {
    MutexLock lock(mu_);
    auto it = zero_digests_.find(data.size());
    if (it != zero_digests_.end()) return it->second;
  }
  Digest d = crypt_ ? crypt_->ComputeDigest(data) : Sha256Of(data);
  if (*is_zero) {
    MutexLock lock(mu_);
    zero_digests_.emplace(data.size(), d);
  }
  return d;
}

bool ChunkUploader::Claim(const Digest& digest) {
  MutexLock lock(mu_);
  return known_.insert(digest).second;
}

Status ChunkUploader::Process(Job& job) {
  bool is_zero = false;
  const Digest digest = DigestFor(job.data, &is_zero);
  const bool claimed = Claim(digest);
  if (claimed) {
    thread_local Bytes encoded;  // one per worker, reused: no fresh pages per chunk
    CAIRN_RETURN_IF_ERROR(EncodeBlobInto(job.data, crypt_, true, &encoded));
    CAIRN_ASSIGN_OR_RETURN(bool duplicate, index_.UploadChunk(digest, encoded, job.data.size()));
    MutexLock lock(mu_);
    stats_.uploaded++;
    stats_.uploaded_bytes += encoded.size();
    stats_.duplicates += duplicate;
    if (!duplicate) stats_.new_bytes += job.data.size();
    if (!duplicate && lost_.count(digest) != 0) stats_.restored++;
  }
  MutexLock lock(mu_);
  if (!claimed) stats_.known++;
  stats_.zero_chunks += is_zero;
  if (digests_.size() <= job.seq) digests_.resize(job.seq + 1);
  digests_[job.seq] = digest;
  return Status::OK();
}

}  // namespace cairn

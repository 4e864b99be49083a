// ChunkUploader turns plaintext chunks into stored chunks on a pool of worker threads: digest
// (SHA-256, or SHA-256 with the key's id_key when encrypting), skip if the digest is already
// known (from the previous snapshot's index or uploaded earlier in this session), otherwise
// compress (zstd-1 if smaller), encrypt, and upload under the archive's IndexUpload. All-zero
// chunks are recognised without hashing after the first of each length and uploaded at most once.
//
// Submit() blocks while `max_in_flight` chunks are queued or being processed, so memory stays
// bounded at roughly max_in_flight * 2 chunk sizes whatever the input size.
//
// Results are reported per submission sequence number; the caller assembles its index from
// them after Finish(). The first error stops the pool; Finish() returns it.
//
// Ownership: borrows the session, index and crypt config, which must outlive the uploader.
// Thread-safety: Submit/Finish from one producer thread; workers are internal.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/bytes.h"
#include "base/mutex.h"
#include "base/result.h"
#include "client/repository.h"
#include "format/crypt_config.h"
#include "format/digest.h"

namespace cairn {

struct ChunkUploaderStats {
  uint64_t chunks = 0;          // chunks submitted
  uint64_t bytes = 0;           // plaintext bytes submitted
  uint64_t known = 0;           // skipped: digest known before upload (previous snapshot / session)
  uint64_t zero_chunks = 0;     // all-zero chunks
  uint64_t uploaded = 0;        // sent to the store
  uint64_t duplicates = 0;      // sent, but the store had them already
  uint64_t uploaded_bytes = 0;  // encoded bytes sent
  uint64_t new_bytes = 0;       // plaintext bytes of the chunks the store did not have
  uint64_t restored = 0;        // chunks of the previous snapshot the store had lost, stored again
};

class ChunkUploader {
 public:
  // threads 0 = one per core.
  ChunkUploader(BackupSession& session, IndexUpload& index, const CryptConfig* crypt,
                unsigned threads, size_t max_in_flight);
  ~ChunkUploader();  // waits for the workers

  // Registers the chunks of the previous snapshot's index with the session and marks those the
  // store holds as known, so they are not uploaded again. Those the store lost (missing, or
  // set aside as damaged) are uploaded when their data comes up (stats().restored counts them).
  // Returns the digests the store lost. Call before the first Submit.
  Result<std::vector<Digest>> UseBaseChunks(std::span<const Digest> digests);

  // A buffer for the next chunk: one a finished job gave back (keeping its size and pages, so
  // refilling it costs no allocation, zeroing or page faults), or an empty one.
  Bytes TakeBuffer();

  // Queues chunk number `seq` (0, 1, 2, ... in any order). Returns the pool's first error if it
  // has failed (the chunk is then dropped).
  Status Submit(uint64_t seq, Bytes plaintext);

  // Waits for every queued chunk; returns the first error, if any.
  Status Finish();

  // Digest of chunk `seq`. REQUIRES: Finish() returned OK and seq was submitted.
  const Digest& DigestOf(uint64_t seq) const { return digests_[seq]; }

  ChunkUploaderStats stats() const;

 private:
  struct Job {
    uint64_t seq;
    Bytes data;
  };
  void WorkerLoop();
  Status Process(Job& job);
  Digest DigestFor(ByteView data, bool* is_zero);
  // True if this call claimed the digest for upload (it was neither known nor claimed).
  bool Claim(const Digest& digest);

  BackupSession& session_;
  IndexUpload& index_;
  const CryptConfig* crypt_;
  const size_t max_in_flight_;

  mutable Mutex mu_;
  CondVar work_cv_{&mu_};   // workers wait for jobs
  CondVar space_cv_{&mu_};  // producer waits for room, Finish for completion
  std::deque<Job> queue_ CAIRN_GUARDED_BY(mu_);
  size_t in_flight_ CAIRN_GUARDED_BY(mu_) = 0;  // queued + processing
  bool closing_ CAIRN_GUARDED_BY(mu_) = false;
  Status error_ CAIRN_GUARDED_BY(mu_);
  std::unordered_set<Digest, DigestHash> known_ CAIRN_GUARDED_BY(mu_);
  // Chunks of the base the store does not hold.
  std::unordered_set<Digest, DigestHash> lost_ CAIRN_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Digest> zero_digests_ CAIRN_GUARDED_BY(mu_);  // by length
  // Written under mu_ by the workers; read without it after Finish (DigestOf).
  std::vector<Digest> digests_;
  std::vector<Bytes> free_buffers_ CAIRN_GUARDED_BY(mu_);  // at most max_in_flight_ + 1
  ChunkUploaderStats stats_ CAIRN_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace cairn

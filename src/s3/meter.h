// S3Meter counts what a client sends and receives on the wire: requests by kind, retries,
// failures and payload bytes in each direction. The S3 object store hands these counts up as
// ObjectStoreStats (storage/object_store_stats.h), which jobs report and store.
//
// Kinds follow what providers bill: GET (object reads), PUT (uploads), HEAD, LIST
// (ListObjectsV2/ListBuckets), DELETE (DeleteObject and DeleteObjects requests), COPY.
//
// Thread-safety: thread-safe (atomic counters); Snapshot is a consistent-enough copy for
// reporting, not a transaction.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace cairn::s3 {

enum class RequestKind { kGet, kPut, kHead, kList, kDelete, kCopy };
inline constexpr size_t kRequestKinds = 6;
// "get", "put", "head", "list", "delete", "copy".
std::string_view RequestKindName(RequestKind kind);

struct S3Stats {
  std::array<uint64_t, kRequestKinds> requests{};  // attempts sent, retries included
  uint64_t retries = 0;                            // attempts after the first
  uint64_t failures = 0;   // operations that returned an error after all attempts
  uint64_t bytes_in = 0;   // response bodies received
  uint64_t bytes_out = 0;  // request bodies sent

  uint64_t requests_of(RequestKind kind) const { return requests[static_cast<size_t>(kind)]; }
};

class S3Meter {
 public:
  void CountRequest(RequestKind kind) { requests_[static_cast<size_t>(kind)]++; }
  void CountRetry() { retries_++; }
  void CountFailure() { failures_++; }
  void AddBytesIn(uint64_t n) { bytes_in_ += n; }
  void AddBytesOut(uint64_t n) { bytes_out_ += n; }
  S3Stats Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kRequestKinds> requests_{};
  std::atomic<uint64_t> retries_{0}, failures_{0}, bytes_in_{0}, bytes_out_{0};
};

}  // namespace cairn::s3

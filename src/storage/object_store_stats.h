// ObjectStoreStats: what an object store was asked to do, by request kind, with retries,
// failures and payload bytes in each direction, so every job (backup, restore, GC, check) can
// report what a run cost at the provider. Kinds follow what providers bill: GET (object reads),
// PUT (uploads), HEAD, LIST (one per listing page), DELETE (single and batch requests), COPY.
//
// A store counts what it sends: the S3 store its wire requests (s3::S3Meter, retries included),
// MeteredObjectStore (metered_object_store.h) the calls made to a store that does not count.
//
// Thread-safety: a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "s3/meter.h"

namespace cairn {

// The kinds are those the S3 client meters on the wire (what providers bill).
using RequestKind = s3::RequestKind;
using s3::kRequestKinds;
using s3::RequestKindName;

struct ObjectStoreStats {
  std::array<uint64_t, kRequestKinds> requests{};  // attempts sent, retries included
  uint64_t retries = 0;                            // attempts after the first
  uint64_t failures = 0;   // operations that returned an error after all attempts
  uint64_t bytes_in = 0;   // response bodies received
  uint64_t bytes_out = 0;  // request bodies sent

  uint64_t requests_of(RequestKind kind) const { return requests[static_cast<size_t>(kind)]; }
  uint64_t total_requests() const;
  // {"requests": {"get": n, ...}, "retries": n, "failures": n, "bytes-in": n, "bytes-out": n}
  nlohmann::json ToJson() const;
  // The inverse of ToJson. InvalidArgument if a field is missing or of the wrong type.
  static Result<ObjectStoreStats> FromJson(const nlohmann::json& json);
  // "GET 12, PUT 3, HEAD 1, ...; in 1.2 MiB, out 4.0 MiB, 2 retries"
  std::string ToText() const;
  // Counter-wise difference (this - earlier), for reporting one job of a long-lived store.
  ObjectStoreStats Since(const ObjectStoreStats& earlier) const;
};

// The S3 client's wire counters as an object store reports them.
ObjectStoreStats ToObjectStoreStats(const s3::S3Stats& wire);

}  // namespace cairn

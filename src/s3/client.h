// S3Client performs S3 operations on one bucket of one endpoint: the object operations a
// datastore needs, with SigV4 signing, retries with backoff, provider quirks, byte-rate limits and
// metering. It knows nothing of datastores: keys are opaque ObjectKeys.
//
// Every operation maps its outcome once (see errors.h): NotFound for a missing object or
// bucket, AlreadyExists for a create-only PUT that found the key, PermissionDenied for bad
// credentials, Unavailable (retryable) for network trouble and throttling that outlasted the
// retry policy. Messages name the operation and the key.
//
// Retries: operations are retried on Unavailable up to the policy's attempts (all of them are
// idempotent). A create-only PUT that meets 412 compares the stored object's size and ETag with
// its own payload: equal means the object holds our payload (perhaps stored by an attempt whose
// reply was lost) and the PUT succeeded.
//
// Ownership: the client owns its transport (and connection pool), limiters and meter.
// Thread-safety: thread-safe; share one client between all threads of a job.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "http/transport.h"
#include "s3/endpoint.h"
#include "s3/meter.h"
#include "s3/object_key.h"
#include "s3/retry.h"
#include "s3/xml.h"

namespace cairn::s3 {

struct S3ClientOptions {
  RetryPolicy retry;
  // Timeouts and connection settings; max_connections, limits and fingerprint come from the
  // endpoint config and override what is set here.
  http::TransportOptions transport;
  // Time for rate limits and retry waits; tests pass a fake one. Not owned; must outlive the
  // client.
  http::Clock* clock = http::Clock::Real();
};

enum class PutOutcome {
  kStored,         // the object now holds exactly our payload
  kAlreadyExists,  // create-only: an object with other content was there first (not replaced)
};

struct ListOptions {
  std::string prefix;       // "" for all; validated with ValidatePrefix
  std::string delimiter;    // "" for a flat listing, "/" to group by folder
  std::string start_after;  // list keys after this one (for parallel listing of key ranges)
  int max_keys = 0;         // 0 = server default (1000)
};

class S3Client;

// Lazy paging over ListObjectsV2: each Next fetches one page.
class ObjectLister {
 public:
  // Fetches the next page into *page. Returns false when the listing was complete before this
  // call (and leaves *page empty). Errors as S3Client operations.
  Result<bool> Next(ListPage* page);

 private:
  friend class S3Client;
  ObjectLister(S3Client* client, ListOptions options)
      : client_(client), options_(std::move(options)) {}
  S3Client* client_;
  ListOptions options_;
  std::string continuation_token_;
  bool done_ = false;
};

class S3Client {
 public:
  // InvalidArgument when the endpoint config or bucket name is not valid (see endpoint.h).
  // `bucket` may be empty for a client that only lists buckets.
  static Result<std::unique_ptr<S3Client>> Create(const EndpointConfig& config, std::string bucket,
                                                  S3ClientOptions options = {});
  ~S3Client();

  const EndpointConfig& config() const { return config_; }
  const std::string& bucket() const { return bucket_; }

  // OK when the bucket exists and the credentials may use it; NotFound, PermissionDenied.
  Status HeadBucket();
  // Creates the bucket (in the endpoint's region). AlreadyExists when it exists (owned by these
  // credentials or not).
  Status CreateBucket();
  // The buckets these credentials own.
  Result<std::vector<BucketInfo>> ListBuckets();

  // Size, ETag and modification time; NotFound when absent.
  Result<ObjectInfo> HeadObject(const ObjectKey& key);
  // The whole object (at most 1 GiB: larger is Corruption); NotFound when absent.
  Result<Bytes> GetObject(const ObjectKey& key);
  // Up to `length` bytes from `offset` (fewer at the end of the object). InvalidArgument for an
  // empty or overflowing range, or an offset past the end; Corruption when the server's reply
  // is not the requested range.
  Result<Bytes> GetObjectRange(const ObjectKey& key, uint64_t offset, uint64_t length);

  // Stores `data` under `key`, replacing what is there.
  Status PutObject(const ObjectKey& key, ByteView data);
  // Stores `data` only if `key` does not exist (If-None-Match: *, or HEAD-then-PUT with the
  // skip-if-none-match-header quirk). When the key exists (412) one HEAD tells whether it
  // already holds our payload (kStored) or other content (kAlreadyExists).
  Result<PutOutcome> PutObjectIfAbsent(const ObjectKey& key, ByteView data);

  // Deletes `key`; deleting a missing key is OK (as in S3).
  Status DeleteObject(const ObjectKey& key);
  // Deletes all `keys` with one DeleteObjects request per 1000 keys (or one DeleteObject each
  // with the delete-objects-via-delete-object quirk). Keys the server fails with a retryable
  // code are retried; otherwise the error names the failed keys and their S3 codes.
  Status DeleteObjects(const std::vector<ObjectKey>& keys);
  // Server-side copy of `source` to `target` in this bucket. NotFound if source is missing.
  Status CopyObject(const ObjectKey& source, const ObjectKey& target);

  // One ListObjectsV2 page. InvalidArgument for an invalid prefix.
  Result<ListPage> ListObjectsPage(const ListOptions& options,
                                   const std::string& continuation_token);
  // Lazy paging over all pages. The client must outlive the lister.
  ObjectLister List(ListOptions options) { return ObjectLister(this, std::move(options)); }
  // Convenience: every object under `prefix` (all pages). Use List for large listings.
  Result<std::vector<ObjectInfo>> ListAll(const std::string& prefix);

  // Server time minus local time in seconds, read from the Date header of a bucket request.
  Result<int64_t> ClockSkew();

  // Counters since the client was created.
  S3Stats Stats() const { return meter_.Snapshot(); }

 private:
  struct Operation;
  S3Client(EndpointConfig config, std::string bucket, Endpoint endpoint, S3ClientOptions options,
           std::unique_ptr<http::Transport> transport);
  // Sends `op` with retries. Returns the 2xx reply or the mapped error.
  Result<http::Response> Execute(const Operation& op);
  // Whether attempt number `attempt` may be followed by another.
  bool MayRetry(int attempt) const;
  // Counts a retry and waits before attempt `attempt` + 1.
  void WaitToRetry(int attempt, std::optional<double> retry_after);
  // HEAD on the bucket; NotFound says the bucket may be missing or invisible, PermissionDenied
  // says why the credentials were refused (ExplainDenial).
  Result<http::Response> HeadBucketReply();
  // After a refused HEAD: why, as " (Code: what to do)" from a request whose reply has a body;
  // "" if that request does not tell.
  std::string ExplainDenial();
  // One attempt; `*retry_after` receives the server's Retry-After, if any.
  Result<http::Response> ExecuteOnce(const Operation& op, std::optional<double>* retry_after);
  Status DeleteBatch(const std::vector<ObjectKey>& keys);
  // Whether `stored` (from HEAD) holds exactly `data`: same size and ETag = MD5.
  static bool HoldsPayload(const ObjectInfo& stored, ByteView data);

  const EndpointConfig config_;
  const std::string bucket_;
  const Endpoint endpoint_;
  const Endpoint service_endpoint_;  // for ListBuckets
  const S3ClientOptions options_;
  std::unique_ptr<http::Transport> transport_;
  S3Meter meter_;
};

}  // namespace cairn::s3

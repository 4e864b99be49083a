// The ObjectStore of one S3 bucket, on top of s3::S3Client (which does signing, retries,
// provider quirks, limits and metering). Create-only puts use the client's conditional PUT, so a
// provider without If-None-Match support (quirk skip-if-none-match-header) still never replaces
// an object it can see.
//
// Thread-safety: thread-safe, like the client it owns.
#pragma once

#include <memory>
#include <string>

#include "s3/client.h"
#include "storage/object_store.h"

namespace cairn {

// `endpoint_id` names the endpoint in messages. The endpoint's put-rate-limit, if any, is
// applied by a RateLimitedObjectStore around the S3 store.
std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<s3::S3Client> client,
                                              std::string endpoint_id);

}  // namespace cairn

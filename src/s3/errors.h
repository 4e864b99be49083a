// The one place where S3 and HTTP replies become a Status (transport failures are mapped in
// http_transport.cc):
//   404, NoSuchKey, NoSuchBucket              -> NotFound
//   412 PreconditionFailed                    -> AlreadyExists (create-only PUT found the key)
//   409 BucketAlreadyExists, BucketAlreadyOwnedByYou -> AlreadyExists
//   401, 403 (AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed)
//                                             -> PermissionDenied, S3 code in the message
//   408, 409, 429, 5xx, SlowDown, RequestTimeout, InternalError -> Unavailable (retryable)
//   other 4xx (501 NotImplemented too)        -> InvalidArgument, S3 code in the message
// Messages read "<what>: <status> <S3 code>: <S3 message>", e.g.
// "put store/.chunks/a342/a342...: 503 SlowDown: Please reduce your request rate".
//
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "base/status.h"

namespace cairn::s3 {

// REQUIRES: http_status is not 2xx.
Status StatusFromHttpReply(int http_status, std::string_view body, std::string_view what);

}  // namespace cairn::s3

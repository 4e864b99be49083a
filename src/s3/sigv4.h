// AWS Signature Version 4 for S3, as one pure function: given the request as it will go on the
// wire, the credentials and the time, it returns every stage of the signature (canonical
// request, string to sign, signature, Authorization header) so tests can compare each stage
// against AWS's published vectors and botocore.
//
// S3 rules (not the generic-service rules): the canonical URI is the request path exactly as
// sent (encoded once, '/' kept, no dot-segment normalisation); query names and values are
// encoded with '/' as %2F; every header passed in is signed. UriEncode is the one encoder both
// the client (building URLs) and the signer use, so what is signed is what is sent.
//
// Thread-safety: pure functions; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/headers.h"

namespace cairn::s3 {

using http::HeaderList;
using QueryList = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes `text` byte by byte: unreserved characters (A-Z a-z 0-9 - . _ ~) stay,
// '/' stays unless `encode_slash`, everything else (space, '+', '=', '&', UTF-8 bytes) becomes
// %XX with uppercase hex.
std::string UriEncode(std::string_view text, bool encode_slash);

// The query string exactly as signed and sent: pairs encoded with UriEncode(.., true), sorted
// by encoded name then value, joined as "n=v&n=v" (an empty value gives "n=").
std::string CanonicalQueryString(const QueryList& query);

struct SigningRequest {
  std::string method;          // "GET", "PUT", ...
  std::string encoded_path;    // path as on the wire, e.g. "/bucket/my%20key"; "/" for none
  QueryList query;             // decoded names and values
  HeaderList headers;          // every header sent except Authorization (host included)
  std::string payload_sha256;  // lowercase hex SHA-256 of the body (of "" when empty)
};

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // value of the Authorization header
};

// Signs `request`. `amz_date` is the X-Amz-Date value ("20150830T123600Z"); it must also be
// present among the headers for the signature to be accepted. `service` is "s3" for S3.
Signature SignV4(const SigningRequest& request, const Credentials& credentials,
                 std::string_view amz_date, std::string_view region, std::string_view service);

// "20150830T123600Z" for a Unix time.
std::string AmzDate(int64_t epoch_seconds);

}  // namespace cairn::s3

// EndpointConfig describes one S3-compatible service (AWS, Ceph RGW, MinIO, R2, ...) the way a
// user configures it (`cairn s3 endpoint create`), and Endpoint turns it into request URLs.
//
// The endpoint is a host name (HTTPS implied) or an explicit URL: "s3.eu-central-1.amazonaws.com",
// "{{bucket}}.s3.{{region}}.amazonaws.com", "https://rgw.lan:7480", "http://127.0.0.1:9000".
// Plain http:// is used only when written so. `{{region}}` is replaced by the region anywhere;
// `{{bucket}}.` may only be the leading label and makes the addressing virtual-hosted.
// Addressing is virtual-hosted by default (https://BUCKET.host/KEY), path style on request
// (https://host/BUCKET/KEY).
//
// Thread-safety: immutable values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "s3/object_key.h"
#include "s3/sigv4.h"

namespace cairn::s3 {

inline constexpr char kDefaultRegion[] = "us-west-1";

// Behaviour some providers need, named as in PBS's s3.cfg.
struct ProviderQuirks {
  // The provider rejects `If-None-Match: *`: create-only PUTs become HEAD-then-PUT (racy
  // between two writers of the same key; harmless for content-addressed chunks).
  bool skip_if_none_match_header = false;
  // The provider has no DeleteObjects: delete keys one by one.
  bool delete_objects_via_delete_object = false;

  // "skip-if-none-match-header,delete-objects-via-delete-object" (empty for none).
  std::vector<std::string> Names() const;
  // InvalidArgument naming an unknown quirk.
  Status Add(std::string_view name);
};

struct EndpointConfig {
  std::string id;        // 3-32 chars, [A-Za-z0-9_-], starts alphanumeric
  std::string endpoint;  // host or URL, see the file comment
  std::optional<uint16_t> port;
  std::string region = kDefaultRegion;
  Credentials credentials;
  bool path_style = false;
  std::string fingerprint;  // pinned SHA-256 of the TLS leaf certificate, "AA:BB:..."; optional
  // PUT (and COPY) requests per second; 0 = unlimited. Applied by the object store over the
  // client (storage/rate_limited_object_store.h), not by the client itself.
  double put_rate_limit = 0;
  uint64_t rate_in = 0, burst_in = 0;    // download bytes/s and burst; 0 = unlimited
  uint64_t rate_out = 0, burst_out = 0;  // upload bytes/s and burst; 0 = unlimited
  int max_connections = 8;               // concurrent requests (and pooled connections)
  ProviderQuirks quirks;
};

// InvalidArgument naming the first field that is not valid.
Status ValidateEndpointConfig(const EndpointConfig& config);
// Normalises "aa:bb:.." / "AABB.." to "AA:BB:..."; InvalidArgument unless 32 bytes of hex.
Result<std::string> NormalizeFingerprint(std::string_view fingerprint);
// S3 bucket naming rules (3-63 chars, lowercase letters, digits, '-', '.', ...).
Status ValidateBucketName(std::string_view bucket);

// Where requests go: scheme, host and port of an endpoint for one bucket, and the URL and
// signed path of each request.
class Endpoint {
 public:
  // InvalidArgument when the config is not valid or cannot address `bucket` (e.g.
  // virtual-hosted style on an IP address). `bucket` may be empty for ListBuckets only.
  static Result<Endpoint> Create(const EndpointConfig& config, std::string_view bucket);

  bool https() const { return https_; }
  // The Host header value ("bucket.s3.example.com:9000"; port only when not the default).
  const std::string& host_header() const { return authority_; }
  // The encoded request path for `key` ("/" + key, prefixed with "/bucket" in path style); for
  // an empty key the bucket root ("/" or "/bucket").
  std::string EncodedPath(std::string_view key) const;
  // Full URL: scheme://host[:port] + EncodedPath(key) + "?" + canonical query (if any).
  std::string Url(std::string_view key, const QueryList& query) const;

 private:
  bool https_ = true;
  std::string authority_;    // host[:port]: in URLs and the Host header
  std::string path_prefix_;  // "/bucket" in path style, else ""
};

}  // namespace cairn::s3

#include "s3/probe.h"

#include <fmt/format.h>

#include <cstdlib>
#include <random>

namespace cairn::s3 {
namespace {

constexpr int64_t kSkewWarnSeconds = 60;
constexpr int64_t kSkewRefusedSeconds = 15 * 60;  // S3 refuses requests beyond this

std::string ProbeKeyName() {
  std::random_device random;
  return fmt::format(".cairn-s3-check/{:08x}{:08x}", random(), random());
}

}  // namespace

bool ProbeReport::ok() const {
  for (const ProbeCheck& check : checks) {
    if (!check.ok) return false;
  }
  return true;
}

Result<ProbeReport> ProbeEndpoint(const EndpointConfig& configured, const std::string& bucket,
                                  const S3ClientOptions& options) {
  EndpointConfig config = configured;
  config.quirks = ProviderQuirks();
  ProbeReport report;
  S3Stats earlier;  // requests of a client given up for another addressing style

  // Addressing: the configured style first; for virtual-hosted style that fails, path style.
  Result<std::unique_ptr<S3Client>> client = S3Client::Create(config, bucket, options);
  Status access = client.ok() ? (*client)->HeadBucket() : client.status();
  if (!access.ok() && !config.path_style && access.code() != Code::kPermissionDenied) {
    EndpointConfig path_style = config;
    path_style.path_style = true;
    Result<std::unique_ptr<S3Client>> retry = S3Client::Create(path_style, bucket, options);
    Status retry_access = retry.ok() ? (*retry)->HeadBucket() : retry.status();
    if (!retry_access.ok() && access.code() == Code::kInvalidArgument) {
      access = retry_access;  // virtual-hosted style was impossible: path style's error tells more
    }
    if (retry_access.ok()) {
      report.needs_path_style = true;
      report.checks.push_back({"addressing", false,
                               fmt::format("virtual-hosted style fails ({}); path style works: "
                                           "configure --path-style",
                                           access.message())});
      if (client.ok()) earlier = (*client)->Stats();
      client = std::move(retry);
      access = Status::OK();
    }
  }
  if (!access.ok()) return access.WithContext(fmt::format("bucket '{}'", bucket));
  S3Client& s3 = **client;
  if (!report.needs_path_style) {
    report.checks.push_back(
        {"addressing", true,
         config.path_style ? "path style works" : "virtual-hosted style works"});
  }
  report.checks.push_back({"bucket access", true, "bucket exists and the credentials may use it"});

  Result<int64_t> skew = s3.ClockSkew();
  if (skew.ok()) {
    report.clock_skew_seconds = *skew;
    int64_t off = std::llabs(*skew);
    report.checks.push_back(
        {"clock", off <= kSkewRefusedSeconds,
         off <= kSkewWarnSeconds ? fmt::format("server clock within {} s of ours", off)
         : off <= kSkewRefusedSeconds
             ? fmt::format("server clock {} s off ours; fix this host's time (NTP)", *skew)
             : fmt::format("server clock {} s off ours: requests will be refused; fix this "
                           "host's time (NTP)",
                           *skew)});
  } else {
    report.checks.push_back({"clock", true, "server sends no usable Date header; not checked"});
  }

  CAIRN_ASSIGN_OR_RETURN(ObjectKey key, ObjectKey::Parse(ProbeKeyName()));
  Status written = s3.PutObject(key, AsBytes("first"));
  if (!written.ok()) return written.WithContext("write test object");
  Result<Bytes> read = s3.GetObject(key);
  if (!read.ok()) return read.status().WithContext("read test object");
  report.checks.push_back({"read/write", AsString(*read) == "first",
                           AsString(*read) == "first"
                               ? "objects are written and read back intact"
                               : "object read back differs from what was written"});

  Result<PutOutcome> conditional = s3.PutObjectIfAbsent(key, AsBytes("second"));
  Result<Bytes> after = s3.GetObject(key);
  if (conditional.ok() && *conditional == PutOutcome::kAlreadyExists && after.ok() &&
      AsString(*after) == "first") {
    report.checks.push_back({"conditional put", true, "If-None-Match: * is honoured"});
  } else {
    report.needed_quirks.skip_if_none_match_header = true;
    std::string why = conditional.ok() ? "ignored (the object was overwritten)"
                                       : "rejected (" + conditional.status().message() + ")";
    report.checks.push_back(
        {"conditional put", configured.quirks.skip_if_none_match_header,
         fmt::format("If-None-Match: * is {}: needs provider quirk skip-if-none-match-header",
                     why)});
  }

  Status multi = s3.DeleteObjects({key});
  Result<ObjectInfo> gone = s3.HeadObject(key);
  if (multi.ok() && gone.status().IsNotFound()) {
    report.checks.push_back({"multi-object delete", true, "DeleteObjects works"});
  } else {
    report.needed_quirks.delete_objects_via_delete_object = true;
    report.checks.push_back({"multi-object delete",
                             configured.quirks.delete_objects_via_delete_object,
                             fmt::format("DeleteObjects fails ({}): needs provider quirk "
                                         "delete-objects-via-delete-object",
                                         multi.ok() ? "object still there" : multi.message())});
    CAIRN_RETURN_IF_ERROR(s3.DeleteObject(key).WithContext("remove test object"));
  }
  report.requests = s3.Stats();
  for (size_t i = 0; i < kRequestKinds; ++i) report.requests.requests[i] += earlier.requests[i];
  return report;
}

}  // namespace cairn::s3

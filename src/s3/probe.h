// ProbeEndpoint finds out what a provider needs before a datastore trusts it with data
// (`cairn s3 check`): whether the bucket is reachable with these credentials, which addressing
// style works, how far the server's clock is from ours, and whether the provider honours
// conditional PUT (If-None-Match: *) and multi-object delete, i.e. which provider quirks the
// endpoint must be configured with. It writes, reads and deletes one small object under
// `.cairn-s3-check/`.
//
// Thread-safety: a free function; concurrent probes of one bucket use distinct objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "s3/client.h"

namespace cairn::s3 {

struct ProbeCheck {
  std::string name;    // "bucket access", "addressing", "clock", "read/write", ...
  bool ok = false;     // false: Cairn cannot work as configured (see detail)
  std::string detail;  // one line for the user
};

struct ProbeReport {
  std::vector<ProbeCheck> checks;
  ProviderQuirks needed_quirks;  // what the endpoint should be configured with
  bool needs_path_style = false;
  int64_t clock_skew_seconds = 0;
  S3Stats requests;  // what the probe cost

  bool ok() const;  // every check ok
};

// Probes `bucket` at `config` (its configured quirks are ignored: they are what is measured).
// Errors only when the bucket cannot be used at all (unreachable, credentials refused, no such
// bucket, no write permission); everything else is reported in the checks.
Result<ProbeReport> ProbeEndpoint(const EndpointConfig& config, const std::string& bucket,
                                  const S3ClientOptions& options = {});

}  // namespace cairn::s3

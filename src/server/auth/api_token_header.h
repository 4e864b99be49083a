// The `Authorization` header of API token requests (spec 4.2, PBS api/mod.rs
// extract_auth_data):
//
//   PBSAPIToken <user@realm!name>:<secret>     (proxmox-backup-client)
//   PBSAPIToken=<user@realm!name>:<secret>     (PVE, Go clients)
//
// The secret is percent-decoded. A ticket cookie, when present, takes precedence (the HTTP
// layer decides that).
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "server/auth/auth_id.h"

namespace cairn::server {

struct ApiTokenCredentials {
  Authid tokenid;
  std::string secret;
};

// Parses a header value. InvalidArgument if the scheme is not "PBSAPIToken" followed by ' '
// or '=', there is no ':' after the id, the id is not a valid token id, or the secret is
// empty or badly percent-encoded.
Result<ApiTokenCredentials> ParseApiTokenHeader(std::string_view value);

}  // namespace cairn::server

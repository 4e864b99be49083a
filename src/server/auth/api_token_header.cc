#include "server/auth/api_token_header.h"

#include "server/auth/encoding.h"

namespace cairn::server {

Result<ApiTokenCredentials> ParseApiTokenHeader(std::string_view value) {
  constexpr std::string_view kScheme = "PBSAPIToken";
  if (!value.starts_with(kScheme) || value.size() <= kScheme.size() ||
      (value[kScheme.size()] != ' ' && value[kScheme.size()] != '=')) {
    return Status::InvalidArgument("not a PBSAPIToken authorization header");
  }
  const std::string_view rest = value.substr(kScheme.size() + 1);
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("API token header without ':' before the secret");
  }
  CAIRN_ASSIGN_OR_RETURN(Authid tokenid, Authid::Parse(rest.substr(0, colon)));
  if (!tokenid.is_token()) {
    return Status::InvalidArgument("API token header names a user, not a token");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string secret, PercentDecode(rest.substr(colon + 1)));
  if (secret.empty()) return Status::InvalidArgument("API token header with an empty secret");
  return ApiTokenCredentials{std::move(tokenid), std::move(secret)};
}

}  // namespace cairn::server

#include "s3/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/quote.h"
#include "s3/xml.h"

namespace cairn::s3 {

Status StatusFromHttpReply(int http_status, std::string_view body, std::string_view what) {
  ErrorReply reply = ParseErrorReply(body);
  // The code is an identifier; keep only what can be one so a hostile reply cannot inject text.
  std::erase_if(reply.code, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
  reply.code.resize(std::min<size_t>(reply.code.size(), 64));
  std::string message = fmt::format("{}: {}", what, http_status);
  if (!reply.code.empty()) message += " " + reply.code;
  if (!reply.message.empty()) message += ": " + QuoteForMessage(reply.message);
  const std::string& code = reply.code;

  if (code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists") {
    return Status::AlreadyExists(std::move(message));
  }
  if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
      code == "ServiceUnavailable" || http_status == 408 || http_status == 409 ||
      http_status == 429 || (http_status >= 500 && http_status != 501)) {
    return Status::Unavailable(std::move(message));
  }
  if (http_status == 404 || code == "NoSuchKey" || code == "NoSuchBucket") {
    return Status::NotFound(std::move(message));
  }
  if (http_status == 412) return Status::AlreadyExists(std::move(message));
  if (http_status == 401 || http_status == 403) {
    if (code == "RequestTimeTooSkewed") message += " (check this host's clock)";
    return Status::PermissionDenied(std::move(message));
  }
  return Status::InvalidArgument(std::move(message));
}

}  // namespace cairn::s3

#include "http/answer_status.h"

#include <fmt/format.h>

namespace cairn::http {

Status StatusForAnswer(int status, std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.pop_back();
  }
  if (message.empty()) message = fmt::format("HTTP status {}", status);
  switch (status) {
    case 400: return Status::InvalidArgument(std::move(message));
    case 401:
    case 403: return Status::PermissionDenied(std::move(message));
    case 404: return Status::NotFound(std::move(message));
    case 409:
    case 423: return Status::Busy(std::move(message));
    default:
      if (status >= 500) return Status::Unavailable(std::move(message));
      return Status::IOError(std::move(message));
  }
}

}  // namespace cairn::http

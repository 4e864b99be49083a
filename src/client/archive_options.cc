#include "client/archive_options.h"

#include <fmt/format.h>

namespace cairn {

Result<ChangeDetection> ParseChangeDetection(std::string_view name) {
  if (name == "legacy") return ChangeDetection::kLegacy;
  if (name == "data") return ChangeDetection::kData;
  if (name == "metadata") return ChangeDetection::kMetadata;
  return Status::InvalidArgument(
      fmt::format("change detection mode '{}': expected legacy, data or metadata", name));
}

}  // namespace cairn

#include "datastore/maintenance.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/file_util.h"

namespace cairn {
namespace {

constexpr char kMaintenanceFile[] = ".maintenance";
constexpr size_t kMaxMessageLength = 64;

constexpr std::pair<MaintenanceType, std::string_view> kNames[] = {
    {MaintenanceType::kNone, "none"},       {MaintenanceType::kReadOnly, "read-only"},
    {MaintenanceType::kOffline, "offline"}, {MaintenanceType::kS3Refresh, "s3-refresh"},
    {MaintenanceType::kDelete, "delete"},
};

}  // namespace

std::string_view MaintenanceTypeName(MaintenanceType type) {
  for (const auto& [t, name] : kNames) {
    if (t == type) return name;
  }
  return "unknown";
}

Result<MaintenanceType> ParseMaintenanceType(std::string_view text) {
  for (const auto& [t, name] : kNames) {
    if (name == text) return t;
  }
  return Status::InvalidArgument(fmt::format(
      "unknown maintenance mode '{}' (none, read-only, offline, s3-refresh, delete)", text));
}

Status CheckOperationAllowed(const MaintenanceMode& mode, Operation op) {
  const bool blocked = (mode.type == MaintenanceType::kReadOnly && op == Operation::kWrite) ||
                       ((mode.type == MaintenanceType::kOffline || IsJobMode(mode.type)) &&
                        op != Operation::kLookup);
  if (!blocked) return Status::OK();
  return Status::Busy(fmt::format("datastore is in maintenance mode {}{}",
                                  MaintenanceTypeName(mode.type),
                                  mode.message.empty() ? "" : " (" + mode.message + ")"));
}

bool IsJobMode(MaintenanceType type) {
  return type == MaintenanceType::kS3Refresh || type == MaintenanceType::kDelete;
}

Result<MaintenanceMode> LoadMaintenanceMode(const std::string& root) {
  const std::string path = JoinPath(root, kMaintenanceFile);
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (data.status().IsNotFound()) return MaintenanceMode{};
    return data.status();
  }
  auto json = nlohmann::json::parse(AsString(*data), nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("type") ||
      !json["type"].is_string()) {
    return Status::Corruption(fmt::format("{} is not a valid maintenance mode file", path));
  }
  MaintenanceMode mode;
  auto type = ParseMaintenanceType(json["type"].get<std::string>());
  if (!type.ok()) return Status::Corruption(fmt::format("{}: {}", path, type.status().message()));
  mode.type = *type;
  if (json.contains("message") && json["message"].is_string()) {
    mode.message = json["message"].get<std::string>();
  }
  return mode;
}

Status SaveMaintenanceMode(const std::string& root, const MaintenanceMode& mode) {
  if (mode.message.size() > kMaxMessageLength ||
      mode.message.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument(fmt::format(
        "maintenance message must be one line of at most {} characters", kMaxMessageLength));
  }
  const std::string path = JoinPath(root, kMaintenanceFile);
  if (mode.type == MaintenanceType::kNone) {
    Status st = RemoveFile(path);
    return st.IsNotFound() ? Status::OK() : st;
  }
  nlohmann::json json = {{"type", MaintenanceTypeName(mode.type)}, {"message", mode.message}};
  return WriteFileAtomic(path, AsBytes(json.dump() + "\n"), 0644, SyncMode::kFile);
}

}  // namespace cairn

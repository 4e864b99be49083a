#include "types/backup_names.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/quote.h"
#include "base/time.h"

namespace cairn {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find('/', start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

}  // namespace

bool IsSafeId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  auto ok_first = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!ok_first(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!ok_first(c) && c != '.' && c != '-') return false;
  }
  return true;
}

Result<BackupNamespace> BackupNamespace::Parse(std::string_view text) {
  BackupNamespace ns;
  if (text.empty()) return ns;
  if (text.size() > kMaxNamespaceLength) {
    return Status::InvalidArgument(fmt::format("namespace {} is longer than {} characters",
                                               QuoteForMessage(text), kMaxNamespaceLength));
  }
  for (std::string_view part : Split(text)) {
    if (!IsSafeId(part)) {
      return Status::InvalidArgument(
          fmt::format("invalid namespace {}: component {} is not a "
                      "safe name ([A-Za-z0-9_][A-Za-z0-9._-]*)",
                      QuoteForMessage(text), QuoteForMessage(part)));
    }
    ns.components_.emplace_back(part);
  }
  if (ns.components_.size() > kMaxNamespaceDepth) {
    return Status::InvalidArgument(fmt::format("namespace {} is deeper than {} levels",
                                               QuoteForMessage(text), kMaxNamespaceDepth));
  }
  return ns;
}

std::string BackupNamespace::ToString() const {
  std::string out;
  for (const auto& c : components_) {
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

std::string BackupNamespace::RelativePath() const {
  std::string out;
  for (const auto& c : components_) {
    if (!out.empty()) out += '/';
    out += "ns/";
    out += c;
  }
  return out;
}

Result<BackupNamespace> BackupNamespace::Child(std::string_view name) const {
  std::string text = ToString();
  if (!text.empty()) text += '/';
  text += name;
  if (!IsSafeId(name)) {
    return Status::InvalidArgument(fmt::format("invalid namespace name {}", QuoteForMessage(name)));
  }
  return Parse(text);
}

BackupNamespace BackupNamespace::Parent() const {
  BackupNamespace parent = *this;
  if (!parent.components_.empty()) parent.components_.pop_back();
  return parent;
}

bool BackupNamespace::IsWithin(const BackupNamespace& other) const {
  if (other.components_.size() > components_.size()) return false;
  return std::equal(other.components_.begin(), other.components_.end(), components_.begin());
}

std::string_view BackupTypeName(BackupType type) {
  switch (type) {
    case BackupType::kVm: return "vm";
    case BackupType::kCt: return "ct";
    case BackupType::kHost: return "host";
  }
  return "host";
}

Result<BackupType> ParseBackupType(std::string_view text) {
  if (text == "vm") return BackupType::kVm;
  if (text == "ct") return BackupType::kCt;
  if (text == "host") return BackupType::kHost;
  return Status::InvalidArgument(
      fmt::format("invalid backup type {} (expected vm, ct or host)", QuoteForMessage(text)));
}

Result<BackupGroup> BackupGroup::Make(BackupType type, std::string_view id) {
  if (!IsSafeId(id)) {
    return Status::InvalidArgument(fmt::format(
        "invalid backup id {} (expected [A-Za-z0-9_][A-Za-z0-9._-]*, at most {} characters)",
        QuoteForMessage(id), kMaxIdLength));
  }
  return BackupGroup{type, std::string(id)};
}

Result<BackupGroup> BackupGroup::Parse(std::string_view text) {
  auto parts = Split(text);
  if (parts.size() != 2) {
    return Status::InvalidArgument(
        fmt::format("invalid group {} (expected TYPE/ID)", QuoteForMessage(text)));
  }
  CAIRN_ASSIGN_OR_RETURN(BackupType type, ParseBackupType(parts[0]));
  return Make(type, parts[1]);
}

std::string BackupGroup::ToString() const {
  return fmt::format("{}/{}", BackupTypeName(type), id);
}

Result<SnapshotRef> SnapshotRef::Make(BackupGroup group, int64_t time) {
  if (time < 1) return Status::InvalidArgument(fmt::format("invalid backup time {}", time));
  CAIRN_RETURN_IF_ERROR(FormatRfc3339Utc(time).status());
  return SnapshotRef{std::move(group), time};
}

Result<SnapshotRef> SnapshotRef::Parse(std::string_view text) {
  auto parts = Split(text);
  if (parts.size() != 3) {
    return Status::InvalidArgument(fmt::format(
        "invalid snapshot {} (expected TYPE/ID/2026-11-23T10:00:00Z)", QuoteForMessage(text)));
  }
  CAIRN_ASSIGN_OR_RETURN(BackupType type, ParseBackupType(parts[0]));
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, BackupGroup::Make(type, parts[1]));
  CAIRN_ASSIGN_OR_RETURN(int64_t time, ParseRfc3339Utc(parts[2]));
  return Make(std::move(group), time);
}

std::string SnapshotRef::TimeString() const {
  auto s = FormatRfc3339Utc(time);
  return s.ok() ? *s : std::to_string(time);
}

std::string SnapshotRef::ToString() const {
  return group.ToString() + "/" + TimeString();
}

Status ValidateDatastoreName(std::string_view name) {
  if (name.size() < 3 || name.size() > 32 || !IsSafeId(name)) {
    return Status::InvalidArgument(
        fmt::format("invalid datastore name {} (3-32 characters of [A-Za-z0-9_][A-Za-z0-9._-]*)",
                    QuoteForMessage(name)));
  }
  return Status::OK();
}

}  // namespace cairn

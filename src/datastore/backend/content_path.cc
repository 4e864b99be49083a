#include "datastore/backend/content_path.h"

#include <vector>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/time.h"
#include "format/archive_name.h"
#include "types/backup_names.h"

namespace cairn {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

bool IsCanonicalTime(std::string_view text) {
  auto time = ParseRfc3339Utc(text);
  if (!time.ok() || *time < 1) return false;
  auto formatted = FormatRfc3339Utc(*time);
  return formatted.ok() && *formatted == text;
}

}  // namespace

Result<ContentPath> ParseContentPath(std::string_view path) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("'{}' is not datastore content ({})", path, why));
  };
  const std::vector<std::string_view> parts = SplitPath(path);
  BackupNamespace ns;
  size_t i = 0;
  while (i + 1 < parts.size() && parts[i] == "ns") {
    auto child = ns.Child(parts[i + 1]);
    if (!child.ok()) return invalid("bad namespace component");
    ns = std::move(child).value();
    i += 2;
  }
  const size_t rest = parts.size() - i;
  if (rest == 1 && parts[i] == kNamespaceMarker && !ns.IsRoot()) {
    return ContentPath{ContentKind::kNamespaceMarker, ns.RelativePath(), ""};
  }
  if (rest != 3 && rest != 4) return invalid("unexpected depth");
  auto type = ParseBackupType(parts[i]);
  if (!type.ok()) return invalid("unknown backup type");
  auto group = BackupGroup::Make(*type, parts[i + 1]);
  if (!group.ok()) return invalid("bad backup id");
  std::string group_dir =
      ns.IsRoot() ? group->ToString() : JoinPath(ns.RelativePath(), group->ToString());
  if (rest == 3) {
    if (parts[i + 2] != "owner" && parts[i + 2] != "notes") return invalid("unknown group file");
    return ContentPath{ContentKind::kGroupFile, group_dir, JoinPath(group_dir, parts[i + 2])};
  }
  if (!IsCanonicalTime(parts[i + 2])) return invalid("bad snapshot time");
  std::string_view name = parts[i + 3];
  if (name != kProtectedMarker && !ValidateArchiveFileName(name).ok()) {
    return invalid("bad snapshot file name");
  }
  std::string snap_dir = JoinPath(group_dir, parts[i + 2]);
  return ContentPath{ContentKind::kSnapshotFile, snap_dir, JoinPath(snap_dir, name)};
}

}  // namespace cairn

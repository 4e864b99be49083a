#include "datastore/datastore.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"
#include "format/archive_name.h"
#include "format/data_blob.h"

namespace cairn {
namespace {

constexpr const char* kBackupTypeDirs[] = {"ct", "host", "vm"};

// NotFound becomes an empty list; other errors pass through.
Result<std::vector<DirEntry>> ListDirOrEmpty(const std::string& path) {
  auto entries = ListDir(path);
  if (!entries.ok() && entries.status().IsNotFound()) return std::vector<DirEntry>();
  return entries;
}

std::string NsLabel(const BackupNamespace& ns) {
  return ns.IsRoot() ? "root namespace" : "namespace '" + ns.ToString() + "'";
}

}  // namespace

Datastore::Datastore(std::string root, std::unique_ptr<DatastoreBackend> backend)
    : root_(std::move(root)), backend_(std::move(backend)), locks_(root_) {}

std::string Datastore::Local(const std::string& rel) const {
  return rel.empty() ? root_ : JoinPath(root_, rel);
}

std::string Datastore::GroupRelPath(const BackupNamespace& ns, const BackupGroup& group) {
  return ns.IsRoot() ? group.ToString() : JoinPath(ns.RelativePath(), group.ToString());
}

std::string Datastore::SnapshotRelPath(const BackupNamespace& ns, const SnapshotRef& snap) {
  return JoinPath(GroupRelPath(ns, snap.group), snap.TimeString());
}

// ---- namespaces ----

Result<bool> Datastore::NamespaceExists(const BackupNamespace& ns) const {
  if (ns.IsRoot()) return true;
  return PathExists(Local(ns.RelativePath()));
}

Status Datastore::CreateNamespace(const BackupNamespace& ns) {
  if (ns.IsRoot()) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(bool parent_exists, NamespaceExists(ns.Parent()));
  if (!parent_exists) {
    return Status::NotFound(fmt::format("parent {} of namespace '{}' does not exist",
                                        NsLabel(ns.Parent()), ns.ToString()));
  }
  return backend_->metadata().CreateNamespaceDir(ns.RelativePath());
}

Result<std::vector<BackupNamespace>> Datastore::ListNamespaces(const BackupNamespace& parent,
                                                               bool recursive) const {
  CAIRN_ASSIGN_OR_RETURN(bool exists, NamespaceExists(parent));
  if (!exists) return Status::NotFound(NsLabel(parent) + " does not exist");
  std::vector<BackupNamespace> out;
  std::string ns_dir = Local(parent.IsRoot() ? "ns" : JoinPath(parent.RelativePath(), "ns"));
  CAIRN_ASSIGN_OR_RETURN(auto entries, ListDirOrEmpty(ns_dir));
  for (const auto& e : entries) {
    if (!e.is_dir) continue;
    auto child = parent.Child(e.name);
    if (!child.ok()) continue;  // not a valid namespace name: not ours
    out.push_back(*child);
    if (recursive) {
      CAIRN_ASSIGN_OR_RETURN(auto below, ListNamespaces(*child, true));
      out.insert(out.end(), below.begin(), below.end());
    }
  }
  return out;
}

Status Datastore::RemoveNamespace(const BackupNamespace& ns, bool delete_groups) {
  if (ns.IsRoot()) return Status::InvalidArgument("the root namespace cannot be removed");
  CAIRN_ASSIGN_OR_RETURN(bool exists, NamespaceExists(ns));
  if (!exists) return Status::NotFound(NsLabel(ns) + " does not exist");
  CAIRN_ASSIGN_OR_RETURN(auto children, ListNamespaces(ns, true));
  children.insert(children.begin(), ns);
  // Check everything first, so a refusal changes nothing.
  std::vector<std::pair<BackupNamespace, BackupGroup>> groups;
  for (const auto& child : children) {
    CAIRN_ASSIGN_OR_RETURN(auto list, ListGroups(child));
    for (auto& g : list) groups.emplace_back(child, g);
  }
  if (!groups.empty() && !delete_groups) {
    return Status::InvalidArgument(
        fmt::format("{} is not empty ({} groups); remove them first or pass --delete-groups",
                    NsLabel(ns), groups.size()));
  }
  for (const auto& [child_ns, group] : groups) {
    CAIRN_ASSIGN_OR_RETURN(auto dirs, ListSnapshotDirs(child_ns, group));
    for (const auto& snap : dirs) {
      CAIRN_ASSIGN_OR_RETURN(bool prot, IsProtected(child_ns, snap));
      if (prot) {
        return Status::PermissionDenied(
            fmt::format("{} contains protected snapshot {}; nothing was removed", NsLabel(ns),
                        snap.ToString()));
      }
    }
  }
  std::vector<FileLock> held;
  std::vector<std::pair<BackupNamespace, SnapshotRef>> snapshots;
  for (const auto& [child_ns, group] : groups) {
    CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockGroup(child_ns, group, LockMode::kExclusive));
    held.push_back(std::move(lock));
    CAIRN_ASSIGN_OR_RETURN(auto dirs, ListSnapshotDirs(child_ns, group));
    for (const auto& snap : dirs) {
      CAIRN_ASSIGN_OR_RETURN(FileLock snap_lock,
                             locks_.LockSnapshot(child_ns, snap, LockMode::kExclusive));
      held.push_back(std::move(snap_lock));
      snapshots.emplace_back(child_ns, snap);
    }
  }
  // Every manifest first, as a forget does: from then on no snapshot below is visible, so an
  // interrupted removal (found by the crash campaign: SIGKILL midway left snapshots listed
  // whose index files were already gone) leaves no listed snapshot that cannot be restored.
  for (const auto& [child_ns, snap] : snapshots) {
    CAIRN_RETURN_IF_ERROR(
        backend_->metadata().RemoveFile(JoinPath(SnapshotRelPath(child_ns, snap), kManifestName)));
  }
  return backend_->metadata().RemoveDir(ns.RelativePath());
}

// ---- groups ----

Result<std::vector<BackupGroup>> Datastore::ListGroups(const BackupNamespace& ns) const {
  CAIRN_ASSIGN_OR_RETURN(bool exists, NamespaceExists(ns));
  if (!exists) return Status::NotFound(NsLabel(ns) + " does not exist");
  std::vector<BackupGroup> out;
  for (const char* type_dir : kBackupTypeDirs) {
    CAIRN_ASSIGN_OR_RETURN(BackupType type, ParseBackupType(type_dir));
    std::string rel = ns.IsRoot() ? type_dir : JoinPath(ns.RelativePath(), type_dir);
    CAIRN_ASSIGN_OR_RETURN(auto entries, ListDirOrEmpty(Local(rel)));
    for (const auto& e : entries) {
      if (!e.is_dir) continue;
      auto group = BackupGroup::Make(type, e.name);
      if (group.ok()) out.push_back(*group);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<GroupInfo> Datastore::GetGroupInfo(const BackupNamespace& ns,
                                          const BackupGroup& group) const {
  GroupInfo info{group, "", 0, std::nullopt};
  // Finished snapshots are those with a manifest file: a stat each, no manifest is parsed
  // (a group listing of a large store would otherwise read every manifest).
  CAIRN_ASSIGN_OR_RETURN(auto dirs, ListSnapshotDirs(ns, group));
  for (const SnapshotRef& snap : dirs) {
    CAIRN_ASSIGN_OR_RETURN(bool finished, IsFinished(ns, snap));
    if (!finished) continue;
    ++info.snapshot_count;
    if (!info.last_backup || snap.time > *info.last_backup) info.last_backup = snap.time;
  }
  auto owner = GetOwner(ns, group);
  if (owner.ok()) info.owner = *owner;
  return info;
}

Result<std::string> Datastore::GetOwner(const BackupNamespace& ns, const BackupGroup& group) const {
  auto data = ReadFile(Local(JoinPath(GroupRelPath(ns, group), "owner")));
  if (!data.ok()) return data.status();
  std::string owner(AsString(*data));
  while (!owner.empty() && (owner.back() == '\n' || owner.back() == '\r')) owner.pop_back();
  return owner;
}

Status Datastore::SetOwner(const BackupNamespace& ns, const BackupGroup& group,
                           const std::string& owner) {
  if (owner.empty() || owner.find_first_of("\n\r/") != std::string::npos || owner.size() > 128) {
    return Status::InvalidArgument(fmt::format("invalid owner '{}'", owner));
  }
  return backend_->metadata().WriteFile(JoinPath(GroupRelPath(ns, group), "owner"),
                                        AsBytes(owner + "\n"));
}

Result<std::string> Datastore::GetGroupNotes(const BackupNamespace& ns,
                                             const BackupGroup& group) const {
  auto data = ReadFile(Local(JoinPath(GroupRelPath(ns, group), "notes")));
  if (!data.ok())
    return data.status().IsNotFound() ? std::string() : Result<std::string>(data.status());
  return std::string(AsString(*data));
}

Status Datastore::SetGroupNotes(const BackupNamespace& ns, const BackupGroup& group,
                                const std::string& notes) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(Local(GroupRelPath(ns, group))));
  if (!exists) return Status::NotFound(fmt::format("group {} does not exist", group.ToString()));
  return backend_->metadata().WriteFile(JoinPath(GroupRelPath(ns, group), "notes"), AsBytes(notes));
}

Status Datastore::RemoveGroup(const BackupNamespace& ns, const BackupGroup& group) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockGroup(ns, group, LockMode::kExclusive));
  CAIRN_ASSIGN_OR_RETURN(auto dirs, ListSnapshotDirs(ns, group));
  bool kept = false;
  for (const auto& snap : dirs) {
    CAIRN_ASSIGN_OR_RETURN(bool prot, IsProtected(ns, snap));
    if (prot) {
      kept = true;
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(FileLock snap_lock, locks_.LockSnapshot(ns, snap, LockMode::kExclusive));
    CAIRN_RETURN_IF_ERROR(RemoveSnapshotLocked(ns, snap));
  }
  if (kept) {
    return Status::PermissionDenied(fmt::format(
        "group {} still holds protected snapshots; removed the others", group.ToString()));
  }
  return backend_->metadata().RemoveDir(GroupRelPath(ns, group));
}

// ---- snapshots ----

Result<std::vector<SnapshotRef>> Datastore::ListSnapshotDirs(const BackupNamespace& ns,
                                                             const BackupGroup& group) const {
  auto entries = ListDir(Local(GroupRelPath(ns, group)));
  if (!entries.ok()) {
    if (entries.status().IsNotFound()) {
      return Status::NotFound(
          fmt::format("group {} does not exist in the {}", group.ToString(), NsLabel(ns)));
    }
    return entries.status();
  }
  std::vector<SnapshotRef> out;
  for (const auto& e : *entries) {
    if (!e.is_dir) continue;
    auto time = ParseRfc3339Utc(e.name);
    if (!time.ok()) continue;
    auto snap = SnapshotRef::Make(group, *time);
    if (snap.ok()) out.push_back(*snap);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> Datastore::IsFinished(const BackupNamespace& ns, const SnapshotRef& snap) const {
  return PathExists(Local(JoinPath(SnapshotRelPath(ns, snap), kManifestName)));
}

Result<std::vector<SnapshotInfo>> Datastore::ListSnapshots(const BackupNamespace& ns,
                                                           const BackupGroup& group) const {
  CAIRN_ASSIGN_OR_RETURN(auto dirs, ListSnapshotDirs(ns, group));
  std::vector<SnapshotInfo> out;
  for (const auto& snap : dirs) {
    auto manifest = LoadManifest(ns, snap);
    if (!manifest.ok() && manifest.status().IsNotFound()) continue;  // unfinished backup
    SnapshotInfo info;
    info.ref = snap;
    CAIRN_ASSIGN_OR_RETURN(info.is_protected, IsProtected(ns, snap));
    if (!manifest.ok()) {
      if (manifest.status().code() != Code::kCorruption) return manifest.status();
      info.error = manifest.status().message();
      out.push_back(std::move(info));
      continue;
    }
    for (const auto& f : manifest->files()) {
      info.files.push_back(f.filename);
      info.size += f.size;
    }
    info.manifest = std::move(manifest).value();
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::optional<SnapshotRef>> Datastore::LatestSnapshot(const BackupNamespace& ns,
                                                             const BackupGroup& group) const {
  auto list = ListSnapshots(ns, group);
  if (!list.ok()) {
    if (list.status().IsNotFound()) return std::optional<SnapshotRef>();
    return list.status();
  }
  if (list->empty()) return std::optional<SnapshotRef>();
  return std::optional<SnapshotRef>(list->back().ref);
}

Result<Bytes> Datastore::ReadManifestBlob(const BackupNamespace& ns,
                                          const SnapshotRef& snap) const {
  auto data = ReadFile(Local(JoinPath(SnapshotRelPath(ns, snap), kManifestName)));
  if (!data.ok() && data.status().IsNotFound()) {
    return Status::NotFound(
        fmt::format("snapshot {} does not exist or is unfinished", snap.ToString()));
  }
  return data;
}

Result<Manifest> Datastore::LoadManifest(const BackupNamespace& ns, const SnapshotRef& snap) const {
  const std::string rel = JoinPath(SnapshotRelPath(ns, snap), kManifestName);
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadManifestBlob(ns, snap));
  auto json = DecodeBlob(data, nullptr);
  if (!json.ok()) return json.status().WithContext(rel);
  return Manifest::Parse(*json, rel);
}

Result<Bytes> Datastore::ReadSnapshotFile(const BackupNamespace& ns, const SnapshotRef& snap,
                                          const std::string& filename) const {
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(ns, snap));
  const ManifestFile* entry = manifest.FindFile(filename);
  if (entry == nullptr && filename == kClientLogName) {
    CAIRN_ASSIGN_OR_RETURN(Bytes log,
                           ReadFile(Local(JoinPath(SnapshotRelPath(ns, snap), filename))));
    CAIRN_RETURN_IF_ERROR(VerifyBlobCrc(log));
    return log;
  }
  if (entry == nullptr) {
    return Status::NotFound(fmt::format("snapshot {} has no file '{}'", snap.ToString(), filename));
  }
  const std::string rel = JoinPath(SnapshotRelPath(ns, snap), filename);
  auto data = ReadFile(Local(rel));
  if (!data.ok()) {
    if (data.status().IsNotFound()) {
      return Status::Corruption(fmt::format("{} is listed in the manifest but missing", rel));
    }
    return data.status();
  }
  auto type = ArchiveTypeOf(filename);
  if (type.ok() && *type == ArchiveType::kBlob &&
      (data->size() != entry->size || Sha256Of(*data) != entry->csum)) {
    return Status::Corruption(
        fmt::format("{} does not match its size/checksum in the manifest", rel));
  }
  return data;
}

Status Datastore::UpdateManifest(const BackupNamespace& ns, const SnapshotRef& snap,
                                 const std::function<Status(Manifest&)>& update) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockManifest(ns, snap));
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(ns, snap));
  CAIRN_ASSIGN_OR_RETURN(std::string before, manifest.CanonicalSignedJson());
  CAIRN_RETURN_IF_ERROR(update(manifest));
  CAIRN_ASSIGN_OR_RETURN(std::string after, manifest.CanonicalSignedJson());
  if (before != after) {
    return Status::InvalidArgument("manifest update may only change the unprotected section");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string json, manifest.ToJson());
  CAIRN_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(AsBytes(json), nullptr, true));
  return backend_->metadata().WriteFile(JoinPath(SnapshotRelPath(ns, snap), kManifestName), blob);
}

Result<bool> Datastore::IsProtected(const BackupNamespace& ns, const SnapshotRef& snap) const {
  return PathExists(Local(JoinPath(SnapshotRelPath(ns, snap), kProtectedMarker)));
}

Status Datastore::AddClientLog(const BackupNamespace& ns, const SnapshotRef& snap, ByteView blob) {
  auto crc = VerifyBlobCrc(blob);
  if (!crc.ok()) return Status::InvalidArgument("client log: " + crc.message());
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockSnapshot(ns, snap, LockMode::kShared));
  CAIRN_ASSIGN_OR_RETURN(bool finished, IsFinished(ns, snap));
  if (!finished) {
    return Status::NotFound(fmt::format("snapshot {} does not exist", snap.ToString()));
  }
  const std::string rel = JoinPath(SnapshotRelPath(ns, snap), kClientLogName);
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(Local(rel)));
  if (exists) return Status::AlreadyExists("backup already contains a log.");
  return backend_->metadata().WriteFile(rel, blob);
}

Status Datastore::SetProtected(const BackupNamespace& ns, const SnapshotRef& snap, bool value) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockSnapshot(ns, snap, LockMode::kShared));
  CAIRN_ASSIGN_OR_RETURN(bool finished, IsFinished(ns, snap));
  if (!finished) {
    return Status::NotFound(fmt::format("snapshot {} does not exist", snap.ToString()));
  }
  const std::string rel = JoinPath(SnapshotRelPath(ns, snap), kProtectedMarker);
  return value ? backend_->metadata().WriteFile(rel, {}) : backend_->metadata().RemoveFile(rel);
}

Status Datastore::ForgetSnapshot(const BackupNamespace& ns, const SnapshotRef& snap) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(Local(SnapshotRelPath(ns, snap))));
  if (!exists) return Status::NotFound(fmt::format("snapshot {} does not exist", snap.ToString()));
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, locks_.LockSnapshot(ns, snap, LockMode::kExclusive));
  CAIRN_ASSIGN_OR_RETURN(bool prot, IsProtected(ns, snap));
  if (prot) {
    return Status::PermissionDenied(
        fmt::format("snapshot {} is protected; unprotect it first", snap.ToString()));
  }
  return RemoveSnapshotLocked(ns, snap);
}

Status Datastore::RemoveSnapshotLocked(const BackupNamespace& ns, const SnapshotRef& snap) {
  const std::string rel = SnapshotRelPath(ns, snap);
  // Manifest first: from this moment the snapshot is no longer visible, even if removal of the
  // rest is interrupted.
  CAIRN_RETURN_IF_ERROR(backend_->metadata().RemoveFile(JoinPath(rel, kManifestName)));
  return backend_->metadata().RemoveDir(rel);
}

Status Datastore::RemoveAbandonedSnapshots(const BackupNamespace& ns, const BackupGroup& group) {
  auto dirs = ListSnapshotDirs(ns, group);
  if (!dirs.ok()) return dirs.status().IsNotFound() ? Status::OK() : dirs.status();
  for (const auto& snap : *dirs) {
    CAIRN_ASSIGN_OR_RETURN(bool finished, IsFinished(ns, snap));
    if (finished) continue;
    auto lock = locks_.LockSnapshot(ns, snap, LockMode::kExclusive);
    if (!lock.ok()) continue;  // still being written
    spdlog::info("removing unfinished snapshot {} left by an interrupted backup", snap.ToString());
    CAIRN_RETURN_IF_ERROR(backend_->metadata().RemoveDir(SnapshotRelPath(ns, snap)));
  }
  return Status::OK();
}

}  // namespace cairn

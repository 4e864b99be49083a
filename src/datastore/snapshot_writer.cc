#include "datastore/snapshot_writer.h"

#include <unistd.h>

#include <unordered_set>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"
#include "datastore/index_chunks.h"
#include "format/archive_name.h"
#include "format/data_blob.h"

namespace cairn {

SnapshotWriter::SnapshotWriter(Datastore& store, BackupNamespace ns, SnapshotRef snap,
                               FileLock group_lock, FileLock snapshot_lock,
                               WriterRegistration writer_registration)
    : store_(store),
      ns_(std::move(ns)),
      snapshot_(std::move(snap)),
      group_lock_(std::move(group_lock)),
      snapshot_lock_(std::move(snapshot_lock)),
      writer_registration_(std::move(writer_registration)) {}

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Begin(
    Datastore& store, const BackupNamespace& ns, const BackupGroup& group, int64_t time,
    const std::string& owner, ChunkCaching caching) {
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Make(group, time));
  CAIRN_ASSIGN_OR_RETURN(bool ns_exists, store.NamespaceExists(ns));
  if (!ns_exists)
    return Status::NotFound(fmt::format("namespace '{}' does not exist", ns.ToString()));
  // Register first: GC must see this writer before any chunk it might reuse is judged.
  CAIRN_ASSIGN_OR_RETURN(WriterRegistration registration, store.locks_.RegisterWriter(NowEpoch()));
  CAIRN_ASSIGN_OR_RETURN(FileLock group_lock,
                         store.locks_.LockGroup(ns, group, LockMode::kExclusive));

  const std::string group_rel = Datastore::GroupRelPath(ns, group);
  auto current_owner = store.GetOwner(ns, group);
  if (current_owner.ok()) {
    if (*current_owner != owner) {
      return Status::PermissionDenied(fmt::format("group {} is owned by '{}', not '{}'",
                                                  group.ToString(), *current_owner, owner));
    }
  } else if (current_owner.status().IsNotFound()) {
    CAIRN_RETURN_IF_ERROR(store.backend_->metadata().CreateDir(group_rel));
    Status owned = store.SetOwner(ns, group, owner);
    if (!owned.ok()) {
      // E.g. a full disk: leave no ownerless group behind (rmdir removes only an empty one).
      ::rmdir(store.Local(group_rel).c_str());
      return owned.WithContext("create group " + group.ToString());
    }
  } else {
    return current_owner.status();
  }

  CAIRN_RETURN_IF_ERROR(store.RemoveAbandonedSnapshots(ns, group));
  CAIRN_ASSIGN_OR_RETURN(std::optional<SnapshotRef> previous, store.LatestSnapshot(ns, group));
  if (previous && previous->time >= time) {
    return Status::InvalidArgument(
        fmt::format("backup time {} is not newer than the last snapshot {}", snap.TimeString(),
                    previous->ToString()));
  }
  const std::string snap_rel = Datastore::SnapshotRelPath(ns, snap);
  CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(store.Local(snap_rel)));
  if (exists) return Status::AlreadyExists(fmt::format("snapshot {} exists", snap.ToString()));
  // The base stays until this backup ends: the chunks this backup reuses from it are marked by
  // GC through its index until the new index is there.
  std::optional<FileLock> previous_lock;
  if (previous) {
    CAIRN_ASSIGN_OR_RETURN(previous_lock,
                           store.locks_.LockSnapshot(ns, *previous, LockMode::kShared));
  }
  CAIRN_ASSIGN_OR_RETURN(FileLock snap_lock,
                         store.locks_.LockSnapshot(ns, snap, LockMode::kExclusive));
  CAIRN_RETURN_IF_ERROR(store.backend_->metadata().CreateDir(snap_rel));

  auto writer = std::unique_ptr<SnapshotWriter>(
      new SnapshotWriter(store, ns, std::move(snap), std::move(group_lock), std::move(snap_lock),
                         std::move(registration)));
  writer->previous_ = previous;
  writer->previous_lock_ = std::move(previous_lock);
  writer->caching_ = caching;
  return writer;
}

SnapshotWriter::~SnapshotWriter() {
  if (finished_) return;
  Status st = store_.backend_->metadata().RemoveDir(Datastore::SnapshotRelPath(ns_, snapshot_));
  if (!st.ok()) {
    spdlog::warn("could not remove aborted snapshot {}: {}", snapshot_.ToString(), st.ToString());
  }
}

Result<std::vector<Digest>> SnapshotWriter::RegisterKnownChunks(std::span<const Digest> digests) {
  std::unordered_set<Digest, DigestHash> seen;
  std::vector<Digest> unusable;
  for (const Digest& digest : digests) {
    if (!seen.insert(digest).second) continue;
    CAIRN_ASSIGN_OR_RETURN(ChunkMark mark, store_.backend_->collector().MarkChunk(digest));
    if (mark != ChunkMark::kMarked) unusable.push_back(digest);
  }
  return unusable;
}

Result<ChunkInsertResult> SnapshotWriter::InsertChunk(const Digest& digest, ByteView encoded,
                                                      uint64_t plain_size) {
  CAIRN_ASSIGN_OR_RETURN(ChunkInsertResult result,
                         store_.backend_->chunks().InsertChunk(digest, encoded, caching_));
  stats_.count++;
  if (result.duplicate) {
    stats_.duplicates++;
  } else {
    stats_.size += plain_size;
    stats_.compressed_size += encoded.size();
  }
  return result;
}

Status SnapshotWriter::WriteArchive(const std::string& filename, ByteView content) {
  if (finished_) return Status::InvalidArgument("snapshot already finished");
  CAIRN_RETURN_IF_ERROR(ValidateArchiveFileName(filename));
  if (filename == kManifestName) {
    return Status::InvalidArgument("the manifest is written by Finish");
  }
  if (written_.count(filename) != 0) {
    return Status::AlreadyExists(fmt::format("archive {} was already written", filename));
  }
  if (IsIndexFileName(filename)) CAIRN_RETURN_IF_ERROR(MarkIndexChunks(filename, content));
  written_.emplace(filename, WrittenFile{content.size(), Sha256Of(content)});
  return store_.backend_->metadata().WriteFile(
      JoinPath(Datastore::SnapshotRelPath(ns_, snapshot_), filename), content);
}

Status SnapshotWriter::MarkIndexChunks(const std::string& filename, ByteView content) {
  return ForEachIndexChunk(content, filename, nullptr, [&](const Digest& digest) -> Status {
    CAIRN_ASSIGN_OR_RETURN(ChunkMark mark, store_.backend_->collector().MarkChunk(digest));
    if (mark == ChunkMark::kMarked) return Status::OK();
    if (mark == ChunkMark::kOnlyBadCopies) {
      // The backup registered or uploaded it, so a damaged copy was set aside meanwhile.
      return Status::InvalidArgument(fmt::format(
          "{} references chunk {}, of which the store holds only a damaged copy that verify set "
          "aside; back up again to store a good copy",
          filename, DigestToHex(digest)));
    }
    return Status::InvalidArgument(fmt::format(
        "{} references chunk {}, which is not stored (it was neither uploaded nor registered "
        "from the previous snapshot by this backup, or it was removed while the backup ran)",
        filename, DigestToHex(digest)));
  });
}

Status SnapshotWriter::Finish(Manifest manifest) {
  if (finished_) return Status::InvalidArgument("snapshot already finished");
  if (manifest.files().empty()) {
    return Status::InvalidArgument("a snapshot needs at least one archive");
  }
  const std::string snap_rel = Datastore::SnapshotRelPath(ns_, snapshot_);
  for (const auto& file : manifest.files()) {
    auto it = written_.find(file.filename);
    if (it == written_.end()) {
      return Status::InvalidArgument(
          fmt::format("manifest lists {} which was not written", file.filename));
    }
    auto type = ArchiveTypeOf(file.filename);
    if (type.ok() && *type == ArchiveType::kBlob &&
        (it->second.size != file.size || it->second.sha256 != file.csum)) {
      return Status::InvalidArgument(
          fmt::format("manifest size/csum of {} do not match the written blob", file.filename));
    }
  }
  for (const auto& [name, unused] : written_) {
    if (manifest.FindFile(name) == nullptr) {
      return Status::InvalidArgument(fmt::format("archive {} is missing from the manifest", name));
    }
  }
  CAIRN_RETURN_IF_ERROR(manifest.SetUnprotected(
      "chunk_upload_stats", {{"count", stats_.count.load()},
                             {"duplicates", stats_.duplicates.load()},
                             {"size", stats_.size.load()},
                             {"compressed_size", stats_.compressed_size.load()}}));
  CAIRN_ASSIGN_OR_RETURN(std::string json, manifest.ToJson());
  CAIRN_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(AsBytes(json), nullptr, true));
  CAIRN_RETURN_IF_ERROR(
      store_.backend_->metadata().WriteFile(JoinPath(snap_rel, kManifestName), blob));
  finished_ = true;
  return Status::OK();
}

}  // namespace cairn

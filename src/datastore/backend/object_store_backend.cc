#include "datastore/backend/object_store_backend.h"

#include <bitset>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/parallel.h"
#include "datastore/backend/chunk_cache.h"
#include "datastore/backend/chunk_insert_policy.h"
#include "datastore/backend/content_path.h"
#include "datastore/backend/object_store_sweep.h"
#include "format/data_blob.h"
#include "format/dynamic_index.h"
#include "format/fixed_index.h"

namespace cairn {
namespace {

class ObjectStoreBackend final : public DatastoreBackend,
                                 public ChunkIo,
                                 public MetadataWriter,
                                 public ChunkCollector,
                                 public ChunkRepair {
 public:
  ObjectStoreBackend(const std::string& root, ObjectStoreBackendOptions options)
      : local_(NewFilesystemBackend(root)),
        objects_(std::move(options.objects)),
        prefix_(options.store_name + "/"),
        local_chunks_(root),
        local_root_(root),
        locks_(root),
        cache_(root, options.max_cache_size, locks_) {}

  std::string_view Kind() const override { return objects_->Kind(); }
  std::string Describe() const override {
    return fmt::format("{} prefix '{}'", objects_->Describe(), prefix_);
  }
  ChunkIo& chunks() override { return *this; }
  MetadataWriter& metadata() override { return *this; }
  ChunkCollector& collector() override { return *this; }
  ChunkRepair& repair() override { return *this; }

  unsigned PreferredParallelism() const override { return objects_->Concurrency(); }

  Result<ChunkInsertResult> InsertChunk(const Digest& digest, ByteView encoded,
                                        ChunkCaching caching) override {
    auto kind = InspectBlob(encoded);
    if (!kind.ok()) return kind.status().WithContext("insert chunk " + DigestToHex(digest));
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    CAIRN_ASSIGN_OR_RETURN(bool known, cache_.Knows(digest));
    if (known) {
      // A cached copy decides as a filesystem store's would; a marker only says the bucket
      // has the chunk (kept unread, as the policy keeps any copy it has not read).
      CAIRN_ASSIGN_OR_RETURN(std::optional<ExistingChunk> cached,
                             CachedCopy(digest, encoded.size()));
      if (!cached) return ChunkInsertResult{true, encoded.size()};
      switch (DecideChunkInsert(cached, IsEncrypted(*kind), encoded.size())) {
        case ChunkInsertAction::kKeepExisting: return ChunkInsertResult{true, cached->size};
        case ChunkInsertAction::kRefuse: return RefuseEncryptedOverPlain(digest);
        case ChunkInsertAction::kReplace:
        case ChunkInsertAction::kStoreNew: break;  // the bucket's copy decides, below
      }
    }
    CAIRN_ASSIGN_OR_RETURN(PutResult put,
                           objects_->Put(ChunkKey(digest), encoded, PutMode::kCreateOnly));
    if (put == PutResult::kAlreadyExists) {
      // Another copy is there (create-only puts answer kStored for our own payload). Some
      // servers keep the part of an upload that was cut off (s3rver does): the copy is read,
      // so a damaged one is replaced, not deduplicated against.
      CAIRN_ASSIGN_OR_RETURN(std::optional<ExistingChunk> existing, BucketCopy(digest));
      switch (DecideChunkInsert(existing, IsEncrypted(*kind), encoded.size())) {
        case ChunkInsertAction::kKeepExisting:
          // Remember it is there; cache nothing (the cache holds what the bucket holds).
          CAIRN_RETURN_IF_ERROR(cache_.PutMarker(digest));
          return ChunkInsertResult{true, existing->size};
        case ChunkInsertAction::kRefuse: return RefuseEncryptedOverPlain(digest);
        case ChunkInsertAction::kReplace:
        case ChunkInsertAction::kStoreNew:
          spdlog::warn("chunk object {} is damaged or gone; uploading it again", ChunkKey(digest));
          CAIRN_RETURN_IF_ERROR(
              objects_->Put(ChunkKey(digest), encoded, PutMode::kReplace).status());
          break;
      }
    }
    CAIRN_RETURN_IF_ERROR(caching == ChunkCaching::kCache ? cache_.Put(digest, encoded)
                                                          : cache_.PutMarker(digest));
    return ChunkInsertResult{false, encoded.size()};
  }

  Status RefuseEncryptedOverPlain(const Digest& digest) const {
    return Status::InvalidArgument(
        fmt::format("chunk object {}: refusing encrypted upload over existing unencrypted chunk",
                    ChunkKey(digest)));
  }

  // The cache's copy of `digest` as the insert policy sees it (read only when its size cannot
  // decide); nullopt when the cache holds only a marker.
  Result<std::optional<ExistingChunk>> CachedCopy(const Digest& digest, uint64_t incoming_size) {
    auto size = local_chunks_.StoredSize(digest);
    if (!size.ok()) {
      if (size.status().IsNotFound()) return std::optional<ExistingChunk>();
      return size.status();
    }
    if (!ChunkInsertNeedsContent(*size, incoming_size)) {
      return std::optional<ExistingChunk>(ExistingChunk{*size});
    }
    CAIRN_ASSIGN_OR_RETURN(Bytes data, local_chunks_.ReadRaw(digest));
    return std::optional<ExistingChunk>(InspectExistingChunk(data));
  }

  // The bucket's copy of `digest` as the insert policy sees it; nullopt if it vanished.
  Result<std::optional<ExistingChunk>> BucketCopy(const Digest& digest) {
    auto existing = objects_->Get(ChunkKey(digest));
    if (existing.ok()) return std::optional<ExistingChunk>(InspectExistingChunk(*existing));
    if (existing.status().IsNotFound()) return std::optional<ExistingChunk>();
    return existing.status();
  }

  Result<Bytes> ReadChunk(const Digest& digest) override {
    {
      CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
      CAIRN_ASSIGN_OR_RETURN(std::optional<Bytes> cached, cache_.Get(digest));
      if (cached) return std::move(*cached);
    }
    const std::string key = ChunkKey(digest);
    auto data = objects_->Get(key);
    if (!data.ok()) return data.status().IsNotFound() ? MissingChunk(digest) : data.status();
    Status crc = VerifyBlobCrc(*data);
    if (!crc.ok()) return crc.WithContext("chunk object " + key);
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    Status cached_st = cache_.Put(digest, *data);
    if (!cached_st.ok()) spdlog::warn("could not cache chunk: {}", cached_st.ToString());
    return data;
  }

  Status WriteFile(const std::string& rel_path, ByteView content) override {
    CAIRN_RETURN_IF_ERROR(objects_->Put(ContentKey(rel_path), content, PutMode::kReplace).status());
    return local_->metadata().WriteFile(rel_path, content);
  }

  Status RemoveFile(const std::string& rel_path) override {
    CAIRN_RETURN_IF_ERROR(objects_->Delete(ContentKey(rel_path)));
    return local_->metadata().RemoveFile(rel_path);
  }

  Status CreateDir(const std::string& rel_dir) override {
    return local_->metadata().CreateDir(rel_dir);
  }

  Status CreateNamespaceDir(const std::string& rel_dir) override {
    CAIRN_RETURN_IF_ERROR(
        objects_->Put(ContentKey(JoinPath(rel_dir, kNamespaceMarker)), {}, PutMode::kReplace)
            .status());
    return local_->metadata().CreateNamespaceDir(rel_dir);
  }

  Status RemoveDir(const std::string& rel_dir) override {
    CAIRN_RETURN_IF_ERROR(DeletePrefix(ContentKey(rel_dir) + "/"));
    return local_->metadata().RemoveDir(rel_dir);
  }

  Result<MetadataDownload> DownloadMetadata(const std::string& target_dir) override {
    MetadataDownload result;
    const std::string content_prefix = prefix_ + kContentPrefix;
    std::vector<std::pair<StoredObject, ContentPath>> files;
    Status listed = objects_->List({content_prefix}, [&](const StoredObject& object) {
      auto path = ParseContentPath(std::string_view(object.key).substr(content_prefix.size()));
      if (!path.ok()) {
        result.skipped.push_back(object.key);
      } else if (path->kind == ContentKind::kNamespaceMarker) {
        result.namespaces++;
        files.emplace_back(StoredObject{}, std::move(path).value());
      } else {
        files.emplace_back(object, std::move(path).value());
      }
      return true;
    });
    CAIRN_RETURN_IF_ERROR(listed);
    for (const auto& key : result.skipped) {
      spdlog::warn("skipping object {}: not valid datastore content", key);
    }
    CAIRN_RETURN_IF_ERROR(ParallelFor(files.size(), objects_->Concurrency(), [&](size_t i) {
      const auto& [object, path] = files[i];
      CAIRN_RETURN_IF_ERROR(MakeDirs(JoinPath(target_dir, path.dir), 0755));
      if (object.key.empty()) return Status::OK();
      CAIRN_ASSIGN_OR_RETURN(Bytes data, DownloadChecked(object, path.file));
      return WriteFileAtomic(JoinPath(target_dir, path.file), data, 0644, SyncMode::kNone);
    }));
    result.files = files.size() - result.namespaces;
    return result;
  }

  Status Detach(bool destroy_data) override {
    if (!destroy_data) return objects_->Delete(prefix_ + kInUseMarker);
    CAIRN_RETURN_IF_ERROR(DeletePrefix(prefix_));
    return local_->Detach(true);
  }

  BackendStats Stats() const override { return BackendStats{objects_->Stats(), cache_.stats()}; }

  Result<Bytes> ReadPersistedChunk(const Digest& digest) override {
    auto data = objects_->Get(ChunkKey(digest));
    if (!data.ok() && data.status().IsNotFound()) return MissingChunk(digest);
    return data;
  }

  Result<CorruptChunkOutcome> SetAsideCorruptChunk(const Digest& digest,
                                                   const ChunkCheck& check) override {
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    const std::string key = ChunkKey(digest);
    auto stored = objects_->Get(key);
    if (!stored.ok() && !stored.status().IsNotFound()) return stored.status();
    if (!stored.ok()) {
      // A marker claiming the chunk would make backups skip the upload that repairs it.
      CAIRN_RETURN_IF_ERROR(cache_.Forget(digest));
      return CorruptChunkOutcome{CorruptChunkAction::kMissing, ""};
    }
    if (check(*stored).ok()) return CorruptChunkOutcome{CorruptChunkAction::kRepaired, ""};
    CAIRN_ASSIGN_OR_RETURN(int n, NextBadIndex(digest));
    const std::string bad_key = fmt::format("{}.{}.bad", key, n);
    CAIRN_RETURN_IF_ERROR(objects_->Copy(key, bad_key));
    // The local marker first: GC's mark touches it, which keeps the bad object while referenced.
    CAIRN_RETURN_IF_ERROR(
        WriteFileAtomic(local_chunks_.BadChunkPath(digest, n), {}, 0644, SyncMode::kNone));
    CAIRN_RETURN_IF_ERROR(objects_->Delete(key));
    CAIRN_RETURN_IF_ERROR(cache_.Forget(digest));
    return CorruptChunkOutcome{CorruptChunkAction::kSetAside, bad_key};
  }

  Status CheckReachable() override { return objects_->CheckAccess(); }

  Status CheckMarksUpdateAtime(int64_t now) override {
    return CheckLocalMarksUpdateAtime(local_root_, *this, *this, now);
  }

  Result<ChunkMark> MarkChunk(const Digest& digest) override {
    CAIRN_ASSIGN_OR_RETURN(ChunkMark mark, local_chunks_.Mark(digest));
    if (mark != ChunkMark::kMissing) return mark;
    // No local trace (evicted long ago and the marker lost, or a cache attached afresh): note
    // the reference for the sweep, which keeps the object if the bucket has it.
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    CAIRN_ASSIGN_OR_RETURN(mark, local_chunks_.Mark(digest));
    if (mark != ChunkMark::kMissing) return mark;
    CAIRN_RETURN_IF_ERROR(
        WriteFileAtomic(local_chunks_.UsingMarkerPath(digest), {}, 0644, SyncMode::kNone));
    return ChunkMark::kMarked;
  }

  Result<SweepCounts> SweepChunks(const GcCutoff& cutoff, const JobControl& job) override {
    return SweepObjectStoreChunks(
        ObjectStoreChunks{*objects_, prefix_ + ".chunks/", local_chunks_, cache_, locks_, job},
        cutoff);
  }

 private:
  std::string ChunkKey(const Digest& digest) const {
    return prefix_ + ChunkStore::RelativeChunkPath(digest);
  }
  std::string ContentKey(const std::string& rel_path) const {
    return prefix_ + kContentPrefix + rel_path;
  }

  // Gets a metadata object and checks it as far as the listing and its kind allow (size, the
  // ETag's MD5; a blob's CRC; an index's header and checksum), getting it again when the check
  // fails: bytes damaged
  // on the way must not become the local copy. An object that fails every time is damaged in
  // the bucket itself: it is kept as it is there (the snapshot then lists as damaged, and
  // verify names it), with a warning.
  Result<Bytes> DownloadChecked(const StoredObject& object, const std::string& file) {
    constexpr int kAttempts = 3;
    Status why;
    Bytes data;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      CAIRN_ASSIGN_OR_RETURN(data, objects_->Get(object.key));
      why = CheckMetadataFile(file, data, object);
      if (why.ok()) return data;
    }
    spdlog::warn("object {} fails its check {} times ({}); keeping it as the bucket holds it",
                 object.key, kAttempts, why.message());
    return data;
  }

  static Status CheckMetadataFile(const std::string& file, ByteView data,
                                  const StoredObject& listed) {
    if (data.size() != listed.size) {
      return Status::Corruption(
          fmt::format("{} bytes received, {} listed", data.size(), listed.size));
    }
    if (!ContentMatchesEtag(listed, data)) {
      return Status::Corruption("the content does not match the object's ETag (MD5)");
    }
    if (file.ends_with(".blob")) {
      CAIRN_RETURN_IF_ERROR(InspectBlob(data).status());
      return VerifyBlobCrc(data);
    }
    if (file.ends_with(".fidx")) return FixedIndex::Parse(data, file).status();
    if (file.ends_with(".didx")) return DynamicIndex::Parse(data, file).status();
    return Status::OK();
  }

  Status MissingChunk(const Digest& digest) const {
    return Status::NotFound(fmt::format("chunk {} is missing in {}",
                                        ChunkStore::RelativeChunkPath(digest), Describe()));
  }

  // The number for the next bad copy of `digest` (NextBadCopyIndex) over the numbers the
  // bucket or the local directory use. Caller holds the chunk's lock.
  Result<int> NextBadIndex(const Digest& digest) {
    const std::string key = ChunkKey(digest);
    std::bitset<kMaxBadCopies> taken;
    CAIRN_RETURN_IF_ERROR(objects_->List({key + "."}, [&](const StoredObject& object) {
      auto name = ParseChunkFileName(std::string_view(object.key).substr(key.size() - 64));
      if (name && name->kind == ChunkFileKind::kBad) {
        taken.set(static_cast<size_t>(object.key[key.size() + 1] - '0'));
      }
      return true;
    }));
    for (int n = 0; n < kMaxBadCopies; ++n) {
      CAIRN_ASSIGN_OR_RETURN(bool local, PathExists(local_chunks_.BadChunkPath(digest, n)));
      if (local) taken.set(static_cast<size_t>(n));
    }
    return NextBadCopyIndex(taken);
  }

  // REQUIRES: `prefix` ends in '/', so "vm/100/" never matches "vm/1000/...".
  Status DeletePrefix(const std::string& prefix) {
    std::vector<std::string> keys;
    CAIRN_RETURN_IF_ERROR(objects_->List({prefix}, [&](const StoredObject& object) {
      keys.push_back(object.key);
      return true;
    }));
    return objects_->DeleteMany(keys);
  }

  std::unique_ptr<DatastoreBackend> local_;  // the cache directory's own metadata
  std::shared_ptr<ObjectStore> objects_;
  const std::string prefix_;
  const ChunkStore local_chunks_;  // paths of the cache's chunk files
  const std::string local_root_;
  ChunkLocks locks_;
  ChunkCache cache_;
};

}  // namespace

std::unique_ptr<DatastoreBackend> NewObjectStoreBackend(const std::string& root,
                                                        ObjectStoreBackendOptions options) {
  return std::make_unique<ObjectStoreBackend>(root, std::move(options));
}

}  // namespace cairn

// The filesystem backend: chunks in the local ChunkStore, metadata in the local directory.

#include <cassert>

#include <fmt/format.h>

#include "base/file_util.h"
#include "datastore/backend.h"
#include "datastore/chunk_locks.h"

namespace cairn {
namespace {

class FilesystemBackend final : public DatastoreBackend {
 public:
  explicit FilesystemBackend(std::string root)
      : root_(std::move(root)), chunks_(root_), locks_(root_) {}

  std::string_view Kind() const override { return "filesystem"; }
  std::string Describe() const override { return root_; }
  unsigned PreferredParallelism() const override { return 0; }

  Result<ChunkInsertResult> InsertChunk(const Digest& digest, ByteView encoded,
                                        ChunkCaching) override {
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    return chunks_.Insert(digest, encoded);
  }

  Result<Bytes> ReadChunk(const Digest& digest) override { return chunks_.Read(digest); }

  Status WriteFile(const std::string& rel_path, ByteView content) override {
    return WriteFileAtomic(Local(rel_path), content, 0644, SyncMode::kFile);
  }

  Status RemoveFile(const std::string& rel_path) override {
    Status st = cairn::RemoveFile(Local(rel_path));
    return st.IsNotFound() ? Status::OK() : st;
  }

  Status CreateDir(const std::string& rel_dir) override { return MakeDirs(Local(rel_dir), 0755); }
  Status CreateNamespaceDir(const std::string& rel_dir) override { return CreateDir(rel_dir); }

  Status RemoveDir(const std::string& rel_dir) override { return RemoveTree(Local(rel_dir)); }

  Result<MetadataDownload> DownloadMetadata(const std::string&) override {
    return Status::InvalidArgument(
        "the datastore at " + root_ + " is kept on the filesystem; it has no remote copy to refresh from");
  }

  Status Detach(bool destroy_data) override {
    return destroy_data ? RemoveTree(root_) : Status::OK();
  }

  BackendStats Stats() const override { return BackendStats{}; }

  Result<Bytes> ReadPersistedChunk(const Digest& digest) override {
    return chunks_.ReadRaw(digest);
  }

  Result<CorruptChunkOutcome> SetAsideCorruptChunk(const Digest& digest,
                                                   const ChunkCheck& check) override {
    CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(digest));
    auto stored = chunks_.ReadRaw(digest);
    if (!stored.ok()) {
      if (!stored.status().IsNotFound()) return stored.status();
      return CorruptChunkOutcome{CorruptChunkAction::kMissing, ""};
    }
    if (check(*stored).ok()) return CorruptChunkOutcome{CorruptChunkAction::kRepaired, ""};
    CAIRN_ASSIGN_OR_RETURN(int n, chunks_.SetAside(digest));
    return CorruptChunkOutcome{CorruptChunkAction::kSetAside,
                               fmt::format("{}.{}.bad", ChunkStore::RelativeChunkPath(digest), n)};
  }

  Status CheckReachable() override { return chunks_.Verify(); }

  Result<ChunkMark> MarkChunk(const Digest& digest) override { return chunks_.Mark(digest); }

  Result<SweepCounts> SweepChunks(const GcCutoff& cutoff) override {
    SweepCounts counts;
    CAIRN_RETURN_IF_ERROR(ForEachLocalChunkFile(
        chunks_.chunks_dir(), [&](const std::string& path, const ChunkFileName& name) -> Status {
          CAIRN_ASSIGN_OR_RETURN(ChunkLockGuard guard, locks_.Lock(name.digest));
          auto remove = [&] {
            Status removed = cairn::RemoveFile(path);
            return removed.IsNotFound() ? Status::OK() : removed;
          };
          if (name.kind == ChunkFileKind::kUsing) return remove();  // not ours: nothing to keep
          return SweepLocalChunkFile(path, name, cutoff, counts, remove);
        }));
    return counts;
  }

 private:
  std::string Local(const std::string& rel) const {
    assert(!rel.empty() && rel[0] != '/');
    return JoinPath(root_, rel);
  }

  std::string root_;
  ChunkStore chunks_;
  ChunkLocks locks_;
};

}  // namespace

std::unique_ptr<DatastoreBackend> NewFilesystemBackend(const std::string& root) {
  return std::make_unique<FilesystemBackend>(root);
}

}  // namespace cairn

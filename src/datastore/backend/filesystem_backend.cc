// The filesystem backend: chunks in the local ChunkStore, metadata in the local directory.

#include <unistd.h>

#include <cassert>
#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"
#include "datastore/backend/backend.h"
#include "datastore/backend/chunk_locks.h"
#include "datastore/backend/chunk_store.h"
#include "datastore/backend/chunk_sweep.h"

namespace cairn {
namespace {

// Removes a datastore directory so that it stops being one at once and its guards go last:
// the chunk store first (a datastore without `.chunks` no longer opens), then all other content,
// then the lock files and the maintenance mode. A process that was opening the store meanwhile
// may create a lock file again; the removal then tries again, a few times.
Status RemoveDatastoreDirectory(const std::string& root) {
  constexpr const char* kLast[] = {".locks", ".maintenance"};
  Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    CAIRN_RETURN_IF_ERROR(RemoveTree(JoinPath(root, ".chunks")));
    auto entries = ListDir(root);
    if (!entries.ok()) return entries.status().IsNotFound() ? Status::OK() : entries.status();
    for (const auto& e : *entries) {
      if (e.name != kLast[0] && e.name != kLast[1]) {
        CAIRN_RETURN_IF_ERROR(RemoveTree(JoinPath(root, e.name)));
      }
    }
    for (const char* name : kLast) CAIRN_RETURN_IF_ERROR(RemoveTree(JoinPath(root, name)));
    if (::rmdir(root.c_str()) == 0 || errno == ENOENT) return Status::OK();
    const int err = errno;
    st = ErrnoStatus("remove " + root, err);
    if (err != ENOTEMPTY && err != EEXIST) return st;
  }
  return st;
}

class FilesystemBackend final : public DatastoreBackend,
                                public ChunkIo,
                                public MetadataWriter,
                                public ChunkCollector,
                                public ChunkRepair {
 public:
  explicit FilesystemBackend(std::string root)
      : root_(std::move(root)), chunks_(root_), locks_(root_) {}

  std::string_view Kind() const override { return "filesystem"; }
  std::string Describe() const override { return root_; }
  ChunkIo& chunks() override { return *this; }
  MetadataWriter& metadata() override { return *this; }
  ChunkCollector& collector() override { return *this; }
  ChunkRepair& repair() override { return *this; }

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
        "the datastore at " + root_ +
        " is kept on the filesystem; it has no remote copy to refresh from");
  }

  Status Detach(bool destroy_data) override {
    return destroy_data ? RemoveDatastoreDirectory(root_) : Status::OK();
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

  Status CheckMarksUpdateAtime(int64_t now) override {
    return CheckLocalMarksUpdateAtime(root_, *this, *this, now);
  }

  Result<ChunkMark> MarkChunk(const Digest& digest) override { return chunks_.Mark(digest); }

  Result<SweepCounts> SweepChunks(const GcCutoff& cutoff, const JobControl& job) override {
    SweepCounts counts;
    CAIRN_RETURN_IF_ERROR(ForEachLocalChunkFile(
        chunks_.chunks_dir(), [&](const std::string& path, const ChunkFileName& name) -> Status {
          CAIRN_RETURN_IF_ERROR(job.CheckCancelled("garbage collection"));
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

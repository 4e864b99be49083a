#include "client/local_repository.h"

#include <functional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "datastore/snapshot_writer.h"
#include "format/archive_name.h"
#include "format/chunker.h"
#include "format/fixed_index.h"

namespace cairn {
namespace {

// An index archive written straight into the snapshot; its chunks go to the store as they come.
class LocalIndexUpload final : public IndexUpload {
 public:
  LocalIndexUpload(SnapshotWriter& writer, std::string filename, uint64_t fixed_chunk_size,
                   std::function<void()> closed)
      : writer_(writer),
        filename_(std::move(filename)),
        fixed_chunk_size_(fixed_chunk_size),
        closed_(std::move(closed)) {}

  const std::string& filename() const override { return filename_; }

  Result<bool> UploadChunk(const Digest& digest, ByteView encoded, uint64_t plain_size) override {
    CAIRN_ASSIGN_OR_RETURN(ChunkInsertResult r, writer_.InsertChunk(digest, encoded, plain_size));
    return r.duplicate;
  }

  Status Close(ByteView index) override {
    if (closed_ == nullptr) return Status::InvalidArgument(filename_ + " is already closed");
    if (filename_.ends_with(".fidx")) {
      CAIRN_ASSIGN_OR_RETURN(FixedIndex parsed, FixedIndex::Parse(index, filename_));
      if (parsed.chunk_size() != fixed_chunk_size_) {
        return Status::InvalidArgument(fmt::format("{}: chunk size {} differs from the {} opened",
                                                   filename_, parsed.chunk_size(),
                                                   fixed_chunk_size_));
      }
    }
    CAIRN_RETURN_IF_ERROR(writer_.WriteArchive(filename_, index));
    std::exchange(closed_, nullptr)();
    return Status::OK();
  }

 private:
  SnapshotWriter& writer_;
  const std::string filename_;
  const uint64_t fixed_chunk_size_;
  std::function<void()> closed_;  // null once closed
};

class LocalBackupSession final : public BackupSession {
 public:
  LocalBackupSession(Datastore& store, std::unique_ptr<SnapshotWriter> writer)
      : store_(store), writer_(std::move(writer)) {}

  const SnapshotRef& snapshot() const override { return writer_->snapshot(); }

  Result<std::optional<Manifest>> PreviousManifest() override {
    if (!writer_->previous()) return std::optional<Manifest>();
    auto m = store_.LoadManifest(writer_->ns(), *writer_->previous());
    if (!m.ok() && m.status().IsCorruption()) {
      // A damaged base cannot vouch for its chunks: back up everything, say why.
      spdlog::warn("previous snapshot {} is damaged ({}); making a full backup",
                   writer_->previous()->ToString(), m.status().message());
      return std::optional<Manifest>();
    }
    if (!m.ok()) return m.status();
    return std::optional<Manifest>(std::move(m).value());
  }

  Result<Bytes> PreviousArchive(const std::string& filename) override {
    if (!writer_->previous()) return Status::NotFound("no previous snapshot");
    return store_.ReadSnapshotFile(writer_->ns(), *writer_->previous(), filename);
  }

  Result<std::vector<Digest>> RegisterKnownChunks(std::span<const Digest> digests) override {
    return writer_->RegisterKnownChunks(digests);
  }

  Result<std::unique_ptr<IndexUpload>> OpenIndex(const std::string& filename,
                                                 uint64_t fixed_chunk_size) override {
    CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
    if (type == ArchiveType::kBlob) {
      return Status::InvalidArgument(filename + " is not an index archive");
    }
    if (type == ArchiveType::kFixedIndex) {
      CAIRN_RETURN_IF_ERROR(FixedChunker::ValidateChunkSize(fixed_chunk_size));
    }
    if (!names_.insert(filename).second) {
      return Status::InvalidArgument(filename + " is already part of this backup");
    }
    ++open_indexes_;
    return std::unique_ptr<IndexUpload>(
        new LocalIndexUpload(*writer_, filename, fixed_chunk_size, [this] { --open_indexes_; }));
  }

  Status UploadBlob(const std::string& filename, ByteView content) override {
    CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
    if (type != ArchiveType::kBlob) return Status::InvalidArgument(filename + " is not a blob");
    if (!names_.insert(filename).second) {
      return Status::InvalidArgument(filename + " is already part of this backup");
    }
    return writer_->WriteArchive(filename, content);
  }

  Status Finish(Manifest manifest) override {
    if (open_indexes_ != 0) {
      return Status::InvalidArgument(
          fmt::format("{} index archive(s) are still open", open_indexes_));
    }
    return writer_->Finish(std::move(manifest));
  }

 private:
  Datastore& store_;
  std::unique_ptr<SnapshotWriter> writer_;
  std::set<std::string> names_;  // archives opened or uploaded
  int open_indexes_ = 0;
};

class LocalSnapshotReader final : public SnapshotReader {
 public:
  LocalSnapshotReader(Datastore& store, BackupNamespace ns, SnapshotRef snap, FileLock lock)
      : store_(store), ns_(std::move(ns)), snap_(std::move(snap)), lock_(std::move(lock)) {}

  const SnapshotRef& snapshot() const override { return snap_; }
  Result<Manifest> ReadManifest() override { return store_.LoadManifest(ns_, snap_); }
  Result<Bytes> ReadArchive(const std::string& filename) override {
    return store_.ReadSnapshotFile(ns_, snap_, filename);
  }
  Result<Bytes> ReadChunk(const Digest& digest) override {
    return store_.backend().chunks().ReadChunk(digest);
  }

 private:
  Datastore& store_;
  BackupNamespace ns_;
  SnapshotRef snap_;
  FileLock lock_;  // shared snapshot lock: no forget while reading
};

class LocalRepository final : public Repository {
 public:
  explicit LocalRepository(Datastore& store) : store_(store) {}

  Result<std::unique_ptr<BackupSession>> StartBackup(const BackupNamespace& ns,
                                                     const BackupGroup& group, int64_t time,
                                                     const std::string& owner,
                                                     bool no_cache) override {
    CAIRN_ASSIGN_OR_RETURN(auto writer, SnapshotWriter::Begin(store_, ns, group, time, owner,
                                                              no_cache ? ChunkCaching::kMarkerOnly
                                                                       : ChunkCaching::kCache));
    return std::unique_ptr<BackupSession>(new LocalBackupSession(store_, std::move(writer)));
  }

  Result<std::unique_ptr<SnapshotReader>> OpenSnapshot(const BackupNamespace& ns,
                                                       const SnapshotRef& snap) override {
    CAIRN_ASSIGN_OR_RETURN(FileLock lock, store_.locks().LockSnapshot(ns, snap, LockMode::kShared));
    CAIRN_RETURN_IF_ERROR(store_.LoadManifest(ns, snap).status());
    return std::unique_ptr<SnapshotReader>(
        new LocalSnapshotReader(store_, ns, snap, std::move(lock)));
  }

  unsigned PreferredParallelism() const override {
    return store_.backend().chunks().PreferredParallelism();
  }

 private:
  Datastore& store_;
};

}  // namespace

std::unique_ptr<Repository> NewLocalRepository(Datastore& store) {
  return std::make_unique<LocalRepository>(store);
}

}  // namespace cairn

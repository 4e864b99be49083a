#include "datastore/backend/chunk_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "datastore/backend/chunk_insert_policy.h"
#include "format/data_blob.h"

namespace cairn {
namespace {

// Sets a file's atime to now (GC's mark), leaving its mtime. NotFound if absent.
Status TouchAtime(const std::string& path) {
  const struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  return SetFileTimes(path, times);
}

}  // namespace

ChunkStore::ChunkStore(std::string root)
    : root_(std::move(root)), chunks_dir_(JoinPath(root_, ".chunks")) {}

Status ChunkStore::Create() const {
  CAIRN_RETURN_IF_ERROR(MakeDirs(chunks_dir_, 0750));
  for (unsigned i = 0; i < 0x10000; ++i) {
    std::string dir = fmt::format("{}/{:04x}", chunks_dir_, i);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
      return ErrnoStatus("mkdir " + dir, errno);
  }
  return FsyncDir(chunks_dir_);
}

Status ChunkStore::Verify() const {
  struct stat st;
  if (::stat(chunks_dir_.c_str(), &st) != 0)
    return ErrnoStatus("open chunk store " + chunks_dir_, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(chunks_dir_ + " is not a directory");
  return Status::OK();
}

std::string ChunkStore::RelativeChunkPath(const Digest& digest) {
  std::string hex = DigestToHex(digest);
  return fmt::format(".chunks/{}/{}", hex.substr(0, 4), hex);
}

std::string ChunkStore::ChunkPath(const Digest& digest) const {
  return JoinPath(root_, RelativeChunkPath(digest));
}

Result<ChunkInsertResult> ChunkStore::Insert(const Digest& digest, ByteView encoded) const {
  const std::string path = ChunkPath(digest);
  auto new_kind = InspectBlob(encoded);
  if (!new_kind.ok()) return new_kind.status().WithContext("insert chunk " + DigestToHex(digest));

  std::optional<ExistingChunk> existing;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    existing = ExistingChunk{static_cast<uint64_t>(st.st_size)};
    if (ChunkInsertNeedsContent(existing->size, encoded.size())) {
      CAIRN_ASSIGN_OR_RETURN(Bytes old, ReadFile(path));
      existing = InspectExistingChunk(old);
    }
  } else if (errno != ENOENT) {
    return ErrnoStatus("stat " + path, errno);
  }
  switch (DecideChunkInsert(existing, IsEncrypted(*new_kind), encoded.size())) {
    case ChunkInsertAction::kKeepExisting:
      CAIRN_RETURN_IF_ERROR(Touch(digest));
      return ChunkInsertResult{true, existing->size};
    case ChunkInsertAction::kRefuse:
      return Status::InvalidArgument(
          fmt::format("chunk {}: refusing encrypted upload over existing unencrypted chunk", path));
    case ChunkInsertAction::kReplace:
      if (existing->content == ExistingChunk::Content::kDamaged) {
        spdlog::warn("chunk {} is damaged; replacing it with the uploaded copy", path);
      }
      break;
    case ChunkInsertAction::kStoreNew: break;
  }
  CAIRN_RETURN_IF_ERROR(WriteFileAtomic(path, encoded, 0644, SyncMode::kFile));
  return ChunkInsertResult{false, encoded.size()};
}

Result<Bytes> ChunkStore::Read(const Digest& digest) const {
  const std::string path = ChunkPath(digest);
  auto data = ReadFile(path);
  if (!data.ok()) {
    return data.status().IsNotFound()
               ? Status::NotFound(fmt::format("chunk {} is missing", RelativeChunkPath(digest)))
               : data.status();
  }
  if (data->empty()) {
    return Status::NotFound(
        fmt::format("chunk {} is not stored locally", RelativeChunkPath(digest)));
  }
  Status crc = VerifyBlobCrc(*data);
  if (!crc.ok()) return crc.WithContext("chunk " + RelativeChunkPath(digest));
  return data;
}

Result<Bytes> ChunkStore::ReadRaw(const Digest& digest) const {
  auto data = ReadFile(ChunkPath(digest));
  if (!data.ok() && data.status().IsNotFound()) {
    return Status::NotFound(fmt::format("chunk {} is missing", RelativeChunkPath(digest)));
  }
  return data;
}

Result<int> ChunkStore::NextBadIndex(const Digest& digest) const {
  std::bitset<kMaxBadCopies> taken;
  for (int n = 0; n < kMaxBadCopies; ++n) {
    CAIRN_ASSIGN_OR_RETURN(bool exists, PathExists(BadChunkPath(digest, n)));
    taken[static_cast<size_t>(n)] = exists;
  }
  return NextBadCopyIndex(taken);
}

Result<int> ChunkStore::SetAside(const Digest& digest) const {
  CAIRN_ASSIGN_OR_RETURN(int n, NextBadIndex(digest));
  const std::string path = ChunkPath(digest);
  Status renamed = RenameFile(path, BadChunkPath(digest, n));
  if (!renamed.ok()) return renamed.WithContext("set aside corrupt chunk");
  CAIRN_RETURN_IF_ERROR(FsyncDir(path.substr(0, path.rfind('/'))));
  return n;
}

Status ChunkStore::Touch(const Digest& digest) const {
  return TouchAtime(ChunkPath(digest));
}

Result<ChunkMark> ChunkStore::Mark(const Digest& digest) const {
  Status touched = Touch(digest);
  if (touched.ok()) return ChunkMark::kMarked;
  if (!touched.IsNotFound()) return touched;
  bool any_bad = false;
  for (int n = 0; n < kMaxBadCopies; ++n) {
    Status bad = TouchAtime(BadChunkPath(digest, n));
    if (bad.ok()) {
      any_bad = true;
    } else if (!bad.IsNotFound()) {
      return bad;
    }
  }
  return any_bad ? ChunkMark::kOnlyBadCopies : ChunkMark::kMissing;
}

std::string ChunkStore::BadChunkPath(const Digest& digest, int n) const {
  return fmt::format("{}.{}.bad", ChunkPath(digest), n);
}

std::string ChunkStore::UsingMarkerPath(const Digest& digest) const {
  return ChunkPath(digest) + ".using";
}

Result<uint64_t> ChunkStore::StoredSize(const Digest& digest) const {
  const std::string path = ChunkPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (st.st_size == 0) return Status::NotFound("chunk " + path + " is an empty marker");
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace cairn

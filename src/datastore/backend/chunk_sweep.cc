#include "datastore/backend/chunk_sweep.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"
#include "datastore/backend/chunk_store.h"
#include "format/data_blob.h"

namespace cairn {

std::optional<ChunkFileName> ParseChunkFileName(std::string_view name) {
  constexpr size_t kHexLen = 64;
  if (name.size() < kHexLen) return std::nullopt;
  auto digest = DigestFromHex(name.substr(0, kHexLen));
  // Only the canonical lower-case spelling: another one would alias a real chunk's file.
  if (!digest.ok() || DigestToHex(*digest) != name.substr(0, kHexLen)) return std::nullopt;
  const std::string_view suffix = name.substr(kHexLen);
  if (suffix.empty()) return ChunkFileName{*digest, ChunkFileKind::kChunk};
  if (suffix == ".using") return ChunkFileName{*digest, ChunkFileKind::kUsing};
  if (suffix.size() == 6 && suffix[0] == '.' && suffix[1] >= '0' && suffix[1] <= '9' &&
      suffix.substr(2) == ".bad") {
    return ChunkFileName{*digest, ChunkFileKind::kBad};
  }
  return std::nullopt;
}

Status ForEachLocalChunkFile(
    const std::string& chunks_dir,
    const std::function<Status(const std::string& path, const ChunkFileName& name)>& visit) {
  for (unsigned i = 0; i < 0x10000; ++i) {
    const std::string dir = fmt::format("{}/{:04x}", chunks_dir, i);
    auto entries = ListDir(dir);
    if (!entries.ok()) {
      if (entries.status().IsNotFound()) continue;
      return entries.status();
    }
    for (const auto& entry : *entries) {
      std::optional<ChunkFileName> name = ParseChunkFileName(entry.name);
      if (name) CAIRN_RETURN_IF_ERROR(visit(JoinPath(dir, entry.name), *name));
    }
  }
  return Status::OK();
}

Status SweepLocalChunkFile(const std::string& path, const ChunkFileName& name,
                           const GcCutoff& cutoff, SweepCounts& counts,
                           const std::function<Status()>& remove) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::OK() : ErrnoStatus("stat " + path, errno);
  }
  const ChunkAge age = JudgeChunk(st.st_atim.tv_sec, cutoff);
  if (age == ChunkAge::kUnused) CAIRN_RETURN_IF_ERROR(remove());
  counts.Count(age, name.kind == ChunkFileKind::kBad, static_cast<uint64_t>(st.st_size));
  return Status::OK();
}

Status CheckLocalMarksUpdateAtime(const std::string& root, ChunkIo& chunks,
                                  ChunkCollector& collector, int64_t now) {
  const Bytes zeros(4u << 20, 0);
  const Digest digest = Sha256Of(zeros);
  CAIRN_ASSIGN_OR_RETURN(Bytes encoded, EncodeBlob(zeros, nullptr, true));
  CAIRN_RETURN_IF_ERROR(chunks.InsertChunk(digest, encoded, ChunkCaching::kCache).status());
  const std::string path = JoinPath(root, ChunkStore::RelativeChunkPath(digest));
  const struct timespec past[2] = {{now - 2 * 86400, 0}, {0, UTIME_OMIT}};
  CAIRN_RETURN_IF_ERROR(SetFileTimes(path, past).WithContext("set atime"));
  CAIRN_RETURN_IF_ERROR(collector.MarkChunk(digest).status());
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (st.st_atim.tv_sec < now - 60) {
    return Status::IOError(
        fmt::format("atime safety check failed: marking {} did not update its access time; garbage "
                    "collection needs a filesystem that records access times set with utimensat",
                    path));
  }
  return Status::OK();
}

}  // namespace cairn

#include "datastore/chunk_sweep.h"

#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"

namespace cairn {

ChunkAge JudgeChunk(int64_t atime, const GcCutoff& cutoff) {
  if (atime < cutoff.min_atime) return ChunkAge::kUnused;
  if (atime < cutoff.oldest_writer) return ChunkAge::kPending;
  return ChunkAge::kInUse;
}

void SweepCounts::Count(ChunkAge age, bool bad, uint64_t size) {
  if (bad) {
    (age == ChunkAge::kUnused ? removed_bad : still_bad)++;
    return;
  }
  switch (age) {
    case ChunkAge::kUnused:
      removed_chunks++;
      removed_bytes += size;
      break;
    case ChunkAge::kPending:
      pending_chunks++;
      pending_bytes += size;
      break;
    case ChunkAge::kInUse:
      disk_chunks++;
      disk_bytes += size;
      break;
  }
}

void SweepCounts::Add(const SweepCounts& other) {
  disk_chunks += other.disk_chunks;
  disk_bytes += other.disk_bytes;
  removed_chunks += other.removed_chunks;
  removed_bytes += other.removed_bytes;
  pending_chunks += other.pending_chunks;
  pending_bytes += other.pending_bytes;
  removed_bad += other.removed_bad;
  still_bad += other.still_bad;
  missing_chunks += other.missing_chunks;
}

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

}  // namespace cairn

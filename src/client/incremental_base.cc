#include "client/incremental_base.h"

#include "base/log.h"

namespace cairn {

CryptMode CryptModeFor(const CryptConfig* crypt) {
  return crypt ? CryptMode::kEncrypt : CryptMode::kNone;
}

Result<std::optional<Bytes>> ReadBaseArchive(BackupSession& session, const std::string& filename) {
  auto raw = session.PreviousArchive(filename);
  if (raw.ok()) return std::optional<Bytes>(std::move(raw).value());
  if (!raw.status().IsCorruption() && !raw.status().IsNotFound()) return raw.status();
  // A damaged base cannot vouch for its chunks; the backup does without it.
  spdlog::warn("not using the previous snapshot as base for {}: {}", filename,
               raw.status().ToString());
  return std::optional<Bytes>();
}

Result<std::vector<Digest>> UseBaseChunks(ChunkUploader& uploader, std::span<const Digest> digests,
                                          const std::string& filename) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> lost, uploader.UseBaseChunks(digests));
  if (!lost.empty()) {
    spdlog::warn(
        "{}: the store no longer holds {} chunk(s) of the previous snapshot (first: "
        "{}); this backup stores them again from the source",
        filename, lost.size(), DigestToHex(lost.front()));
  }
  return lost;
}

bool UsableBaseFor(const Manifest& prev, const std::string& filename, const CryptConfig* crypt) {
  const ManifestFile* entry = prev.FindFile(filename);
  if (entry == nullptr || entry->crypt_mode != CryptModeFor(crypt)) return false;
  if (auto state = prev.verify_state(); state && state->state == "failed") return false;
  if (crypt) {
    auto fp = prev.key_fingerprint();
    if (!fp || *fp != crypt->FingerprintString()) return false;
  }
  return true;
}

}  // namespace cairn

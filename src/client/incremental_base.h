// The group's previous snapshot as the base of an incremental backup: whether an archive of it
// may serve (same crypt mode and key, verification not failed), reading it, and telling the
// uploader its chunks, so that chunks already stored are not uploaded again. A damaged base or
// chunks the store lost never fail a backup: they make it store more.
//
// Thread-safety: as the BackupSession and ChunkUploader given.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "client/chunk_uploader.h"
#include "client/repository.h"
#include "format/crypt_config.h"
#include "format/digest.h"
#include "format/manifest.h"

namespace cairn {

// The manifest's crypt mode of archives written with `crypt` (null: none).
CryptMode CryptModeFor(const CryptConfig* crypt);

// True if `prev` may serve as incremental base for archive `filename`: it holds that archive in
// the same crypt mode, under the same key, and did not fail verification.
bool UsableBaseFor(const Manifest& prev, const std::string& filename, const CryptConfig* crypt);

// The previous snapshot's archive `filename`, raw; nullopt (with a warning) if it is missing or
// damaged, so that a damaged base makes a full backup of that archive rather than a failure.
// Other errors (the store cannot be read) are returned.
Result<std::optional<Bytes>> ReadBaseArchive(BackupSession& session, const std::string& filename);

// ChunkUploader::UseBaseChunks for the chunks of the previous snapshot's archive `filename`,
// warning once if the store lost some of them (they are stored again from the source).
Result<std::vector<Digest>> UseBaseChunks(ChunkUploader& uploader, std::span<const Digest> digests,
                                          const std::string& filename);

}  // namespace cairn

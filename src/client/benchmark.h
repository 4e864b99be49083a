// Host speed figures as `proxmox-backup-client benchmark` reports them: what bounds a backup on
// this machine (SHA-256, zstd level 1 compression and decompression, chunk verification,
// AES-256-GCM encryption), each measured on PBS's 1 MiB test buffer and shown beside PBS's 2020
// reference (an AMD Ryzen 7 2700X; PBS's proxmox-backup-client/src/benchmark.rs). The upload
// speed to a server is measured by remote/server_repository.h's MeasureUploadSpeed.
//
// Thread-safety: the functions are thread-safe; measurements run on the calling thread.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn {

struct SpeedFigure {
  std::string key;          // PBS's JSON key: sha256, compress, decompress, verify, aes256_gcm
  std::string name;         // e.g. "SHA256 checksum computation speed" (PBS's wording)
  double bytes_per_second;  // measured
  double reference;         // PBS's reference in bytes/s; 0 = none
};

// PBS's test data: the little-endian bytes of a u32 counter, 1 MiB.
const Bytes& PbsBenchmarkBuffer();

// Runs each host measurement for about `seconds` (at least one round each).
Result<std::vector<SpeedFigure>> MeasureHostSpeeds(double seconds);

}  // namespace cairn

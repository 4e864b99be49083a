// The checks a backup session makes on an uploaded chunk before it is stored (PBS's
// UploadChunk, spec 2.3): the body has the announced encoded size, is a DataBlob (one of the
// four magics, header long enough), and an unencrypted chunk decodes to `size` bytes whose
// SHA-256 is `digest`. An encrypted chunk can only be checked for its CRC without the key.
//
// Stricter than PBS, which recomputes a wrong CRC: a chunk whose CRC does not match is
// refused (every client computes it; a mismatch means damage on the way).
//
// Thread-safety: thread-safe (free function).
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"

namespace cairn::server {

// The largest chunk the protocol takes (PBS: 16 MiB of data, plus the encrypted header).
inline constexpr uint64_t kMaxUploadChunkSize = 16u << 20;
inline constexpr uint64_t kMaxUploadEncodedSize = kMaxUploadChunkSize + 44;

struct ChunkUploadInfo {
  Digest digest{};
  uint64_t size = 0;          // plaintext length the client announces
  uint64_t encoded_size = 0;  // body length the client announces
};

// OK if `body` is the chunk `info` announces. InvalidArgument with PBS's messages
// ("uploaded chunk is larger than announced.", "uploaded chunk has unexpected size.",
// "wrong magic") or Corruption for a CRC, digest or size that does not match.
Status CheckUploadedChunk(const ChunkUploadInfo& info, ByteView body);

}  // namespace cairn::server

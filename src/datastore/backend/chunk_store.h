// ChunkStore is the local `.chunks/` directory of a datastore (docs/formats.md): chunk
// `<hex64>` lives at `.chunks/<first 4 hex>/<hex64>`, stored as its encoded DataBlob bytes.
// Chunks are written to a temp name, fsynced and renamed, so a reader never sees a partial chunk.
//
// Insert follows the chunk insert policy (chunk_insert_policy.h) when the chunk file exists
// already; a copy it keeps gets its atime touched (GC's mark).
// Read checks the blob's magic and CRC; callers with the key or the digest check the rest.
//
// Thread-safety: all methods are thread-safe and safe across processes (every mutation is a
// rename of a complete file). The object owns nothing but its path.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "datastore/backend/backend_types.h"
#include "datastore/backend/chunk_sweep.h"
#include "format/digest.h"

namespace cairn {

class ChunkStore {
 public:
  // Uses `<root>/.chunks`. Does not touch the disk.
  explicit ChunkStore(std::string root);

  // Creates `.chunks` and its 65536 subdirectories (mode 0750). OK if they exist.
  Status Create() const;
  // Checks that `.chunks` exists and is a directory. NotFound otherwise.
  Status Verify() const;

  // Stores an encoded chunk (see the class comment for the rules). `encoded` must be a valid
  // DataBlob whose digest the caller has established; InvalidArgument if the blob header is bad.
  Result<ChunkInsertResult> Insert(const Digest& digest, ByteView encoded) const;

  // Reads a chunk and checks magic and CRC. NotFound if absent (or an empty eviction marker),
  // Corruption (naming the chunk path) if the blob is damaged.
  Result<Bytes> Read(const Digest& digest) const;

  // The chunk file's bytes, unchecked (verify judges them itself; an empty file is returned
  // empty). NotFound if absent.
  Result<Bytes> ReadRaw(const Digest& digest) const;

  // The N for the chunk's next `.N.bad` copy: the lowest free one in 0..9, or 9 when all are
  // taken (the newest bad copy then replaces the last, as in PBS).
  Result<int> NextBadIndex(const Digest& digest) const;

  // Renames the chunk file to `.N.bad` (N = NextBadIndex) and returns N. NotFound if absent.
  // Caller holds the chunk's lock.
  Result<int> SetAside(const Digest& digest) const;

  // Updates the chunk's atime (GC mark). NotFound if absent.
  Status Touch(const Digest& digest) const;

  // GC's mark: touches the chunk, or if it is absent its `.N.bad` copies (see chunk_sweep.h).
  Result<ChunkMark> Mark(const Digest& digest) const;

  // Encoded size if present with content; NotFound if absent or an empty marker.
  Result<uint64_t> StoredSize(const Digest& digest) const;

  // `<root>/.chunks`.
  const std::string& chunks_dir() const { return chunks_dir_; }
  // `.chunks/<prefix>/<hex64>` under the datastore root.
  std::string ChunkPath(const Digest& digest) const;
  // The path relative to the datastore root, for messages and object keys.
  static std::string RelativeChunkPath(const Digest& digest);
  // `<ChunkPath>.<n>.bad`, a corrupt copy set aside by verify.
  std::string BadChunkPath(const Digest& digest, int n) const;
  // `<ChunkPath>.using`, GC's note that a referenced chunk has no local file.
  std::string UsingMarkerPath(const Digest& digest) const;

 private:
  std::string root_;
  std::string chunks_dir_;
};

}  // namespace cairn

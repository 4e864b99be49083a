// ChunkStore is the local `.chunks/` directory of a datastore (pbs-reference 1.1, 4): chunk
// `<hex64>` lives at `.chunks/<first 4 hex>/<hex64>`, stored as its encoded DataBlob bytes.
// Chunks are written to a temp name, fsynced and renamed, so a reader never sees a partial chunk.
//
// Insert follows PBS's dedup rules when the chunk file exists already:
//   same encoded size -> keep it, touch its atime (GC mark), report duplicate;
//   existing file empty (cache-eviction marker) -> replace;
//   new encrypted, existing unencrypted -> InvalidArgument (never mix modes under one digest);
//   both encrypted -> keep existing (report duplicate);
//   both unencrypted -> keep the smaller encoding;
//   existing file damaged (bad header or CRC) -> replace.
// Read checks the blob's magic and CRC; callers with the key or the digest check the rest.
//
// Thread-safety: all methods are thread-safe and safe across processes (every mutation is a
// rename of a complete file). The object owns nothing but its path.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "datastore/chunk_sweep.h"
#include "format/digest.h"

namespace cairn {

struct ChunkInsertResult {
  bool duplicate = false;  // an acceptable copy existed; nothing was written
  uint64_t stored_size = 0;  // encoded size now on disk
};

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

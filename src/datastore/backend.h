// DatastoreBackend is the one seam between a datastore and where it persists data. A datastore
// always has a local directory: the store itself (filesystem backend) or the cache in front of a
// bucket (S3 backend, later). The backend is chosen once, when the datastore is opened; nothing
// above it asks which kind it is.
//
// Contract shared by every implementation:
//  - Metadata (owner, notes, indexes, blobs, manifests, markers) is read from the local
//    directory by the datastore itself; every *mutation* goes through the backend, which updates
//    the local directory atomically (temp + fsync + rename) and persists it durably wherever
//    the backend keeps data. Paths are relative to the datastore root and already validated.
//  - Chunks go in and out only through InsertChunk / ReadChunk / HasChunk.
//  - Errors are never turned into "not found": a failed remote read is Unavailable/IOError.
//
// Thread-safety: implementations are thread-safe; many backup threads insert concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "datastore/chunk_store.h"
#include "format/digest.h"

namespace cairn {

class DatastoreBackend {
 public:
  virtual ~DatastoreBackend() = default;

  // "filesystem" or "s3"; for display and status output only.
  virtual std::string_view Kind() const = 0;

  // Stores an encoded chunk under `digest` (the caller computed the digest; see ChunkStore for
  // the duplicate rules).
  virtual Result<ChunkInsertResult> InsertChunk(const Digest& digest, ByteView encoded) = 0;

  // Returns a chunk's encoded bytes with magic and CRC checked. NotFound if it is not stored,
  // Corruption if damaged.
  virtual Result<Bytes> ReadChunk(const Digest& digest) = 0;

  // True if the chunk is stored (an upload may be skipped). Never false on an error.
  virtual Result<bool> HasChunk(const Digest& digest) = 0;

  // Creates or replaces the file at `rel_path` with `content`.
  virtual Status WriteFile(const std::string& rel_path, ByteView content) = 0;

  // Removes the file at `rel_path`. OK if it did not exist.
  virtual Status RemoveFile(const std::string& rel_path) = 0;

  // Creates the directory `rel_dir` (and parents), e.g. a namespace. OK if it exists.
  virtual Status CreateDir(const std::string& rel_dir) = 0;

  // Removes the directory `rel_dir` and everything below it. `rel_dir` names exactly that
  // directory: removing "vm/100" never touches "vm/1000". OK if it did not exist.
  virtual Status RemoveDir(const std::string& rel_dir) = 0;
};

// The filesystem backend: the local directory at `root` is the datastore.
std::unique_ptr<DatastoreBackend> NewFilesystemBackend(const std::string& root);

}  // namespace cairn

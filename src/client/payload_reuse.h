// Metadata change detection for split file archives (PBS's `--change-detection-mode metadata`,
// docs/file-archives.md): a regular file whose metadata (mode, owner, mtime with nanoseconds,
// flags, xattrs, ACLs, fcaps, quota id) and size equal its entry in the previous snapshot's .mpxar
// is not read again. Its entry gets a PAYLOAD_REF into the new payload stream, and the previous
// payload chunks holding it are appended to the new .ppxar index by digest, unread and not
// uploaded.
//
// Consecutive unchanged files form a run: their previous payloads lie in consecutive previous
// chunks, which are injected once, when the run ends (before new file data is written, or at the
// end). Injected chunks may hold bytes no new entry references (padding: parts of files that
// changed, old headers). A run only starts while all padding so far, plus the bytes before the
// file in its first chunk, stays within a tenth of the payload bytes referenced plus one average
// chunk (4 MiB); otherwise the file is read afresh. That bounds the dead bytes a stream can
// accumulate over many metadata-mode backups, as PBS's 10 % rule does.
//
// With a file state table (file_state.h), a file is reused only if its inode and ctime also
// equal the ones recorded when the previous archive was written.
//
// Ownership: borrows the accessor, index, stream and state table. Thread-safety: one thread
// (the walker's).
#pragma once

#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/result.h"
#include "client/file_state.h"
#include "format/chunk_stream.h"
#include "format/dynamic_index.h"
#include "format/pxar/accessor.h"
#include "format/pxar/encoder.h"

namespace cairn {

class PayloadReuse {
 public:
  // `previous` reads the previous .mpxar; `previous_payload` is the previous .ppxar's index;
  // `stream` is the new payload stream the encoder writes to; `previous_state`, if not null,
  // holds the inodes and ctimes recorded when the previous archive was written; `lost`, if not
  // null, the previous payload chunks the store no longer holds (files in them are read).
  PayloadReuse(pxar::Accessor& previous, const DynamicIndex& previous_payload, ChunkStream& stream,
               const FileStateTable* previous_state = nullptr,
               const std::unordered_set<Digest, DigestHash>* lost = nullptr)
      : previous_(previous),
        previous_payload_(previous_payload),
        stream_(stream),
        previous_state_(previous_state),
        lost_(lost) {}

  // For the regular file at `path` (relative to the archive root) with `metadata`, `size` and
  // `identity`:
  // the payload offset to reference in the new stream if it can be reused, nullopt if it must be
  // read. A file that cannot join the pending run ends it (Flush). If the previous archive
  // turns out damaged (Corruption, NotFound), reuse stops with a warning and every later file is
  // read; other errors reading it are returned (the backup fails rather than silently storing a
  // different tree).
  Result<std::optional<uint64_t>> Reuse(const std::string& path, const pxar::Metadata& metadata,
                                        uint64_t size, const FileIdentity& identity,
                                        pxar::Encoder& encoder);

  // Injects the pending run's chunks and advances the encoder past them. Call before the
  // encoder writes new payload bytes and before it finishes.
  Status Flush(pxar::Encoder& encoder);

  uint64_t reused_files() const { return reused_files_; }
  uint64_t reused_bytes() const { return reused_bytes_; }
  uint64_t injected_chunks() const { return injected_chunks_; }

 private:
  struct Run {
    size_t first_chunk = 0;
    size_t last_chunk = 0;
    uint64_t new_base = 0;    // new stream offset where first_chunk will start
    uint64_t old_base = 0;    // previous stream offset where first_chunk starts
    uint64_t old_end = 0;     // end of the last file's payload in the previous stream
    uint64_t referenced = 0;  // payload bytes (headers included) of the run's files
  };
  // The previous entries of directory `dir`, by name (kept for the last few directories).
  Result<const std::map<std::string, pxar::Entry>*> PreviousDirectory(const std::string& dir);

  pxar::Accessor& previous_;
  const DynamicIndex& previous_payload_;
  ChunkStream& stream_;
  const FileStateTable* previous_state_;
  const std::unordered_set<Digest, DigestHash>* lost_;
  bool damaged_ = false;  // the previous archive could not be read: no more reuse
  std::optional<Run> run_;
  std::list<std::pair<std::string, std::map<std::string, pxar::Entry>>> directories_;
  uint64_t reused_files_ = 0;
  uint64_t reused_bytes_ = 0;
  uint64_t injected_chunks_ = 0;
  uint64_t referenced_bytes_ = 0;  // payload bytes of reused files, in flushed runs
  uint64_t padding_bytes_ = 0;     // injected bytes no reused file covers, in flushed runs
};

}  // namespace cairn

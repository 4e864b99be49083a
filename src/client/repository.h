// Repository is where the backup client sends snapshots and reads them back. Its shape follows
// PBS's backup and reader protocols (proxmox-backup-protocol-v1 and
// proxmox-backup-reader-protocol-v1, PBS's src/api2/{backup,reader}/): a backup session opens
// an index per chunked archive, uploads that archive's chunks under it and closes it with the
// finished index, uploads blobs, and finishes with the manifest; a reader session downloads the
// manifest, archive files and chunks. LocalRepository (local_repository.h) opens a datastore
// directly; ServerRepository (remote/server_repository.h) speaks the protocols to a server.
//
// Thread-safety: an IndexUpload's UploadChunk and a SnapshotReader's ReadChunk may be called
// from many threads at once; other methods from one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"
#include "format/manifest.h"
#include "types/backup_names.h"

namespace cairn {

// One chunked archive (.didx or .fidx) of a backup session, from its first chunk to its index.
// It must not outlive its session.
class IndexUpload {
 public:
  virtual ~IndexUpload() = default;
  virtual const std::string& filename() const = 0;
  // Uploads an encoded chunk of this archive whose digest the client computed. Returns true if
  // the store is known to have had it (a server does not say: false).
  virtual Result<bool> UploadChunk(const Digest& digest, ByteView encoded, uint64_t plain_size) = 0;
  // Stores the finished index file. Every chunk it lists must have been uploaded in this
  // session or registered with BackupSession::RegisterKnownChunks (InvalidArgument naming the
  // chunk otherwise); a fixed index must have the chunk size it was opened with. Closing
  // twice is InvalidArgument.
  virtual Status Close(ByteView index) = 0;
};

class BackupSession {
 public:
  virtual ~BackupSession() = default;
  virtual const SnapshotRef& snapshot() const = 0;

  // The manifest of the group's previous finished snapshot (the incremental base), if any.
  virtual Result<std::optional<Manifest>> PreviousManifest() = 0;
  // An archive file of the previous snapshot, raw. NotFound if there is none by that name;
  // Corruption if it is damaged.
  virtual Result<Bytes> PreviousArchive(const std::string& filename) = 0;
  // Registers chunks of the previous snapshot (the digests of one of its indexes) that the
  // client means to reference without uploading them. Returns those the store no longer holds
  // in a usable form (missing, or only a damaged copy set aside by verify): the client uploads
  // them when their data comes up again, which repairs the store.
  virtual Result<std::vector<Digest>> RegisterKnownChunks(std::span<const Digest> digests) = 0;

  // Opens the index archive `filename` (.didx, or .fidx of `fixed_chunk_size` bytes per chunk;
  // ignored for .didx). InvalidArgument for another name, a name already used in this session,
  // or a chunk size the repository does not take (a server: only 4 MiB).
  virtual Result<std::unique_ptr<IndexUpload>> OpenIndex(const std::string& filename,
                                                         uint64_t fixed_chunk_size) = 0;
  // Uploads a blob archive (.blob), complete.
  virtual Status UploadBlob(const std::string& filename, ByteView content) = 0;
  // Writes the manifest and makes the snapshot visible. Every index must be closed. Without a
  // successful Finish, destroying the session discards the snapshot.
  virtual Status Finish(Manifest manifest) = 0;
};

class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  virtual const SnapshotRef& snapshot() const = 0;
  virtual Result<Manifest> ReadManifest() = 0;
  // An archive file listed in the manifest, raw; blobs are checked against the manifest's size
  // and csum (Corruption naming the file).
  virtual Result<Bytes> ReadArchive(const std::string& filename) = 0;
  // A chunk's encoded bytes, CRC checked. NotFound naming the chunk if it is missing.
  virtual Result<Bytes> ReadChunk(const Digest& digest) = 0;
};

class Repository {
 public:
  virtual ~Repository() = default;
  // Starts a new snapshot `time` of `group` in `ns`, owned by `owner` (see SnapshotWriter::Begin
  // for the errors). With `no_cache`, a store with a local cache in front of remote storage
  // uploads new chunks without keeping local copies.
  virtual Result<std::unique_ptr<BackupSession>> StartBackup(const BackupNamespace& ns,
                                                             const BackupGroup& group, int64_t time,
                                                             const std::string& owner,
                                                             bool no_cache) = 0;
  // Opens a finished snapshot for reading (it cannot be removed while the reader lives).
  virtual Result<std::unique_ptr<SnapshotReader>> OpenSnapshot(const BackupNamespace& ns,
                                                               const SnapshotRef& snap) = 0;
  // How many chunk transfers it pays to run at once (a remote store hides latency with more);
  // 0 = no preference.
  virtual unsigned PreferredParallelism() const = 0;
};

}  // namespace cairn

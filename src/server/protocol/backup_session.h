// BackupSession is the server's state for one session of PBS's backup protocol (spec 2.2-2.6)
// after the upgrade: the snapshot being written (a SnapshotWriter, which holds the group and
// snapshot locks and keeps GC from deleting what the session uploads), the index writers the
// client opened, and the chunks it may append (uploaded in this session, or registered from
// the previous snapshot's indexes). Handle answers each request of the session as PBS does:
// `{"data": ...}` on success, the error's HTTP status with a plain-text message otherwise, and
// the failure logged in the session's task log.
//
// Requests (all relative to the session): GET previous_backup_time, GET previous, POST
// fixed_index / dynamic_index (open a writer), POST fixed_chunk / dynamic_chunk (upload), PUT
// fixed_index / dynamic_index (append), POST fixed_close / dynamic_close, POST blob, POST
// finish, POST speedtest, GET / (the list of these). docs/protocol.md has the rules.
//
// The snapshot becomes visible only at `finish`, which also lets go of the writer and so of
// the group and snapshot locks (a restore or the group's next backup may start at once); if the
// session ends without it, destroying the session removes everything it wrote.
//
// Thread-safety: Handle is thread-safe (chunk uploads are checked and stored in parallel).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "base/job_control.h"
#include "base/mutex.h"
#include "datastore/snapshot_writer.h"
#include "format/digest.h"
#include "http/server.h"
#include "server/protocol/index_writers.h"

namespace cairn::server {

class BackupSession {
 public:
  // `writer` is the started snapshot (SnapshotWriter::Begin); `log` is the session task's. A
  // `benchmark` session (PBS's `benchmark=true` on host/benchmark) serves every request but
  // refuses `finish`: its snapshot is always discarded.
  BackupSession(Datastore& store, std::unique_ptr<SnapshotWriter> writer, JobControl log,
                bool benchmark = false);
  ~BackupSession();

  http::ServerResponse Handle(const http::ServerRequest& request);

  // True once `finish` succeeded: the snapshot is complete and visible.
  bool finished() const;
  const SnapshotRef& snapshot() const { return snapshot_; }

 private:
  struct Writer {
    std::string archive_name;
    std::variant<FixedIndexWriter, DynamicIndexWriter> index;
    bool saw_short_chunk = false;  // fixed writers: at most one chunk below the chunk size
    uint64_t chunks = 0, bytes = 0, duplicates = 0, compressed_bytes = 0;  // uploads
  };
  struct Base {
    BackupNamespace ns;
    SnapshotRef snap;
  };
  // The previous snapshot; InvalidArgument `missing` if there is none.
  Result<Base> PreviousSnapshot(std::string_view missing);
  Result<nlohmann::json> PreviousBackupTime();
  Result<http::ServerResponse> Previous(const std::string& archive_name);
  Result<nlohmann::json> OpenWriter(bool fixed, const std::string& archive_name,
                                    std::optional<uint64_t> size,
                                    std::optional<std::string> reuse_csum);
  Result<nlohmann::json> UploadChunk(bool fixed, uint64_t wid, const std::string& digest_hex,
                                     uint64_t size, uint64_t encoded_size, const std::string& body);
  Status Append(bool fixed, uint64_t wid, const nlohmann::json& digests,
                const nlohmann::json& offsets);
  Status CloseWriter(bool fixed, uint64_t wid, uint64_t chunk_count, uint64_t size,
                     const std::string& csum_hex);
  Status UploadBlob(const std::string& file_name, uint64_t encoded_size, const std::string& body);
  Status Finish();
  // The writer `wid` of the right kind. InvalidArgument otherwise.
  Result<Writer*> FindWriter(bool fixed, uint64_t wid) CAIRN_REQUIRES(mu_);
  // The writer; InvalidArgument "backup already finished" after finish.
  Result<SnapshotWriter*> ActiveWriter() CAIRN_REQUIRES(mu_);
  // Whether `name` is open in a writer or already stored.
  bool NameTaken(const std::string& name) const CAIRN_REQUIRES(mu_);

  Datastore& store_;
  const SnapshotRef snapshot_;
  const JobControl log_;
  const bool benchmark_;
  mutable Mutex mu_;
  const BackupNamespace ns_;
  const std::optional<SnapshotRef> previous_;
  // Null once finished. Shared: an upload stores its chunk outside the lock.
  std::shared_ptr<SnapshotWriter> writer_ CAIRN_GUARDED_BY(mu_);
  std::map<uint64_t, Writer> writers_ CAIRN_GUARDED_BY(mu_);
  uint64_t next_wid_ CAIRN_GUARDED_BY(mu_) = 1;
  std::unordered_map<Digest, uint64_t, DigestHash> known_chunks_ CAIRN_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> files_ CAIRN_GUARDED_BY(mu_);  // stored: name -> bytes
  std::optional<Bytes> manifest_blob_ CAIRN_GUARDED_BY(mu_);
  bool finished_ CAIRN_GUARDED_BY(mu_) = false;
};

}  // namespace cairn::server

// ReaderSession is the server's state for one session of PBS's reader protocol (spec 3): a
// finished snapshot, held with a shared lock for the whole session (it cannot be removed
// meanwhile), and the chunks the client may fetch: only those of an index it downloaded in
// this session.
//
// Requests: GET download?file-name= (a file of the snapshot, raw; an index's chunks become
// fetchable), GET chunk?digest= (the stored DataBlob; 401 "download chunk ... not allowed"
// for a digest of no downloaded index), GET speedtest (1 MiB of 'A'), GET / (their names).
//
// Thread-safety: Handle is thread-safe; chunk reads run in parallel.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include "base/file_lock.h"
#include "base/job_control.h"
#include "base/mutex.h"
#include "datastore/datastore.h"
#include "format/digest.h"
#include "http/server.h"

namespace cairn::server {

class ReaderSession {
 public:
  // Takes a shared lock on the snapshot; NotFound "snapshot ... does not exist." unless it is
  // finished; Busy while it is being removed.
  static Result<std::unique_ptr<ReaderSession>> Open(Datastore& store, const BackupNamespace& ns,
                                                     const SnapshotRef& snap, JobControl log);

  http::ServerResponse Handle(const http::ServerRequest& request);
  const SnapshotRef& snapshot() const { return snap_; }

 private:
  ReaderSession(Datastore& store, BackupNamespace ns, SnapshotRef snap, FileLock lock,
                JobControl log);
  Result<http::ServerResponse> Download(const std::string& file_name);
  Result<http::ServerResponse> Chunk(const std::string& digest_hex);

  Datastore& store_;
  const BackupNamespace ns_;
  const SnapshotRef snap_;
  FileLock lock_;  // shared: no forget or prune while the session reads
  const JobControl log_;
  Mutex mu_;
  std::unordered_set<Digest, DigestHash> allowed_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn::server

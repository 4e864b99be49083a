// ServerRepository is a Repository on a Cairn or PBS server, reached through an ApiClient
// (--repository): each backup session is one connection upgraded to PBS's backup protocol
// (GET /api2/json/backup, Upgrade: proxmox-backup-protocol-v1, then HTTP/2) and each snapshot
// reader one upgraded to the reader protocol. It sends the requests proxmox-backup-client sends,
// in its order (spec pbs-server.md 2.7 and 3):
//  - backup: previous_backup_time and `previous` for the manifest; `previous` for each base
//    index (the server then knows its chunks); fixed_index / dynamic_index to open an archive;
//    fixed_chunk / dynamic_chunk uploads from many threads at once; at close the index's chunks
//    appended with PUT in batches, then fixed_close / dynamic_close with count, size and csum;
//    blobs; the manifest as index.json.blob; finish.
//  - reader: download of the manifest, archive files, and chunks (many at once).
// The server decides the owner (the caller), so StartBackup's `owner` is not sent.
//
// Ownership: borrows the ApiClient, which must outlive the repository; each session and
// reader owns its connection. Thread-safety: as Repository.
#pragma once

#include <memory>

#include "client/remote/api_client.h"
#include "client/repository.h"

namespace cairn::client {

// Requests in flight per session that hide the network's latency (chunk uploads, read-ahead).
inline constexpr unsigned kServerParallelism = 8;

std::unique_ptr<Repository> NewServerRepository(ApiClient& api);

// The upload speed to the server, as `proxmox-backup-client benchmark` measures it: a benchmark
// session (host/benchmark with benchmark=true; the server stores nothing) receives 4 MiB bodies
// of PBS's test pattern on `speedtest` for about `seconds`, `parallel` at a time. Returns bytes
// per second. Errors as StartBackup's (e.g. PermissionDenied without Datastore.Backup).
Result<double> MeasureUploadSpeed(ApiClient& api, double seconds, unsigned parallel);

}  // namespace cairn::client

// Verify proves that snapshots can be restored (as PBS's src/backup/verify.rs; Cairn's choices in
// docs/gc-and-locking.md). For each snapshot, newest first within a group, holding the
// snapshot's lock shared (a backup, prune or removal of it makes verify skip it):
//  - every blob archive must match its size and SHA-256 in the manifest and decode (unencrypted)
//    or pass its CRC (encrypted);
//  - every index must parse, match its size and checksum in the manifest, and every chunk it
//    references must be stored and intact: read from where it is persisted (an S3 bucket, not
//    the cache), crypt mode as the manifest says, CRC, and for unencrypted chunks the SHA-256 of
//    the decoded data and its length. Each chunk is checked once per job.
//  - a corrupt chunk is set aside as `<digest>.N.bad` (DatastoreBackend::SetAsideCorruptChunk),
//    so the next backup stores a good copy; a chunk that cannot be read for another reason
//    (network, permissions) is reported, never treated as corrupt.
// The verdict is recorded in the manifest's unprotected `verify_state` = {"state": "ok" |
// "failed", "upid": <task id>} (PBS's shape). A snapshot that could not be checked for reasons
// other than damage gets no new state.
//
// Thread-safety: RunVerify runs max(read_threads, verify_threads) worker threads of its own, at
// most `read_threads` of them reading and `verify_threads` checking at a time; it is safe
// against backups, restores, GC and prune of any process.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/job_control.h"
#include "base/result.h"
#include "datastore/datastore.h"
#include "types/backup_names.h"

namespace cairn {

enum class VerifyVerdict {
  kOk,           // everything checked out (state "ok" recorded)
  kFailed,       // damage found (state "failed" recorded when the manifest is readable)
  kSkipped,      // not checked: verified recently (ignore_verified), locked, or removed meanwhile
  kNotVerified,  // could not be checked (e.g. the bucket did not answer); state left as it was
};

// "ok", "failed", "skipped", "not verified".
std::string_view VerifyVerdictName(VerifyVerdict verdict);

struct SnapshotVerifyResult {
  BackupNamespace ns;
  SnapshotRef snapshot;
  VerifyVerdict verdict = VerifyVerdict::kOk;
  // What is wrong (kFailed, kNotVerified), or why it was skipped; at most a few dozen lines, the
  // last one counting what was left out.
  std::vector<std::string> problems;
};

struct VerifyOptions {
  // Skip snapshots whose last verification passed, unless `outdated_after_days` says it is too
  // old. (A snapshot that failed is always verified again: an upload may have repaired it.)
  bool ignore_verified = false;
  // With ignore_verified: verify again when the last verification started more than this many
  // days ago (0: always).
  std::optional<int64_t> outdated_after_days;
  unsigned read_threads = 0;    // chunks read at once: 1..32; 0 = the backend's preference
  unsigned verify_threads = 4;  // chunks checked at once: 1..32
  // Who runs the task, for the recorded task id (types/upid.h).
  std::string node = "localhost";
  std::string auth_id = "root@pam";
  std::string worker_id;  // e.g. the store name
  // Called after each snapshot (progress output).
  std::function<void(const SnapshotVerifyResult&)> on_snapshot;
  // Where the job's log lines go, and its cancellation (checked per snapshot and per chunk:
  // the snapshot being verified when it is cancelled is left as it was).
  JobControl job;
};

// Which snapshots to verify: one snapshot, one group, or every snapshot of `ns` and the
// namespaces below it.
struct VerifyTarget {
  BackupNamespace ns;
  std::optional<BackupGroup> group;
  std::optional<SnapshotRef> snapshot;  // if set, `group` is ignored
};

struct VerifyReport {
  std::string upid;
  int64_t started = 0;  // Unix seconds
  double duration_seconds = 0;
  std::vector<SnapshotVerifyResult> snapshots;
  uint64_t chunks_checked = 0;  // distinct chunks read and judged
  uint64_t bytes_read = 0;      // their stored (encoded) bytes
  uint64_t corrupt_chunks = 0;
  uint64_t missing_chunks = 0;
  std::vector<std::string> set_aside;  // where corrupt copies went (`.N.bad` paths or keys)

  size_t Count(VerifyVerdict verdict) const;
};

nlohmann::json VerifyReportToJson(const VerifyReport& report);

// InvalidArgument naming the option if a thread count is out of range or outdated_after_days
// is negative.
Status ValidateVerifyOptions(const VerifyOptions& options);

// Verifies the target's snapshots. NotFound if the namespace, group or snapshot does not exist;
// Aborted once `options.job` is cancelled (the verdicts of the snapshots done stay recorded).
// Damage is reported per snapshot in the result, not as an error; an error means the job
// itself could not go on (the store became unreadable).
Result<VerifyReport> RunVerify(Datastore& store, const VerifyTarget& target,
                               const VerifyOptions& options);

}  // namespace cairn

// Prune decides which snapshots of a backup group retention rules keep, and removes the rest
// (PBS's rules, pbs-datastore/src/prune.rs; docs/cli.md, "prune").
//
// The rules run in the order keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly,
// keep-yearly. Each one maps a snapshot to a period by its backup time in local time (the
// process's TZ): last = the snapshot itself, hourly "%Y/%m/%d/%H", daily "%Y/%m/%d", weekly the
// ISO week "%G/%V", monthly "%Y/%m", yearly "%Y". A rule with count N walks the snapshots newest
// first, skipping those an earlier rule already marked (kept or removed), protected ones, and
// those whose period already holds a snapshot kept by an earlier rule. It keeps the first
// snapshot of each new period until it has N periods and stops at the first snapshot of the
// next one; the other snapshots of its N periods that it passes are marked for removal, so a
// later rule cannot keep them either. Protected snapshots are always kept and never count for a
// rule. Whatever no rule marked is removed. Without any rule (all counts 0), everything is kept.
//
// Unfinished snapshots (PBS's keep-partial case) never reach prune: Datastore::ListSnapshots
// lists finished snapshots only.
//
// Thread-safety: ComputePrune reads the process's time zone (tzset) and is otherwise pure;
// PruneGroup is as thread-safe as the Datastore it uses.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/job_control.h"
#include "base/result.h"
#include "datastore/datastore.h"

namespace cairn {

// How many periods each rule keeps; 0 = the rule is not used.
struct KeepOptions {
  uint64_t last = 0;
  uint64_t hourly = 0;
  uint64_t daily = 0;
  uint64_t weekly = 0;
  uint64_t monthly = 0;
  uint64_t yearly = 0;

  // True if any count is non-zero; otherwise prune keeps everything.
  bool KeepsSomething() const;
};

// The decision for one snapshot: removed, or kept and why.
enum class PruneMark {
  kRemove,
  kKeepLast,
  kKeepHourly,
  kKeepDaily,
  kKeepWeekly,
  kKeepMonthly,
  kKeepYearly,
  kProtected,  // protected snapshots are always kept
  kKeepAll,    // no keep option was given
};

inline bool IsKept(PruneMark mark) {
  return mark != PruneMark::kRemove;
}
// "remove", "keep-last", "keep-hourly", ..., "keep-yearly", "protected", "keep-all".
std::string_view PruneMarkName(PruneMark mark);

struct PruneCandidate {
  int64_t time = 0;  // backup time, epoch seconds; distinct within a group
  bool is_protected = false;
};

// The decision for each of `snapshots` (in any order), in the same order. No I/O.
std::vector<PruneMark> ComputePrune(const std::vector<PruneCandidate>& snapshots,
                                    const KeepOptions& keep);

struct PruneEntry {
  SnapshotRef snapshot;
  PruneMark mark = PruneMark::kRemove;
  bool removed = false;  // true once the snapshot has been forgotten
};

// Prunes one group of `store`. Holds the group lock shared throughout, so it fails with Busy
// naming the group, removing nothing, while a backup of the group runs. Lists the group's
// finished snapshots, decides with ComputePrune and fills `*entries`, newest first; then, unless
// `dry_run`, forgets (Datastore::ForgetSnapshot) the ones to remove, oldest first, setting
// `removed` on each. The first failed removal stops it and is returned; `*entries` then tells
// which snapshots were already removed. NotFound if the group does not exist; Aborted, before
// the next removal, once `job` is cancelled.
// REQUIRES: entries != nullptr.
Status PruneGroup(Datastore& store, const BackupNamespace& ns, const BackupGroup& group,
                  const KeepOptions& keep, bool dry_run, std::vector<PruneEntry>* entries,
                  const JobControl& job);

}  // namespace cairn

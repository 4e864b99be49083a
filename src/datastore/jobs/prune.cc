#include "datastore/jobs/prune.h"

#include <time.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_set>

namespace cairn {
namespace {

struct Rule {
  uint64_t KeepOptions::*count;
  PruneMark mark;
  const char* period_format;  // strftime format in local time; nullptr: the snapshot itself
};

// In the order the rules are applied.
constexpr Rule kRules[] = {
    {&KeepOptions::last, PruneMark::kKeepLast, nullptr},
    {&KeepOptions::hourly, PruneMark::kKeepHourly, "%Y/%m/%d/%H"},
    {&KeepOptions::daily, PruneMark::kKeepDaily, "%Y/%m/%d"},
    {&KeepOptions::weekly, PruneMark::kKeepWeekly, "%G/%V"},
    {&KeepOptions::monthly, PruneMark::kKeepMonthly, "%Y/%m"},
    {&KeepOptions::yearly, PruneMark::kKeepYearly, "%Y"},
};

// The period `time` falls in under a rule. A time localtime cannot convert is its own period.
std::string Period(int64_t time, const char* format) {
  const time_t t = static_cast<time_t>(time);
  struct tm local;
  if (format == nullptr || localtime_r(&t, &local) == nullptr) return std::to_string(time);
  char buf[32];
  return std::string(buf, strftime(buf, sizeof(buf), format, &local));
}

// Applies one rule (PBS's mark_selections). `marks` is indexed like `snapshots`; nullopt means
// not marked yet. `newest_first` orders the indexes by time, newest first.
void MarkSelections(const std::vector<PruneCandidate>& snapshots,
                    const std::vector<size_t>& newest_first, const Rule& rule, uint64_t count,
                    std::vector<std::optional<PruneMark>>& marks) {
  std::vector<std::string> period(snapshots.size());
  std::unordered_set<std::string> already_kept;  // periods of snapshots earlier rules keep
  for (size_t i : newest_first) {
    period[i] = Period(snapshots[i].time, rule.period_format);
    if (marks[i] && IsKept(*marks[i])) already_kept.insert(period[i]);
  }
  std::unordered_set<std::string> selected;  // periods this rule keeps
  for (size_t i : newest_first) {
    if (marks[i] || snapshots[i].is_protected || already_kept.contains(period[i])) continue;
    if (selected.contains(period[i])) {
      marks[i] = PruneMark::kRemove;  // an older snapshot of a period this rule keeps
      continue;
    }
    if (selected.size() >= count) break;
    selected.insert(period[i]);
    marks[i] = rule.mark;
  }
}

}  // namespace

bool KeepOptions::KeepsSomething() const {
  return std::any_of(std::begin(kRules), std::end(kRules),
                     [this](const Rule& rule) { return this->*rule.count > 0; });
}

std::string_view PruneMarkName(PruneMark mark) {
  switch (mark) {
    case PruneMark::kRemove: return "remove";
    case PruneMark::kKeepLast: return "keep-last";
    case PruneMark::kKeepHourly: return "keep-hourly";
    case PruneMark::kKeepDaily: return "keep-daily";
    case PruneMark::kKeepWeekly: return "keep-weekly";
    case PruneMark::kKeepMonthly: return "keep-monthly";
    case PruneMark::kKeepYearly: return "keep-yearly";
    case PruneMark::kProtected: return "protected";
    case PruneMark::kKeepAll: return "keep-all";
  }
  return "?";
}

std::vector<PruneMark> ComputePrune(const std::vector<PruneCandidate>& snapshots,
                                    const KeepOptions& keep) {
  std::vector<std::optional<PruneMark>> marks(snapshots.size());
  if (!keep.KeepsSomething()) {
    marks.assign(snapshots.size(), PruneMark::kKeepAll);
  } else {
    tzset();  // localtime_r need not read TZ itself
    std::vector<size_t> newest_first(snapshots.size());
    std::iota(newest_first.begin(), newest_first.end(), 0);
    std::sort(newest_first.begin(), newest_first.end(),
              [&](size_t a, size_t b) { return snapshots[a].time > snapshots[b].time; });
    for (const Rule& rule : kRules) {
      const uint64_t count = keep.*rule.count;
      if (count > 0) MarkSelections(snapshots, newest_first, rule, count, marks);
    }
  }
  std::vector<PruneMark> out;
  out.reserve(snapshots.size());
  for (size_t i = 0; i < snapshots.size(); ++i) {
    out.push_back(snapshots[i].is_protected ? PruneMark::kProtected
                                            : marks[i].value_or(PruneMark::kRemove));
  }
  return out;
}

Status PruneGroup(Datastore& store, const BackupNamespace& ns, const BackupGroup& group,
                  const KeepOptions& keep, bool dry_run, std::vector<PruneEntry>* entries,
                  const JobControl& job) {
  entries->clear();
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, store.locks().LockGroup(ns, group, LockMode::kShared));
  CAIRN_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, store.ListSnapshots(ns, group));
  std::vector<PruneCandidate> candidates;
  for (const SnapshotInfo& s : snapshots) candidates.push_back({s.ref.time, s.is_protected});
  const std::vector<PruneMark> marks = ComputePrune(candidates, keep);
  for (size_t i = snapshots.size(); i-- > 0;) {  // ListSnapshots is oldest first
    entries->push_back({snapshots[i].ref, marks[i], false});
  }
  if (dry_run) return Status::OK();
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {  // oldest first
    if (IsKept(it->mark)) continue;
    CAIRN_RETURN_IF_ERROR(job.CheckCancelled("prune"));
    CAIRN_RETURN_IF_ERROR(store.ForgetSnapshot(ns, it->snapshot));
    it->removed = true;
  }
  return Status::OK();
}

}  // namespace cairn

#include "datastore/jobs/prune.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "base/time.h"
#include "datastore/snapshot_writer.h"
#include "format/fixed_index.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

// Sets TZ (and tzset) for the lifetime of the object, then restores the previous value.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    if (const char* old = getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    old_ ? setenv("TZ", old_->c_str(), 1) : unsetenv("TZ");
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

long UtcOffsetAt(int64_t time) {
  const time_t t = time;
  struct tm local;
  localtime_r(&t, &local);
  return local.tm_gmtoff;
}

std::vector<std::string> Names(const std::vector<PruneMark>& marks) {
  std::vector<std::string> out;
  for (PruneMark m : marks) out.emplace_back(PruneMarkName(m));
  return out;
}

// ---- hand-written cases (Europe/Berlin) ----

struct Row {
  const char* time;      // UTC; local time is UTC+1 in winter, UTC+2 in summer
  const char* expected;  // the mark's name; "protected" rows are protected snapshots
};
struct Case {
  const char* name;
  KeepOptions keep;
  std::vector<Row> rows;  // newest first
};

// Two rows a line.
// clang-format off
const Case kCases[] = {
    {"weekly's removals across a month end block monthly", {.weekly = 1, .monthly = 2},
     {{"2024-08-02T10:00:00Z", "keep-weekly"}, {"2024-07-30T10:00:00Z", "remove"},
      {"2024-07-10T10:00:00Z", "keep-monthly"}, {"2024-06-15T10:00:00Z", "keep-monthly"},
      {"2024-05-20T10:00:00Z", "remove"}}},
    {"a day kept by keep-last is not a daily period", {.last = 1, .daily = 2},
     {{"2024-03-10T18:00:00Z", "keep-last"}, {"2024-03-10T08:00:00Z", "remove"},
      {"2024-03-09T12:00:00Z", "keep-daily"}, {"2024-03-08T12:00:00Z", "keep-daily"},
      {"2024-03-07T12:00:00Z", "remove"}}},
    {"skipped by weekly (week already kept), then kept by monthly",
     {.last = 1, .weekly = 1, .monthly = 1},
     {{"2024-08-01T10:00:00Z", "keep-last"}, {"2024-07-30T10:00:00Z", "keep-monthly"},
      {"2024-06-20T10:00:00Z", "keep-weekly"}, {"2024-05-20T10:00:00Z", "remove"}}},
    {"ISO week 2020-W53 spans the new year", {.weekly = 3},
     {{"2021-01-05T11:00:00Z", "keep-weekly"}, {"2021-01-02T11:00:00Z", "keep-weekly"},
      {"2020-12-28T11:00:00Z", "remove"}, {"2020-12-27T11:00:00Z", "keep-weekly"},
      {"2020-12-21T11:00:00Z", "remove"}, {"2020-12-20T11:00:00Z", "remove"}}},
    {"2024-12-30 is in 2025-W01: removed by weekly, not kept by yearly",
     {.weekly = 1, .yearly = 2},
     {{"2025-01-01T11:00:00Z", "keep-weekly"}, {"2024-12-30T11:00:00Z", "remove"},
      {"2024-12-20T11:00:00Z", "keep-yearly"}, {"2023-06-01T10:00:00Z", "keep-yearly"},
      {"2022-06-01T10:00:00Z", "remove"}}},
    {"DST end: the repeated local hour 02 is one period", {.hourly = 2},
     {{"2024-10-27T01:45:00Z", "keep-hourly"}, {"2024-10-27T01:10:00Z", "remove"},
      {"2024-10-27T00:30:00Z", "remove"}, {"2024-10-26T23:59:00Z", "keep-hourly"},
      {"2024-10-26T23:00:00Z", "remove"}, {"2024-10-26T22:59:00Z", "remove"}}},
    {"DST start: days end at local midnight", {.daily = 2},
     {{"2024-03-31T22:30:00Z", "keep-daily"}, {"2024-03-31T21:30:00Z", "keep-daily"},
      {"2024-03-31T01:00:00Z", "remove"}, {"2024-03-30T23:30:00Z", "remove"},
      {"2024-03-30T22:30:00Z", "remove"}}},
    {"months and years end at local midnight", {.monthly = 2, .yearly = 1},
     {{"2024-05-31T22:30:00Z", "keep-monthly"}, {"2024-05-31T21:30:00Z", "keep-monthly"},
      {"2024-04-30T22:30:00Z", "remove"}, {"2024-04-30T21:30:00Z", "remove"},
      {"2023-12-31T23:30:00Z", "remove"}, {"2023-12-31T22:30:00Z", "keep-yearly"},
      {"2022-12-31T22:30:00Z", "remove"}}},
    {"every rule once",
     {.last = 1, .hourly = 1, .daily = 1, .weekly = 1, .monthly = 1, .yearly = 1},
     {{"2024-06-15T12:00:00Z", "keep-last"}, {"2024-06-15T11:30:00Z", "keep-hourly"},
      {"2024-06-15T11:10:00Z", "remove"}, {"2024-06-15T10:00:00Z", "remove"},
      {"2024-06-13T10:00:00Z", "keep-daily"}, {"2024-06-12T10:00:00Z", "remove"},
      {"2024-06-05T10:00:00Z", "keep-weekly"}, {"2024-05-20T10:00:00Z", "keep-monthly"},
      {"2023-11-01T11:00:00Z", "keep-yearly"}, {"2022-11-01T11:00:00Z", "remove"}}},
    {"protected snapshots are kept and never count", {.last = 2},
     {{"2024-01-05T00:00:00Z", "protected"}, {"2024-01-04T00:00:00Z", "keep-last"},
      {"2024-01-03T00:00:00Z", "protected"}, {"2024-01-02T00:00:00Z", "keep-last"},
      {"2024-01-01T00:00:00Z", "remove"}}},
    {"a protected snapshot does not fill its day", {.daily = 1},
     {{"2024-01-02T18:00:00Z", "protected"}, {"2024-01-02T12:00:00Z", "keep-daily"},
      {"2024-01-01T12:00:00Z", "remove"}}},
    {"no keep option keeps everything", {},
     {{"2024-01-02T18:00:00Z", "keep-all"}, {"2024-01-02T12:00:00Z", "protected"},
      {"2024-01-01T12:00:00Z", "keep-all"}}},
    {"N larger than the number of periods", {.daily = 30, .yearly = 100},
     {{"2024-01-02T12:00:00Z", "keep-daily"}, {"2024-01-02T08:00:00Z", "remove"},
      {"2024-01-01T12:00:00Z", "keep-daily"}, {"2023-12-31T12:00:00Z", "keep-daily"}}},
    {"keep-last larger than the group", {.last = 10},
     {{"2024-01-02T12:00:00Z", "keep-last"}, {"2024-01-02T08:00:00Z", "keep-last"}}},
    {"an empty group", {.last = 1}, {}},
};
// clang-format on

TEST(PruneTest, HandWrittenCases) {
  ScopedTimeZone tz("Europe/Berlin");
  ASSERT_EQ(UtcOffsetAt(1719835200), 7200) << "tzdata for Europe/Berlin is missing";
  for (const Case& c : kCases) {
    std::vector<PruneCandidate> input;
    std::vector<std::string> expected;
    for (const Row& row : c.rows) {
      input.push_back({*ParseRfc3339Utc(row.time), std::string(row.expected) == "protected"});
      expected.emplace_back(row.expected);
    }
    EXPECT_EQ(Names(ComputePrune(input, c.keep)), expected) << c.name;
    // The order of the input does not matter.
    std::reverse(input.begin(), input.end());
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(Names(ComputePrune(input, c.keep)), expected) << c.name << " (oldest first)";
  }
}

// ---- generated cases against a reference built another way ----

// Weeks in ISO year `y`: 53 if the year starts or ends on a Thursday.
int WeeksInIsoYear(int64_t y) {
  auto dec31_weekday = [](int64_t y) { return (y + y / 4 - y / 100 + y / 400) % 7; };
  return dec31_weekday(y) == 4 || dec31_weekday(y - 1) == 3 ? 53 : 52;
}

// The period of `time` under rule `rule` (0 last .. 5 yearly) as a number, from the broken-down
// local time, the ISO week computed by hand rather than by strftime.
int64_t ReferencePeriod(int64_t time, int rule) {
  const time_t t = time;
  struct tm tm;
  localtime_r(&t, &tm);
  const int64_t y = tm.tm_year + 1900, ym = y * 100 + tm.tm_mon + 1, ymd = ym * 100 + tm.tm_mday;
  const int week = (tm.tm_yday + 1 - ((tm.tm_wday + 6) % 7 + 1) + 10) / 7;  // Monday = 1
  const int64_t iso_week = week < 1                   ? (y - 1) * 100 + WeeksInIsoYear(y - 1)
                           : week > WeeksInIsoYear(y) ? (y + 1) * 100 + 1
                                                      : y * 100 + week;
  const int64_t periods[] = {time, ymd * 100 + tm.tm_hour, ymd, iso_week, ym, y};
  return periods[rule];
}

// PBS's prune rules (prune.h) as set operations: per rule, group the snapshots still eligible
// (unmarked, not protected, period not kept by an earlier rule) by period; of the `count` periods
// with the newest snapshots, keep each one's newest and remove its others.
std::vector<std::string> ReferencePrune(const std::vector<PruneCandidate>& snaps,
                                        const KeepOptions& k) {
  const uint64_t counts[] = {k.last, k.hourly, k.daily, k.weekly, k.monthly, k.yearly};
  const char* names[] = {"keep-last",   "keep-hourly",  "keep-daily",
                         "keep-weekly", "keep-monthly", "keep-yearly"};
  const bool keep_all =
      std::all_of(std::begin(counts), std::end(counts), [](uint64_t c) { return c == 0; });
  std::vector<std::string> mark(snaps.size(), keep_all ? "keep-all" : "");
  for (int rule = 0; rule < 6; ++rule) {
    std::set<int64_t> kept;
    std::map<int64_t, std::vector<size_t>> members;
    for (size_t i = 0; i < snaps.size(); ++i) {
      if (!mark[i].empty() && mark[i] != "remove") {
        kept.insert(ReferencePeriod(snaps[i].time, rule));
      }
    }
    for (size_t i = 0; i < snaps.size(); ++i) {
      const int64_t p = ReferencePeriod(snaps[i].time, rule);
      if (mark[i].empty() && !snaps[i].is_protected && !kept.contains(p)) members[p].push_back(i);
    }
    std::vector<std::pair<int64_t, int64_t>> newest;  // (newest time, period)
    for (auto& [period, m] : members) {
      std::sort(m.begin(), m.end(),
                [&](size_t a, size_t b) { return snaps[a].time > snaps[b].time; });
      newest.emplace_back(snaps[m.front()].time, period);
    }
    std::sort(newest.rbegin(), newest.rend());
    for (size_t n = 0; n < newest.size() && n < counts[rule]; ++n) {
      const std::vector<size_t>& m = members[newest[n].second];
      for (size_t j = 0; j < m.size(); ++j) mark[m[j]] = j == 0 ? names[rule] : "remove";
    }
  }
  for (size_t i = 0; i < snaps.size(); ++i) {
    if (snaps[i].is_protected) mark[i] = "protected";
    if (mark[i].empty()) mark[i] = "remove";
  }
  return mark;
}

// 600 snapshots from 2019-12 on, one in ten protected, shuffled. Each gap is random up to one
// of `max_gaps` (seconds), chosen at random: sparse gaps span years (year ends, ISO week 53),
// dense ones give many weeks that straddle a month end with snapshots on both sides.
std::vector<PruneCandidate> GeneratedSnapshots(const std::vector<int64_t>& max_gaps) {
  std::mt19937_64 rng(42);
  int64_t t = 1575158400;
  std::vector<PruneCandidate> out;
  for (int i = 0; i < 600; ++i) {
    t += 1 + static_cast<int64_t>(rng() % max_gaps[rng() % max_gaps.size()]);
    out.push_back({t, rng() % 10 == 0});
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

std::string Describe(const KeepOptions& k) {
  return fmt::format("last={} hourly={} daily={} weekly={} monthly={} yearly={}", k.last, k.hourly,
                     k.daily, k.weekly, k.monthly, k.yearly);
}

TEST(PruneTest, GeneratedCasesMatchReference) {
  // One set that exercises every outcome, nothing set, and 100 random sets.
  std::vector<KeepOptions> option_sets = {
      {.last = 3, .hourly = 5, .daily = 7, .weekly = 4, .monthly = 6, .yearly = 3}, {}};
  std::mt19937_64 rng(7);
  const uint64_t counts[] = {0, 0, 1, 2, 3, 5, 10, 40};
  auto pick = [&] { return counts[rng() % std::size(counts)]; };
  for (int i = 0; i < 100; ++i) {
    option_sets.push_back({pick(), pick(), pick(), pick(), pick(), pick()});
  }

  const int64_t h = 3600, d = 86400;
  for (const auto& max_gaps : {std::vector<int64_t>{2 * h, 3 * d, 20 * d}, {6 * h, 2 * d, 4 * d}}) {
    const auto snaps = GeneratedSnapshots(max_gaps);
    for (const char* tz_name :
         {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"}) {
      ScopedTimeZone tz(tz_name);
      for (const KeepOptions& keep : option_sets) {
        EXPECT_EQ(Names(ComputePrune(snaps, keep)), ReferencePrune(snaps, keep))
            << tz_name << " " << Describe(keep) << " max gap " << max_gaps.back();
      }
      const auto first = Names(ComputePrune(snaps, option_sets[0]));
      for (const char* name : {"keep-last", "keep-hourly", "keep-daily", "keep-weekly",
                               "keep-monthly", "keep-yearly", "protected", "remove"}) {
        EXPECT_NE(std::count(first.begin(), first.end(), name), 0) << tz_name << " " << name;
      }
    }
  }
}

// ---- PruneGroup on a filesystem datastore ----

// Noon of 2024-01-01 + `day` days (UTC).
constexpr int64_t Noon(int day) {
  return 1704067200 + day * 86400 + 12 * 3600;
}
// Oldest first: noon of Jan 1..6, and 08:00 on Jan 6. Jan 2 is protected.
const std::vector<int64_t> kTimes = {
    Noon(0), Noon(1), Noon(2), Noon(3), Noon(4), Noon(5) - 4 * 3600, Noon(5)};
// With keep-daily 3, newest first.
const std::vector<std::string> kExpected = {"keep-daily", "remove",    "keep-daily", "keep-daily",
                                            "remove",     "protected", "remove"};

class PruneGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Datastore::CreateFilesystem(dir_.Sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->CreateNamespace(ns_).ok());
    for (int64_t time : kTimes) {
      auto writer = SnapshotWriter::Begin(*store_, ns_, group_, time, "root@pam");
      ASSERT_TRUE(writer.ok()) << writer.status().ToString();
      auto index = FixedIndexBuilder::Create(4096)->Finish();
      ASSERT_TRUE((*writer)->WriteArchive("disk.img.fidx", index->bytes).ok());
      ManifestFile file;
      file.filename = "disk.img.fidx";
      auto manifest = Manifest::Create("vm", "100", time);
      ASSERT_TRUE(manifest->AddOrReplaceFile(file).ok() && (*writer)->Finish(*manifest).ok());
    }
    ASSERT_TRUE(store_->SetProtected(ns_, Snap(kTimes[1]), true).ok());
  }

  SnapshotRef Snap(int64_t time) const { return *SnapshotRef::Make(group_, time); }

  Status Prune(bool dry_run) {
    return PruneGroup(*store_, ns_, group_, {.daily = 3}, dry_run, &entries_, job_);
  }

  std::vector<int64_t> Remaining() const {
    auto list = store_->ListSnapshots(ns_, group_);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<int64_t> out;
    for (const SnapshotInfo& s : list.value()) out.push_back(s.ref.time);
    return out;
  }

  // The entries' marks, and the times of the removed ones.
  std::vector<std::string> Marks() const {
    std::vector<PruneMark> marks;
    for (const PruneEntry& e : entries_) marks.push_back(e.mark);
    return Names(marks);
  }
  std::vector<int64_t> Removed() const {
    std::vector<int64_t> out;
    for (const PruneEntry& e : entries_) {
      if (e.removed) out.push_back(e.snapshot.time);
    }
    return out;
  }

  ScopedTimeZone tz_{"UTC"};
  testing::TempDir dir_;
  std::unique_ptr<Datastore> store_;
  BackupNamespace ns_ = *BackupNamespace::Parse("site");
  BackupGroup group_ = *BackupGroup::Parse("vm/100");
  std::vector<PruneEntry> entries_;
  JobControl job_;
};

TEST_F(PruneGroupTest, ACancelledPruneStopsBeforeTheNextRemoval) {
  job_.Cancel();
  EXPECT_EQ(Prune(false).code(), Code::kAborted);
  EXPECT_TRUE(Removed().empty());
  EXPECT_EQ(Remaining(), kTimes);
  EXPECT_EQ(Marks(), kExpected);  // the decisions were made and reported
}

TEST_F(PruneGroupTest, DryRunDecidesAndRemovesNothing) {
  ASSERT_TRUE(Prune(true).ok());
  EXPECT_EQ(Marks(), kExpected);
  EXPECT_EQ(entries_.front().snapshot, Snap(kTimes.back()));
  EXPECT_TRUE(Removed().empty());
  EXPECT_EQ(Remaining(), kTimes);
}

TEST_F(PruneGroupTest, RemovesWhatNoRuleKeeps) {
  ASSERT_TRUE(Prune(false).ok());
  EXPECT_EQ(Marks(), kExpected);
  EXPECT_EQ(Removed(), (std::vector<int64_t>{kTimes[5], kTimes[2], kTimes[0]}));
  EXPECT_EQ(Remaining(), (std::vector<int64_t>{kTimes[1], kTimes[3], kTimes[4], kTimes[6]}));
  EXPECT_TRUE(*store_->IsProtected(ns_, Snap(kTimes[1])));
  ASSERT_TRUE(Prune(false).ok());  // nothing left to remove
  EXPECT_TRUE(Removed().empty());
}

TEST_F(PruneGroupTest, BusyWhileABackupOfTheGroupRuns) {
  {
    auto writer = SnapshotWriter::Begin(*store_, ns_, group_, Noon(10), "root@pam");
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (bool dry_run : {true, false}) {
      Status st = Prune(dry_run);
      EXPECT_EQ(st.code(), Code::kBusy) << st.ToString();
      EXPECT_NE(st.message().find("vm/100"), std::string::npos) << st.message();
      EXPECT_TRUE(entries_.empty());
    }
    EXPECT_EQ(Remaining(), kTimes);
  }  // the backup is aborted
  EXPECT_TRUE(Prune(false).ok());
}

TEST_F(PruneGroupTest, StopsAtAFailedRemovalOldestFirst) {
  // A reader of Jan 3 blocks its removal; Jan 1 (older) is already gone by then.
  auto reader = store_->locks().LockSnapshot(ns_, Snap(kTimes[2]), LockMode::kShared);
  ASSERT_TRUE(reader.ok());
  Status st = Prune(false);
  EXPECT_EQ(st.code(), Code::kBusy) << st.ToString();
  EXPECT_NE(st.message().find(Snap(kTimes[2]).ToString()), std::string::npos) << st.message();
  EXPECT_EQ(Removed(), std::vector<int64_t>{kTimes[0]});
  EXPECT_EQ(Remaining(), std::vector<int64_t>(kTimes.begin() + 1, kTimes.end()));
}

TEST_F(PruneGroupTest, MissingGroupIsNotFound) {
  EXPECT_TRUE(
      PruneGroup(*store_, ns_, *BackupGroup::Parse("vm/999"), {.last = 1}, false, &entries_, job_)
          .IsNotFound());
}

}  // namespace
}  // namespace cairn

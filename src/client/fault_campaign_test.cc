// Fault campaigns at the two seams below every job (issue 21, campaigns 3 and 4): the local file
// layer (FileFaults: ENOSPC, EIO, short writes) and the object store (FaultObjectStore: failed
// requests, lost replies, flipped bytes). A job runs with one fault at its k-th step, for k
// spread over all its steps (counted in a clean run first), so every write site is hit. Whatever
// happens, the job succeeds or fails with an error naming what failed and why, and the store
// stays consistent: it opens, every snapshot it lists restores to exactly what was backed up,
// verify passes, and the job then runs cleanly.
//
// Points per job and fault kind: $CAIRN_CAMPAIGN_POINTS (default 6 here, for CI;
// scripts/fault-campaign runs the full campaign). Each job prints a "campaign:" line with its
// figures.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/file_faults.h"
#include "base/file_util.h"
#include "client/backup.h"
#include "client/local_repository.h"
#include "client/restore.h"
#include "datastore/jobs/gc.h"
#include "datastore/jobs/verify.h"
#include "storage/fault_object_store.h"
#include "testing/snapshot_fixture.h"
#include "testing/test_stores.h"
#include "testing/test_util.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kChunk = 64 << 10;

uint64_t PointsPerJob() {
  const char* env = std::getenv("CAIRN_CAMPAIGN_POINTS");
  return env != nullptr && std::atoi(env) > 0 ? static_cast<uint64_t>(std::atoi(env)) : 6;
}

// `points` step numbers spread evenly over 1..n (all of them if there are fewer).
std::vector<uint64_t> SpreadPoints(uint64_t n, uint64_t points) {
  std::vector<uint64_t> out;
  if (n == 0) return out;
  if (points >= n) {
    for (uint64_t k = 1; k <= n; ++k) out.push_back(k);
    return out;
  }
  for (uint64_t i = 0; i < points; ++i)
    out.push_back(1 + i * (n - 1) / (points - 1 ? points - 1 : 1));
  return out;
}

struct CampaignFigures {
  uint64_t steps = 0;        // steps of a clean run
  uint64_t points = 0;       // faulty runs
  uint64_t failed = 0;       // of those, the job returned an error
  uint64_t succeeded = 0;    // of those, the job succeeded anyway (the fault hit a tolerated step)
  uint64_t not_reached = 0;  // of those, the run ended before the step the fault was set at
};

void Print(const std::string& seam, const std::string& job, const std::string& fault,
           const CampaignFigures& f) {
  std::printf(
      "campaign: seam=%s job=%s fault=%s steps=%llu points=%llu failed=%llu "
      "succeeded=%llu not-reached=%llu\n",
      seam.c_str(), job.c_str(), fault.c_str(), static_cast<unsigned long long>(f.steps),
      static_cast<unsigned long long>(f.points), static_cast<unsigned long long>(f.failed),
      static_cast<unsigned long long>(f.succeeded), static_cast<unsigned long long>(f.not_reached));
  std::fflush(stdout);
}

// A store under attack and what it must hold: the image of every snapshot a backup attempted
// (a snapshot that is listed must be one of them and restore to exactly its bytes) and those
// that were reported created (they must be listed unless forgotten).
class CampaignStore {
 public:
  CampaignStore(Datastore& store, std::string scratch)
      : store_(store), repo_(NewLocalRepository(store)), scratch_(std::move(scratch)) {}

  Datastore& store() { return store_; }

  // Backs up a new image of `group` (chunk `changed` of 8 differs from the last one).
  Status Backup(const std::string& group, int changed) {
    const int64_t time = ++time_;
    Bytes image = testing::RandomBytes(8 * kChunk + 100, 1);
    Bytes fresh = testing::RandomBytes(kChunk, static_cast<uint64_t>(time) * 7919);
    std::copy(fresh.begin(), fresh.end(), image.begin() + (changed % 8) * kChunk);
    testing::WriteTestFile(JoinPath(scratch_, "in.img"), image);
    auto ref = *SnapshotRef::Make(*BackupGroup::Parse(group), time);
    attempted_[ref.ToString()] = image;
    BackupOptions opt;
    opt.group = ref.group;
    opt.backup_time = time;
    opt.chunk_size = kChunk;
    opt.threads = 2;
    auto summary = RunBackup(*repo_, opt, {BackupSource{"disk.img", JoinPath(scratch_, "in.img")}});
    if (summary.ok()) created_.insert(ref.ToString());
    return summary.status();
  }

  // Forgets the oldest snapshot of `group`.
  Status ForgetOldest(const std::string& group) {
    auto snaps = store_.ListSnapshots({}, *BackupGroup::Parse(group));
    if (!snaps.ok() || snaps->empty()) return Status::OK();
    const SnapshotRef ref = snaps->front().ref;
    Status st = store_.ForgetSnapshot({}, ref);
    // A forget that failed midway may have made the snapshot invisible already (its manifest
    // goes first): then it is forgotten, as asked.
    auto after = store_.ListSnapshots({}, ref.group);
    const bool listed =
        after.ok() && std::any_of(after->begin(), after->end(),
                                  [&](const SnapshotInfo& i) { return i.ref == ref; });
    if (!listed) created_.erase(ref.ToString());
    return st;
  }

  // The consistency checks, on `view` (this store or another view of it, e.g. a cache attached
  // afresh from the bucket). `what` names the point in failure messages.
  void ExpectConsistent(Datastore& view, const std::string& what, bool check_created = true) {
    auto repo = NewLocalRepository(view);
    std::set<std::string> listed;
    auto groups = view.ListGroups({});
    ASSERT_TRUE(groups.ok()) << what << ": " << groups.status().ToString();
    for (const BackupGroup& group : *groups) {
      auto snaps = view.ListSnapshots({}, group);
      ASSERT_TRUE(snaps.ok()) << what << ": " << snaps.status().ToString();
      for (const SnapshotInfo& info : *snaps) {
        const std::string name = info.ref.ToString();
        listed.insert(name);
        EXPECT_TRUE(info.error.empty()) << what << ": " << name << ": " << info.error;
        auto expected = attempted_.find(name);
        ASSERT_NE(expected, attempted_.end()) << what << ": unknown snapshot " << name;
        RestoreOptions ropt;
        ropt.overwrite = true;
        ropt.threads = 2;
        const std::string out = JoinPath(scratch_, "out.img");
        auto restored = RestoreArchive(*repo, {}, info.ref, "disk.img", out, ropt);
        ASSERT_TRUE(restored.ok()) << what << ": " << name << ": " << restored.status().ToString();
        EXPECT_TRUE(*ReadFile(out) == expected->second) << what << ": " << name << " differs";
      }
    }
    if (check_created) {
      for (const std::string& name : created_) {
        EXPECT_TRUE(listed.count(name)) << what << ": " << name << " was created but is gone";
      }
    }
    VerifyOptions vopt;
    auto report = RunVerify(view, VerifyTarget{}, vopt);
    ASSERT_TRUE(report.ok()) << what << ": " << report.status().ToString();
    EXPECT_EQ(report->Count(VerifyVerdict::kOk), listed.size()) << what << ": verify";
  }

 private:
  Datastore& store_;
  std::unique_ptr<Repository> repo_;
  std::string scratch_;
  int64_t time_ = 1000;
  std::map<std::string, Bytes> attempted_;
  std::set<std::string> created_;
};

// Verify reports trouble per snapshot, not as a job error ("not verified", "verify state not
// recorded: ..."): here the first such line is the job's error, so that a fault verify met is
// seen to be reported. Damage it finds (a corrupt chunk) is its result, not an error.
Status VerifyAsAJob(Datastore& store) {
  auto report = RunVerify(store, VerifyTarget{}, VerifyOptions{});
  if (!report.ok()) return report.status();
  for (const SnapshotVerifyResult& result : report->snapshots) {
    for (const std::string& problem : result.problems) {
      if (result.verdict == VerifyVerdict::kNotVerified ||
          problem.find("not recorded") != std::string::npos) {
        return Status::IOError(result.snapshot.ToString() + ": " + problem);
      }
    }
  }
  return Status::OK();
}

// One job of a campaign: `prepare` runs clean before each point (e.g. makes garbage for GC),
// `run` is the job under fault; `after` (optional) checks and repairs what the job was meant to
// change (e.g. a chunk verify sets aside) before the common checks.
struct Job {
  std::string name;
  std::function<void()> prepare;
  std::function<Status()> run;
  std::function<void(const std::string& what)> after;
};

// --- campaign 3: the local file layer -------------------------------------------------------

struct FileFault {
  std::string name;
  FileFaultRule::Action action;
  int error;
};

class FileFaultCampaignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Datastore::CreateFilesystem(dir_.Sub("store"));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    store_ = std::move(created).value();
    ASSERT_TRUE(MakeDirs(dir_.Sub("scratch")).ok());
    campaign_ = std::make_unique<CampaignStore>(*store_, dir_.Sub("scratch"));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(campaign_->Backup("vm/100", i).ok());
    ASSERT_TRUE(campaign_->Backup("vm/200", 0).ok());
  }
  void TearDown() override { FileFaults::Clear(); }

  void RunCampaign(const Job& job) {
    const FileFault faults[] = {
        {"ENOSPC", FileFaultRule::Action::kFail, ENOSPC},
        {"EIO", FileFaultRule::Action::kFail, EIO},
    };
    if (job.prepare) job.prepare();
    FileFaults::Install({}, /*count=*/true);
    Status clean = job.run();
    const uint64_t steps = FileFaults::MutationCount();
    FileFaults::Clear();
    ASSERT_TRUE(clean.ok()) << job.name << " (clean): " << clean.ToString();
    if (job.after) job.after(job.name + " clean");
    for (const FileFault& fault : faults) {
      CampaignFigures figures;
      figures.steps = steps;
      for (uint64_t k : SpreadPoints(steps, PointsPerJob())) {
        const std::string what =
            fmt::format("{} with {} at step {} of {}", job.name, fault.name, k, steps);
        if (job.prepare) job.prepare();
        FileFaultRule rule;
        rule.nth = k;
        rule.action = fault.action;
        rule.error = fault.error;
        FileFaults::Install({rule});
        Status st = job.run();
        const std::string injected = FileFaults::LastInjection();
        FileFaults::Clear();
        ++figures.points;
        if (injected.empty()) {
          ++figures.not_reached;  // this run had fewer steps than the clean one
        } else if (st.ok()) {
          ++figures.succeeded;
          // Where a fault did not fail the job: worth a look in the full run's output.
          std::printf("campaign: %s: succeeded despite the fault at %s\n", what.c_str(),
                      injected.c_str());
        } else {
          ++figures.failed;
          EXPECT_NE(st.message().find(std::strerror(fault.error)), std::string::npos)
              << what << ": the error does not say why: " << st.ToString();
        }
        if (job.after) job.after(what);
        campaign_->ExpectConsistent(*store_, what);
        if (HasFatalFailure()) return;
      }
      Print("file", job.name, fault.name, figures);
    }
    // Short writes everywhere: the job completes as if nothing happened.
    if (job.prepare) job.prepare();
    FileFaultRule shorten;
    shorten.action = FileFaultRule::Action::kShortWrite;
    FileFaults::Install({shorten});
    Status st = job.run();
    FileFaults::Clear();
    EXPECT_TRUE(st.ok()) << job.name << " with short writes: " << st.ToString();
    if (job.after) job.after(job.name + " short writes");
    campaign_->ExpectConsistent(*store_, job.name + " after short writes");
    // And the job runs cleanly afterwards.
    if (job.prepare) job.prepare();
    Status again = job.run();
    EXPECT_TRUE(again.ok()) << job.name << " afterwards: " << again.ToString();
  }

  testing::TempDir dir_;
  std::unique_ptr<Datastore> store_;
  std::unique_ptr<CampaignStore> campaign_;
  int round_ = 0;
};

TEST_F(FileFaultCampaignTest, Backup) {
  RunCampaign({"backup", nullptr, [&] { return campaign_->Backup("vm/100", ++round_); }, nullptr});
}

TEST_F(FileFaultCampaignTest, ForgetAndGarbageCollection) {
  RunCampaign({"forget", [&] { ASSERT_TRUE(campaign_->Backup("vm/300", ++round_).ok()); },
               [&] { return campaign_->ForgetOldest("vm/300"); }, nullptr});
  RunCampaign({"gc",
               [&] {
                 ASSERT_TRUE(campaign_->Backup("vm/300", ++round_).ok());
                 ASSERT_TRUE(campaign_->ForgetOldest("vm/300").ok());
                 testing::AgeLocalChunkFiles(store_->path(), 2 * 86400);
               },
               [&] { return RunGarbageCollection(*store_, {}).status(); }, nullptr});
}

TEST_F(FileFaultCampaignTest, VerifySettingAsideACorruptChunk) {
  Digest victim{};
  Bytes good;
  std::string victim_snapshot;
  auto chunk_path = [&] { return JoinPath(store_->path(), ChunkStore::RelativeChunkPath(victim)); };
  RunCampaign({"verify",
               [&] {
                 // A snapshot of its own whose chunks no other snapshot shares, one chunk damaged.
                 ASSERT_TRUE(campaign_->Backup("vm/400", ++round_).ok());
                 auto snaps = store_->ListSnapshots({}, *BackupGroup::Parse("vm/400"));
                 const SnapshotRef ref = snaps->back().ref;
                 victim_snapshot = ref.ToString();
                 auto index =
                     FixedIndex::Parse(*store_->ReadSnapshotFile({}, ref, "disk.img.fidx"), "i");
                 victim = index->digest(round_ % 8);
                 good = *ReadFile(chunk_path());
                 Bytes bad = good;
                 bad[bad.size() / 2] ^= 1;
                 testing::WriteTestFile(chunk_path(), bad);
               },
               [&] { return VerifyAsAJob(*store_); },
               [&](const std::string& what) {
                 // The damaged copy is where it was or set aside, never lost; then it is repaired
                 // and the snapshot's failed verify state cleared by the check's verify.
                 const bool in_place = *PathExists(chunk_path());
                 const bool set_aside = *PathExists(chunk_path() + ".0.bad");
                 EXPECT_TRUE(in_place || set_aside) << what << ": the corrupt chunk vanished";
                 testing::WriteTestFile(chunk_path(), good);
                 (void)RemoveFile(chunk_path() + ".0.bad");
               }});
}

// --- campaign 4: the object store -----------------------------------------------------------

struct ObjectFault {
  std::string name;
  std::optional<ObjectCall> call;
  ObjectFaultRule::Action action;
};

class ObjectFaultCampaignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_ = testing::UniqueBucketName("campaign");
    auto real = testing::NewPeerBucket("moto", bucket_);
    ASSERT_NE(real, nullptr);
    objects_ = std::make_shared<FaultObjectStore>(real, 20261206);
    ObjectStoreDatastoreOptions options;
    options.backend = ObjectStoreBackendOptions{testing::TestStore::kStoreName, objects_, 0};
    options.hostname = "campaign";
    auto created = Datastore::CreateOnObjectStore(dir_.Sub("cache"), options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    store_ = std::move(created).value();
    ASSERT_TRUE(MakeDirs(dir_.Sub("scratch")).ok());
    campaign_ = std::make_unique<CampaignStore>(*store_, dir_.Sub("scratch"));
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(campaign_->Backup("vm/100", i).ok());
  }

  // What the bucket holds, seen through a cache attached afresh (as after losing this host).
  void ExpectBucketConsistent(const std::string& what) {
    ObjectStoreDatastoreOptions options;
    options.backend = ObjectStoreBackendOptions{testing::TestStore::kStoreName,
                                                testing::NewPeerBucket("moto", bucket_), 0};
    options.hostname = "campaign";
    options.reuse = true;
    const std::string path = dir_.Sub("mirror" + std::to_string(++mirrors_));
    auto mirror = Datastore::CreateOnObjectStore(path, options);
    ASSERT_TRUE(mirror.ok()) << what << ": " << mirror.status().ToString();
    campaign_->ExpectConsistent(**mirror, what + " (bucket)");
    mirror->reset();
    ASSERT_TRUE(RemoveTree(path).ok());
  }

  void RunCampaign(const Job& job) {
    const ObjectFault faults[] = {
        {"failed-request", std::nullopt, ObjectFaultRule::Action::kFail},
        {"lost-reply", std::nullopt, ObjectFaultRule::Action::kLostReply},
        {"flipped-get", ObjectCall::kGet, ObjectFaultRule::Action::kFlipByte},
    };
    if (job.prepare) job.prepare();
    const uint64_t before = objects_->counts().calls;
    Status clean = job.run();
    const uint64_t steps = objects_->counts().calls - before;
    ASSERT_TRUE(clean.ok()) << job.name << " (clean): " << clean.ToString();
    for (const ObjectFault& fault : faults) {
      CampaignFigures figures;
      figures.steps = steps;
      for (uint64_t k : SpreadPoints(steps, PointsPerJob())) {
        const std::string what =
            fmt::format("{} with {} at request {} of {}", job.name, fault.name, k, steps);
        if (job.prepare) job.prepare();
        ObjectFaultRule rule;
        rule.call = fault.call;
        rule.nth = k;
        rule.action = fault.action;
        const ObjectFaultCounts before_run = objects_->counts();
        objects_->SetRules({rule});
        Status st = job.run();
        objects_->SetRules({});
        const ObjectFaultCounts after_run = objects_->counts();
        ++figures.points;
        const auto injected = [](const ObjectFaultCounts& c) {
          return c.failed + c.lost_replies + c.flipped;
        };
        if (injected(after_run) == injected(before_run)) {
          ++figures.not_reached;
        } else if (st.ok()) {
          ++figures.succeeded;
        } else {
          ++figures.failed;
          EXPECT_FALSE(st.message().empty()) << what;
        }
        campaign_->ExpectConsistent(*store_, what);
        if (HasFatalFailure()) return;
      }
      Print("object-store", job.name, fault.name, figures);
    }
    ExpectBucketConsistent(job.name);
  }

  testing::TempDir dir_;
  std::string bucket_;
  std::shared_ptr<FaultObjectStore> objects_;
  std::unique_ptr<Datastore> store_;
  std::unique_ptr<CampaignStore> campaign_;
  int round_ = 0;
  int mirrors_ = 0;
};

TEST_F(ObjectFaultCampaignTest, BackupAndRestore) {
  RunCampaign({"backup", nullptr, [&] { return campaign_->Backup("vm/100", ++round_); }, nullptr});
  // Restores read chunks the cache evicted or never had: drop the cached copies first.
  RunCampaign({"restore",
               [&] {
                 for (auto& e : fs::recursive_directory_iterator(dir_.Sub("cache/.chunks"))) {
                   if (e.is_regular_file() && e.file_size() > 0) fs::resize_file(e.path(), 0);
                 }
               },
               [&]() -> Status {
                 auto repo = NewLocalRepository(*store_);
                 auto snaps = store_->ListSnapshots({}, *BackupGroup::Parse("vm/100"));
                 RestoreOptions ropt;
                 ropt.overwrite = true;
                 return RestoreArchive(*repo, {}, snaps->back().ref, "disk.img",
                                       dir_.Sub("scratch/restore-under-fault.img"), ropt)
                     .status();
               },
               nullptr});
}

TEST_F(ObjectFaultCampaignTest, GarbageCollectionVerifyAndRefresh) {
  RunCampaign({"gc",
               [&] {
                 ASSERT_TRUE(campaign_->Backup("vm/300", ++round_).ok());
                 ASSERT_TRUE(campaign_->ForgetOldest("vm/300").ok());
                 testing::AgeLocalChunkFiles(store_->path(), 2 * 86400);
               },
               [&] {
                 GcOptions options;
                 options.atime_cutoff_minutes = 1;
                 return RunGarbageCollection(*store_, options).status();
               },
               nullptr});
  RunCampaign({"verify", nullptr, [&] { return VerifyAsAJob(*store_); }, nullptr});
  RunCampaign({"s3-refresh", nullptr,
               [&] { return store_->RefreshFromBackend(std::chrono::seconds(5)).status(); },
               nullptr});
}

}  // namespace
}  // namespace cairn

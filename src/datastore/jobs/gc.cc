#include "datastore/jobs/gc.h"

#include <chrono>
#include <list>
#include <unordered_map>

#include <fmt/format.h>

#include "base/file_util.h"
#include "base/log.h"
#include "base/time.h"
#include "datastore/index_chunks.h"

namespace cairn {
namespace {

constexpr int64_t kWriterGapSeconds = 300;  // PBS's gap before the oldest writer (5 min)
constexpr size_t kMissingWarnings = 10;

// The digests marked lately, so a chunk many indexes share is marked once (least recently used
// ones are forgotten beyond `capacity`; 0 remembers nothing).
class DigestCache {
 public:
  explicit DigestCache(uint64_t capacity) : capacity_(capacity) {}

  // True if `digest` was remembered; remembers it either way.
  bool Seen(const Digest& digest) {
    if (capacity_ == 0) return false;
    auto it = index_.find(digest);
    if (it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    order_.push_front(digest);
    index_.emplace(digest, order_.begin());
    if (index_.size() > capacity_) {
      index_.erase(order_.back());
      order_.pop_back();
    }
    return false;
  }

 private:
  const uint64_t capacity_;
  std::list<Digest> order_;  // front = most recent
  std::unordered_map<Digest, std::list<Digest>::iterator, DigestHash> index_;
};

class Marker {
 public:
  Marker(ChunkCollector& collector, GcStatus& status, const GcOptions& options)
      : collector_(collector),
        status_(status),
        seen_(options.cache_capacity),
        store_name_(options.store_name),
        job_(options.job) {}

  // Marks every chunk of the index file at `path`; a file that vanished is skipped.
  Status MarkIndex(const std::string& path, std::string_view rel) {
    CAIRN_RETURN_IF_ERROR(job_.CheckCancelled("garbage collection"));
    auto data = ReadFile(path);
    if (!data.ok()) return data.status().IsNotFound() ? Status::OK() : data.status();
    status_.index_file_count++;
    Status st = ForEachIndexChunk(*data, rel, &status_.index_data_bytes,
                                  [this](const Digest& digest) { return Mark(digest); });
    if (st.IsCorruption()) return Status::Corruption(st.message() + HowToResolve(rel));
    return st;
  }

  // Walks `dir` (relative `rel`, "" for the root) for index files.
  Status Walk(const std::string& dir, const std::string& rel) {
    auto entries = ListDir(dir);
    if (!entries.ok()) return entries.status().IsNotFound() ? Status::OK() : entries.status();
    for (const DirEntry& entry : *entries) {
      if (entry.name.starts_with('.')) continue;  // .chunks, .locks, temp files
      const std::string child_rel = rel.empty() ? entry.name : rel + "/" + entry.name;
      if (entry.is_dir) {
        CAIRN_RETURN_IF_ERROR(Walk(JoinPath(dir, entry.name), child_rel));
      } else if (IsIndexFileName(entry.name)) {
        CAIRN_RETURN_IF_ERROR(MarkIndex(JoinPath(dir, entry.name), child_rel));
      }
    }
    return Status::OK();
  }

 private:
  Status Mark(const Digest& digest) {
    if (seen_.Seen(digest)) {
      status_.cache_hits++;
      return Status::OK();
    }
    status_.cache_misses++;
    CAIRN_ASSIGN_OR_RETURN(ChunkMark mark, collector_.MarkChunk(digest));
    status_.marked_chunks++;
    if (mark != ChunkMark::kMarked && ++status_.missing_chunks <= kMissingWarnings) {
      job_.Warn("referenced chunk {} is missing{}", DigestToHex(digest),
                mark == ChunkMark::kOnlyBadCopies ? " (only corrupt copies are left)" : "");
    }
    return Status::OK();
  }

  // What to do about the damaged index at `rel` ("[ns/<a>/...]<type>/<id>/<time>/<file>"),
  // as the commands that do it.
  std::string HowToResolve(std::string_view rel) const {
    std::vector<std::string> parts;
    for (size_t pos = 0; pos <= rel.size();) {
      size_t slash = std::min(rel.find('/', pos), rel.size());
      parts.emplace_back(rel.substr(pos, slash - pos));
      pos = slash + 1;
    }
    std::string ns;
    size_t i = 0;
    for (; i + 1 < parts.size() && parts[i] == "ns"; i += 2)
      ns += (ns.empty() ? "" : "/") + parts[i + 1];
    if (parts.size() != i + 4) return "; garbage collection stopped before deleting anything";
    const std::string snapshot = parts[i] + "/" + parts[i + 1] + "/" + parts[i + 2];
    std::string where = store_name_.empty() ? "" : " --store " + store_name_;
    if (!ns.empty()) where += " --ns " + ns;
    return fmt::format(
        "; garbage collection stopped before deleting anything. The snapshot {} cannot be "
        "restored as it is: remove it with 'cairn snapshot forget{} {}' (or put back a good copy "
        "of the file), then run gc again",
        snapshot, where, snapshot);
  }

  ChunkCollector& collector_;
  GcStatus& status_;
  DigestCache seen_;
  std::string store_name_;
  const JobControl& job_;
};

}  // namespace

double GcStatus::DedupFactor() const {
  return sweep.disk_bytes == 0 ? 0 : static_cast<double>(index_data_bytes) / sweep.disk_bytes;
}

double GcStatus::AverageChunkSize() const {
  return sweep.disk_chunks == 0 ? 0 : static_cast<double>(sweep.disk_bytes) / sweep.disk_chunks;
}

Status ValidateGcOptions(const GcOptions& options) {
  if (options.atime_cutoff_minutes < 1 || options.atime_cutoff_minutes > 2880) {
    return Status::InvalidArgument(fmt::format("gc-atime-cutoff must be 1..2880 minutes, not {}",
                                               options.atime_cutoff_minutes));
  }
  if (options.cache_capacity > 8388608) {
    return Status::InvalidArgument(
        fmt::format("gc-cache-capacity must be 0..8388608, not {}", options.cache_capacity));
  }
  return Status::OK();
}

Result<GcStatus> RunGarbageCollection(Datastore& store, const GcOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateGcOptions(options));
  CAIRN_ASSIGN_OR_RETURN(FileLock gc_lock, store.locks().LockGarbageCollection());
  const auto clock_start = std::chrono::steady_clock::now();
  const std::optional<ObjectStoreStats> requests_before = store.backend().Stats().requests;
  DatastoreBackend& backend = store.backend();
  ChunkCollector& collector = backend.collector();
  CAIRN_RETURN_IF_ERROR(collector.CheckReachable());

  GcStatus status;
  status.started = NowEpoch();
  if (options.atime_safety_check) {
    CAIRN_RETURN_IF_ERROR(collector.CheckMarksUpdateAtime(status.started));
  }
  CAIRN_ASSIGN_OR_RETURN(std::optional<int64_t> oldest_writer, store.locks().OldestActiveWriter());
  status.cutoff.oldest_writer = oldest_writer.value_or(status.started);
  status.cutoff.min_atime = status.started - options.atime_cutoff_minutes * 60;
  if (status.cutoff.oldest_writer < status.cutoff.min_atime) {
    status.cutoff.min_atime = status.cutoff.oldest_writer - kWriterGapSeconds;
  }

  Marker marker(collector, status, options);
  CAIRN_RETURN_IF_ERROR(marker.Walk(store.path(), ""));
  if (status.missing_chunks > 0) {
    options.job.Warn("{} referenced chunks are missing; verify names the damaged snapshots",
                     status.missing_chunks);
  }
  CAIRN_ASSIGN_OR_RETURN(status.sweep, collector.SweepChunks(status.cutoff, options.job));
  status.missing_chunks += status.sweep.missing_chunks;

  if (auto after = backend.Stats().requests; after && requests_before) {
    status.requests = after->Since(*requests_before);
  }
  status.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  const std::string text = GcStatusToJson(status).dump(2) + "\n";
  CAIRN_RETURN_IF_ERROR(
      WriteFileAtomic(JoinPath(store.path(), kGcStatusFile), AsBytes(text), 0644, SyncMode::kFile));
  return status;
}

Result<std::optional<GcStatus>> LoadGcStatus(const Datastore& store) {
  const std::string path = JoinPath(store.path(), kGcStatusFile);
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (data.status().IsNotFound()) return std::optional<GcStatus>();
    return data.status();
  }
  auto json = nlohmann::json::parse(AsString(*data), nullptr, false);
  auto status = GcStatusFromJson(json);
  if (!status.ok()) return Status::Corruption(path + ": " + status.status().message());
  return std::optional<GcStatus>(std::move(status).value());
}

}  // namespace cairn

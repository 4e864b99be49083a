// GcStatus as JSON: the `.gc-status` file and `cairn gc` / `cairn gc status` output.

#include "datastore/jobs/gc.h"

namespace cairn {
namespace {

// The counters by kebab-case name (as in PBS's GarbageCollectionStatus where PBS has the field).
template <typename GcStatusType, typename Visit>
void ForEachCounter(GcStatusType& status, Visit visit) {
  visit("index-file-count", status.index_file_count);
  visit("index-data-bytes", status.index_data_bytes);
  visit("marked-chunks", status.marked_chunks);
  visit("missing-chunks", status.missing_chunks);
  visit("disk-chunks", status.sweep.disk_chunks);
  visit("disk-bytes", status.sweep.disk_bytes);
  visit("removed-chunks", status.sweep.removed_chunks);
  visit("removed-bytes", status.sweep.removed_bytes);
  visit("pending-chunks", status.sweep.pending_chunks);
  visit("pending-bytes", status.sweep.pending_bytes);
  visit("removed-bad", status.sweep.removed_bad);
  visit("still-bad", status.sweep.still_bad);
}

}  // namespace

nlohmann::json GcStatusToJson(const GcStatus& status) {
  nlohmann::json json = {
      {"started", status.started},
      {"duration", status.duration_seconds},
      {"min-atime", status.cutoff.min_atime},
      {"oldest-writer", status.cutoff.oldest_writer},
      {"cache-stats", {{"hits", status.cache_hits}, {"misses", status.cache_misses}}},
      {"dedup-factor", status.DedupFactor()},
      {"average-chunk-size", status.AverageChunkSize()},
  };
  ForEachCounter(status, [&](const char* name, const uint64_t& value) { json[name] = value; });
  if (status.requests) json["requests"] = status.requests->ToJson();
  return json;
}

Result<GcStatus> GcStatusFromJson(const nlohmann::json& json) {
  try {
    GcStatus status;
    status.started = json.at("started").get<int64_t>();
    status.duration_seconds = json.at("duration").get<double>();
    status.cutoff.min_atime = json.at("min-atime").get<int64_t>();
    status.cutoff.oldest_writer = json.at("oldest-writer").get<int64_t>();
    status.cache_hits = json.at("cache-stats").at("hits").get<uint64_t>();
    status.cache_misses = json.at("cache-stats").at("misses").get<uint64_t>();
    ForEachCounter(
        status, [&](const char* name, uint64_t& value) { value = json.at(name).get<uint64_t>(); });
    if (json.contains("requests")) {
      CAIRN_ASSIGN_OR_RETURN(ObjectStoreStats requests,
                             ObjectStoreStats::FromJson(json["requests"]));
      status.requests = requests;
    }
    return status;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("not a GC status: ") + e.what());
  }
}

}  // namespace cairn

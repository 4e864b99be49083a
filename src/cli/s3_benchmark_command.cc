// cairn s3 benchmark: PUT and GET throughput of an endpoint with Cairn's own client, the way a
// datastore uses it (parallel requests of one object size), so users can size put-rate-limit,
// max-connections and expectations, and bench/s3_bench.sh can compare with boto3.

#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "base/time.h"
#include "cli/context.h"
#include "config/s3_endpoints.h"
#include "s3/client.h"
#include "storage/s3_object_store.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

struct Phase {
  uint64_t objects = 0;
  uint64_t bytes = 0;
  double seconds = 0;

  json ToJson() const {
    double secs = std::max(seconds, 1e-9);
    return {{"objects", objects},
            {"bytes", bytes},
            {"seconds", seconds},
            {"objects-per-second", static_cast<double>(objects) / secs},
            {"mib-per-second", static_cast<double>(bytes) / secs / (1 << 20)}};
  }
  std::string ToText(const char* name) const {
    double secs = std::max(seconds, 1e-9);
    return fmt::format("{}: {} objects, {} in {:.2f} s: {:.1f} objects/s, {:.1f} MiB/s", name,
                       objects, HumanBytes(bytes), seconds, static_cast<double>(objects) / secs,
                       static_cast<double>(bytes) / secs / (1 << 20));
  }
};

// Runs op(i) for i in [0, count) on `threads` threads; the first error stops the run.
Status RunParallel(int count, int threads, const std::function<Status(int)>& op, Phase* phase,
                   uint64_t bytes_per_op) {
  std::atomic<int> next{0};
  std::mutex mu;
  Status first_error;
  double start = MonotonicSeconds();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < count;) {
        Status status = op(i);
        if (!status.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = status;
          next = count;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  phase->seconds = MonotonicSeconds() - start;
  phase->objects = static_cast<uint64_t>(count);
  phase->bytes = bytes_per_op * static_cast<uint64_t>(count);
  return first_error;
}

}  // namespace

void AddS3BenchmarkCommand(CLI::App* s3, Context& ctx) {
  struct Args {
    std::string id, bucket;
    uint64_t object_size = 4 << 20;
    int count = 64;
    int threads = 8;
  };
  auto args = std::make_shared<Args>();
  auto* bench = s3->add_subcommand(
      "benchmark", "Measure PUT and GET throughput (writes, reads and deletes test objects)");
  bench->add_option("ID", args->id, "Endpoint id")->required();
  bench->add_option("BUCKET", args->bucket, "Bucket (created if missing)")->required();
  bench->add_option("--object-size", args->object_size, "Bytes per object (default 4 MiB)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  bench->add_option("--count", args->count, "Objects (default 64)")->check(CLI::Range(1, 1000000));
  bench->add_option("--threads", args->threads, "Concurrent requests (default 8)")
      ->check(CLI::Range(1, 256));
  bench->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, ctx.LoadConfig());
      CAIRN_ASSIGN_OR_RETURN(config::S3EndpointStore store,
                             config::S3EndpointStore::Load(config.dir()));
      CAIRN_ASSIGN_OR_RETURN(s3::EndpointConfig endpoint, store.Get(args->id));
      endpoint.max_connections = std::max(endpoint.max_connections, args->threads);
      CAIRN_ASSIGN_OR_RETURN(auto client, s3::S3Client::Create(endpoint, args->bucket));
      Status created = client->CreateBucket();
      if (!created.ok() && !created.IsAlreadyExists()) return created;
      // Through the object store a datastore uses, so the endpoint's put-rate-limit applies.
      std::unique_ptr<ObjectStore> objects = NewS3ObjectStore(std::move(client), args->id);

      std::string prefix = fmt::format("cairn-benchmark/{}-{}/", NowEpoch(), ::getpid());
      std::vector<std::string> keys;
      for (int i = 0; i < args->count; ++i) keys.push_back(prefix + std::to_string(i));
      Bytes payload(args->object_size);
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 131 + 7);

      Phase put, get;
      Status status = RunParallel(
          args->count, args->threads,
          [&](int i) { return objects->Put(keys[i], payload, PutMode::kReplace).status(); }, &put,
          args->object_size);
      if (status.ok()) {
        status = RunParallel(
            args->count, args->threads,
            [&](int i) -> Status {
              CAIRN_ASSIGN_OR_RETURN(Bytes data, objects->Get(keys[i]));
              if (data.size() != payload.size()) {
                return Status::Corruption(fmt::format("{}: read {} bytes, wrote {}", keys[i],
                                                      data.size(), payload.size()));
              }
              return Status::OK();
            },
            &get, args->object_size);
      }
      Status cleanup = objects->DeleteMany(keys);
      CAIRN_RETURN_IF_ERROR(status);
      CAIRN_RETURN_IF_ERROR(cleanup.WithContext("remove benchmark objects"));
      ObjectStoreStats stats = objects->Stats();
      ctx.Emit({{"put", put.ToJson()},
                {"get", get.ToJson()},
                {"threads", args->threads},
                {"s3", stats.ToJson()}},
               fmt::format("{}\n{}\nS3 requests: {}", put.ToText("PUT"), get.ToText("GET"),
                           stats.ToText()));
      return Status::OK();
    };
  });
}

}  // namespace cairn::cli

#include "cli/context.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "base/mutex.h"
#include "base/time.h"
#include "client/local_repository.h"
#include "client/remote/server_repository.h"

namespace cairn::cli {

Result<config::DatastoreConfig> Context::LoadConfig() const {
  return config::DatastoreConfig::Load(config_dir.empty() ? config::DatastoreConfig::DefaultDir()
                                                          : config_dir);
}

Result<client::ApiClient*> Context::Remote() const {
  if (remote_) return remote_.get();
  if (repository.empty()) {
    return Status::InvalidArgument(
        "this command works against a server: give --repository [[auth-id@]host[:port]:]store "
        "(or set CAIRN_REPOSITORY)");
  }
  client::ApiClientOptions options;
  CAIRN_ASSIGN_OR_RETURN(options.repository, client::RemoteRepository::Parse(repository));
  options.fingerprint = fingerprint;
  options.fingerprint_cache = client::DefaultFingerprintCache();
  for (const char* name : {"CAIRN_PASSWORD", "PBS_PASSWORD"}) {
    if (const char* value = std::getenv(name); value && *value) {
      options.password = value;
      break;
    }
  }
  const bool terminal = ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO);
  if (options.password.empty()) {
    if (!terminal) {
      return Status::InvalidArgument("no password for " + options.repository.auth_id +
                                     ": set CAIRN_PASSWORD (or PBS_PASSWORD)");
    }
    const char* entered =
        ::getpass(fmt::format("Password for \"{}\": ", options.repository.auth_id).c_str());
    if (entered == nullptr) return Status::InvalidArgument("no password entered");
    options.password = entered;
  }
  if (terminal) {
    options.confirm = [](const std::string& seen) {
      std::fprintf(stderr, "fingerprint: %s\nAre you sure you want to continue connecting? (y/n): ",
                   seen.c_str());
      std::string answer;
      std::getline(std::cin, answer);
      return answer == "y" || answer == "yes";
    };
  }
  CAIRN_ASSIGN_OR_RETURN(remote_, client::ApiClient::Connect(std::move(options)));
  return remote_.get();
}

Result<std::shared_ptr<Datastore>> Context::OpenStore(const std::string& name, Operation op) const {
  CAIRN_ASSIGN_OR_RETURN(config::DatastoreConfig config, LoadConfig());
  CAIRN_ASSIGN_OR_RETURN(config::OpenedDatastore opened, config.OpenStore(name, op));
  std::shared_ptr<Datastore> shared = std::move(opened.store);
  opened_.emplace_back(name, shared);
  operations_.push_back(std::move(opened.operation));
  return shared;
}

Result<Context::OpenedRepository> Context::OpenRepository(const std::string& name,
                                                          Operation op) const {
  if (remote()) {
    CAIRN_ASSIGN_OR_RETURN(client::ApiClient * api, Remote());
    const client::RemoteRepository& spec = api->repository();
    return OpenedRepository{client::NewServerRepository(*api),
                            fmt::format("{}@{}:{}", spec.auth_id, spec.ServerKey(), spec.store)};
  }
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Datastore> store, OpenStore(name, op));
  return OpenedRepository{NewLocalRepository(*store), store->path()};
}

void Context::HoldOperation(OperationGuard operation) const {
  operations_.push_back(std::move(operation));
}

std::string HostName() {
  const char* env = std::getenv("CAIRN_HOSTNAME");
  if (env != nullptr && *env != '\0') return env;
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string name(buf);
  return name.substr(0, name.find('.'));
}

namespace {

// True when the backend did something worth reporting in this process.
bool HasActivity(const BackendStats& stats) {
  return (stats.requests && stats.requests->total_requests() > 0) ||
         (stats.cache && stats.cache->hits + stats.cache->misses + stats.cache->inserts > 0);
}

}  // namespace

nlohmann::json Context::BackendStatsJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, store] : opened_) {
    BackendStats stats = store->backend().Stats();
    if (!HasActivity(stats)) continue;
    nlohmann::json entry = {{"backend", store->backend().Kind()}};
    if (stats.requests) entry["requests"] = stats.requests->ToJson();
    if (stats.cache) {
      entry["cache"] = {{"hits", stats.cache->hits},       {"misses", stats.cache->misses},
                        {"inserts", stats.cache->inserts}, {"evictions", stats.cache->evictions},
                        {"bytes", stats.cache->bytes},     {"capacity", stats.cache->capacity}};
    }
    out[name] = std::move(entry);
  }
  return out;
}

void Context::ReportBackendStats() const {
  nlohmann::json stats = BackendStatsJson();
  if (stats.empty()) return;
  if (json()) {
    if (!stats_emitted_) std::cerr << nlohmann::json{{"backend-stats", stats}}.dump() << "\n";
    return;
  }
  for (const auto& [name, store] : opened_) {
    BackendStats s = store->backend().Stats();
    if (!HasActivity(s)) continue;
    std::string line = fmt::format("datastore '{}' ({}):", name, store->backend().Kind());
    if (s.requests) line += " requests " + s.requests->ToText() + ";";
    if (s.cache) {
      line += fmt::format(" cache {} hits, {} misses, {} evicted, {} of {} used", s.cache->hits,
                          s.cache->misses, s.cache->evictions, HumanBytes(s.cache->bytes),
                          s.cache->capacity ? HumanBytes(s.cache->capacity) : "(not loaded)");
    }
    std::cerr << line << "\n";
  }
}

void Context::Emit(const nlohmann::json& input, const std::string& text) const {
  if (json()) {
    nlohmann::json data = input;
    if (data.is_object()) {
      nlohmann::json stats = BackendStatsJson();
      if (!stats.empty()) {
        data["backend-stats"] = std::move(stats);
        stats_emitted_ = true;
      }
    }
    // Names from a server or a disk may be invalid UTF-8: replaced, never a crash.
    constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
    std::cout << (output_format == "json-pretty" ? data.dump(2, ' ', false, kReplace)
                                                 : data.dump(-1, ' ', false, kReplace))
              << "\n";
  } else if (!text.empty()) {
    std::cout << text << (text.back() == '\n' ? "" : "\n");
  }
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      out += i + 1 == cells.size() ? cells[i] : fmt::format("{:<{}}  ", cells[i], width[i]);
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

struct Progress::Impl {
  bool enabled;
  bool tty;
  Mutex mu;
  double start CAIRN_GUARDED_BY(mu) = MonotonicSeconds();
  double last_draw CAIRN_GUARDED_BY(mu) = 0;
  int last_step CAIRN_GUARDED_BY(mu) = -1;
  std::string last_what CAIRN_GUARDED_BY(mu);
  bool drawn CAIRN_GUARDED_BY(mu) = false;
};

Progress::Progress(bool enabled) : impl_(std::make_unique<Impl>()) {
  impl_->enabled = enabled;
  impl_->tty = ::isatty(STDERR_FILENO);
}

Progress::~Progress() {
  Finish();
}

void Progress::Update(const std::string& what, uint64_t done, uint64_t total) {
  if (!impl_->enabled) return;
  MutexLock lock(impl_->mu);
  const double now = MonotonicSeconds();
  if (what != impl_->last_what) {
    impl_->last_what = what;
    impl_->start = now;
    impl_->last_step = -1;
  }
  const double elapsed = std::max(now - impl_->start, 1e-6);
  const double rate = static_cast<double>(done) / elapsed;
  const std::string rate_text = HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total == 0) {  // size unknown in advance (a directory tree): bytes so far and rate
    if (impl_->tty) {
      if (now - impl_->last_draw < 0.1) return;
      impl_->last_draw = now;
      std::fprintf(stderr, "\r%s %s read, %s\033[K", what.c_str(), HumanBytes(done).c_str(),
                   rate_text.c_str());
      impl_->drawn = true;
    } else {
      const int gib = static_cast<int>(done >> 30);  // a line per GiB
      if (gib == impl_->last_step || gib == 0) return;
      impl_->last_step = gib;
      std::fprintf(stderr, "%s: %s read (%s)\n", what.c_str(), HumanBytes(done).c_str(),
                   rate_text.c_str());
    }
    return;
  }
  const int pct = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
  if (impl_->tty) {
    if (now - impl_->last_draw < 0.1 && done != total) return;
    impl_->last_draw = now;
    const int width = 30;
    const int filled = total ? std::min(width, pct * width / 100) : 0;
    std::string eta =
        total && rate > 0
            ? fmt::format("{:.0f}s", static_cast<double>(total - std::min(done, total)) / rate)
            : "?";
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %s/%s %s ETA %s\033[K", what.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), pct,
                 HumanBytes(done).c_str(), HumanBytes(total).c_str(), rate_text.c_str(),
                 eta.c_str());
    impl_->drawn = true;
  } else {
    const int decile = pct / 10;
    if (decile == impl_->last_step) return;
    impl_->last_step = decile;
    std::fprintf(stderr, "%s: %d%% (%s of %s%s)\n", what.c_str(), pct, HumanBytes(done).c_str(),
                 HumanBytes(total).c_str(), elapsed < 0.2 ? "" : (", " + rate_text).c_str());
  }
}

void Progress::Finish() {
  MutexLock lock(impl_->mu);
  if (impl_->drawn) std::fprintf(stderr, "\n");
  impl_->drawn = false;
}

}  // namespace cairn::cli

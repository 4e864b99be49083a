#include "client/remote/server_repository.h"

#include <fmt/format.h>

#include <atomic>
#include <thread>
#include <unordered_set>

#include "base/log.h"
#include "base/mutex.h"
#include "base/time.h"
#include "client/benchmark.h"
#include "client/remote/session_channel.h"
#include "format/archive_name.h"
#include "format/chunker.h"
#include "format/data_blob.h"
#include "format/dynamic_index.h"
#include "format/fixed_index.h"

namespace cairn::client {
namespace {

using nlohmann::json;

constexpr char kBackupProtocol[] = "proxmox-backup-protocol-v1";
constexpr char kReaderProtocol[] = "proxmox-backup-reader-protocol-v1";
// Appends per PUT: about 90 bytes of JSON each, well below PBS's 512 KiB parameter body limit.
constexpr size_t kAppendBatch = 1024;

// The parameters naming a snapshot in an upgrade request, as proxmox-backup-client sends them.
json SnapshotParams(const ApiClient& api, const BackupNamespace& ns, const SnapshotRef& snap) {
  json params = {{"store", api.repository().store},
                 {"backup-type", BackupTypeName(snap.group.type)},
                 {"backup-id", snap.group.id},
                 {"backup-time", snap.time},
                 {"debug", false}};
  if (!ns.IsRoot()) params["ns"] = ns.ToString();
  return params;
}

// A manifest blob as the server stores it (compressed, never encrypted).
Result<Manifest> ParseManifestBlob(ByteView blob, const std::string& what) {
  auto text = DecodeBlob(blob, nullptr);
  if (!text.ok()) return text.status().WithContext(what);
  return Manifest::Parse(*text, what);
}

// One index archive of a session on the server: an index writer (wid) there.
class ServerIndexUpload final : public IndexUpload {
 public:
  ServerIndexUpload(SessionChannel& channel, uint64_t wid, bool fixed, std::string filename,
                    int* open_indexes)
      : channel_(channel),
        wid_(wid),
        fixed_(fixed),
        kind_(fixed ? "fixed" : "dynamic"),
        filename_(std::move(filename)),
        open_indexes_(open_indexes) {}

  const std::string& filename() const override { return filename_; }

  Result<bool> UploadChunk(const Digest& digest, ByteView encoded, uint64_t plain_size) override {
    CAIRN_ASSIGN_OR_RETURN(json answer, channel_.Upload(kind_ + "_chunk",
                                                        {{"wid", wid_},
                                                         {"digest", DigestToHex(digest)},
                                                         {"size", plain_size},
                                                         {"encoded-size", encoded.size()}},
                                                        encoded));
    if (!answer.is_string() || answer.get<std::string>() != DigestToHex(digest)) {
      return Status::Corruption(fmt::format("{}: the server acknowledged chunk {} as {}", filename_,
                                            DigestToHex(digest), answer.dump()));
    }
    return false;
  }

  Status Close(ByteView index) override {
    if (open_indexes_ == nullptr) return Status::InvalidArgument(filename_ + " is already closed");
    // The chunks as (start offset, digest), and what dynamic_close / fixed_close check.
    std::vector<std::pair<uint64_t, Digest>> chunks;
    uint64_t size = 0;
    Digest csum;
    if (fixed_) {
      CAIRN_ASSIGN_OR_RETURN(FixedIndex parsed, FixedIndex::Parse(index, filename_));
      if (parsed.chunk_size() != FixedChunker::kDefaultChunkSize) {
        return Status::InvalidArgument(
            fmt::format("{}: a server takes images in chunks of 4 MiB only, not {}", filename_,
                        parsed.chunk_size()));
      }
      for (size_t i = 0; i < parsed.chunk_count(); ++i) {
        chunks.emplace_back(parsed.chunk_range(i).start, parsed.digest(i));
      }
      size = parsed.size();
      csum = parsed.csum();
    } else {
      CAIRN_ASSIGN_OR_RETURN(DynamicIndex parsed, DynamicIndex::Parse(index, filename_));
      for (size_t i = 0; i < parsed.chunk_count(); ++i) {
        chunks.emplace_back(parsed.chunk_range(i).start, parsed.digest(i));
      }
      size = parsed.size();
      csum = parsed.csum();
    }
    // Dynamic appends must come in order: one PUT at a time, each after the last's answer.
    for (size_t first = 0; first < chunks.size(); first += kAppendBatch) {
      json digests = json::array(), offsets = json::array();
      for (size_t i = first; i < std::min(chunks.size(), first + kAppendBatch); ++i) {
        offsets.push_back(chunks[i].first);
        digests.push_back(DigestToHex(chunks[i].second));
      }
      CAIRN_RETURN_IF_ERROR(
          channel_
              .Call("PUT", kind_ + "_index",
                    {{"wid", wid_}, {"digest-list", digests}, {"offset-list", offsets}})
              .status()
              .WithContext(filename_));
    }
    CAIRN_RETURN_IF_ERROR(channel_
                              .Call("POST", kind_ + "_close",
                                    {{"wid", wid_},
                                     {"chunk-count", chunks.size()},
                                     {"size", size},
                                     {"csum", DigestToHex(csum)}})
                              .status()
                              .WithContext(filename_));
    --*std::exchange(open_indexes_, nullptr);
    return Status::OK();
  }

 private:
  SessionChannel& channel_;
  const uint64_t wid_;
  const bool fixed_;
  const std::string kind_;  // "fixed" or "dynamic", the prefix of the session's paths
  const std::string filename_;
  int* open_indexes_;  // the session's count; null once closed
};

class ServerBackupSession final : public BackupSession {
 public:
  ServerBackupSession(std::unique_ptr<SessionChannel> channel, SnapshotRef snap)
      : channel_(std::move(channel)), snap_(std::move(snap)) {}

  const SnapshotRef& snapshot() const override { return snap_; }

  Result<std::optional<Manifest>> PreviousManifest() override {
    CAIRN_ASSIGN_OR_RETURN(json time, channel_->Call("GET", "previous_backup_time"));
    if (time.is_null()) return std::optional<Manifest>();
    auto raw = channel_->Download("previous", {{"archive-name", kManifestName}});
    Result<Manifest> manifest =
        raw.ok() ? ParseManifestBlob(*raw, "previous manifest") : Result<Manifest>(raw.status());
    if (!manifest.ok()) {
      if (!manifest.status().IsCorruption() && !manifest.status().IsNotFound() &&
          manifest.status().code() != Code::kInvalidArgument) {
        return manifest.status();
      }
      // A base the server cannot vouch for costs a full backup, never the backup.
      spdlog::warn("the previous snapshot is not usable as base ({}); making a full backup",
                   manifest.status().ToString());
      return std::optional<Manifest>();
    }
    return std::optional<Manifest>(std::move(manifest).value());
  }

  Result<Bytes> PreviousArchive(const std::string& filename) override {
    auto raw = channel_->Download("previous", {{"archive-name", filename}});
    if (!raw.ok()) {
      // The server refuses a base index whose chunks it lost (400), or has no such file (404).
      if (raw.status().code() == Code::kInvalidArgument || raw.status().IsNotFound()) {
        return Status::NotFound(raw.status().message());
      }
      return raw.status();
    }
    // The server now knows the index's chunks; remember which, to check RegisterKnownChunks.
    std::vector<Digest> digests;
    if (filename.ends_with(".fidx")) {
      if (auto index = FixedIndex::Parse(*raw, filename); index.ok()) {
        digests.assign(index->digests().begin(), index->digests().end());
      }
    } else if (filename.ends_with(".didx")) {
      if (auto index = DynamicIndex::Parse(*raw, filename); index.ok()) {
        for (const auto& e : index->entries()) digests.push_back(e.digest);
      }
    }
    MutexLock lock(mu_);
    registered_.insert(digests.begin(), digests.end());
    return raw;
  }

  Result<std::vector<Digest>> RegisterKnownChunks(std::span<const Digest> digests) override {
    MutexLock lock(mu_);
    for (const Digest& d : digests) {
      if (registered_.count(d) == 0) {
        return Status::InvalidArgument(fmt::format(
            "chunk {} is in no previous index this session downloaded; the server would "
            "refuse to reference it",
            DigestToHex(d)));
      }
    }
    // The server refused any base index with lost chunks, so every chunk here is held.
    return std::vector<Digest>();
  }

  Result<std::unique_ptr<IndexUpload>> OpenIndex(const std::string& filename,
                                                 uint64_t fixed_chunk_size) override {
    CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
    if (type == ArchiveType::kBlob) {
      return Status::InvalidArgument(filename + " is not an index archive");
    }
    const bool fixed = type == ArchiveType::kFixedIndex;
    if (fixed && fixed_chunk_size != FixedChunker::kDefaultChunkSize) {
      return Status::InvalidArgument(fmt::format(
          "{}: a server takes images in chunks of 4 MiB only (--chunk-size 4096), not {} bytes",
          filename, fixed_chunk_size));
    }
    CAIRN_ASSIGN_OR_RETURN(json wid, channel_->Call("POST", fixed ? "fixed_index" : "dynamic_index",
                                                    {{"archive-name", filename}}));
    if (!wid.is_number_unsigned()) {
      return Status::Corruption(
          fmt::format("{}: the server answered {} instead of a writer id", filename, wid.dump()));
    }
    ++open_indexes_;
    return std::unique_ptr<IndexUpload>(
        new ServerIndexUpload(*channel_, wid.get<uint64_t>(), fixed, filename, &open_indexes_));
  }

  Status UploadBlob(const std::string& filename, ByteView content) override {
    CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
    if (type != ArchiveType::kBlob) return Status::InvalidArgument(filename + " is not a blob");
    return channel_
        ->Upload("blob", {{"file-name", filename}, {"encoded-size", content.size()}}, content)
        .status();
  }

  Status Finish(Manifest manifest) override {
    if (open_indexes_ != 0) {
      return Status::InvalidArgument(
          fmt::format("{} index archive(s) are still open", open_indexes_));
    }
    // As proxmox-backup-client: the manifest goes up as an ordinary blob, compressed and
    // never encrypted; the server adds its upload statistics and stores it at finish.
    CAIRN_ASSIGN_OR_RETURN(std::string text, manifest.ToJson());
    CAIRN_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(AsBytes(text), nullptr, true));
    CAIRN_RETURN_IF_ERROR(UploadBlob(kManifestName, blob));
    CAIRN_RETURN_IF_ERROR(channel_->Call("POST", "finish").status());
    channel_->Close();
    return Status::OK();
  }

 private:
  std::unique_ptr<SessionChannel> channel_;
  const SnapshotRef snap_;
  int open_indexes_ = 0;
  Mutex mu_;
  // Chunks of the base indexes downloaded with `previous`: the server may append them.
  std::unordered_set<Digest, DigestHash> registered_ CAIRN_GUARDED_BY(mu_);
};

class ServerSnapshotReader final : public SnapshotReader {
 public:
  ServerSnapshotReader(std::unique_ptr<SessionChannel> channel, SnapshotRef snap, Manifest manifest)
      : channel_(std::move(channel)), snap_(std::move(snap)), manifest_(std::move(manifest)) {}

  const SnapshotRef& snapshot() const override { return snap_; }
  Result<Manifest> ReadManifest() override { return manifest_; }

  Result<Bytes> ReadArchive(const std::string& filename) override {
    const std::string object = snap_.ToString() + "/" + filename;
    const ManifestFile* entry = manifest_.FindFile(filename);
    if (entry == nullptr) return Status::NotFound(object + " is not listed in the manifest");
    CAIRN_ASSIGN_OR_RETURN(Bytes raw, channel_->Download("download", {{"file-name", filename}}));
    // Indexes are checked by their readers (size and csum of the content); a blob as a whole.
    if (filename.ends_with(".blob")) {
      CAIRN_RETURN_IF_ERROR(manifest_.VerifyFile(filename, raw.size(), Sha256Of(raw)));
    }
    return raw;
  }

  Result<Bytes> ReadChunk(const Digest& digest) override {
    const std::string name = "chunk " + DigestToHex(digest);
    CAIRN_ASSIGN_OR_RETURN(Bytes raw,
                           channel_->Download("chunk", {{"digest", DigestToHex(digest)}}));
    Status crc = VerifyBlobCrc(raw);
    if (!crc.ok()) return crc.WithContext(name);
    return raw;
  }

 private:
  std::unique_ptr<SessionChannel> channel_;
  const SnapshotRef snap_;
  const Manifest manifest_;
};

class ServerRepository final : public Repository {
 public:
  explicit ServerRepository(ApiClient& api) : api_(api) {}

  Result<std::unique_ptr<BackupSession>> StartBackup(const BackupNamespace& ns,
                                                     const BackupGroup& group, int64_t time,
                                                     const std::string& /*owner*/,
                                                     bool no_cache) override {
    CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Make(group, time));
    json params = SnapshotParams(api_, ns, snap);
    params["benchmark"] = false;
    if (no_cache) params["no-cache"] = true;
    CAIRN_ASSIGN_OR_RETURN(auto connection, api_.OpenSession("/backup", params, kBackupProtocol));
    return std::unique_ptr<BackupSession>(new ServerBackupSession(
        std::make_unique<SessionChannel>(std::move(connection)), std::move(snap)));
  }

  Result<std::unique_ptr<SnapshotReader>> OpenSnapshot(const BackupNamespace& ns,
                                                       const SnapshotRef& snap) override {
    CAIRN_ASSIGN_OR_RETURN(
        auto connection,
        api_.OpenSession("/reader", SnapshotParams(api_, ns, snap), kReaderProtocol));
    auto channel = std::make_unique<SessionChannel>(std::move(connection));
    CAIRN_ASSIGN_OR_RETURN(Bytes blob,
                           channel->Download("download", {{"file-name", kManifestName}}));
    CAIRN_ASSIGN_OR_RETURN(Manifest manifest,
                           ParseManifestBlob(blob, snap.ToString() + "/" + kManifestName));
    return std::unique_ptr<SnapshotReader>(
        new ServerSnapshotReader(std::move(channel), snap, std::move(manifest)));
  }

  unsigned PreferredParallelism() const override { return kServerParallelism; }

 private:
  ApiClient& api_;
};

}  // namespace

std::unique_ptr<Repository> NewServerRepository(ApiClient& api) {
  return std::make_unique<ServerRepository>(api);
}

Result<double> MeasureUploadSpeed(ApiClient& api, double seconds, unsigned parallel) {
  CAIRN_ASSIGN_OR_RETURN(BackupGroup group, BackupGroup::Make(BackupType::kHost, "benchmark"));
  CAIRN_ASSIGN_OR_RETURN(SnapshotRef snap, SnapshotRef::Make(group, NowEpoch()));
  json params = SnapshotParams(api, BackupNamespace(), snap);
  params["benchmark"] = true;
  CAIRN_ASSIGN_OR_RETURN(auto connection, api.OpenSession("/backup", params, kBackupProtocol));
  SessionChannel channel(std::move(connection));
  Bytes body;
  const Bytes& pattern = PbsBenchmarkBuffer();
  for (int i = 0; i < 4; ++i) body.insert(body.end(), pattern.begin(), pattern.end());
  std::atomic<uint64_t> sent{0};
  Mutex mu;
  Status first_error;
  const double start = MonotonicSeconds();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, parallel); ++t) {
    threads.emplace_back([&] {
      while (MonotonicSeconds() - start < seconds) {
        Status st = channel.Upload("speedtest", json::object(), body).status();
        if (!st.ok()) {
          MutexLock lock(mu);
          if (first_error.ok()) first_error = st;
          return;
        }
        sent += body.size();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = MonotonicSeconds() - start;
  if (!first_error.ok()) return first_error;
  return static_cast<double>(sent.load()) / elapsed;
}

}  // namespace cairn::client

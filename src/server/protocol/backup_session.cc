#include "server/protocol/backup_session.h"

#include <fmt/format.h>

#include <charconv>

#include "datastore/index_chunks.h"
#include "format/archive_name.h"
#include "format/data_blob.h"
#include "format/manifest.h"
#include "server/protocol/chunk_upload.h"
#include "server/protocol/session_files.h"
#include "server/rest/formatter.h"
#include "server/rest/params.h"

namespace cairn::server {
namespace {

using json = nlohmann::json;

constexpr uint64_t kFixedChunkSize = 4u << 20;
constexpr int64_t kMaxWriters = 256;

// PBS's SAFE_ID for archive names, and the suffix the request requires.
Status CheckArchiveName(const std::string& name, std::string_view suffix) {
  CAIRN_RETURN_IF_ERROR(ValidateArchiveFileName(name));
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) {
    return Status::InvalidArgument(fmt::format("wrong archive extension: '{}'", name));
  }
  return Status::OK();
}

Result<Digest> ParseDigest(const std::string& hex) {
  auto digest = DigestFromHex(hex);
  if (!digest.ok()) return Status::InvalidArgument(fmt::format("invalid digest '{}'", hex));
  return *digest;
}

std::vector<ParamSpec> ChunkParams() {
  return {
      ParamSpec::Integer("wid", "writer", 1, kMaxWriters).Required(),
      ParamSpec::String("digest", "chunk digest", 64).Required(),
      ParamSpec::Integer("size", "chunk size", 1, int64_t(kMaxUploadChunkSize)).Required(),
      ParamSpec::Integer("encoded-size", "encoded chunk size", 13, int64_t(kMaxUploadEncodedSize))
          .Required()};
}

std::vector<ParamSpec> AppendParams() {
  return {ParamSpec::Integer("wid", "writer", 1, kMaxWriters).Required(),
          ParamSpec::StringArray("digest-list", "chunk digests").Required(),
          ParamSpec::StringArray("offset-list", "chunk offsets").Required()};
}

std::vector<ParamSpec> CloseParams(bool fixed) {
  return {ParamSpec::Integer("wid", "writer", 1, kMaxWriters).Required(),
          ParamSpec::Integer("chunk-count", "chunks appended", fixed ? 0 : 1).Required(),
          ParamSpec::Integer("size", "archive size", fixed ? 0 : 1).Required(),
          ParamSpec::String("csum", "index checksum", 64).Required()};
}

// The requests of the protocol and their parameters (PBS's schema).
struct Route {
  std::string method;
  std::string path;
  std::vector<ParamSpec> params;
  bool body_is_payload = false;  // parameters from the query only
};

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "previous_backup_time", {}},
      {"GET", "previous", {ParamSpec::String("archive-name", "file name", 128).Required()}},
      {"POST",
       "fixed_index",
       {ParamSpec::String("archive-name", "file name", 128).Required(),
        ParamSpec::Integer("size", "image size", 1),
        ParamSpec::String("reuse-csum", "csum of the previous index to start from", 64)}},
      {"POST", "dynamic_index", {ParamSpec::String("archive-name", "file name", 128).Required()}},
      {"POST", "fixed_chunk", ChunkParams(), true},
      {"POST", "dynamic_chunk", ChunkParams(), true},
      {"PUT", "fixed_index", AppendParams()},
      {"PUT", "dynamic_index", AppendParams()},
      {"POST", "fixed_close", CloseParams(true)},
      {"POST", "dynamic_close", CloseParams(false)},
      {"POST",
       "blob",
       {ParamSpec::String("file-name", "file name", 128).Required(),
        ParamSpec::Integer("encoded-size", "blob size", 12, int64_t(kMaxUploadEncodedSize))
            .Required()},
       true},
      {"POST", "finish", {}},
      {"POST", "speedtest", {}, true},
  };
  return routes;
}

struct SizedChunk {
  Digest digest;
  uint64_t size;
};

// The chunks of index `data` with their lengths. Corruption if it does not parse.
Result<std::vector<SizedChunk>> IndexChunks(const std::string& name, ByteView data) {
  std::vector<SizedChunk> chunks;
  auto collect = [&](const auto& index) {
    chunks.reserve(index.chunk_count());
    for (size_t i = 0; i < index.chunk_count(); ++i) {
      chunks.push_back({index.digest(i), index.chunk_range(i).length()});
    }
  };
  if (name.ends_with(".fidx")) {
    CAIRN_ASSIGN_OR_RETURN(FixedIndex index, FixedIndex::Parse(data, name));
    collect(index);
  } else {
    CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, DynamicIndex::Parse(data, name));
    collect(index);
  }
  return chunks;
}

}  // namespace

BackupSession::BackupSession(Datastore& store, std::unique_ptr<SnapshotWriter> writer,
                             JobControl log, bool benchmark)
    : store_(store),
      snapshot_(writer->snapshot()),
      log_(std::move(log)),
      benchmark_(benchmark),
      ns_(writer->ns()),
      previous_(writer->previous()),
      writer_(std::move(writer)) {}

BackupSession::~BackupSession() {
  MutexLock lock(mu_);
  if (writer_) {
    log_.Info("backup ended without finish: removing snapshot {}", snapshot_.ToString());
    writer_.reset();  // without a successful Finish, this removes the snapshot
  }
}

bool BackupSession::finished() const {
  MutexLock lock(mu_);
  return finished_;
}

http::ServerResponse BackupSession::Handle(const http::ServerRequest& request) {
  std::string path = request.path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  auto answer = [&]() -> Result<http::ServerResponse> {
    if (path.empty() && request.method == "GET") {
      json names = json::array();
      for (const Route& route : Routes()) {
        if (std::find(names.begin(), names.end(), route.path) == names.end()) {
          names.push_back(route.path);
        }
      }
      return FormatSuccess(OutputFormat::kJson, names, json::object());
    }
    const Route* route = nullptr;
    for (const Route& r : Routes()) {
      if (r.method == request.method && r.path == path) route = &r;
    }
    if (route == nullptr) {
      return Status::NotFound(fmt::format("no such method '{} {}'", request.method, path));
    }
    CAIRN_ASSIGN_OR_RETURN(json raw, CollectParams(request, route->body_is_payload));
    CAIRN_ASSIGN_OR_RETURN(Params checked, CheckSessionParams(std::move(raw), route->params));
    const Params* params = &checked;
    bool fixed = path.starts_with("fixed");
    json data = nullptr;
    if (path == "previous_backup_time") {
      CAIRN_ASSIGN_OR_RETURN(data, PreviousBackupTime());
    } else if (path == "previous") {
      return Previous(params->String("archive-name"));
    } else if (request.method == "POST" && (path == "fixed_index" || path == "dynamic_index")) {
      std::optional<int64_t> size = params->OptInteger("size");
      CAIRN_ASSIGN_OR_RETURN(
          data, OpenWriter(fixed, params->String("archive-name"),
                           size ? std::optional<uint64_t>(uint64_t(*size)) : std::nullopt,
                           params->OptString("reuse-csum")));
    } else if (path == "fixed_chunk" || path == "dynamic_chunk") {
      CAIRN_ASSIGN_OR_RETURN(
          data, UploadChunk(fixed, uint64_t(params->Integer("wid", 0)), params->String("digest"),
                            uint64_t(params->Integer("size", 0)),
                            uint64_t(params->Integer("encoded-size", 0)), request.body));
    } else if (request.method == "PUT") {
      CAIRN_RETURN_IF_ERROR(Append(fixed, uint64_t(params->Integer("wid", 0)),
                                   params->json()["digest-list"], params->json()["offset-list"]));
    } else if (path == "fixed_close" || path == "dynamic_close") {
      CAIRN_RETURN_IF_ERROR(CloseWriter(
          fixed, uint64_t(params->Integer("wid", 0)), uint64_t(params->Integer("chunk-count", 0)),
          uint64_t(params->Integer("size", 0)), params->String("csum")));
    } else if (path == "blob") {
      CAIRN_RETURN_IF_ERROR(UploadBlob(params->String("file-name"),
                                       uint64_t(params->Integer("encoded-size", 0)), request.body));
    } else if (path == "finish") {
      CAIRN_RETURN_IF_ERROR(Finish());
    }  // speedtest: the body is read and dropped
    return FormatSuccess(OutputFormat::kJson, data, json::object());
  }();
  if (answer.ok()) return std::move(*answer);
  ApiError error = ErrorFromStatus(answer.status());
  log_.Warn("{} {}: {} {}", request.method, request.path, error.status, error.message);
  return FormatError(OutputFormat::kJson, error);
}

Result<json> BackupSession::PreviousBackupTime() {
  MutexLock lock(mu_);
  const auto& previous = previous_;
  if (!previous) return json(nullptr);
  return json(previous->time);
}

Result<BackupSession::Base> BackupSession::PreviousSnapshot(std::string_view missing) {
  if (!previous_) return Status::InvalidArgument(std::string(missing));
  return Base{ns_, *previous_};
}

Result<http::ServerResponse> BackupSession::Previous(const std::string& archive_name) {
  CAIRN_ASSIGN_OR_RETURN(Base base, PreviousSnapshot("no valid previous backup"));
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadSessionFile(store_, base.ns, base.snap, archive_name));
  if (IsIndexFileName(archive_name)) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<SizedChunk> chunks, IndexChunks(archive_name, data));
    std::vector<Digest> digests;
    digests.reserve(chunks.size());
    for (const SizedChunk& chunk : chunks) digests.push_back(chunk.digest);
    MutexLock lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(SnapshotWriter * writer, ActiveWriter());
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, writer->RegisterKnownChunks(digests));
    if (!missing.empty()) {
      // The client would append these without uploading them. Refusing the index makes it
      // upload the whole archive instead, which repairs the store.
      log_.Warn(
          "previous {} references {} chunk(s) the store no longer holds (first {}); "
          "the client uploads the archive in full",
          archive_name, missing.size(), DigestToHex(missing.front()));
      return Status::InvalidArgument(fmt::format(
          "previous index {} references missing chunks; upload it in full", archive_name));
    }
    for (const SizedChunk& chunk : chunks) known_chunks_[chunk.digest] = chunk.size;
  }
  return OctetStream(std::move(data));
}

bool BackupSession::NameTaken(const std::string& name) const {
  if (files_.count(name) != 0) return true;
  for (const auto& [wid, writer] : writers_) {
    if (writer.archive_name == name) return true;
  }
  return false;
}

Result<json> BackupSession::OpenWriter(bool fixed, const std::string& archive_name,
                                       std::optional<uint64_t> size,
                                       std::optional<std::string> reuse_csum) {
  CAIRN_RETURN_IF_ERROR(CheckArchiveName(archive_name, fixed ? ".fidx" : ".didx"));
  std::optional<FixedIndex> base;
  if (reuse_csum) {
    if (!size) return Status::InvalidArgument("reuse-csum needs size");
    CAIRN_ASSIGN_OR_RETURN(Base previous, PreviousSnapshot("no previous backup to reuse"));
    CAIRN_ASSIGN_OR_RETURN(Bytes bytes,
                           store_.ReadSnapshotFile(previous.ns, previous.snap, archive_name));
    CAIRN_ASSIGN_OR_RETURN(base, FixedIndex::Parse(bytes, archive_name));
    if (DigestToHex(base->csum()) != *reuse_csum) {
      return Status::InvalidArgument(
          fmt::format("previous backup checksum mismatch for {}", archive_name));
    }
  }
  using Index = std::variant<FixedIndexWriter, DynamicIndexWriter>;
  auto make_index = [&]() -> Result<Index> {
    if (!fixed) {
      CAIRN_ASSIGN_OR_RETURN(DynamicIndexWriter index, DynamicIndexWriter::Create());
      return Index(std::move(index));
    }
    CAIRN_ASSIGN_OR_RETURN(FixedIndexWriter index,
                           base ? FixedIndexWriter::CreateIncremental(*base, size)
                                : FixedIndexWriter::Create(size, kFixedChunkSize));
    return Index(std::move(index));
  };
  CAIRN_ASSIGN_OR_RETURN(Index index, make_index());
  Writer writer{archive_name, std::move(index)};
  MutexLock lock(mu_);
  if (finished_) return Status::InvalidArgument("backup already finished");
  if (NameTaken(archive_name)) {
    return Status::InvalidArgument(
        fmt::format("archive {} is already being written", archive_name));
  }
  if (next_wid_ > uint64_t(kMaxWriters)) return Status::InvalidArgument("too many writers");
  uint64_t wid = next_wid_++;
  writers_.emplace(wid, std::move(writer));
  log_.Info("created new {} index {} ({}){}", fixed ? "fixed" : "dynamic", wid, archive_name,
            base ? " reusing the previous index" : "");
  return json(wid);
}

Result<SnapshotWriter*> BackupSession::ActiveWriter() {
  if (!writer_) return Status::InvalidArgument("backup already finished");
  return writer_.get();
}

Result<BackupSession::Writer*> BackupSession::FindWriter(bool fixed, uint64_t wid) {
  auto it = writers_.find(wid);
  if (it == writers_.end()) {
    return Status::InvalidArgument(
        fmt::format("{} writer '{}' not registered", fixed ? "fixed" : "dynamic", wid));
  }
  bool is_fixed = std::holds_alternative<FixedIndexWriter>(it->second.index);
  if (is_fixed != fixed) {
    return Status::InvalidArgument(
        fmt::format("writer '{}' is not a {} writer", wid, fixed ? "fixed" : "dynamic"));
  }
  return &it->second;
}

Result<json> BackupSession::UploadChunk(bool fixed, uint64_t wid, const std::string& digest_hex,
                                        uint64_t size, uint64_t encoded_size,
                                        const std::string& body) {
  CAIRN_ASSIGN_OR_RETURN(Digest digest, ParseDigest(digest_hex));
  {
    MutexLock lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(Writer * writer, FindWriter(fixed, wid));
    if (fixed) {
      uint64_t chunk_size = std::get<FixedIndexWriter>(writer->index).chunk_size();
      if (size > chunk_size) {
        return Status::InvalidArgument(
            fmt::format("fixed writer '{}' - got large chunk ({} > {})", wid, size, chunk_size));
      }
    }
  }
  ByteView encoded(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  Status check = CheckUploadedChunk({digest, size, encoded_size}, encoded);
  if (!check.ok()) return Status::InvalidArgument(check.message());  // the client's data
  // Stored outside the lock: uploads run in parallel.
  std::shared_ptr<SnapshotWriter> snapshot_writer;
  {
    MutexLock lock(mu_);
    CAIRN_RETURN_IF_ERROR(ActiveWriter().status());
    snapshot_writer = writer_;
  }
  CAIRN_ASSIGN_OR_RETURN(ChunkInsertResult inserted,
                         snapshot_writer->InsertChunk(digest, encoded, size));
  MutexLock lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Writer * writer, FindWriter(fixed, wid));
  if (fixed) {
    uint64_t chunk_size = std::get<FixedIndexWriter>(writer->index).chunk_size();
    if (size < chunk_size) {
      if (writer->saw_short_chunk) {
        return Status::InvalidArgument(
            fmt::format("fixed writer '{}' - detected multiple end chunks", wid));
      }
      writer->saw_short_chunk = true;
    }
  }
  known_chunks_[digest] = size;
  writer->chunks++;
  writer->bytes += size;
  if (inserted.duplicate) {
    writer->duplicates++;
  } else {
    writer->compressed_bytes += encoded.size();
  }
  return json(digest_hex);
}

Status BackupSession::Append(bool fixed, uint64_t wid, const json& digests, const json& offsets) {
  if (digests.size() != offsets.size()) {
    return Status::InvalidArgument(
        fmt::format("offset and digest lists have different lengths ({} != {})", offsets.size(),
                    digests.size()));
  }
  MutexLock lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Writer * writer, FindWriter(fixed, wid));
  for (size_t i = 0; i < digests.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(Digest digest, ParseDigest(digests[i].get<std::string>()));
    const std::string& offset_text = offsets[i].get_ref<const std::string&>();
    uint64_t offset = 0;
    auto [end, ec] =
        std::from_chars(offset_text.data(), offset_text.data() + offset_text.size(), offset);
    if (ec != std::errc() || end != offset_text.data() + offset_text.size()) {
      return Status::InvalidArgument(fmt::format("invalid offset '{}'", offset_text));
    }
    auto known = known_chunks_.find(digest);
    if (known == known_chunks_.end()) {
      return Status::InvalidArgument(fmt::format("no such chunk {}", DigestToHex(digest)));
    }
    Status appended = std::visit(
        [&](auto& index) { return index.Append(offset, digest, known->second); }, writer->index);
    CAIRN_RETURN_IF_ERROR(appended);
  }
  return Status::OK();
}

Status BackupSession::CloseWriter(bool fixed, uint64_t wid, uint64_t chunk_count, uint64_t size,
                                  const std::string& csum_hex) {
  CAIRN_ASSIGN_OR_RETURN(Digest csum, ParseDigest(csum_hex));
  MutexLock lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Writer * writer, FindWriter(fixed, wid));
  Result<Bytes> bytes =
      std::visit([&](auto& index) { return index.Close(chunk_count, size, csum); }, writer->index);
  CAIRN_RETURN_IF_ERROR(bytes.status());
  CAIRN_ASSIGN_OR_RETURN(SnapshotWriter * snapshot_writer, ActiveWriter());
  CAIRN_RETURN_IF_ERROR(snapshot_writer->WriteArchive(writer->archive_name, *bytes));
  files_[writer->archive_name] = bytes->size();
  log_.Info("{} index {} ({}): {} chunks uploaded ({} duplicates), {} bytes, {} bytes stored",
            fixed ? "fixed" : "dynamic", wid, writer->archive_name, writer->chunks,
            writer->duplicates, writer->bytes, writer->compressed_bytes);
  writers_.erase(wid);
  return Status::OK();
}

Status BackupSession::UploadBlob(const std::string& file_name, uint64_t encoded_size,
                                 const std::string& body) {
  CAIRN_RETURN_IF_ERROR(CheckArchiveName(file_name, ".blob"));
  if (body.size() != encoded_size) {
    return Status::InvalidArgument(
        fmt::format("got blob with unexpected length ({} != {})", body.size(), encoded_size));
  }
  ByteView blob(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  Status crc = VerifyBlobCrc(blob);
  if (!crc.ok()) return Status::InvalidArgument(crc.message());
  MutexLock lock(mu_);
  if (finished_) return Status::InvalidArgument("backup already finished");
  if (file_name == kManifestName) {
    manifest_blob_ = Bytes(blob.begin(), blob.end());
    return Status::OK();
  }
  if (NameTaken(file_name)) {
    return Status::InvalidArgument(fmt::format("file {} was already uploaded", file_name));
  }
  CAIRN_ASSIGN_OR_RETURN(SnapshotWriter * writer, ActiveWriter());
  CAIRN_RETURN_IF_ERROR(writer->WriteArchive(file_name, blob));
  files_[file_name] = blob.size();
  log_.Info("uploaded blob {} ({} bytes)", file_name, blob.size());
  return Status::OK();
}

Status BackupSession::Finish() {
  MutexLock lock(mu_);
  if (benchmark_) {
    return Status::InvalidArgument("a benchmark session stores nothing and cannot finish");
  }
  if (finished_) return Status::InvalidArgument("backup already finished");
  if (!writers_.empty()) return Status::InvalidArgument("found open index writer");
  if (files_.empty()) {
    return Status::InvalidArgument("backup does not contain valid files (file count == 0)");
  }
  if (!manifest_blob_) {
    return Status::InvalidArgument(
        "unable to update manifest blob - the manifest index.json.blob was not uploaded");
  }
  auto decoded = DecodeBlob(*manifest_blob_, nullptr);
  if (!decoded.ok()) {
    return Status::InvalidArgument("unable to update manifest blob - " +
                                   decoded.status().message());
  }
  auto manifest = Manifest::Parse(*decoded, kManifestName);
  if (!manifest.ok()) {
    return Status::InvalidArgument("unable to update manifest blob - " +
                                   manifest.status().message());
  }
  CAIRN_RETURN_IF_ERROR(writer_->Finish(std::move(*manifest)));
  finished_ = true;
  const ChunkUploadStats& stats = writer_->stats();
  log_.Info("backup finished successfully: {} chunks uploaded ({} duplicates), {} bytes new",
            stats.count.load(), stats.duplicates.load(), stats.size.load());
  writer_.reset();  // the locks go with it (an upload still storing a chunk holds a copy)
  return Status::OK();
}

}  // namespace cairn::server

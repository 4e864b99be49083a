#include "client/backup.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "base/log.h"
#include "base/quote.h"
#include "base/time.h"
#include "client/file_archive.h"
#include "client/incremental_base.h"
#include "client/source_file.h"
#include "format/archive_name.h"
#include "format/chunker.h"
#include "format/data_blob.h"
#include "format/fixed_index.h"

namespace cairn {
namespace {

Result<ArchiveSummary> BackupImage(BackupSession& session, const std::optional<Manifest>& prev,
                                   const std::string& filename, const std::string& path,
                                   const BackupOptions& opt, Manifest& manifest, bool* reused) {
  CAIRN_RETURN_IF_ERROR(FixedChunker::ValidateChunkSize(opt.chunk_size));
  CAIRN_ASSIGN_OR_RETURN(SourceFile source, SourceFile::Open(path));
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder index, FixedIndexBuilder::Create(opt.chunk_size));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<IndexUpload> upload,
                         session.OpenIndex(filename, opt.chunk_size));
  ChunkUploader uploader(session, *upload, opt.crypt, opt.threads, 2 * opt.threads + 2);

  if (prev && UsableBaseFor(*prev, filename, opt.crypt)) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Bytes> prev_bytes, ReadBaseArchive(session, filename));
    auto prev_index = prev_bytes ? FixedIndex::Parse(*prev_bytes, filename +
                                                                      " of the previous "
                                                                      "snapshot")
                                 : Result<FixedIndex>(Status::NotFound(filename));
    if (prev_index.ok() && prev_index->chunk_size() == opt.chunk_size) {
      CAIRN_RETURN_IF_ERROR(UseBaseChunks(uploader, prev_index->digests(), filename).status());
      *reused = true;
    } else if (prev_bytes && !prev_index.ok()) {
      spdlog::warn("not using the previous snapshot as base: {}", prev_index.status().ToString());
    }
  }

  uint64_t seq = 0, total = 0;
  std::vector<uint64_t> lengths;
  for (;;) {
    Bytes block = uploader.TakeBuffer();
    CAIRN_RETURN_IF_ERROR(source.ReadBlock(opt.chunk_size, block));
    if (block.empty()) break;
    lengths.push_back(block.size());
    total += block.size();
    const bool short_block = block.size() < opt.chunk_size;
    CAIRN_RETURN_IF_ERROR(uploader.Submit(seq++, std::move(block)));
    if (opt.progress) opt.progress(filename, total, source.size());
    if (short_block) break;
  }
  CAIRN_RETURN_IF_ERROR(uploader.Finish());
  for (uint64_t i = 0; i < seq; ++i) {
    CAIRN_RETURN_IF_ERROR(index.Append(uploader.DigestOf(i), lengths[i]));
  }
  CAIRN_ASSIGN_OR_RETURN(FixedIndexBuilder::Output out, index.Finish());
  CAIRN_RETURN_IF_ERROR(upload->Close(out.bytes));
  ManifestFile entry;
  entry.filename = filename;
  entry.crypt_mode = CryptModeFor(opt.crypt);
  entry.size = total;
  entry.csum = out.csum;
  CAIRN_RETURN_IF_ERROR(manifest.AddOrReplaceFile(std::move(entry)));
  ArchiveSummary summary;
  summary.filename = filename;
  summary.size = total;
  summary.chunks = uploader.stats();
  return summary;
}

Result<ArchiveSummary> BackupBlob(BackupSession& session, const std::string& filename,
                                  const std::string& path, const BackupOptions& opt,
                                  Manifest& manifest) {
  CAIRN_ASSIGN_OR_RETURN(Bytes data, ReadSmallFile(path, kMaxBlobArchiveSize));
  CAIRN_ASSIGN_OR_RETURN(Bytes blob, EncodeBlob(data, opt.crypt, true));
  CAIRN_RETURN_IF_ERROR(session.UploadBlob(filename, blob));
  ManifestFile entry;
  entry.filename = filename;
  entry.crypt_mode = CryptModeFor(opt.crypt);
  entry.size = blob.size();
  entry.csum = Sha256Of(blob);
  CAIRN_RETURN_IF_ERROR(manifest.AddOrReplaceFile(std::move(entry)));
  if (opt.progress) opt.progress(filename, data.size(), data.size());
  ArchiveSummary summary;
  summary.filename = filename;
  summary.size = data.size();
  return summary;
}

}  // namespace

Result<BackupSource> ParseBackupSpec(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    return Status::InvalidArgument(
        fmt::format("invalid backup spec {} (expected NAME:PATH, e.g. disk.img:/dev/sda)",
                    QuoteForMessage(spec)));
  }
  BackupSource source{spec.substr(0, colon), spec.substr(colon + 1)};
  auto server = ServerArchiveName(source.archive_name);
  if (!server.ok()) return server.status().WithContext("backup spec " + QuoteForMessage(spec));
  if (*server == kManifestName || *server == kCatalogFileName) {
    return Status::InvalidArgument(fmt::format(
        "backup spec {}: the archive name {} is reserved for the snapshot's {}; choose another "
        "name",
        QuoteForMessage(spec), QuoteForMessage(source.archive_name),
        *server == kManifestName ? "manifest" : "file catalog"));
  }
  auto type = ArchiveTypeOf(*server);
  if (!type.ok() ||
      (*type == ArchiveType::kDynamicIndex && !IsFileArchiveName(source.archive_name))) {
    return Status::InvalidArgument(fmt::format(
        "backup spec {}: archive type not supported here (use NAME.img, NAME.pxar or NAME.conf)",
        QuoteForMessage(spec)));
  }
  return source;
}

Result<BackupSummary> RunBackup(Repository& repo, const BackupOptions& options,
                                const std::vector<BackupSource>& sources) {
  if (sources.empty()) return Status::InvalidArgument("nothing to back up");
  BackupOptions opt = options;
  if (opt.threads == 0) {
    opt.threads = std::max({1u, std::thread::hardware_concurrency(), repo.PreferredParallelism()});
  }
  const double start = MonotonicSeconds();
  std::vector<std::pair<std::string, const BackupSource*>> archives;
  for (const auto& source : sources) {
    CAIRN_ASSIGN_OR_RETURN(std::string filename, ServerArchiveName(source.archive_name));
    if (IsFileArchiveName(source.archive_name) &&
        opt.change_detection != ChangeDetection::kLegacy) {
      filename = source.archive_name.substr(0, source.archive_name.size() - 5) + ".mpxar.didx";
    }
    for (const auto& [seen, unused] : archives) {
      if (seen == filename) return Status::InvalidArgument("archive " + filename + " given twice");
    }
    archives.emplace_back(filename, &source);
  }
  CAIRN_ASSIGN_OR_RETURN(
      auto session, repo.StartBackup(opt.ns, opt.group, opt.backup_time, opt.owner, opt.no_cache));
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest, Manifest::Create(BackupTypeName(opt.group.type),
                                                             opt.group.id, opt.backup_time));
  CAIRN_ASSIGN_OR_RETURN(std::optional<Manifest> prev, session->PreviousManifest());

  BackupSummary summary;
  summary.snapshot = session->snapshot();
  std::unique_ptr<CatalogUpload> catalog;
  // Metadata change detection reads the previous snapshot's metadata archives.
  std::unique_ptr<SnapshotReader> previous;
  if (prev && opt.change_detection == ChangeDetection::kMetadata) {
    CAIRN_ASSIGN_OR_RETURN(SnapshotRef ref, SnapshotRef::Make(opt.group, prev->backup_time()));
    auto reader = repo.OpenSnapshot(opt.ns, ref);
    if (reader.ok()) {
      previous = std::move(reader).value();
    } else {
      spdlog::warn("cannot read the previous snapshot {} ({}); every file is read", ref.ToString(),
                   reader.status().ToString());
    }
  }
  for (const auto& [filename, source] : archives) {
    if (filename.ends_with(".pxar.didx") && !catalog) {
      CAIRN_ASSIGN_OR_RETURN(catalog, CatalogUpload::Start(*session, opt));
    }
  }
  for (const auto& [filename, source] : archives) {
    CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
    Result<ArchiveSummary> archive =
        type == ArchiveType::kFixedIndex ? BackupImage(*session, prev, filename, source->path, opt,
                                                       manifest, &summary.incremental)
        : type == ArchiveType::kDynamicIndex
            ? BackupFileArchive(*session, prev, previous.get(), source->archive_name, source->path,
                                opt, manifest, catalog ? &catalog->writer() : nullptr)
            : BackupBlob(*session, filename, source->path, opt, manifest);
    if (!archive.ok()) return archive.status().WithContext("backup of " + source->path);
    if (archive->reused) summary.incremental = true;
    summary.archives.push_back(std::move(archive).value());
  }
  if (catalog) CAIRN_RETURN_IF_ERROR(catalog->Finish(manifest));
  if (opt.crypt) CAIRN_RETURN_IF_ERROR(manifest.Sign(*opt.crypt));  // also records the key id
  CAIRN_RETURN_IF_ERROR(session->Finish(std::move(manifest)));
  summary.seconds = MonotonicSeconds() - start;
  return summary;
}

}  // namespace cairn

#include "client/file_archive.h"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "base/log.h"
#include "base/time.h"
#include "client/chunk_reader.h"
#include "client/file_state.h"
#include "client/incremental_base.h"
#include "client/pxar_extract.h"
#include "format/chunk_stream.h"
#include "format/dynamic_index.h"
#include "format/pxar/accessor.h"
#include "format/pxar/decoder.h"

namespace cairn {
namespace {

// A stream going to the store: chunked with buzhash, chunks uploaded in parallel, and at the
// end its dynamic index uploaded and listed in the manifest.
class DynamicArchiveWriter final : public ByteSink {
 public:
  // Opens the archive's index in `session` (see BackupSession::OpenIndex for the errors).
  static Result<std::unique_ptr<DynamicArchiveWriter>> Open(
      BackupSession& session, const BackupOptions& opt, const std::string& filename,
      unsigned threads, size_t avg_chunk = BuzhashChunker::kDefaultAvgSize) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<IndexUpload> upload, session.OpenIndex(filename, 0));
    return std::unique_ptr<DynamicArchiveWriter>(
        new DynamicArchiveWriter(session, opt, std::move(upload), threads, avg_chunk));
  }

  Status Write(ByteView data) override { return stream_.Write(data); }

  ChunkStream& stream() { return stream_; }
  size_t min_chunk() const { return chunker_.min_size(); }

  // Marks the chunks of the previous snapshot's archive of the same name as stored, except
  // those the store lost (lost() lists them; they are stored again if their data comes up).
  Status UsePrevious(const Manifest& prev) {
    if (!UsableBaseFor(prev, filename_, opt_.crypt)) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(std::optional<Bytes> raw, ReadBaseArchive(session_, filename_));
    if (!raw) return Status::OK();
    auto index = DynamicIndex::Parse(*raw, filename_ + " of the previous snapshot");
    if (!index.ok()) {
      spdlog::warn("not using the previous snapshot as base: {}", index.status().ToString());
      return Status::OK();
    }
    std::vector<Digest> digests;
    digests.reserve(index->entries().size());
    for (const auto& e : index->entries()) digests.push_back(e.digest);
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> lost, UseBaseChunks(uploader_, digests, filename_));
    lost_.insert(lost.begin(), lost.end());
    reused_ = true;
    return Status::OK();
  }

  // Ends the stream, uploads the index and records it in `manifest`.
  Status Finish(Manifest& manifest) {
    CAIRN_RETURN_IF_ERROR(stream_.Finish());
    CAIRN_RETURN_IF_ERROR(uploader_.Finish());
    CAIRN_ASSIGN_OR_RETURN(DynamicIndexBuilder index, DynamicIndexBuilder::Create());
    for (uint64_t i = 0; i < seq_; ++i) {
      auto injected = injected_.find(i);
      CAIRN_RETURN_IF_ERROR(index.Append(
          lengths_[i], injected != injected_.end() ? injected->second : uploader_.DigestOf(i)));
    }
    DynamicIndexBuilder::Output out = index.Finish();
    CAIRN_RETURN_IF_ERROR(upload_->Close(out.bytes));
    ManifestFile entry;
    entry.filename = filename_;
    entry.crypt_mode = opt_.crypt ? CryptMode::kEncrypt : CryptMode::kNone;
    entry.size = index.size();
    entry.csum = out.csum;
    return manifest.AddOrReplaceFile(std::move(entry));
  }

  // Injected chunks count as chunks the store already had.
  ChunkUploaderStats stats() const {
    ChunkUploaderStats s = uploader_.stats();
    s.chunks += injected_.size();
    s.known += injected_.size();
    s.bytes += injected_bytes_;
    return s;
  }
  bool reused() const { return reused_; }
  // Chunks of the previous snapshot's archive the store no longer holds.
  const std::unordered_set<Digest, DigestHash>& lost() const { return lost_; }

 private:
  DynamicArchiveWriter(BackupSession& session, const BackupOptions& opt,
                       std::unique_ptr<IndexUpload> upload, unsigned threads, size_t avg_chunk)
      : session_(session),
        opt_(opt),
        upload_(std::move(upload)),
        filename_(upload_->filename()),
        chunker_(BuzhashChunker::Create(avg_chunk).value()),
        uploader_(session, *upload_, opt.crypt, threads, threads + 2),
        stream_(
            chunker_,
            [this](Bytes chunk) {
              lengths_.push_back(chunk.size());
              return uploader_.Submit(seq_++, std::move(chunk));
            },
            [this] { return uploader_.TakeBuffer(); },
            [this](uint64_t length, const Digest& digest) {
              // A chunk of the previous snapshot's stream, referenced unread.
              lengths_.push_back(length);
              injected_.emplace(seq_++, digest);
              injected_bytes_ += length;
              return Status::OK();
            }) {}

  BackupSession& session_;
  const BackupOptions& opt_;
  std::unique_ptr<IndexUpload> upload_;
  std::string filename_;
  BuzhashChunker chunker_;
  ChunkUploader uploader_;
  ChunkStream stream_;
  std::vector<uint64_t> lengths_;
  std::unordered_map<uint64_t, Digest> injected_;  // by sequence number
  uint64_t injected_bytes_ = 0;
  uint64_t seq_ = 0;
  bool reused_ = false;
  std::unordered_set<Digest, DigestHash> lost_;
};

// The previous snapshot's split archive, opened for metadata change detection.
struct PreviousSplitArchive {
  std::unique_ptr<DynamicIndex> metadata_index;
  std::unique_ptr<DynamicIndex> payload_index;
  std::unique_ptr<IndexRandomAccess> metadata;
  std::unique_ptr<pxar::Accessor> accessor;
};

Result<std::optional<PreviousSplitArchive>> OpenPreviousSplit(SnapshotReader* reader,
                                                              const std::optional<Manifest>& prev,
                                                              const std::string& stem,
                                                              const CryptConfig* crypt) {
  const std::string meta_file = stem + ".mpxar.didx", payload_file = stem + ".ppxar.didx";
  if (!reader || !prev || !UsableBaseFor(*prev, meta_file, crypt) ||
      !UsableBaseFor(*prev, payload_file, crypt)) {
    return std::optional<PreviousSplitArchive>();
  }
  // A damaged or incomplete previous archive only costs reading every file again.
  auto without_base = [&](const Status& st) -> Result<std::optional<PreviousSplitArchive>> {
    if (!st.IsCorruption() && !st.IsNotFound()) return st;
    spdlog::warn("{}: the previous split archive is damaged ({}); every file is read", stem,
                 st.ToString());
    return std::optional<PreviousSplitArchive>();
  };
  PreviousSplitArchive p;
  auto meta = LoadDynamicIndex(*reader, *prev, meta_file);
  if (!meta.ok()) return without_base(meta.status());
  auto payload = LoadDynamicIndex(*reader, *prev, payload_file);
  if (!payload.ok()) return without_base(payload.status());
  p.metadata_index = std::make_unique<DynamicIndex>(std::move(meta).value());
  p.payload_index = std::make_unique<DynamicIndex>(std::move(payload).value());
  p.metadata = std::make_unique<IndexRandomAccess>(*reader, *p.metadata_index, crypt, 32);
  auto accessor = pxar::Accessor::Open(p.metadata.get(), nullptr);
  if (!accessor.ok()) return without_base(accessor.status().WithContext("previous " + meta_file));
  p.accessor = std::move(accessor).value();
  return std::optional<PreviousSplitArchive>(std::move(p));
}

// Names one split archive of one snapshot for its file state: both index checksums, so that
// the same metadata over other payload bytes is another archive.
Digest SplitArchiveId(const Manifest& manifest, const std::string& stem) {
  Sha256 h;
  for (const char* suffix : {".mpxar.didx", ".ppxar.didx"}) {
    const ManifestFile* file = manifest.FindFile(stem + suffix);
    if (file) h.Update(file->csum);
  }
  return h.Finish();
}

void AddStats(ChunkUploaderStats& total, const ChunkUploaderStats& s) {
  total.chunks += s.chunks;
  total.bytes += s.bytes;
  total.known += s.known;
  total.zero_chunks += s.zero_chunks;
  total.uploaded += s.uploaded;
  total.duplicates += s.duplicates;
  total.uploaded_bytes += s.uploaded_bytes;
  total.new_bytes += s.new_bytes;
  total.restored += s.restored;
}

std::string Stem(const std::string& name) {
  return name.substr(0, name.size() - 5);
}  // ".pxar"

}  // namespace

struct CatalogUpload::Impl {
  std::unique_ptr<DynamicArchiveWriter> archive;
  std::unique_ptr<CatalogWriter> writer;
};

CatalogUpload::CatalogUpload(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CatalogUpload::~CatalogUpload() = default;

Result<std::unique_ptr<CatalogUpload>> CatalogUpload::Start(BackupSession& session,
                                                            const BackupOptions& opt) {
  auto impl = std::make_unique<Impl>();
  CAIRN_ASSIGN_OR_RETURN(impl->archive,
                         DynamicArchiveWriter::Open(session, opt, kCatalogFileName, 1,
                                                    BuzhashChunker::kCatalogAvgSize));
  CAIRN_ASSIGN_OR_RETURN(impl->writer, CatalogWriter::Create(impl->archive.get()));
  return std::unique_ptr<CatalogUpload>(new CatalogUpload(std::move(impl)));
}

CatalogWriter& CatalogUpload::writer() {
  return *impl_->writer;
}

Status CatalogUpload::Finish(Manifest& manifest) {
  CAIRN_RETURN_IF_ERROR(impl_->writer->Finish());
  return impl_->archive->Finish(manifest);
}

Result<ArchiveSummary> BackupFileArchive(BackupSession& session,
                                         const std::optional<Manifest>& prev,
                                         SnapshotReader* previous_snapshot, const std::string& name,
                                         const std::string& path, const BackupOptions& opt,
                                         Manifest& manifest, CatalogWriter* catalog) {
  const bool split = opt.change_detection != ChangeDetection::kLegacy;
  const std::string stem = Stem(name);
  CreateOptions create;
  create.excludes = opt.excludes;
  create.one_file_system = opt.one_file_system;
  create.warn = [](const std::string& message) { spdlog::warn("{}", message); };
  if (opt.progress) {
    create.progress = [&opt, &name](uint64_t done) { opt.progress(name, done, 0); };
  }
  ArchiveSummary summary;
  if (!split) {
    summary.filename = stem + ".pxar.didx";
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<DynamicArchiveWriter> writer,
                           DynamicArchiveWriter::Open(session, opt, summary.filename, opt.threads));
    DynamicArchiveWriter& archive = *writer;
    if (prev) CAIRN_RETURN_IF_ERROR(archive.UsePrevious(*prev));
    create.catalog = catalog;
    if (catalog) catalog->StartDirectory(summary.filename);
    CAIRN_ASSIGN_OR_RETURN(CreateStats stats, CreateArchive(path, &archive, nullptr, create));
    if (catalog) CAIRN_RETURN_IF_ERROR(catalog->EndDirectory());
    CAIRN_RETURN_IF_ERROR(archive.Finish(manifest));
    summary.size = stats.bytes_read;
    summary.chunks = archive.stats();
    summary.tree = stats;
    summary.reused = archive.reused();
    return summary;
  }
  summary.filename = stem + ".mpxar.didx";
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<DynamicArchiveWriter> meta_writer,
                         DynamicArchiveWriter::Open(session, opt, summary.filename, 1));
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<DynamicArchiveWriter> payload_writer,
      DynamicArchiveWriter::Open(session, opt, stem + ".ppxar.didx", opt.threads));
  DynamicArchiveWriter& meta = *meta_writer;
  DynamicArchiveWriter& payload = *payload_writer;
  if (prev) {
    CAIRN_RETURN_IF_ERROR(meta.UsePrevious(*prev));
    CAIRN_RETURN_IF_ERROR(payload.UsePrevious(*prev));
  }
  create.before_payload = [&payload] { return payload.stream().CutIfAtLeast(payload.min_chunk()); };
  std::optional<PreviousSplitArchive> previous;
  std::optional<PayloadReuse> reuse;
  std::optional<FileStateTable> previous_state;
  const std::string state_path =
      opt.file_state_dir.empty()
          ? std::string()
          : FileStatePath(opt.file_state_dir, opt.ns.ToString(), opt.group.ToString(), stem);
  if (opt.change_detection == ChangeDetection::kMetadata) {
    CAIRN_ASSIGN_OR_RETURN(previous, OpenPreviousSplit(previous_snapshot, prev, stem, opt.crypt));
    if (!previous) {
      spdlog::info("{}: no usable previous split archive; every file is read", name);
    } else if (!state_path.empty()) {
      // Without the inodes and ctimes of exactly that archive, a file rewritten with its old
      // mtime would go unnoticed: read everything instead.
      Result<std::optional<FileStateTable>> loaded =
          FileStateTable::Load(state_path, SplitArchiveId(*prev, stem));
      if (!loaded.ok()) {
        spdlog::warn("{}; every file is read", loaded.status().ToString());
      } else if (!*loaded) {
        spdlog::info(
            "{}: this client has no file state of the previous snapshot; every file is "
            "read",
            name);
      } else {
        previous_state = std::move(**loaded);
      }
      if (!previous_state) previous.reset();
    }
    if (previous && !meta.lost().empty()) {
      spdlog::info("{}: the previous metadata archive lost chunks; every file is read", name);
      previous.reset();
    }
    if (previous && !payload.reused()) {
      // The session did not take the previous payload index (a server refuses one whose chunks
      // it lost): its chunks cannot be referenced unread.
      spdlog::info("{}: the previous payload archive is not usable as base; every file is read",
                   name);
      previous.reset();
    }
    if (previous) {
      reuse.emplace(*previous->accessor, *previous->payload_index, payload.stream(),
                    previous_state ? &*previous_state : nullptr, &payload.lost());
      create.reuse = &*reuse;
    }
  }
  FileStateRecorder recorder(NowTimespec());
  if (!state_path.empty()) create.file_state = &recorder;
  CAIRN_ASSIGN_OR_RETURN(CreateStats stats, CreateArchive(path, &meta, &payload, create));
  CAIRN_RETURN_IF_ERROR(meta.Finish(manifest));
  CAIRN_RETURN_IF_ERROR(payload.Finish(manifest));
  if (!state_path.empty()) {
    // Saved before the snapshot is finished: should it never be, the state names an archive
    // no snapshot has and is ignored.
    Status saved = recorder.Save(state_path, SplitArchiveId(manifest, stem));
    if (!saved.ok()) {
      spdlog::warn("{}; the next metadata-mode backup reads every file", saved.ToString());
    } else if (recorder.racy_files() > 0) {
      spdlog::info(
          "{}: {} file(s) changed just before the backup; the next "
          "metadata-mode backup reads them again",
          name, recorder.racy_files());
    }
  }
  summary.size = stats.bytes_read;
  summary.chunks = meta.stats();
  AddStats(summary.chunks, payload.stats());
  summary.tree = stats;
  summary.reused = payload.reused();
  return summary;
}

Result<std::vector<std::string>> FileArchiveFiles(const Manifest& manifest,
                                                  const std::string& name) {
  const std::string stem = Stem(name);
  if (manifest.FindFile(stem + ".pxar.didx")) return std::vector<std::string>{stem + ".pxar.didx"};
  if (manifest.FindFile(stem + ".mpxar.didx") && manifest.FindFile(stem + ".ppxar.didx")) {
    return std::vector<std::string>{stem + ".mpxar.didx", stem + ".ppxar.didx"};
  }
  return Status::NotFound(fmt::format("the snapshot has no file archive {}", name));
}

Result<RestoreSummary> RestoreFileArchive(SnapshotReader& reader, const Manifest& manifest,
                                          const std::vector<std::string>& files,
                                          const CryptConfig* crypt, const std::string& target,
                                          const RestoreOptions& opt) {
  const double start = MonotonicSeconds();
  std::vector<DynamicIndex> indexes;
  for (const std::string& file : files) {
    CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, LoadDynamicIndex(reader, manifest, file));
    indexes.push_back(std::move(index));
  }
  // A subtree is reached through the GOODBYE tables (only the chunks that hold it are read); the
  // whole archive is read as a stream.
  const bool split = indexes.size() > 1;
  std::optional<IndexSource> payload;
  if (split) payload.emplace(reader, indexes[1], crypt, opt.threads + 2);
  IndexRandomAccess random_archive(reader, indexes[0], crypt, 32);
  std::optional<IndexSource> archive;
  std::optional<RangeSource> subtree_source;
  std::unique_ptr<pxar::Accessor> accessor;
  std::unique_ptr<pxar::Decoder> decoder;
  if (opt.subtree.empty()) {
    archive.emplace(reader, indexes[0], crypt, split ? 2 : opt.threads + 2);
    CAIRN_ASSIGN_OR_RETURN(decoder, pxar::Decoder::Open(&*archive, split ? &*payload : nullptr));
  } else {
    CAIRN_ASSIGN_OR_RETURN(accessor, pxar::Accessor::Open(&random_archive, nullptr));
    CAIRN_ASSIGN_OR_RETURN(pxar::Entry entry, accessor->Lookup(opt.subtree));
    if (entry.path.empty()) {
      return Status::InvalidArgument("--path names the archive root; restore without --path");
    }
    const size_t slash = entry.path.rfind('/');
    subtree_source.emplace(random_archive, entry.filename_offset,
                           random_archive.size() - entry.filename_offset);
    decoder = pxar::Decoder::OpenEntry(
        &*subtree_source, entry.filename_offset, accessor->format_version(),
        slash == std::string::npos ? "" : entry.path.substr(0, slash), split ? &*payload : nullptr);
  }
  ExtractOptions extract;
  extract.subtree = opt.subtree;
  extract.warn = [](const std::string& message) { spdlog::warn("{}", message); };
  if (opt.progress) {
    extract.progress = [&opt, &files](uint64_t done) { opt.progress(files[0], done, 0); };
  }
  CAIRN_ASSIGN_OR_RETURN(ExtractStats stats, ExtractArchive(*decoder, target, extract));
  RestoreSummary summary;
  summary.filename = files[0];
  summary.target = target;
  summary.bytes = stats.bytes;
  summary.files = stats.files;
  summary.seconds = MonotonicSeconds() - start;
  return summary;
}

}  // namespace cairn

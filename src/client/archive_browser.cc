#include "client/archive_browser.h"

#include <fmt/format.h>

#include "client/chunk_reader.h"
#include "client/exclude.h"
#include "client/file_archive.h"
#include "format/pxar/accessor.h"
#include "format/pxar/catalog.h"

namespace cairn {
namespace {

std::string Trim(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(path);
}

char TypeLetter(const pxar::Entry& e) {
  switch (e.kind) {
    case pxar::EntryKind::kDirectory: return 'd';
    case pxar::EntryKind::kFile: return 'f';
    case pxar::EntryKind::kSymlink: return 'l';
    case pxar::EntryKind::kHardlink: return 'h';
    case pxar::EntryKind::kDevice:
      return e.metadata.file_type() == pxar::kTypeBlockDevice ? 'b' : 'c';
    case pxar::EntryKind::kFifo: return 'p';
    case pxar::EntryKind::kSocket: return 's';
    case pxar::EntryKind::kDirectoryEnd: break;
  }
  return '?';
}

BrowseEntry FromPxar(const pxar::Entry& e) {
  BrowseEntry b;
  b.type = TypeLetter(e);
  b.path = e.path;
  b.size = e.file_size;
  b.mtime = e.metadata.stat.mtime_secs;
  if (e.kind == pxar::EntryKind::kSymlink) b.link_target = e.link_target;
  return b;
}

Result<ExcludeList> Pattern(std::string_view pattern) {
  ExcludeList list;
  CAIRN_RETURN_IF_ERROR(list.Add(pattern));
  return list;
}

// Random access to a pxar archive (and its payload stream) stored in the snapshot.
class StoredArchive {
 public:
  static Result<std::unique_ptr<StoredArchive>> Open(SnapshotReader& reader,
                                                     const Manifest& manifest,
                                                     const std::vector<std::string>& files,
                                                     const CryptConfig* crypt) {
    std::unique_ptr<StoredArchive> s(new StoredArchive);
    for (const auto& file : files) {
      CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, LoadDynamicIndex(reader, manifest, file));
      s->indexes_.push_back(std::make_unique<DynamicIndex>(std::move(index)));
      s->sources_.push_back(
          std::make_unique<IndexRandomAccess>(reader, *s->indexes_.back(), crypt));
    }
    CAIRN_ASSIGN_OR_RETURN(
        s->accessor_,
        pxar::Accessor::Open(s->sources_[0].get(),
                             s->sources_.size() > 1 ? s->sources_[1].get() : nullptr));
    return s;
  }
  pxar::Accessor& accessor() { return *accessor_; }

  Status Dump(std::string_view path, ByteSink& out) {
    CAIRN_ASSIGN_OR_RETURN(pxar::Entry e, accessor_->Lookup(path));
    CAIRN_ASSIGN_OR_RETURN(e, accessor_->ResolveHardlink(e));
    if (e.kind != pxar::EntryKind::kFile) {
      return Status::InvalidArgument(fmt::format("'{}' is not a regular file", Trim(path)));
    }
    CAIRN_ASSIGN_OR_RETURN(auto content, accessor_->OpenContent(e));
    Bytes buf(1 << 20);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t n, content->Read(buf));
      if (n == 0) return Status::OK();
      CAIRN_RETURN_IF_ERROR(out.Write(ByteView(buf.data(), n)));
    }
  }

 private:
  std::vector<std::unique_ptr<DynamicIndex>> indexes_;
  std::vector<std::unique_ptr<IndexRandomAccess>> sources_;
  std::unique_ptr<pxar::Accessor> accessor_;
};

// Split archives: everything from the .mpxar.
class SplitBrowser final : public ArchiveBrowser {
 public:
  explicit SplitBrowser(std::unique_ptr<StoredArchive> archive) : archive_(std::move(archive)) {}

  Result<std::vector<BrowseEntry>> List(std::string_view path) override {
    CAIRN_ASSIGN_OR_RETURN(pxar::Entry e, archive_->accessor().Lookup(path));
    if (e.kind != pxar::EntryKind::kDirectory) return std::vector<BrowseEntry>{FromPxar(e)};
    CAIRN_ASSIGN_OR_RETURN(std::vector<pxar::Entry> children, archive_->accessor().List(e));
    std::vector<BrowseEntry> out;
    for (const auto& c : children) out.push_back(FromPxar(c));
    return out;
  }

  Result<std::vector<BrowseEntry>> Find(std::string_view pattern) override {
    CAIRN_ASSIGN_OR_RETURN(ExcludeList match, Pattern(pattern));
    std::vector<BrowseEntry> out;
    CAIRN_RETURN_IF_ERROR(Walk(archive_->accessor().root(), match, out));
    return out;
  }

  Status Dump(std::string_view path, ByteSink& out) override { return archive_->Dump(path, out); }

 private:
  Status Walk(const pxar::Entry& dir, const ExcludeList& match, std::vector<BrowseEntry>& out) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<pxar::Entry> children, archive_->accessor().List(dir));
    for (const auto& c : children) {
      const bool is_dir = c.kind == pxar::EntryKind::kDirectory;
      if (match.Excluded(c.path, is_dir)) out.push_back(FromPxar(c));
      if (is_dir) CAIRN_RETURN_IF_ERROR(Walk(c, match, out));
    }
    return Status::OK();
  }

  std::unique_ptr<StoredArchive> archive_;
};

// Legacy archives: listing from the catalog, contents from the .pxar.
class CatalogBrowser final : public ArchiveBrowser {
 public:
  CatalogBrowser(SnapshotReader& reader, const Manifest& manifest, std::vector<std::string> files,
                 const CryptConfig* crypt, std::unique_ptr<DynamicIndex> index,
                 std::unique_ptr<IndexRandomAccess> source, std::unique_ptr<CatalogReader> catalog)
      : reader_(reader),
        manifest_(manifest),
        files_(std::move(files)),
        crypt_(crypt),
        index_(std::move(index)),
        source_(std::move(source)),
        catalog_(std::move(catalog)) {}

  Result<std::vector<BrowseEntry>> List(std::string_view path) override {
    const std::string rel = Trim(path);
    CAIRN_ASSIGN_OR_RETURN(CatalogEntry e, Lookup(rel));
    if (e.type != CatalogType::kDirectory) return std::vector<BrowseEntry>{From(e, rel)};
    CAIRN_ASSIGN_OR_RETURN(std::vector<CatalogEntry> children, catalog_->List(e.block_offset));
    std::vector<BrowseEntry> out;
    for (const auto& c : children) out.push_back(From(c, Join(rel, c.name)));
    return out;
  }

  Result<std::vector<BrowseEntry>> Find(std::string_view pattern) override {
    CAIRN_ASSIGN_OR_RETURN(ExcludeList match, Pattern(pattern));
    CAIRN_ASSIGN_OR_RETURN(CatalogEntry root, Lookup(""));
    std::vector<BrowseEntry> out;
    CAIRN_RETURN_IF_ERROR(Walk(root.block_offset, "", match, out, 0));
    return out;
  }

  Status Dump(std::string_view path, ByteSink& out) override {
    if (!archive_) {
      CAIRN_ASSIGN_OR_RETURN(archive_, StoredArchive::Open(reader_, manifest_, files_, crypt_));
    }
    return archive_->Dump(path, out);
  }

 private:
  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }
  static BrowseEntry From(const CatalogEntry& e, std::string path) {
    BrowseEntry b;
    b.type = static_cast<char>(e.type);
    b.path = std::move(path);
    b.size = e.size;
    b.mtime = e.mtime;
    return b;
  }
  Result<CatalogEntry> Lookup(const std::string& rel) {
    auto e = catalog_->Lookup(files_[0] + (rel.empty() ? "" : "/" + rel));
    if (!e.ok() && e.status().IsNotFound()) {
      return Status::NotFound(fmt::format("'{}' is not in the archive", rel));
    }
    return e;
  }
  Status Walk(uint64_t block, const std::string& dir, const ExcludeList& match,
              std::vector<BrowseEntry>& out, int depth) {
    if (depth > 4096) return Status::Corruption("catalog: directories nested too deeply");
    CAIRN_ASSIGN_OR_RETURN(std::vector<CatalogEntry> children, catalog_->List(block));
    for (const auto& c : children) {
      std::string path = Join(dir, c.name);
      const bool is_dir = c.type == CatalogType::kDirectory;
      if (match.Excluded(path, is_dir)) out.push_back(From(c, path));
      if (is_dir) CAIRN_RETURN_IF_ERROR(Walk(c.block_offset, path, match, out, depth + 1));
    }
    return Status::OK();
  }

  SnapshotReader& reader_;
  const Manifest& manifest_;
  std::vector<std::string> files_;
  const CryptConfig* crypt_;
  std::unique_ptr<DynamicIndex> index_;
  std::unique_ptr<IndexRandomAccess> source_;
  std::unique_ptr<CatalogReader> catalog_;
  std::unique_ptr<StoredArchive> archive_;
};

}  // namespace

Result<std::unique_ptr<ArchiveBrowser>> ArchiveBrowser::Open(SnapshotReader& reader,
                                                             const Manifest& manifest,
                                                             const std::string& name,
                                                             const CryptConfig* crypt) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> files, FileArchiveFiles(manifest, name));
  if (files.size() > 1) {
    CAIRN_ASSIGN_OR_RETURN(auto archive, StoredArchive::Open(reader, manifest, files, crypt));
    return std::unique_ptr<ArchiveBrowser>(new SplitBrowser(std::move(archive)));
  }
  if (!manifest.FindFile(kCatalogFileName)) {
    return Status::NotFound(
        fmt::format("snapshot {} has no catalog for {}", reader.snapshot().ToString(), name));
  }
  CAIRN_ASSIGN_OR_RETURN(DynamicIndex index, LoadDynamicIndex(reader, manifest, kCatalogFileName));
  auto owned = std::make_unique<DynamicIndex>(std::move(index));
  auto source = std::make_unique<IndexRandomAccess>(reader, *owned, crypt);
  CAIRN_ASSIGN_OR_RETURN(auto catalog, CatalogReader::Open(source.get()));
  return std::unique_ptr<ArchiveBrowser>(new CatalogBrowser(reader, manifest, std::move(files),
                                                            crypt, std::move(owned),
                                                            std::move(source), std::move(catalog)));
}

}  // namespace cairn

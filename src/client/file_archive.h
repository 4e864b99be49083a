// File archives in snapshots: a directory tree backed up as pxar (pxar_create.h) through the
// content-defined chunker into dynamic indexes, and restored from them (pxar_extract.h).
//
// Layouts, as PBS's `--change-detection-mode` (docs/file-archives.md):
//   legacy   NAME.pxar.didx: one unified (v1) stream. The default, readable by every PBS. The
//            snapshot also gets catalog.pcat1.didx listing the files of its legacy archives.
//   data     NAME.mpxar.didx + NAME.ppxar.didx: split (v2) metadata and payload streams; file
//            starts are suggested as payload chunk boundaries, so unchanged files dedup well.
//   metadata as data, but a file whose metadata and size equal its entry in the previous
//            snapshot's .mpxar is not read: its previous payload chunks are referenced
//            (payload_reuse.h). Without a usable previous split archive, every file is read.
// All upload only chunks the store does not have (the previous snapshot's chunks of the same
// archive are known without asking the store).
//
// Thread-safety: as RunBackup / RestoreArchive.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/archive_options.h"
#include "client/pxar_create.h"
#include "client/repository.h"

namespace cairn {

// True for a client archive name of a file archive: "NAME.pxar".
inline bool IsFileArchiveName(std::string_view name) {
  return name.size() > 5 && name.ends_with(".pxar");
}

inline constexpr const char* kCatalogFileName = "catalog.pcat1.didx";

// The snapshot's catalog, streamed to the store (512 KiB average chunks) while legacy file
// archives are backed up, and listed in the manifest by Finish.
class CatalogUpload {
 public:
  static Result<std::unique_ptr<CatalogUpload>> Start(BackupSession& session,
                                                      const BackupOptions& options);
  ~CatalogUpload();
  CatalogWriter& writer();
  Status Finish(Manifest& manifest);

 private:
  struct Impl;
  explicit CatalogUpload(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Backs up the tree at `path` as client archive `name` ("root.pxar") into `manifest`; a legacy
// archive's entries also go to `catalog` if given. `previous_snapshot` reads the previous
// snapshot (manifest `prev`) for metadata change detection; null otherwise.
Result<ArchiveSummary> BackupFileArchive(BackupSession& session,
                                         const std::optional<Manifest>& prev,
                                         SnapshotReader* previous_snapshot, const std::string& name,
                                         const std::string& path, const BackupOptions& options,
                                         Manifest& manifest, CatalogWriter* catalog);

// The manifest files that hold client archive `name` ("root.pxar"): {"root.pxar.didx"} or
// {"root.mpxar.didx", "root.ppxar.didx"}. NotFound if the snapshot has neither.
Result<std::vector<std::string>> FileArchiveFiles(const Manifest& manifest,
                                                  const std::string& name);

// Restores the file archive stored in `files` (as FileArchiveFiles returns them) of the
// snapshot `reader` reads into directory `target`; `crypt` is the key checked for the snapshot
// (null if unencrypted). The index files are checked against the manifest.
Result<RestoreSummary> RestoreFileArchive(SnapshotReader& reader, const Manifest& manifest,
                                          const std::vector<std::string>& files,
                                          const CryptConfig* crypt, const std::string& target,
                                          const RestoreOptions& options);

}  // namespace cairn

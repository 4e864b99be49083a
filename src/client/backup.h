// Backup of files and block devices into a Repository: the client's "main job".
//
// Each source becomes one archive of the new snapshot:
//   NAME.img  (any file or block device) -> NAME.img.fidx, fixed-size chunks (default 4 MiB)
//   NAME.pxar (a directory)              -> NAME.pxar.didx, or NAME.mpxar.didx + NAME.ppxar.didx
//                                           (file_archive.h), content-defined chunks
//   NAME.conf / .json / .log / .key      -> NAME.conf.blob etc., one blob (at most 16 MiB)
// Chunks already referenced by the same archive in the group's previous snapshot are not
// uploaded again (when that snapshot used the same encryption key and did not fail verify),
// unless the store lost them: those are stored again from the source, and a damaged base
// makes a full backup instead of a failure.
// With a key, chunks, blobs and the index's chunks are encrypted and the manifest is signed.
//
// Thread-safety: RunBackup may be called concurrently for different groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/archive_options.h"
#include "client/repository.h"

namespace cairn {

inline constexpr uint64_t kMaxBlobArchiveSize = 16u << 20;

struct BackupSource {
  std::string archive_name;  // client-side name: "disk.img", "vm.conf"
  std::string path;
};

// Parses "NAME:PATH" (NAME like disk.img or vm.conf). InvalidArgument naming the spec.
Result<BackupSource> ParseBackupSpec(const std::string& spec);

struct BackupSummary {
  SnapshotRef snapshot;
  std::vector<ArchiveSummary> archives;
  bool incremental = false;  // a previous snapshot's chunks were reused
  double seconds = 0;
};

// Backs up `sources` as one new snapshot. Nothing is visible unless every archive succeeds.
Result<BackupSummary> RunBackup(Repository& repo, const BackupOptions& options,
                                const std::vector<BackupSource>& sources);

}  // namespace cairn

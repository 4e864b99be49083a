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
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/chunk_uploader.h"
#include "client/exclude.h"
#include "client/pxar_create.h"
#include "client/repository.h"
#include "format/crypt_config.h"

namespace cairn {

inline constexpr uint64_t kMaxBlobArchiveSize = 16u << 20;

// Called with (bytes done, bytes total) as an archive progresses; total 0 if unknown.
using ProgressFn = std::function<void(const std::string& archive, uint64_t done, uint64_t total)>;

struct BackupSource {
  std::string archive_name;  // client-side name: "disk.img", "vm.conf"
  std::string path;
};

// Parses "NAME:PATH" (NAME like disk.img or vm.conf). InvalidArgument naming the spec.
Result<BackupSource> ParseBackupSpec(const std::string& spec);

// How file archives are written and what a rerun reads again (PBS's --change-detection-mode).
enum class ChangeDetection {
  kLegacy,  // unified .pxar (v1); every file is read
  kData,    // split .mpxar + .ppxar (v2); every file is read
  kMetadata,  // split; files unchanged since the previous snapshot are not read
};

// "legacy" / "data" / "metadata"; InvalidArgument naming the value otherwise.
Result<ChangeDetection> ParseChangeDetection(std::string_view name);

struct BackupOptions {
  BackupNamespace ns;
  BackupGroup group;
  int64_t backup_time = 0;
  std::string owner = "root@pam";
  const CryptConfig* crypt = nullptr;  // null: unencrypted
  uint64_t chunk_size = 4u << 20;      // fixed chunk size for images
  unsigned threads = 0;                // 0: one per core, more for a remote store
  bool no_cache = false;               // keep no local copies of new chunks (cached stores)
  ProgressFn progress;
  // File archives:
  ChangeDetection change_detection = ChangeDetection::kLegacy;
  ExcludeList excludes;         // --exclude patterns
  bool one_file_system = true;  // do not descend into other filesystems' mount points
  // Client-side directory (specific to this store) for the inode/ctime state of split file
  // archives (file_state.h). Empty: none is kept and metadata mode compares metadata and size
  // only, as PBS does.
  std::string file_state_dir;
};

struct ArchiveSummary {
  std::string filename;  // server-side name (the metadata index of a split file archive)
  uint64_t size = 0;     // bytes read
  ChunkUploaderStats chunks;
  std::optional<CreateStats> tree;  // file archives: what the walk found
  bool reused = false;              // the previous snapshot's chunks were known
};

// True if `prev` may serve as incremental base for archive `filename`: it holds that archive in
// the same crypt mode, under the same key, and did not fail verification.
bool UsableBaseFor(const Manifest& prev, const std::string& filename, const CryptConfig* crypt);

// The previous snapshot's archive `filename`, raw; nullopt (with a warning) if it is missing or
// damaged, so that a damaged base makes a full backup of that archive rather than a failure.
// Other errors (the store cannot be read) are returned.
Result<std::optional<Bytes>> ReadBaseArchive(BackupSession& session, const std::string& filename);

// ChunkUploader::UseBaseChunks for the chunks of the previous snapshot's archive `filename`,
// warning once if the store lost some of them (they are stored again from the source).
Result<std::vector<Digest>> UseBaseChunks(ChunkUploader& uploader, std::span<const Digest> digests,
                                          const std::string& filename);

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

// The options and results of backing up and restoring one archive, shared by images, blobs
// (backup.h, restore.h) and file archives (file_archive.h).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "client/chunk_uploader.h"
#include "client/exclude.h"
#include "client/pxar_create.h"
#include "format/crypt_config.h"
#include "types/backup_names.h"

namespace cairn {

// Called with (bytes done, bytes total) as an archive progresses; total 0 if unknown.
using ProgressFn = std::function<void(const std::string& archive, uint64_t done, uint64_t total)>;

// How file archives are written and what a rerun reads again (PBS's --change-detection-mode).
enum class ChangeDetection {
  kLegacy,    // unified .pxar (v1); every file is read
  kData,      // split .mpxar + .ppxar (v2); every file is read
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

struct RestoreOptions {
  const CryptConfig* crypt = nullptr;
  unsigned threads = 0;  // 0: one per core, more for a remote store
  ProgressFn progress;
  // File archives: restore only this path of the archive (e.g. "etc/hosts"); "" for all.
  std::string subtree;
  // Images and blobs: replace an existing regular file (atomically). File archives refuse it:
  // they restore into a new or empty directory.
  bool overwrite = false;
};

struct RestoreSummary {
  std::string filename;
  std::string target;  // the file written
  uint64_t bytes = 0;
  uint64_t files = 0;  // file archives: regular files restored
  double seconds = 0;
};

}  // namespace cairn

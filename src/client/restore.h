// Restore of one archive of a snapshot from a Repository to a local path.
//
// Images (`.img`) are restored to a regular file or an existing block device (written in
// place); blobs to a regular file. An existing regular file is replaced only when asked
// (`overwrite`); any other existing node (character device, FIFO, socket) is refused, never
// replaced. A regular-file target is written under a temporary name, fsynced and renamed into
// place, so a failed restore never leaves a partial file where a good one stood. All-zero
// chunks become holes in a new regular file. Every chunk is checked (CRC, decryption tag,
// digest, length) before its bytes are written; any mismatch fails the restore naming the chunk.
//
// Thread-safety: RestoreArchive may be called concurrently.
#pragma once

#include <string>

#include "client/archive_options.h"
#include "client/repository.h"

namespace cairn {

// Checks that the key given (`crypt`, or its absence) fits archive `entry` of the snapshot and
// verifies the manifest's signature. Returns the key to use for the archive (null if it is
// unencrypted). InvalidArgument if a key is missing or is another key; Corruption for a bad
// signature.
Result<const CryptConfig*> KeyFor(const Manifest& manifest, const ManifestFile& entry,
                                  const CryptConfig* crypt, const std::string& snap_name);

// Restores `archive` ("disk.img" or "disk.img.fidx") of `snap` to `target`, or into `target`
// under the archive's client name if `target` is an existing directory. A file archive
// ("root.pxar") is extracted into directory `target`, which must be new or empty.
// NotFound if the snapshot or archive does not exist; InvalidArgument if the archive is
// encrypted and no key (or another key) was given, if the target exists and may not be
// replaced (see above), or names something else than a directory for a file archive;
// Corruption naming the damaged object.
Result<RestoreSummary> RestoreArchive(Repository& repo, const BackupNamespace& ns,
                                      const SnapshotRef& snap, const std::string& archive,
                                      const std::string& target, const RestoreOptions& options);

}  // namespace cairn

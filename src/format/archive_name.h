// Archive names: the files of a snapshot other than its manifest, as PBS names them
// (docs/format-index-and-manifest.md). The server-side name carries the storage type as its
// extension:
//
//   client name        server name             type
//   disk.img           disk.img.fidx           fixed index
//   root.pxar          root.pxar.didx          dynamic index   (also .mpxar, .ppxar, .pcat1)
//   qemu-server.conf   qemu-server.conf.blob   blob            (also .json, .key, .log)
//
// Every function here refuses hostile names with InvalidArgument naming the input: empty, longer
// than 255 bytes, containing '/', NUL or another control character (0x01-0x1f, 0x7f), "." or
// "..", or starting with '.'. PBS itself only ever produces SAFE_ID names
// ([A-Za-z0-9_][A-Za-z0-9._-]*), which all pass, so a valid name can never step outside its
// snapshot directory or hide as a dot file.
//
// Thread-safety: pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn {

inline constexpr size_t kMaxArchiveNameLength = 255;
// The snapshot's manifest: a blob name no archive may take.
inline constexpr char kManifestName[] = "index.json.blob";
// The client's log, added to a finished snapshot by PBS's upload-backup-log; not in the manifest.
inline constexpr char kClientLogName[] = "client.log.blob";

enum class ArchiveType { kFixedIndex, kDynamicIndex, kBlob };

// "fidx", "didx" or "blob": the server-side extension of `type`, without the dot.
std::string_view ArchiveTypeExtension(ArchiveType type);

// OK if `name` is a safe file name (the rules above) ending in ".fidx", ".didx" or ".blob" with
// a non-empty stem. InvalidArgument naming `name` otherwise.
Status ValidateArchiveFileName(std::string_view name);

// The type of a server-side name, from its extension. InvalidArgument if the name is not a
// valid archive file name (see ValidateArchiveFileName).
Result<ArchiveType> ArchiveTypeOf(std::string_view server_name);

// Maps a client-side archive name to its server file name: ".img" gains ".fidx", ".pxar",
// ".mpxar", ".ppxar" and ".pcat1" gain ".didx", ".conf", ".json", ".key" and ".log" gain ".blob".
// A name that already ends in a server extension is returned unchanged (after validation).
// InvalidArgument for a hostile name, an unknown extension, or a result over 255 bytes.
Result<std::string> ServerArchiveName(std::string_view client_name);

// The reverse: strips the server extension ("disk.img.fidx" -> "disk.img"). InvalidArgument if
// `server_name` is not a valid archive file name.
Result<std::string> ClientArchiveName(std::string_view server_name);

}  // namespace cairn

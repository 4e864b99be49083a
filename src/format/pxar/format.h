// pxar: the file archive format of Proxmox Backup Server, byte-compatible (docs/file-archives.md;
// upstream, the pxar crate's src/format/mod.rs). An archive is a flat stream of items, each a
// 16-byte header (type u64 LE, full size u64 LE including the header) followed by content.
// Directories end with a GOODBYE table that maps SipHash-2-4 name hashes to child offsets, so a
// reader can look a path up without reading the whole archive.
//
// This header holds what the encoder, decoder and random-access reader share: the item type
// constants, the header codec, the name hash, and the metadata one entry carries. Everything here
// is a pure value or a pure function; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn::pxar {

// Item types: SipHash-2-4 (keys below) of "__PROXMOX_FORMAT_<X>__" strings.
inline constexpr uint64_t kFormatVersion = 0x730f6c75df16a40dULL;
inline constexpr uint64_t kEntry = 0xd5956474e588acefULL;
inline constexpr uint64_t kEntryV1 = 0x11da850a1c1cceffULL;  // legacy, decoded only
inline constexpr uint64_t kPrelude = 0xe309d79d9f7b771bULL;
inline constexpr uint64_t kFilename = 0x16701121063917b3ULL;
inline constexpr uint64_t kSymlink = 0x27f971e7dbf5dc5fULL;
inline constexpr uint64_t kDevice = 0x9fc9e906586d5ce9ULL;
inline constexpr uint64_t kXattr = 0x0dab0229b57dcd03ULL;
inline constexpr uint64_t kAclUser = 0x2ce8540a457d55b8ULL;
inline constexpr uint64_t kAclGroup = 0x136e3eceb04c03abULL;
inline constexpr uint64_t kAclGroupObj = 0x10868031e9582876ULL;
inline constexpr uint64_t kAclDefault = 0xbbbb13415a6896f5ULL;
inline constexpr uint64_t kAclDefaultUser = 0xc89357b40532cd1fULL;
inline constexpr uint64_t kAclDefaultGroup = 0xf90a8a5816038ffeULL;
inline constexpr uint64_t kFcaps = 0x2da9dd9db5f7fb67ULL;
inline constexpr uint64_t kQuotaProjectId = 0xe07540e82f7d1cbbULL;
inline constexpr uint64_t kHardlink = 0x51269c8422bd7275ULL;
inline constexpr uint64_t kPayload = 0x28147a1b0b7c1a25ULL;
inline constexpr uint64_t kPayloadRef = 0x419d3d6bc4ba977eULL;
inline constexpr uint64_t kGoodbye = 0x2fec4fa642d5731dULL;
inline constexpr uint64_t kGoodbyeTailMarker = 0xef5eed5b753e1555ULL;
inline constexpr uint64_t kPayloadStartMarker = 0x834c68c2194a4ed2ULL;
inline constexpr uint64_t kPayloadTailMarker = 0x6c72b78b984c81b5ULL;

inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kEntrySize = 40;        // ENTRY content
inline constexpr size_t kEntryV1Size = 32;      // ENTRY_V1 content
inline constexpr size_t kGoodbyeItemSize = 24;  // one GOODBYE record
inline constexpr size_t kMaxNameSize = 4096;    // file names and symlink / hardlink targets
inline constexpr size_t kMaxXattrNameSize = 255;
inline constexpr size_t kMaxXattrValueSize = 65536;
inline constexpr uint64_t kAclNoMask = UINT64_MAX;  // ACL_DEFAULT value "not set"

// File type bits of `mode` (fixed by the format, equal to Linux's).
inline constexpr uint64_t kTypeMask = 0170000;
inline constexpr uint64_t kTypeSocket = 0140000;
inline constexpr uint64_t kTypeSymlink = 0120000;
inline constexpr uint64_t kTypeRegular = 0100000;
inline constexpr uint64_t kTypeBlockDevice = 0060000;
inline constexpr uint64_t kTypeDirectory = 0040000;
inline constexpr uint64_t kTypeCharDevice = 0020000;
inline constexpr uint64_t kTypeFifo = 0010000;

struct ItemHeader {
  uint64_t type = 0;
  uint64_t full_size = 0;  // header included
  uint64_t content_size() const { return full_size - kHeaderSize; }
};

// Appends a header for `content_size` bytes of content to `out`.
void AppendHeader(Bytes& out, uint64_t type, uint64_t content_size);
// Parses 16 bytes. Corruption if full_size < 16 or the content exceeds the type's limit.
Result<ItemHeader> ParseHeader(const uint8_t* bytes);
// "ENTRY", "GOODBYE", ... or "unknown type 0x..." for error messages.
std::string TypeName(uint64_t type);

// SipHash-2-4 with pxar's keys of `name` (no NUL): the GOODBYE table hash.
uint64_t HashName(std::string_view name);

// OK if `name` can be an archive entry name: 1..4096 bytes, no '/', no NUL, not "." or "..".
// InvalidArgument naming the problem otherwise.
Status ValidateName(std::string_view name);

// OK if `path` is a relative path of valid names (ValidateName) joined by single '/', at most
// 4096 bytes: what a hard link may name as its target. InvalidArgument naming it otherwise.
Status ValidateRelativePath(std::string_view path);

// The stat part of an entry (ENTRY item).
struct Stat {
  uint64_t mode = 0;   // st_mode: type bits and permissions
  uint64_t flags = 0;  // chattr / FAT attribute bits in PBS's numbering (its WITH_FLAG_* bits)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_secs = 0;    // floored seconds since the epoch
  uint32_t mtime_nanos = 0;  // 0..999,999,999
  bool operator==(const Stat&) const = default;
};

struct Xattr {
  std::string name;  // with its namespace, e.g. "user.comment"
  Bytes value;
  bool operator==(const Xattr&) const = default;
};

// A named ACL entry: uid or gid and its permission bits (4 read, 2 write, 1 execute).
struct AclEntry {
  uint64_t id = 0;
  uint64_t permissions = 0;
  bool operator==(const AclEntry&) const = default;
  auto operator<=>(const AclEntry&) const = default;
};

// The base entries of a default ACL; kAclNoMask for an entry that is not set.
struct AclDefault {
  uint64_t user_obj = kAclNoMask;
  uint64_t group_obj = kAclNoMask;
  uint64_t other = kAclNoMask;
  uint64_t mask = kAclNoMask;
  bool operator==(const AclDefault&) const = default;
};

// A POSIX ACL in pxar's split form (the pxar crate's src/format/acl.rs): the owner/other/mask of
// the access ACL come from `mode`; group_obj is set only when the access ACL has a mask.
struct Acl {
  std::vector<AclEntry> users;
  std::vector<AclEntry> groups;
  std::optional<uint64_t> group_obj;
  std::optional<AclDefault> default_base;
  std::vector<AclEntry> default_users;
  std::vector<AclEntry> default_groups;
  bool empty() const {
    return users.empty() && groups.empty() && !group_obj && !default_base &&
           default_users.empty() && default_groups.empty();
  }
  bool operator==(const Acl&) const = default;
};

// Everything an entry records about a file besides its content.
struct Metadata {
  Stat stat;
  std::vector<Xattr> xattrs;  // in the order found
  Acl acl;
  std::optional<Bytes> fcaps;  // raw security.capability value
  std::optional<uint64_t> quota_project_id;
  bool operator==(const Metadata&) const = default;

  uint64_t file_type() const { return stat.mode & kTypeMask; }
  bool is_directory() const { return file_type() == kTypeDirectory; }
  bool is_regular() const { return file_type() == kTypeRegular; }
  bool is_symlink() const { return file_type() == kTypeSymlink; }
  bool is_device() const {
    return file_type() == kTypeBlockDevice || file_type() == kTypeCharDevice;
  }
  bool is_fifo_or_socket() const { return file_type() == kTypeFifo || file_type() == kTypeSocket; }
};

// Linux dev_t <-> (major, minor), glibc's 64-bit layout.
uint64_t DeviceMajor(uint64_t dev);
uint64_t DeviceMinor(uint64_t dev);
uint64_t MakeDevice(uint64_t major, uint64_t minor);

}  // namespace cairn::pxar

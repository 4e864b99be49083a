// Reading a file's metadata into the pxar form (pxar::Metadata) and applying it back, the way
// PBS's client does (docs/file-archives.md, "What is archived"):
//   - stat: mode, uid, gid, mtime (s + ns); chattr flags (FS_IOC_GETFLAGS) mapped to PBS's bits;
//   - xattrs named user.*, trusted.* or security.NTACL (others are not archived);
//   - security.capability as FCAPS; system.posix_acl_access / _default as ACL items;
//   - the project quota id (FS_IOC_FSGETXATTR) for directories and regular files, when not 0.
// A filesystem without xattrs, ACLs or flags simply yields none of them.
//
// Applying: ownership (only when running as root, or when it changes nothing), permissions,
// xattrs, ACLs, fcaps, flags and mtime, in the order that keeps each (chown clears setuid bits
// and capabilities, so it comes first; flags such as immutable come last, before the times).
//
// Thread-safety: free functions; safe to call concurrently on different files.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/result.h"
#include "format/pxar/format.h"

namespace cairn {

// Linux ACL xattr blobs (system.posix_acl_*) <-> pxar's split ACL form. Access ACLs give the
// named users/groups and, if the ACL has a mask, group_obj; default ACLs fill default_*.
// Corruption if a blob is malformed.
Status AclFromXattr(ByteView access, ByteView default_acl, pxar::Acl* acl);
// The blob for the access ACL of a file with `mode`, or empty if the ACL is just the mode.
Bytes AccessAclXattr(const pxar::Acl& acl, uint64_t mode);
// The blob for the default ACL, or empty if there is none.
Bytes DefaultAclXattr(const pxar::Acl& acl);

// PBS feature-flag bits <-> Linux inode flags (FS_*_FL), for the bits pxar records.
uint64_t PxarFlagsFromInodeFlags(uint32_t inode_flags);
uint32_t InodeFlagsFromPxarFlags(uint64_t pxar_flags);

// Reads the metadata of the file `name` in directory `dirfd`, whose lstat is `st`. `fd` is an
// open descriptor of that file (regular files and directories) or -1 (other types). Errors
// name `path` (for messages only); a file that vanished is NotFound.
Result<pxar::Metadata> ReadMetadata(int dirfd, const std::string& name, int fd,
                                    const struct stat& st, const std::string& path);

struct ApplyOptions {
  bool set_owner = true;  // false when not running as root: ownership is left as created
};

// Applies `m` to the file `name` in `dirfd` (`fd` open on it for regular files and directories,
// -1 otherwise). Errors name `path`.
Status ApplyMetadata(int dirfd, const std::string& name, int fd, const pxar::Metadata& m,
                     const ApplyOptions& options, const std::string& path);

}  // namespace cairn

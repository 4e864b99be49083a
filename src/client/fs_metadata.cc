#include "client/fs_metadata.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"

namespace cairn {
namespace {

// Linux's ACL xattr encoding: u32 version 2, then {u16 tag, u16 perm, u32 id} per entry.
constexpr uint32_t kAclXattrVersion = 2;
constexpr uint16_t kTagUserObj = 0x01, kTagUser = 0x02, kTagGroupObj = 0x04, kTagGroup = 0x08,
                   kTagMask = 0x10, kTagOther = 0x20;
constexpr uint32_t kUndefinedId = 0xffffffff;

struct RawAclEntry {
  uint16_t tag;
  uint16_t perm;
  uint32_t id;
};

Result<std::vector<RawAclEntry>> ParseAclXattr(ByteView blob) {
  if (blob.size() < 4 || (blob.size() - 4) % 8 != 0 || GetLE32(blob.data()) != kAclXattrVersion) {
    return Status::Corruption("malformed POSIX ACL xattr");
  }
  std::vector<RawAclEntry> out;
  for (size_t off = 4; off < blob.size(); off += 8) {
    const uint8_t* p = blob.data() + off;
    out.push_back(RawAclEntry{static_cast<uint16_t>(p[0] | p[1] << 8),
                              static_cast<uint16_t>(p[2] | p[3] << 8), GetLE32(p + 4)});
  }
  return out;
}

void AppendAclEntry(Bytes& out, uint16_t tag, uint64_t perm, uint32_t id) {
  uint8_t e[8];
  e[0] = static_cast<uint8_t>(tag);
  e[1] = static_cast<uint8_t>(tag >> 8);
  e[2] = static_cast<uint8_t>(perm & 7);
  e[3] = 0;
  PutLE32(e + 4, id);
  out.insert(out.end(), e, e + 8);
}

Bytes AclBlob(uint64_t user_obj, std::vector<pxar::AclEntry> users, uint64_t group_obj,
              std::vector<pxar::AclEntry> groups, std::optional<uint64_t> mask, uint64_t other) {
  std::sort(users.begin(), users.end());
  std::sort(groups.begin(), groups.end());
  Bytes out(4);
  PutLE32(out.data(), kAclXattrVersion);
  AppendAclEntry(out, kTagUserObj, user_obj, kUndefinedId);
  for (const auto& u : users)
    AppendAclEntry(out, kTagUser, u.permissions, static_cast<uint32_t>(u.id));
  AppendAclEntry(out, kTagGroupObj, group_obj, kUndefinedId);
  for (const auto& g : groups) {
    AppendAclEntry(out, kTagGroup, g.permissions, static_cast<uint32_t>(g.id));
  }
  if (mask) AppendAclEntry(out, kTagMask, *mask, kUndefinedId);
  AppendAclEntry(out, kTagOther, other, kUndefinedId);
  return out;
}

// The /proc path that names `name` in `dirfd` without following a final symlink.
std::string ProcPath(int dirfd, const std::string& name) {
  return fmt::format("/proc/self/fd/{}/{}", dirfd, name);
}

bool Unsupported(int err) {
  return err == ENOTSUP || err == ENOTTY || err == ENOSYS || err == EINVAL;
}

// All xattr names of the file (empty if the filesystem has none).
Result<std::vector<std::string>> ListXattrs(int fd, const std::string& proc_path,
                                            const std::string& path) {
  std::vector<char> buf(1024);
  for (;;) {
    ssize_t n = fd >= 0 ? ::flistxattr(fd, buf.data(), buf.size())
                        : ::llistxattr(proc_path.c_str(), buf.data(), buf.size());
    if (n >= 0) {
      std::vector<std::string> names;
      for (ssize_t i = 0; i < n;) {
        std::string name(buf.data() + i);
        i += static_cast<ssize_t>(name.size()) + 1;
        if (!name.empty()) names.push_back(std::move(name));
      }
      return names;
    }
    if (errno == ERANGE) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (Unsupported(errno)) return std::vector<std::string>{};
    return ErrnoStatus("list xattrs of " + path, errno);
  }
}

// The value of xattr `name`, or nullopt if it vanished meanwhile.
Result<std::optional<Bytes>> GetXattr(int fd, const std::string& proc_path, const std::string& name,
                                      const std::string& path) {
  Bytes buf(256);
  for (;;) {
    ssize_t n = fd >= 0 ? ::fgetxattr(fd, name.c_str(), buf.data(), buf.size())
                        : ::lgetxattr(proc_path.c_str(), name.c_str(), buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return std::optional<Bytes>(std::move(buf));
    }
    if (errno == ERANGE && buf.size() < pxar::kMaxXattrValueSize + 1) {
      buf.resize(pxar::kMaxXattrValueSize + 1);
      continue;
    }
    if (errno == ENODATA) return std::optional<Bytes>();
    return ErrnoStatus(fmt::format("read xattr {} of {}", name, path), errno);
  }
}

bool ArchivedXattrName(const std::string& name) {
  if (name.empty() || name.size() > pxar::kMaxXattrNameSize) return false;
  return name.starts_with("user.") || name.starts_with("trusted.") || name == "security.NTACL";
}

struct FlagMapping {
  uint64_t pxar;
  uint32_t inode;
};
// PBS's WITH_FLAG_* bits and the Linux inode flags they stand for (pbs-client/src/pxar/flags.rs).
constexpr FlagMapping kFlagMap[] = {
    {0x10000, 0x20},          // APPEND
    {0x20000, 0x80},          // NOATIME
    {0x40000, 0x4},           // COMPR
    {0x80000, 0x800000},      // NOCOW
    {0x100000, 0x40},         // NODUMP
    {0x200000, 0x10000},      // DIRSYNC
    {0x400000, 0x10},         // IMMUTABLE
    {0x800000, 0x8},          // SYNC
    {0x1000000, 0x400},       // NOCOMP
    {0x2000000, 0x20000000},  // PROJINHERIT
};

int SetXattr(int fd, const std::string& proc_path, const char* name, ByteView value) {
  return fd >= 0 ? ::fsetxattr(fd, name, value.data(), value.size(), 0)
                 : ::lsetxattr(proc_path.c_str(), name, value.data(), value.size(), 0);
}

}  // namespace

Status AclFromXattr(ByteView access, ByteView default_acl, pxar::Acl* acl) {
  if (!access.empty()) {
    CAIRN_ASSIGN_OR_RETURN(auto entries, ParseAclXattr(access));
    std::optional<uint64_t> group_obj;
    bool has_mask = false;
    for (const auto& e : entries) {
      if (e.tag == kTagUser) acl->users.push_back({e.id, e.perm});
      if (e.tag == kTagGroup) acl->groups.push_back({e.id, e.perm});
      if (e.tag == kTagGroupObj) group_obj = e.perm;
      if (e.tag == kTagMask) has_mask = true;
    }
    if (has_mask) acl->group_obj = group_obj;
    std::sort(acl->users.begin(), acl->users.end());
    std::sort(acl->groups.begin(), acl->groups.end());
  }
  if (!default_acl.empty()) {
    CAIRN_ASSIGN_OR_RETURN(auto entries, ParseAclXattr(default_acl));
    pxar::AclDefault base;
    bool any_base = false;
    for (const auto& e : entries) {
      switch (e.tag) {
        case kTagUserObj:
          base.user_obj = e.perm;
          any_base = true;
          break;
        case kTagGroupObj:
          base.group_obj = e.perm;
          any_base = true;
          break;
        case kTagOther:
          base.other = e.perm;
          any_base = true;
          break;
        case kTagMask:
          base.mask = e.perm;
          any_base = true;
          break;
        case kTagUser: acl->default_users.push_back({e.id, e.perm}); break;
        case kTagGroup: acl->default_groups.push_back({e.id, e.perm}); break;
        default: break;
      }
    }
    if (any_base) acl->default_base = base;
    std::sort(acl->default_users.begin(), acl->default_users.end());
    std::sort(acl->default_groups.begin(), acl->default_groups.end());
  }
  return Status::OK();
}

Bytes AccessAclXattr(const pxar::Acl& acl, uint64_t mode) {
  if (acl.users.empty() && acl.groups.empty() && !acl.group_obj) return {};
  uint64_t owner = (mode >> 6) & 7, group = (mode >> 3) & 7, other = mode & 7;
  if (acl.group_obj) return AclBlob(owner, acl.users, *acl.group_obj, acl.groups, group, other);
  return AclBlob(owner, acl.users, group, acl.groups, group, other);
}

Bytes DefaultAclXattr(const pxar::Acl& acl) {
  if (!acl.default_base && acl.default_users.empty() && acl.default_groups.empty()) return {};
  pxar::AclDefault base = acl.default_base.value_or(pxar::AclDefault{});
  auto perm = [](uint64_t v) { return v == pxar::kAclNoMask ? 0 : v; };
  std::optional<uint64_t> mask;
  if (base.mask != pxar::kAclNoMask) {
    mask = base.mask;
  } else if (!acl.default_users.empty() || !acl.default_groups.empty()) {
    mask = perm(base.group_obj);  // named entries need a mask
  }
  return AclBlob(perm(base.user_obj), acl.default_users, perm(base.group_obj), acl.default_groups,
                 mask, perm(base.other));
}

uint64_t PxarFlagsFromInodeFlags(uint32_t inode_flags) {
  uint64_t out = 0;
  for (const auto& m : kFlagMap) {
    if (inode_flags & m.inode) out |= m.pxar;
  }
  return out;
}

uint32_t InodeFlagsFromPxarFlags(uint64_t pxar_flags) {
  uint32_t out = 0;
  for (const auto& m : kFlagMap) {
    if (pxar_flags & m.pxar) out |= m.inode;
  }
  return out;
}

Result<pxar::Metadata> ReadMetadata(int dirfd, const std::string& name, int fd,
                                    const struct stat& st, const std::string& path) {
  pxar::Metadata m;
  m.stat.mode = st.st_mode;
  m.stat.uid = st.st_uid;
  m.stat.gid = st.st_gid;
  m.stat.mtime_secs = st.st_mtim.tv_sec;
  m.stat.mtime_nanos = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  const bool regular_or_dir = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
  if (fd >= 0 && regular_or_dir) {
    int flags = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
      m.stat.flags = PxarFlagsFromInodeFlags(static_cast<uint32_t>(flags));
    }
    struct fsxattr fsx {};
    if (::ioctl(fd, FS_IOC_FSGETXATTR, &fsx) == 0 && fsx.fsx_projid != 0) {
      m.quota_project_id = fsx.fsx_projid;
    }
  }
  const std::string proc = fd >= 0 ? std::string() : ProcPath(dirfd, name);
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ListXattrs(fd, proc, path));
  Bytes access_acl, default_acl;
  for (const std::string& x : names) {
    const bool acl_name = x == "system.posix_acl_access" || x == "system.posix_acl_default";
    if (!acl_name && x != "security.capability" && !ArchivedXattrName(x)) continue;
    if (acl_name && S_ISLNK(st.st_mode)) continue;
    CAIRN_ASSIGN_OR_RETURN(std::optional<Bytes> value, GetXattr(fd, proc, x, path));
    if (!value) continue;
    if (x == "system.posix_acl_access") {
      access_acl = std::move(*value);
    } else if (x == "system.posix_acl_default") {
      default_acl = std::move(*value);
    } else if (x == "security.capability") {
      m.fcaps = std::move(*value);
    } else if (value->size() <= pxar::kMaxXattrValueSize) {
      m.xattrs.push_back(pxar::Xattr{x, std::move(*value)});
    }
  }
  Status acl = AclFromXattr(access_acl, default_acl, &m.acl);
  if (!acl.ok()) return acl.WithContext(path);
  return m;
}

Status ApplyMetadata(int dirfd, const std::string& name, int fd, const pxar::Metadata& m,
                     const ApplyOptions& options, const std::string& path) {
  const bool symlink = m.is_symlink();
  const std::string proc = fd >= 0 ? std::string() : ProcPath(dirfd, name);
  if (options.set_owner) {
    int rc = fd >= 0 ? ::fchown(fd, m.stat.uid, m.stat.gid)
                     : ::fchownat(dirfd, name.c_str(), m.stat.uid, m.stat.gid, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return ErrnoStatus("set owner of " + path, errno);
  }
  if (!symlink) {
    mode_t mode = static_cast<mode_t>(m.stat.mode & 07777);
    int rc = fd >= 0 ? ::fchmod(fd, mode) : ::fchmodat(dirfd, name.c_str(), mode, 0);
    if (rc != 0) return ErrnoStatus("set permissions of " + path, errno);
  }
  for (const pxar::Xattr& x : m.xattrs) {
    if (SetXattr(fd, proc, x.name.c_str(), x.value) != 0 && !Unsupported(errno)) {
      return ErrnoStatus(fmt::format("set xattr {} of {}", x.name, path), errno);
    }
  }
  if (!symlink) {
    Bytes access = AccessAclXattr(m.acl, m.stat.mode);
    if (!access.empty() && SetXattr(fd, proc, "system.posix_acl_access", access) != 0 &&
        !Unsupported(errno)) {
      return ErrnoStatus("set ACL of " + path, errno);
    }
    Bytes def = DefaultAclXattr(m.acl);
    if (!def.empty() && m.is_directory() &&
        SetXattr(fd, proc, "system.posix_acl_default", def) != 0 && !Unsupported(errno)) {
      return ErrnoStatus("set default ACL of " + path, errno);
    }
  }
  if (m.fcaps && SetXattr(fd, proc, "security.capability", *m.fcaps) != 0 && !Unsupported(errno)) {
    return ErrnoStatus("set file capabilities of " + path, errno);
  }
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(m.stat.mtime_secs);
  times[1].tv_nsec = m.stat.mtime_nanos;
  int rc = fd >= 0 ? ::futimens(fd, times)
                   : ::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return ErrnoStatus("set mtime of " + path, errno);
  if (fd >= 0 && m.stat.flags != 0) {
    // Only the bits pxar records change; others (e.g. ext4's extents flag) stay as they are.
    int current = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &current) == 0) {
      int wanted = static_cast<int>(
          (static_cast<uint32_t>(current) & ~InodeFlagsFromPxarFlags(~uint64_t{0})) |
          InodeFlagsFromPxarFlags(m.stat.flags));
      if (wanted != current && ::ioctl(fd, FS_IOC_SETFLAGS, &wanted) != 0 && !Unsupported(errno) &&
          errno != EPERM) {
        return ErrnoStatus("set inode flags of " + path, errno);
      }
    }
  }
  return Status::OK();
}

}  // namespace cairn

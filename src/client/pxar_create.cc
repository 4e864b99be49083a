#include "client/pxar_create.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "base/file_util.h"
#include "client/fs_metadata.h"

namespace cairn {
namespace {

constexpr size_t kReadBufferSize = 1 << 20;
constexpr const char* kExcludeFileName = ".pxarexclude";

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

FileIdentity IdentityOf(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_ctim.tv_sec),
          static_cast<uint32_t>(st.st_ctim.tv_nsec)};
}

int OpenFile(int dirfd, const char* name, int flags) {
  int fd = ::openat(dirfd, name, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dirfd, name, flags);  // O_NOATIME needs ownership
  return fd;
}

// True for errors that concern one entry (it vanished, is unreadable, was swapped for a
// symlink) rather than the system.
bool EntryError(int err) {
  return err == ENOENT || err == EACCES || err == EPERM || err == ELOOP || err == ENOTDIR ||
         err == ENXIO || err == ESTALE;
}

class Walker {
 public:
  Walker(CreateOptions options) : opt_(std::move(options)), buffer_(kReadBufferSize) {}

  Result<CreateStats> Run(const std::string& root, ByteSink* archive, ByteSink* payload) {
    Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return ErrnoStatus("open directory " + root, errno);
    struct stat st;
    if (::fstat(dir.get(), &st) != 0) return ErrnoStatus("stat " + root, errno);
    root_dev_ = st.st_dev;
    root_path_ = root;
    CAIRN_ASSIGN_OR_RETURN(pxar::Metadata meta, ReadMetadata(AT_FDCWD, root, dir.get(), st, root));
    CAIRN_ASSIGN_OR_RETURN(encoder_, pxar::Encoder::Create(archive, payload, meta));
    ++stats_.directories;
    CAIRN_RETURN_IF_ERROR(WalkChildren(dir.get(), ""));
    if (opt_.reuse) CAIRN_RETURN_IF_ERROR(opt_.reuse->Flush(*encoder_));
    CAIRN_RETURN_IF_ERROR(encoder_->Finish());
    return stats_;
  }

 private:
  std::string Display(const std::string& rel) const {
    return rel.empty() ? root_path_ : root_path_ + "/" + rel;
  }

  void Catalog(CatalogType type, const std::string& name) {
    if (opt_.catalog) opt_.catalog->AddEntry(type, name);
  }

  void Warn(const std::string& message) {
    ++stats_.warnings;
    if (opt_.warn) opt_.warn(message);
  }

  // Names in the directory, sorted bytewise. Entry errors of the directory become warnings
  // (an empty listing).
  Result<std::vector<std::string>> List(int dirfd, const std::string& rel) {
    int dup = ::dup(dirfd);
    if (dup < 0) return ErrnoStatus("dup", errno);
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      ::close(dup);
      return ErrnoStatus("read directory " + Display(rel), errno);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("read directory " + Display(rel), err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status LoadExcludeFile(int dirfd, const std::string& rel) {
    Fd fd(::openat(dirfd, kExcludeFileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return Status::OK();
    std::string content;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0 && content.size() < (1 << 20)) {
      content.append(buf, static_cast<size_t>(n));
    }
    Status s = opt_.excludes.AddFile(content, rel);
    if (!s.ok())
      Warn(fmt::format("{}: {}",
                       Display(rel.empty() ? kExcludeFileName : rel + "/" + kExcludeFileName),
                       s.message()));
    return Status::OK();
  }

  Status WalkChildren(int dirfd, const std::string& rel) {
    CAIRN_RETURN_IF_ERROR(LoadExcludeFile(dirfd, rel));
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, List(dirfd, rel));
    for (const std::string& name : names) {
      CAIRN_RETURN_IF_ERROR(AddEntry(dirfd, name, rel.empty() ? name : rel + "/" + name));
    }
    return Status::OK();
  }

  Status AddEntry(int dirfd, const std::string& name, const std::string& rel) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (EntryError(errno)) {
        Warn(fmt::format("skipped {}: {}", Display(rel), std::strerror(errno)));
        return Status::OK();
      }
      return ErrnoStatus("stat " + Display(rel), errno);
    }
    if (opt_.excludes.Excluded(rel, S_ISDIR(st.st_mode))) {
      ++stats_.excluded;
      return Status::OK();
    }
    switch (st.st_mode & S_IFMT) {
      case S_IFREG: return AddFile(dirfd, name, rel, st);
      case S_IFDIR: return AddDirectory(dirfd, name, rel, st);
      case S_IFLNK: return AddSymlink(dirfd, name, rel, st);
      case S_IFBLK:
      case S_IFCHR: {
        CAIRN_ASSIGN_OR_RETURN(pxar::Metadata m, Meta(dirfd, name, -1, st, rel));
        ++stats_.devices;
        Catalog(S_ISBLK(st.st_mode) ? CatalogType::kBlockDevice : CatalogType::kCharDevice, name);
        return encoder_->AddDevice(name, m, major(st.st_rdev), minor(st.st_rdev));
      }
      case S_IFIFO: {
        CAIRN_ASSIGN_OR_RETURN(pxar::Metadata m, Meta(dirfd, name, -1, st, rel));
        ++stats_.fifos;
        Catalog(CatalogType::kFifo, name);
        return encoder_->AddSpecial(name, m);
      }
      case S_IFSOCK: Warn(fmt::format("skipped socket {}", Display(rel))); return Status::OK();
      default:
        Warn(fmt::format("skipped {}: unknown file type", Display(rel)));
        return Status::OK();
    }
  }

  Result<pxar::Metadata> Meta(int dirfd, const std::string& name, int fd, const struct stat& st,
                              const std::string& rel) {
    return ReadMetadata(dirfd, name, fd, st, Display(rel));
  }

  Status AddFile(int dirfd, const std::string& name, const std::string& rel, struct stat st) {
    const std::pair<dev_t, ino_t> inode{st.st_dev, st.st_ino};
    if (st.st_nlink > 1) {
      if (auto it = links_.find(inode); it != links_.end()) {
        ++stats_.hardlinks;
        Catalog(CatalogType::kHardlink, name);
        return encoder_->AddHardlink(name, it->second.second, it->second.first);
      }
    }
    Fd fd(OpenFile(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      int err = fd.get() < 0 ? errno : EACCES;
      if (fd.get() >= 0 && !S_ISREG(st.st_mode)) err = ENOENT;  // replaced meanwhile
      if (EntryError(err)) {
        Warn(fmt::format("skipped {}: {}", Display(rel), std::strerror(err)));
        return Status::OK();
      }
      return ErrnoStatus("open " + Display(rel), err);
    }
    CAIRN_ASSIGN_OR_RETURN(pxar::Metadata m, Meta(dirfd, name, fd.get(), st, rel));
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (opt_.reuse) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<uint64_t> offset,
                             opt_.reuse->Reuse(rel, m, size, IdentityOf(st), *encoder_));
      if (offset) {
        CAIRN_ASSIGN_OR_RETURN(pxar::LinkOffset link,
                               encoder_->AddPayloadRef(name, m, size, *offset));
        return Archived(name, rel, st, size, inode, link, /*read=*/false);
      }
      CAIRN_RETURN_IF_ERROR(opt_.reuse->Flush(*encoder_));
    }
    if (opt_.before_payload) CAIRN_RETURN_IF_ERROR(opt_.before_payload());
    CAIRN_ASSIGN_OR_RETURN(pxar::LinkOffset link, encoder_->BeginFile(name, m, size));
    uint64_t done = 0;
    bool short_read = false;
    while (done < size) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), size - done));
      ssize_t n = short_read ? 0 : ::read(fd.get(), buffer_.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Warn(fmt::format("{}: read failed after {} bytes ({}); the rest is stored as zeros",
                         Display(rel), done, std::strerror(errno)));
        short_read = true;
        n = 0;
      }
      if (n == 0) {
        if (!short_read) {
          Warn(
              fmt::format("{}: shrank while being read ({} of {} bytes); the rest is stored as "
                          "zeros",
                          Display(rel), done, size));
          short_read = true;
        }
        std::fill(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(want), 0);
        n = static_cast<ssize_t>(want);
      }
      CAIRN_RETURN_IF_ERROR(
          encoder_->WriteFileData(ByteView(buffer_.data(), static_cast<size_t>(n))));
      done += static_cast<uint64_t>(n);
      stats_.bytes_read += static_cast<uint64_t>(n);
      if (opt_.progress && (stats_.bytes_read - last_progress_) >= (64u << 20)) {
        last_progress_ = stats_.bytes_read;
        opt_.progress(stats_.bytes_read);
      }
    }
    CAIRN_RETURN_IF_ERROR(encoder_->EndFile());
    return Archived(name, rel, st, size, inode, link, /*read=*/true);
  }

  // Bookkeeping once a regular file is in the archive.
  Status Archived(const std::string& name, const std::string& rel, const struct stat& st,
                  uint64_t size, std::pair<dev_t, ino_t> inode, pxar::LinkOffset link, bool read) {
    ++stats_.files;
    ++(read ? stats_.files_read : stats_.reused_files);
    if (opt_.catalog) opt_.catalog->AddFile(name, size, st.st_mtim.tv_sec);
    if (opt_.file_state) opt_.file_state->Add(rel, IdentityOf(st));
    if (st.st_nlink > 1) links_.emplace(inode, std::make_pair(link, rel));
    return Status::OK();
  }

  Status AddDirectory(int dirfd, const std::string& name, const std::string& rel,
                      const struct stat& st) {
    Fd fd(OpenFile(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
      if (EntryError(errno)) {
        Warn(fmt::format("skipped directory {}: {}", Display(rel), std::strerror(errno)));
        return Status::OK();
      }
      return ErrnoStatus("open directory " + Display(rel), errno);
    }
    CAIRN_ASSIGN_OR_RETURN(pxar::Metadata m, Meta(dirfd, name, fd.get(), st, rel));
    CAIRN_RETURN_IF_ERROR(encoder_->OpenDirectory(name, m));
    ++stats_.directories;
    if (opt_.catalog) opt_.catalog->StartDirectory(name);
    if (!opt_.one_file_system || st.st_dev == root_dev_) {
      CAIRN_RETURN_IF_ERROR(WalkChildren(fd.get(), rel));
    }
    if (opt_.catalog) CAIRN_RETURN_IF_ERROR(opt_.catalog->EndDirectory());
    return encoder_->CloseDirectory();
  }

  Status AddSymlink(int dirfd, const std::string& name, const std::string& rel,
                    const struct stat& st) {
    std::string target(pxar::kMaxNameSize + 1, '\0');
    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0 || static_cast<size_t>(n) > pxar::kMaxNameSize || n == 0) {
      int err = n < 0 ? errno : ENAMETOOLONG;
      Warn(fmt::format("skipped symlink {}: {}", Display(rel), std::strerror(err)));
      return Status::OK();
    }
    target.resize(static_cast<size_t>(n));
    CAIRN_ASSIGN_OR_RETURN(pxar::Metadata m, Meta(dirfd, name, -1, st, rel));
    ++stats_.symlinks;
    Catalog(CatalogType::kSymlink, name);
    return encoder_->AddSymlink(name, m, target);
  }

  CreateOptions opt_;
  Bytes buffer_;
  std::unique_ptr<pxar::Encoder> encoder_;
  CreateStats stats_;
  dev_t root_dev_ = 0;
  std::string root_path_;
  uint64_t last_progress_ = 0;
  std::map<std::pair<dev_t, ino_t>, std::pair<pxar::LinkOffset, std::string>> links_;
};

}  // namespace

Result<CreateStats> CreateArchive(const std::string& root, ByteSink* archive, ByteSink* payload,
                                  CreateOptions options) {
  Walker walker(std::move(options));
  return walker.Run(root, archive, payload);
}

}  // namespace cairn

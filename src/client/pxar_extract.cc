#include "client/pxar_extract.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "base/file_util.h"
#include "client/fs_metadata.h"

namespace cairn {
namespace {

constexpr size_t kWriteBufferSize = 1 << 20;

Status WriteAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

// True if `path` is `root` or lies below it.
bool Within(const std::string& path, const std::string& root) {
  return root.empty() || path == root ||
         (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/');
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class Extractor {
 public:
  Extractor(pxar::Decoder& decoder, const ExtractOptions& options)
      : decoder_(decoder), opt_(options), buffer_(kWriteBufferSize) {
    apply_.set_owner = ::geteuid() == 0;
  }

  ~Extractor() {
    for (const Dir& d : dirs_) {
      if (d.fd != root_fd_) ::close(d.fd);
    }
    if (root_fd_ >= 0) ::close(root_fd_);
  }

  Result<ExtractStats> Run(const std::string& target) {
    CAIRN_RETURN_IF_ERROR(OpenTarget(target));
    target_ = target;
    if (!apply_.set_owner) {
      Warn("not running as root: file ownership is not restored");
    }
    pxar::Entry e;
    bool found = opt_.subtree.empty();
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool more, decoder_.Next(&e));
      if (!more) break;
      // Archive order is depth-first: the first entry outside the subtree after it ends it.
      if (found && !opt_.subtree.empty() && !Within(e.path, opt_.subtree)) break;
      if (e.kind == pxar::EntryKind::kDirectoryEnd) {
        CAIRN_RETURN_IF_ERROR(CloseDirectory(e.path));
        continue;
      }
      if (!Within(e.path, opt_.subtree)) continue;
      found = true;
      CAIRN_RETURN_IF_ERROR(Add(e));
    }
    if (!found) return Status::NotFound(fmt::format("'{}' is not in the archive", opt_.subtree));
    if (::syncfs(root_fd_) != 0) return ErrnoStatus("flush " + target, errno);
    return stats_;
  }

 private:
  struct Dir {
    std::string path;  // in the archive
    int fd;
    pxar::Metadata metadata;
  };

  void Warn(const std::string& message) {
    if (opt_.warn) opt_.warn(message);
  }

  std::string Display(const std::string& rel) const {
    return rel.empty() ? target_ : target_ + "/" + rel;
  }

  // Where entry `path` goes, relative to the target: below the subtree's parent.
  std::string Relative(const std::string& path) const {
    if (opt_.subtree.empty()) return path;
    size_t parent = opt_.subtree.rfind('/');
    return parent == std::string::npos ? path : path.substr(parent + 1);
  }

  Status OpenTarget(const std::string& target) {
    if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus("create " + target, errno);
    }
    root_fd_ = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0 && errno == ENOTDIR) {
      return Status::InvalidArgument(fmt::format(
          "restore target {} exists and is not a directory; a file archive is restored into a "
          "new or empty directory",
          target));
    }
    if (root_fd_ < 0) return ErrnoStatus("open " + target, errno);
    int dup = ::dup(root_fd_);
    DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
    if (d == nullptr) {
      if (dup >= 0) ::close(dup);
      return ErrnoStatus("read " + target, errno);
    }
    bool empty = true;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    }
    ::closedir(d);
    if (!empty) {
      return Status::InvalidArgument(fmt::format(
          "restore target {} is not empty (restore into a new or empty directory)", target));
    }
    return Status::OK();
  }

  // The descriptor of the directory an entry at `path` goes into.
  int ParentFd() const { return dirs_.empty() ? root_fd_ : dirs_.back().fd; }

  Status Add(const pxar::Entry& e) {
    const std::string rel = Relative(e.path);
    const std::string name = Basename(e.path);
    switch (e.kind) {
      case pxar::EntryKind::kDirectory: return OpenDirectory(e, rel, name);
      case pxar::EntryKind::kFile: return AddFile(e, rel, name);
      case pxar::EntryKind::kSymlink: {
        if (::symlinkat(e.link_target.c_str(), ParentFd(), name.c_str()) != 0) {
          return ErrnoStatus("create symlink " + Display(rel), errno);
        }
        ++stats_.symlinks;
        return ApplyMetadata(ParentFd(), name, -1, e.metadata, apply_, Display(rel));
      }
      case pxar::EntryKind::kHardlink: return AddHardlink(e, rel, name);
      case pxar::EntryKind::kDevice:
      case pxar::EntryKind::kFifo:
      case pxar::EntryKind::kSocket: {
        dev_t dev = e.kind == pxar::EntryKind::kDevice
                        ? makedev(static_cast<unsigned>(e.device_major),
                                  static_cast<unsigned>(e.device_minor))
                        : 0;
        mode_t mode = static_cast<mode_t>(e.metadata.stat.mode & (S_IFMT | 0777));
        if (::mknodat(ParentFd(), name.c_str(), mode, dev) != 0) {
          if (errno == EPERM && e.kind == pxar::EntryKind::kDevice) {
            Warn(fmt::format("skipped device {}: creating devices needs root", Display(rel)));
            ++stats_.skipped;
            return Status::OK();
          }
          return ErrnoStatus("create " + Display(rel), errno);
        }
        ++stats_.special;
        return ApplyMetadata(ParentFd(), name, -1, e.metadata, apply_, Display(rel));
      }
      case pxar::EntryKind::kDirectoryEnd: break;
    }
    return Status::OK();
  }

  Status OpenDirectory(const pxar::Entry& e, const std::string& rel, const std::string& name) {
    if (e.path.empty()) {  // the archive root is the target itself
      dirs_.push_back(Dir{e.path, root_fd_, e.metadata});
      ++stats_.directories;
      return Status::OK();
    }
    int parent = ParentFd();
    if (::mkdirat(parent, name.c_str(), 0700) != 0) {
      return ErrnoStatus("create directory " + Display(rel), errno);
    }
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory " + Display(rel), errno);
    dirs_.push_back(Dir{e.path, fd, e.metadata});
    ++stats_.directories;
    return Status::OK();
  }

  // Applies a directory's metadata once its children are done. Directories outside the
  // subtree were never opened and have nothing to close.
  Status CloseDirectory(const std::string& path) {
    if (dirs_.empty() || dirs_.back().path != path) return Status::OK();
    Dir d = std::move(dirs_.back());
    dirs_.pop_back();
    Status s = ApplyMetadata(ParentFd(), Basename(d.path), d.fd, d.metadata, apply_,
                             Display(Relative(d.path)));
    if (d.fd != root_fd_) ::close(d.fd);
    return s;
  }

  Status AddFile(const pxar::Entry& e, const std::string& rel, const std::string& name) {
    int parent = ParentFd();
    int fd =
        ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create " + Display(rel), errno);
    Status s = CopyContent(fd, rel);
    if (s.ok()) s = ApplyMetadata(parent, name, fd, e.metadata, apply_, Display(rel));
    ::close(fd);
    if (!s.ok()) {
      ::unlinkat(parent, name.c_str(), 0);  // leave no partial file behind
      return s;
    }
    ++stats_.files;
    extracted_files_.insert(e.path);
    return Status::OK();
  }

  Status CopyContent(int fd, const std::string& rel) {
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t n, decoder_.ReadContent(buffer_));
      if (n == 0) return Status::OK();
      CAIRN_RETURN_IF_ERROR(WriteAll(fd, buffer_.data(), n, Display(rel)));
      stats_.bytes += n;
      if (opt_.progress && stats_.bytes - last_progress_ >= (64u << 20)) {
        last_progress_ = stats_.bytes;
        opt_.progress(stats_.bytes);
      }
    }
  }

  Status AddHardlink(const pxar::Entry& e, const std::string& rel, const std::string& name) {
    if (!extracted_files_.count(e.link_target)) {
      Warn(fmt::format("skipped hard link {}: its target {} was not restored", Display(rel),
                       e.link_target));
      ++stats_.skipped;
      return Status::OK();
    }
    // Walk to the target's directory without following symlinks; the target itself is a
    // regular file this extraction created.
    std::string target_rel = Relative(e.link_target);
    int dirfd = root_fd_;
    std::vector<int> opened;
    size_t start = 0;
    Status s;
    for (size_t slash; (slash = target_rel.find('/', start)) != std::string::npos;
         start = slash + 1) {
      int next = ::openat(dirfd, target_rel.substr(start, slash - start).c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) {
        s = ErrnoStatus("open " + Display(target_rel), errno);
        break;
      }
      opened.push_back(next);
      dirfd = next;
    }
    if (s.ok() &&
        ::linkat(dirfd, target_rel.substr(start).c_str(), ParentFd(), name.c_str(), 0) != 0) {
      s = ErrnoStatus(fmt::format("link {} to {}", Display(rel), Display(target_rel)), errno);
    }
    for (int fd : opened) ::close(fd);
    if (s.ok()) ++stats_.hardlinks;
    return s;
  }

  pxar::Decoder& decoder_;
  const ExtractOptions& opt_;
  ApplyOptions apply_;
  Bytes buffer_;
  std::string target_;
  int root_fd_ = -1;
  std::vector<Dir> dirs_;
  std::set<std::string> extracted_files_;
  ExtractStats stats_;
  uint64_t last_progress_ = 0;
};

}  // namespace

Result<ExtractStats> ExtractArchive(pxar::Decoder& decoder, const std::string& target,
                                    const ExtractOptions& options) {
  Extractor extractor(decoder, options);
  return extractor.Run(target);
}

}  // namespace cairn

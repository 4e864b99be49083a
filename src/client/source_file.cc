#include "client/source_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file_util.h"

namespace cairn {

Result<SourceFile> SourceFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat " + path, err);
  }
  uint64_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("get size of " + path, err);
    }
  } else {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("{} is not a regular file or block device", path));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return SourceFile(fd, path, size);
}

SourceFile::SourceFile(SourceFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

SourceFile::~SourceFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status SourceFile::ReadBlock(size_t n, Bytes& buffer) {
  buffer.resize(n);
  CAIRN_ASSIGN_OR_RETURN(size_t done, ReadFull(fd_, buffer.data(), n, path_));
  buffer.resize(done);
  return Status::OK();
}

Result<Bytes> ReadSmallFile(const std::string& path, uint64_t max_size) {
  CAIRN_ASSIGN_OR_RETURN(SourceFile file, SourceFile::Open(path));
  if (file.size() > max_size) {
    return Status::InvalidArgument(
        fmt::format("{} is {} bytes; blob archives hold at most {} bytes (use NAME.img for large "
                    "files)",
                    path, file.size(), max_size));
  }
  Bytes data;  // one byte more than expected, to notice a file that grew
  CAIRN_RETURN_IF_ERROR(file.ReadBlock(file.size() + 1, data));
  if (data.size() > file.size()) {
    return Status::Aborted(fmt::format("{} grew while it was being read; try again", path));
  }
  return data;
}

}  // namespace cairn

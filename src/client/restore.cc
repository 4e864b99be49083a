#include "client/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/file_faults.h"
#include "base/file_util.h"
#include "base/time.h"
#include "client/chunk_reader.h"
#include "client/file_archive.h"
#include "format/archive_name.h"
#include "format/data_blob.h"
#include "format/fixed_index.h"

namespace cairn {
Result<const CryptConfig*> KeyFor(const Manifest& manifest, const ManifestFile& entry,
                                  const CryptConfig* crypt, const std::string& snap_name) {
  if (entry.crypt_mode == CryptMode::kNone) return static_cast<const CryptConfig*>(nullptr);
  if (crypt == nullptr) {
    return Status::InvalidArgument(
        fmt::format("{} in {} is encrypted; pass --keyfile", entry.filename, snap_name));
  }
  auto fp = manifest.key_fingerprint();
  if (fp && *fp != crypt->FingerprintString()) {
    return Status::InvalidArgument(
        fmt::format("{} was encrypted with key {}, not with the given key {}", snap_name,
                    fp->substr(0, 23), crypt->FingerprintString().substr(0, 23)));
  }
  CAIRN_RETURN_IF_ERROR(manifest.VerifySignature(*crypt, "manifest of " + snap_name));
  return crypt;
}

namespace {

// What an existing restore target is, and where the bytes go.
struct TargetPlan {
  std::string path;           // the file to write (symbolic links resolved)
  bool block_device = false;  // written in place; otherwise a new file renamed into place
};

std::string DescribeFileType(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

// Decides how `path` may be written: absent (a new file), an existing regular file (replaced
// atomically, only with `overwrite`) or, for images, a block device (written in place). Every
// other existing node (character device, FIFO, socket, directory) is refused: replacing it with
// a regular file would destroy it (e.g. /dev/full). Symbolic links are followed.
Result<TargetPlan> PlanTarget(const std::string& path, bool image, bool overwrite) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return TargetPlan{path, false};
    return ErrnoStatus("restore target " + path, errno);
  }
  TargetPlan plan{path, false};
  if (S_ISLNK(st.st_mode)) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) {
      return Status::InvalidArgument(
          fmt::format("restore target {} is a symbolic link that leads nowhere ({})", path,
                      std::strerror(errno)));
    }
    plan.path = resolved;
    std::free(resolved);
    if (::stat(plan.path.c_str(), &st) != 0) return ErrnoStatus("restore target " + path, errno);
  }
  if (S_ISBLK(st.st_mode) && image) {
    plan.block_device = true;
    return plan;
  }
  if (S_ISREG(st.st_mode)) {
    if (!overwrite) {
      return Status::InvalidArgument(fmt::format(
          "restore target {} exists; pass --overwrite to replace it (atomically: the old file "
          "stays until the restore is complete)",
          path));
    }
    return plan;
  }
  return Status::InvalidArgument(
      fmt::format("restore target {} is {}; {} is restored to a new or existing regular file{}",
                  path, DescribeFileType(st.st_mode), image ? "an image" : "a blob",
                  image ? " or a block device" : ""));
}

// Refuses to rename over `path` if something other than a regular file appeared there since
// the target was planned.
Status CheckStillReplaceable(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::OK() : ErrnoStatus("restore target " + path, errno);
  }
  if (S_ISREG(st.st_mode)) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("restore target {} became {} during the restore; nothing was replaced", path,
                  DescribeFileType(st.st_mode)));
}

// A regular file written under a temp name and renamed into place on Commit, or an existing
// block device written in place.
class RestoreTarget {
 public:
  static Result<RestoreTarget> Open(const TargetPlan& plan, uint64_t size) {
    if (plan.block_device) {
      int fd = ::open(plan.path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return ErrnoStatus("open " + plan.path, errno);
      return RestoreTarget(fd, plan.path, "", false);
    }
    std::string tmp = TempPathFor(plan.path);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("create " + tmp, errno);
    RestoreTarget target(fd, plan.path, tmp, true);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoStatus("resize " + tmp, errno);
    return target;
  }
  RestoreTarget(RestoreTarget&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)),
        path_(std::move(o.path_)),
        tmp_(std::move(o.tmp_)),
        sparse_(o.sparse_) {}
  ~RestoreTarget() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());  // not committed: leave nothing behind
  }

  // True if zero ranges may be skipped (a fresh file reads zeros there).
  bool sparse() const { return sparse_; }

  Status WriteAt(ByteView data, uint64_t offset) {
    size_t done = 0;
    while (done < data.size()) {
      size_t length = data.size() - done;
      if (int err = FileFaults::Check(FileOp::kWrite, path_, &length)) {
        return ErrnoStatus("write " + path_, err);
      }
      ssize_t n = ::pwrite(fd_, data.data() + done, length, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write " + path_, errno);
      }
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Status Commit() {
    if (int err = FileFaults::Check(FileOp::kFsync, path_))
      return ErrnoStatus("fsync " + path_, err);
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync " + path_, errno);
    if (tmp_.empty()) return Status::OK();
    CAIRN_RETURN_IF_ERROR(CheckStillReplaceable(path_));
    CAIRN_RETURN_IF_ERROR(RenameFile(tmp_, path_));
    tmp_.clear();
    auto slash = path_.rfind('/');
    return FsyncDir(slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash));
  }

 private:
  RestoreTarget(int fd, std::string path, std::string tmp, bool sparse)
      : fd_(fd), path_(std::move(path)), tmp_(std::move(tmp)), sparse_(sparse) {}
  int fd_;
  std::string path_;
  std::string tmp_;
  bool sparse_;
};

Status RestoreImage(SnapshotReader& reader, const FixedIndex& index, const CryptConfig* crypt,
                    const TargetPlan& plan, const RestoreOptions& opt,
                    const std::string& filename) {
  CAIRN_ASSIGN_OR_RETURN(RestoreTarget target, RestoreTarget::Open(plan, index.size()));
  // Digests of all-zero chunks (full and last-partial length) so holes need no reads.
  std::vector<std::pair<uint64_t, Digest>> zero_digests;
  for (uint64_t len : {index.chunk_size(), index.size() % index.chunk_size()}) {
    if (len == 0) continue;
    Bytes zeros(len, 0);
    zero_digests.emplace_back(len, crypt ? crypt->ComputeDigest(zeros) : Sha256Of(zeros));
  }
  auto is_zero = [&](size_t i) {
    for (const auto& [len, d] : zero_digests) {
      if (len == index.chunk_range(i).length() && d == index.digest(i)) return true;
    }
    return false;
  };

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    Bytes plain;  // reused for every chunk of this worker
    for (size_t i = next++; i < index.chunk_count() && !failed; i = next++) {
      const ChunkRange range = index.chunk_range(i);
      Status st;
      if (!(target.sparse() && is_zero(i))) {
        st = LoadChunk(reader, index.digest(i), range.length(), crypt, &plain);
        if (st.ok()) st = target.WriteAt(plain, range.start);
      }
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = st;
        failed = true;
        return;
      }
      uint64_t now = done += range.length();
      if (opt.progress) {
        std::lock_guard lock(mu);
        opt.progress(filename, now, index.size());
      }
    }
  };
  const unsigned threads = opt.threads;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  CAIRN_RETURN_IF_ERROR(first_error);
  return target.Commit();
}

}  // namespace

Result<RestoreSummary> RestoreArchive(Repository& repo, const BackupNamespace& ns,
                                      const SnapshotRef& snap, const std::string& archive,
                                      const std::string& target, const RestoreOptions& options) {
  const double start = MonotonicSeconds();
  RestoreOptions opt = options;
  if (opt.threads == 0) {
    opt.threads = std::max({2u, std::thread::hardware_concurrency(), repo.PreferredParallelism()});
  }
  CAIRN_ASSIGN_OR_RETURN(std::string filename, ServerArchiveName(archive));
  CAIRN_ASSIGN_OR_RETURN(auto reader, repo.OpenSnapshot(ns, snap));
  CAIRN_ASSIGN_OR_RETURN(Manifest manifest, reader->ReadManifest());
  if (IsFileArchiveName(archive) || filename.ends_with(".pxar.didx")) {
    std::string name =
        IsFileArchiveName(archive) ? archive : filename.substr(0, filename.size() - 5);
    if (opt.overwrite) {
      return Status::InvalidArgument(
          "--overwrite applies to image and blob archives; a file archive is restored into a "
          "new or empty directory");
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> files, FileArchiveFiles(manifest, name));
    CAIRN_ASSIGN_OR_RETURN(const CryptConfig* crypt, KeyFor(manifest, *manifest.FindFile(files[0]),
                                                            opt.crypt, snap.ToString()));
    return RestoreFileArchive(*reader, manifest, files, crypt, target, opt);
  }
  const ManifestFile* entry = manifest.FindFile(filename);
  if (entry == nullptr) {
    return Status::NotFound(fmt::format("snapshot {} has no archive {}", snap.ToString(), archive));
  }
  CAIRN_ASSIGN_OR_RETURN(const CryptConfig* crypt,
                         KeyFor(manifest, *entry, opt.crypt, snap.ToString()));
  CAIRN_ASSIGN_OR_RETURN(Bytes raw, reader->ReadArchive(filename));
  CAIRN_ASSIGN_OR_RETURN(ArchiveType type, ArchiveTypeOf(filename));
  std::string target_path = target;
  struct stat st;
  if (::stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {  // restore into the directory
    CAIRN_ASSIGN_OR_RETURN(std::string client_name, ClientArchiveName(filename));
    target_path = JoinPath(target, client_name);
  }
  if (type != ArchiveType::kFixedIndex && type != ArchiveType::kBlob) {
    return Status::InvalidArgument(filename + ": archives of this type cannot be restored");
  }
  CAIRN_ASSIGN_OR_RETURN(TargetPlan plan,
                         PlanTarget(target_path, type == ArchiveType::kFixedIndex, opt.overwrite));
  RestoreSummary summary;
  summary.filename = filename;
  summary.target = plan.path;
  if (type == ArchiveType::kFixedIndex) {
    const std::string object = snap.ToString() + "/" + filename;
    CAIRN_ASSIGN_OR_RETURN(FixedIndex index, FixedIndex::Parse(raw, object));
    if (index.size() != entry->size || index.csum() != entry->csum) {
      return Status::Corruption(object + ": index does not match the manifest (size or checksum)");
    }
    CAIRN_RETURN_IF_ERROR(RestoreImage(*reader, index, crypt, plan, opt, filename));
    summary.bytes = index.size();
  } else {
    auto data = DecodeBlob(raw, crypt);
    if (!data.ok()) return data.status().WithContext(snap.ToString() + "/" + filename);
    CAIRN_RETURN_IF_ERROR(CheckStillReplaceable(plan.path));
    CAIRN_RETURN_IF_ERROR(WriteFileAtomic(plan.path, *data, 0644));
    summary.bytes = data->size();
    if (opt.progress) opt.progress(filename, data->size(), data->size());
  }
  summary.seconds = MonotonicSeconds() - start;
  return summary;
}

}  // namespace cairn

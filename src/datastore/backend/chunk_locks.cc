#include "datastore/backend/chunk_locks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"

namespace cairn {

ChunkLockGuard::ChunkLockGuard(ChunkLockGuard&& other) noexcept
    : owner_(other.owner_), stripe_(other.stripe_) {
  other.owner_ = nullptr;
}

ChunkLockGuard::~ChunkLockGuard() {
  if (owner_ != nullptr) owner_->Release(stripe_);
}

ChunkLocks::ChunkLocks(const std::string& root)
    : root_(root), path_(JoinPath(root, ".locks/chunks.lck")) {}

ChunkLocks::~ChunkLocks() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t ChunkLocks::StripeOf(const Digest& digest) {
  return static_cast<uint16_t>((digest[0] << 8) | digest[1]);
}

Result<ChunkLockGuard> ChunkLocks::Lock(const Digest& digest) {
  const uint16_t stripe = StripeOf(digest);
  CAIRN_RETURN_IF_ERROR(Acquire(stripe, true).status());
  return ChunkLockGuard(this, stripe);
}

Result<std::optional<ChunkLockGuard>> ChunkLocks::TryLock(const Digest& digest) {
  const uint16_t stripe = StripeOf(digest);
  CAIRN_ASSIGN_OR_RETURN(bool acquired, Acquire(stripe, false));
  if (!acquired) return std::optional<ChunkLockGuard>();
  return std::optional<ChunkLockGuard>(ChunkLockGuard(this, stripe));
}

Status ChunkLocks::OpenLocked() {
  // Never brings back a datastore directory that was removed.
  CAIRN_RETURN_IF_ERROR(MakeDirsBelow(root_, path_.substr(0, path_.rfind('/')), 0750));
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0660);
  if (fd_ < 0) return ErrnoStatus("open chunk lock file " + path_, errno);
  return Status::OK();
}

Result<bool> ChunkLocks::Acquire(uint16_t stripe, bool wait) {
  int fd;
  {
    MutexLock lock(mu_);
    if (fd_ < 0) CAIRN_RETURN_IF_ERROR(OpenLocked());
    if (!wait && held_.count(stripe) != 0) return false;
    while (held_.count(stripe) != 0) released_.Wait();
    held_.insert(stripe);
    fd = fd_;
  }

  struct flock range = {};
  range.l_type = F_WRLCK;
  range.l_whence = SEEK_SET;
  range.l_start = stripe;
  range.l_len = 1;
  int rc;
  do {
    rc = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &range);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    {
      MutexLock lock(mu_);
      held_.erase(stripe);
    }
    released_.SignalAll();
    if (!wait && (err == EAGAIN || err == EACCES)) return false;
    return ErrnoStatus("lock chunk stripe in " + path_, err);
  }
  return true;
}

void ChunkLocks::Release(uint16_t stripe) {
  struct flock range = {};
  range.l_type = F_UNLCK;
  range.l_whence = SEEK_SET;
  range.l_start = stripe;
  range.l_len = 1;
  MutexLock lock(mu_);
  // Unlocking a byte this description holds cannot fail short of a closed descriptor.
  (void)::fcntl(fd_, F_OFD_SETLK, &range);
  held_.erase(stripe);
  released_.SignalAll();
}

}  // namespace cairn

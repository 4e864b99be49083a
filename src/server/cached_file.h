// CachedFile keeps a parsed config file and parses it again only when the file's size or
// modification time changed, so a request costs a stat(2), not a parse, and edits by the CLI
// or another process are seen on the next call.
//
// Thread-safety: thread-safe; the value is shared immutable, so a caller may keep it while the
// file is re-read.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/result.h"

namespace cairn::server {

template <typename T>
class CachedFile {
 public:
  // `load` parses the file at `path` (a missing file is its business, e.g. an empty config).
  CachedFile(std::string path, std::function<Result<T>()> load)
      : path_(std::move(path)), load_(std::move(load)) {}

  // The value for the file as it is now; `load`'s error if it must be re-read and fails.
  Result<std::shared_ptr<const T>> Get() {
    Stamp stamp;
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0) {
      stamp = {int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, int64_t(st.st_size)};
    }
    {
      MutexLock lock(mu_);
      if (value_ && stamp == stamp_) return value_;
    }
    CAIRN_ASSIGN_OR_RETURN(T loaded, load_());
    auto shared = std::make_shared<const T>(std::move(loaded));
    MutexLock lock(mu_);
    value_ = shared;
    stamp_ = stamp;
    return shared;
  }

 private:
  struct Stamp {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    bool operator==(const Stamp&) const = default;
  };
  const std::string path_;
  const std::function<Result<T>()> load_;
  Mutex mu_;
  Stamp stamp_ CAIRN_GUARDED_BY(mu_);
  std::shared_ptr<const T> value_ CAIRN_GUARDED_BY(mu_);
};

}  // namespace cairn::server

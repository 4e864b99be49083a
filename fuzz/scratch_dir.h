// A private directory for fuzz targets whose parser reads files by path (the CLI's config
// files): created on first use under $TMPDIR, else /dev/shm (tmpfs: no disk writes per input),
// else /tmp, and removed with its files when the process exits normally.
//
// Thread-safety: libFuzzer runs one input at a time per process; not thread-safe.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/file_util.h"

namespace cairn::fuzz {

inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::string base = "/tmp";
    if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) {
      base = tmp;
    } else if (::access("/dev/shm", W_OK) == 0) {
      base = "/dev/shm";
    }
    std::string templ = base + "/cairn-fuzz.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return templ;
  }();
  static const bool cleanup = [] {
    std::atexit([] { (void)RemoveTree(ScratchDir()); });
    return true;
  }();
  (void)cleanup;
  return dir;
}

// Replaces `name` in ScratchDir() with `content` (mode `mode`), or removes it if `content` is
// null. Aborts if that fails: the target could not test anything.
inline void PutScratchFile(const std::string& name, const std::string_view* content,
                           mode_t mode = 0600) {
  const std::string path = ScratchDir() + "/" + name;
  (void)::unlink(path.c_str());
  if (content == nullptr) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t done = 0;
  while (done < content->size()) {
    const ssize_t n = ::write(fd, content->data() + done, content->size() - done);
    if (n <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  (void)::chmod(path.c_str(), mode);  // the umask may have narrowed it
}

}  // namespace cairn::fuzz

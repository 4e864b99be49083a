// Helpers shared by all tests: a self-deleting temporary directory and reproducible data.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"

namespace cairn::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// `size` pseudo-random bytes from `seed` (xorshift64*; same seed, same bytes).
Bytes RandomBytes(size_t size, uint64_t seed);

// Writes `data` to `path` (plain, non-atomic; for test fixtures). Aborts the test on failure.
void WriteTestFile(const std::string& path, ByteView data);

}  // namespace cairn::testing

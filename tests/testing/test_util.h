// Helpers shared by all tests: a self-deleting temporary directory, reproducible data, and a
// parallel loop for concurrency tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

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

// The text of the file at `path`, or "<error>" if it cannot be read (for assertions).
std::string ReadTestFile(const std::string& path);

// Runs f(i) for every i in [0, n) on `threads` threads; returns when all are done.
template <typename F>
void ParallelFor(int n, int threads, F f) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < n;) f(i);
    });
  }
  for (auto& thread : pool) thread.join();
}

}  // namespace cairn::testing

#include "testing/test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>

#include "base/file_util.h"

namespace cairn::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/cairn-test-XXXXXX";
  char* made = mkdtemp(templ.data());
  if (made == nullptr) abort();
  path_ = made;
}

TempDir::~TempDir() {
  (void)RemoveTree(path_);
}

Bytes RandomBytes(size_t size, uint64_t seed) {
  Bytes out(size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  size_t i = 0;
  while (i < size) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t v = x * 0x2545F4914F6CDD1DULL;
    for (int b = 0; b < 8 && i < size; ++b, ++i) out[i] = static_cast<uint8_t>(v >> (8 * b));
  }
  return out;
}

void WriteTestFile(const std::string& path, ByteView data) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!data.empty()) {  // fwrite's buffer must not be null, even for 0 bytes
    ASSERT_EQ(fwrite(data.data(), 1, data.size(), f), data.size());
  }
  fclose(f);
}

std::string ReadTestFile(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? std::string(data->begin(), data->end()) : "<" + data.status().ToString() + ">";
}

}  // namespace cairn::testing

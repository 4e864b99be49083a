// What the fuzz targets of this folder share: the fixed key and passphrase the seed generator
// (make_seeds.cc) also uses, so that seeds of encrypted blobs, signed manifests and protected
// key files open in the targets; the split of one fuzz input into two byte strings; a path
// check; and (from fuzz_check.h) FUZZ_CHECK for invariants a parser promises (a broken one
// aborts, which libFuzzer reports as a crash, like any sanitizer finding).
//
// Error Statuses are never findings: every target expects its parser to refuse most inputs.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "format/crypt_config.h"
#include "fuzz_check.h"

namespace cairn::fuzz {

// The key of encrypted seeds (the bytes 00 01 .. 1f, as in data_blob_test's fixtures).
inline constexpr EncryptionKey kKey = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                       11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                       22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
// The passphrase of protected key file seeds.
inline constexpr std::string_view kPassphrase = "fuzz-passphrase";

// One input read as two byte strings. Layout: flags byte; if (flags & 1), a u32 LE length n,
// then n bytes of `first` (fewer if the input ends) and the rest is `second`; otherwise the
// rest is `first` and there is no second part. Seeds without a second part are the file
// prefixed with one 0 byte.
struct TwoParts {
  ByteView first;
  ByteView second;
  bool has_second = false;
};

inline TwoParts SplitInput(const uint8_t* data, size_t size) {
  TwoParts parts;
  if (size == 0) return parts;
  const ByteView rest(data + 1, size - 1);
  if ((data[0] & 1) == 0 || rest.size() < 4) {
    parts.first = rest;
    return parts;
  }
  const size_t n = GetLE32(rest.data());
  const ByteView body = rest.subspan(4);
  const size_t first = n < body.size() ? n : body.size();
  parts.first = body.first(first);
  parts.second = body.subspan(first);
  parts.has_second = true;
  return parts;
}

// True if `path` is plain components joined by single '/': not empty, no empty, "." or ".."
// component, no NUL. What may safely be joined below a directory.
inline bool IsPlainRelativePath(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != part.npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace cairn::fuzz

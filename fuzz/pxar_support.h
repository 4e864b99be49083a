// Checks both pxar fuzz targets (pxar_decoder_fuzzer.cc, pxar_accessor_fuzzer.cc) apply to the
// entries a reader returns: the promises extraction relies on to stay inside its target.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "format/pxar/decoder.h"
#include "format/pxar/format.h"
#include "fuzz_support.h"

namespace cairn::fuzz {

// True if `path` is "" (the root) or valid names (pxar::ValidateName) joined by single '/'.
// Unlike pxar::ValidateRelativePath there is no length limit: deep trees are allowed.
inline bool IsSafeEntryPath(std::string_view path) {
  if (path.empty()) return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (!pxar::ValidateName(path.substr(start, end - start)).ok()) return false;
    start = end + 1;
  }
  return true;
}

// What every decoded entry must satisfy, whatever the archive held.
inline void CheckEntry(const pxar::Entry& e) {
  FUZZ_CHECK(IsSafeEntryPath(e.path), "an entry path escapes the archive");
  if (e.kind == pxar::EntryKind::kHardlink) {
    FUZZ_CHECK(pxar::ValidateRelativePath(e.link_target).ok(), "a hard link target is unsafe");
  }
  if (e.kind == pxar::EntryKind::kDirectory) {
    FUZZ_CHECK(e.metadata.is_directory(), "a directory entry without directory mode");
  }
  if (e.kind == pxar::EntryKind::kFile) {
    FUZZ_CHECK(e.metadata.is_regular(), "a file entry without regular file mode");
  }
}

}  // namespace cairn::fuzz

// Fuzzes the random-access pxar reader (format/pxar/accessor.h), which `restore --path` and the
// archive browser use on a file archive from a datastore. The input is an archive and,
// optionally, a v2 payload stream (fuzz_support.h SplitInput). The accessor is opened and the
// tree walked through the GOODBYE tables: every directory listed, every entry looked up by its
// path, hard links resolved, file contents opened and read. Listed entries must lie inside
// their directory with safe paths. The walk is bounded: GOODBYE tables may share children.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/stream.h"
#include "format/pxar/accessor.h"
#include "fuzz_support.h"
#include "pxar_support.h"

namespace cairn {
namespace {

constexpr size_t kMaxEntries = 4096;
constexpr size_t kMaxLookups = 256;

void ReadAll(pxar::Accessor& accessor, const pxar::Entry& file) {
  auto content = accessor.OpenContent(file);
  if (!content.ok()) return;
  uint8_t buf[4096];
  uint64_t total = 0;
  for (;;) {
    auto n = (*content)->Read(buf);
    if (!n.ok() || *n == 0) {
      FUZZ_CHECK(!n.ok() || total == file.file_size, "file content shorter than its size");
      return;
    }
    total += *n;
  }
}

void FuzzPxarAccessor(const uint8_t* data, size_t size) {
  const fuzz::TwoParts parts = fuzz::SplitInput(data, size);
  ByteViewRandomAccess archive(parts.first);
  ByteViewRandomAccess payload(parts.second);
  auto opened = pxar::Accessor::Open(&archive, parts.has_second ? &payload : nullptr);
  if (!opened.ok()) return;
  pxar::Accessor& accessor = **opened;
  fuzz::CheckEntry(accessor.root());

  std::vector<pxar::Entry> pending = {accessor.root()};
  std::set<uint64_t> listed;  // directory ends already listed
  size_t seen = 0, lookups = 0;
  while (!pending.empty() && seen < kMaxEntries) {
    pxar::Entry dir = std::move(pending.back());
    pending.pop_back();
    if (!listed.insert(dir.directory_end).second) continue;
    auto children = accessor.List(dir);
    if (!children.ok()) continue;
    for (const pxar::Entry& child : *children) {
      if (++seen > kMaxEntries) break;
      fuzz::CheckEntry(child);
      FUZZ_CHECK(dir.path.empty()
                     ? child.path.find('/') == std::string::npos
                     : child.path.starts_with(dir.path + "/") &&
                           child.path.find('/', dir.path.size() + 1) == std::string::npos,
                 "a listed entry is not a child of its directory");
      if (lookups++ < kMaxLookups) (void)accessor.Lookup(child.path);
      switch (child.kind) {
        case pxar::EntryKind::kDirectory: pending.push_back(child); break;
        case pxar::EntryKind::kFile: ReadAll(accessor, child); break;
        case pxar::EntryKind::kHardlink: {
          auto target = accessor.ResolveHardlink(child);
          if (target.ok()) {
            fuzz::CheckEntry(*target);
            ReadAll(accessor, *target);
          }
          break;
        }
        default: break;
      }
    }
  }
  (void)accessor.Lookup("/no/such/path");
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzPxarAccessor(data, size);
  return 0;
}

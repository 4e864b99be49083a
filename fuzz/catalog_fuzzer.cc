// Fuzzes the pcat1 catalog reader (format/pxar/catalog.h): `catalog.pcat1.didx`'s stream, which
// `cairn catalog` browses without reading any archive. The reader is opened and the tree
// walked from the root block (each block listed once: blocks may be shared), entries looked up
// by their path; every name must be safe (no '/', NUL, "." or ".."). The varint
// decoders also run over the raw input.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/stream.h"
#include "format/pxar/catalog.h"
#include "fuzz_support.h"

namespace cairn {
namespace {

constexpr size_t kMaxEntries = 4096;
constexpr size_t kMaxLookups = 256;
// Varint decoding is run from each of the first few offsets (a varint is at most 10 bytes).
constexpr size_t kVarintStarts = 10;

void FuzzVarints(std::string_view in) {
  for (size_t start = 0; start < in.size() && start < kVarintStarts; ++start) {
    size_t pos = start;
    while (pos < in.size()) {
      const size_t before = pos;
      if (!ReadCatalogU64(in, &pos).ok()) break;
      FUZZ_CHECK(pos > before && pos <= in.size(), "a varint read did not advance in bounds");
    }
    pos = start;
    while (pos < in.size()) {
      const size_t before = pos;
      if (!ReadCatalogI64(in, &pos).ok()) break;
      FUZZ_CHECK(pos > before && pos <= in.size(), "a varint read did not advance in bounds");
    }
  }
}

void FuzzCatalog(ByteView data) {
  FuzzVarints(AsString(data));
  ByteViewRandomAccess source(data);
  auto reader = CatalogReader::Open(&source);
  if (!reader.ok()) return;
  std::vector<std::pair<uint64_t, std::string>> pending = {{(*reader)->root(), ""}};
  std::set<uint64_t> listed;
  size_t seen = 0, lookups = 0;
  while (!pending.empty() && seen < kMaxEntries) {
    auto [block, path] = std::move(pending.back());
    pending.pop_back();
    if (!listed.insert(block).second) continue;
    auto entries = (*reader)->List(block);
    if (!entries.ok()) continue;
    for (const CatalogEntry& e : *entries) {
      if (++seen > kMaxEntries) break;
      FUZZ_CHECK(!e.name.empty() && e.name != "." && e.name != ".." &&
                     e.name.find('/') == std::string::npos &&
                     e.name.find('\0') == std::string::npos,
                 "the catalog reader returned an unsafe name");
      const std::string child = path.empty() ? e.name : path + "/" + e.name;
      if (lookups++ < kMaxLookups) {
        // Not necessarily this entry: a directory may hold a name twice.
        auto found = (*reader)->Lookup(child);
        FUZZ_CHECK(!found.ok() || found->name == e.name, "Lookup found another name");
      }
      if (e.type == CatalogType::kDirectory) {
        FUZZ_CHECK(e.block_offset < block, "a child block does not precede its parent");
        pending.emplace_back(e.block_offset, child);
      }
    }
  }
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzCatalog(cairn::ByteView(data, size));
  return 0;
}

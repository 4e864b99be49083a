// Fuzzes the sequential pxar decoder (format/pxar/decoder.h), which restore and `catalog` run
// over a whole file archive from a datastore. The input is an archive and, optionally, the
// payload stream of a split (v2) archive (layout: fuzz_support.h SplitInput). Every entry is
// decoded until the end or the first error; file contents are read in full, or (flags bit 1)
// left unread so the decoder skips them. Every entry must have a safe path (what extraction
// relies on) and a file must yield exactly its stated size.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/stream.h"
#include "format/pxar/decoder.h"
#include "fuzz_support.h"
#include "pxar_support.h"

namespace cairn {
namespace {

// Bounds the work on one input (an archive of n bytes holds at most n / 16 items anyway).
constexpr size_t kMaxEntries = 100000;

void FuzzPxarDecoder(const uint8_t* data, size_t size) {
  const fuzz::TwoParts parts = fuzz::SplitInput(data, size);
  const bool skip_contents = size > 0 && (data[0] & 2) != 0;
  ByteViewSource archive(parts.first);
  ByteViewSource payload(parts.second);
  auto decoder = pxar::Decoder::Open(&archive, parts.has_second ? &payload : nullptr);
  if (!decoder.ok()) return;
  (void)(*decoder)->prelude();
  std::vector<uint8_t> buf(4096);
  pxar::Entry entry;
  for (size_t i = 0; i < kMaxEntries; ++i) {
    auto more = (*decoder)->Next(&entry);
    if (!more.ok() || !*more) return;
    fuzz::CheckEntry(entry);
    if (entry.kind != pxar::EntryKind::kFile || skip_contents) continue;
    uint64_t total = 0;
    for (;;) {
      auto n = (*decoder)->ReadContent(buf);
      if (!n.ok() || *n == 0) {
        FUZZ_CHECK(!n.ok() || total == entry.file_size, "file content ends early without error");
        break;
      }
      total += *n;
      FUZZ_CHECK(total <= entry.file_size, "file content longer than its size");
    }
  }
}

}  // namespace
}  // namespace cairn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::FuzzPxarDecoder(data, size);
  return 0;
}

#include "format/pxar/goodbye.h"

#include <algorithm>
#include <bit>

#include "fmt/format.h"
#include "format/pxar/format.h"

namespace cairn::pxar {
namespace {

// Places sorted[base, base+count) into the subtree rooted at `dst` whose depth below is `level`
// (the casync/pxar "camakebst" rule).
void Place(size_t count, size_t base, int level, size_t dst, std::vector<size_t>& out) {
  size_t p = size_t{1} << level;
  size_t t = p + p / 2 - 1;
  size_t m = count > t ? p - 1 : p - 1 - (t - count);
  out[dst] = base + m;
  if (m > 0) Place(m, base, level - 1, 2 * dst + 1, out);
  if (m + 1 < count) Place(count - m - 1, base + m + 1, level - 1, 2 * dst + 2, out);
}

}  // namespace

std::vector<size_t> GoodbyeTreeOrder(size_t n) {
  std::vector<size_t> out(n);
  if (n > 0) Place(n, 0, std::bit_width(n) - 1, 0, out);
  return out;
}

void AppendGoodbye(Bytes& out, std::vector<GoodbyeItem> children, uint64_t goodbye_offset,
                   uint64_t entry_offset) {
  std::stable_sort(children.begin(), children.end(),
                   [](const GoodbyeItem& a, const GoodbyeItem& b) { return a.hash < b.hash; });
  std::vector<size_t> order = GoodbyeTreeOrder(children.size());
  uint64_t content = (children.size() + 1) * kGoodbyeItemSize;
  AppendHeader(out, kGoodbye, content);
  auto append = [&out](uint64_t hash, uint64_t offset, uint64_t size) {
    uint8_t record[kGoodbyeItemSize];
    PutLE64(record, hash);
    PutLE64(record + 8, offset);
    PutLE64(record + 16, size);
    out.insert(out.end(), record, record + kGoodbyeItemSize);
  };
  for (size_t sorted_index : order) {
    const GoodbyeItem& child = children[sorted_index];
    append(child.hash, goodbye_offset - child.offset, child.size);
  }
  append(kGoodbyeTailMarker, goodbye_offset - entry_offset, content + kHeaderSize);
}

Result<std::vector<GoodbyeItem>> ParseGoodbye(ByteView content) {
  if (content.empty() || content.size() % kGoodbyeItemSize != 0) {
    return Status::Corruption(
        fmt::format("GOODBYE table of {} bytes (not a positive multiple of 24)", content.size()));
  }
  std::vector<GoodbyeItem> items(content.size() / kGoodbyeItemSize);
  for (size_t i = 0; i < items.size(); ++i) {
    const uint8_t* p = content.data() + i * kGoodbyeItemSize;
    items[i] = GoodbyeItem{GetLE64(p), GetLE64(p + 8), GetLE64(p + 16)};
  }
  if (items.back().hash != kGoodbyeTailMarker) {
    return Status::Corruption("GOODBYE table does not end with the tail marker");
  }
  return items;
}

std::vector<size_t> GoodbyeLookup(const std::vector<GoodbyeItem>& table, uint64_t hash) {
  std::vector<size_t> found;
  std::vector<size_t> pending = {0};
  while (!pending.empty()) {
    size_t i = pending.back();
    pending.pop_back();
    if (i >= table.size()) continue;
    if (hash < table[i].hash) {
      pending.push_back(2 * i + 1);
    } else if (hash > table[i].hash) {
      pending.push_back(2 * i + 2);
    } else {
      found.push_back(i);
      pending.push_back(2 * i + 1);
      pending.push_back(2 * i + 2);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace cairn::pxar

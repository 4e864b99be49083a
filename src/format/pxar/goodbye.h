// The GOODBYE table that ends every pxar directory (as in the pxar crate): one 24-byte record per
// child (name hash, backward offset to the child's FILENAME from the GOODBYE header, size of
// the child) laid out as an implicit binary search tree over the hashes, plus a tail record
// (kGoodbyeTailMarker, backward offset to the directory's ENTRY, size of the whole item).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cairn::pxar {

struct GoodbyeItem {
  uint64_t hash = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  bool operator==(const GoodbyeItem&) const = default;
};

// For n records sorted by hash: output[i] = the sorted index stored at table position i, the
// complete-binary-tree layout in which node i's smaller keys are under 2i+1, larger under 2i+2.
std::vector<size_t> GoodbyeTreeOrder(size_t n);

// Appends the whole GOODBYE item (header and records) for a directory whose children are
// `children`, with offsets still absolute (the offset of each child's FILENAME header).
// `goodbye_offset` is where the item starts in the stream, `entry_offset` where the directory's
// ENTRY starts (0 for the root, even in v2 archives). Equal hashes keep their relative order.
void AppendGoodbye(Bytes& out, std::vector<GoodbyeItem> children, uint64_t goodbye_offset,
                   uint64_t entry_offset);

// Parses the records of a GOODBYE item's content. Corruption if the size is not a positive
// multiple of 24 or the last record is not a tail.
Result<std::vector<GoodbyeItem>> ParseGoodbye(ByteView content);

// Table positions whose hash equals `hash`, found by walking the search tree (equal keys may
// sit in both subtrees; every one is returned). `table` excludes the tail.
std::vector<size_t> GoodbyeLookup(const std::vector<GoodbyeItem>& table, uint64_t hash);

}  // namespace cairn::pxar

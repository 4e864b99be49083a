// The chunks an index file references, whatever its kind (`.fidx` or `.didx`, told by the name).
// Shared by GC's mark phase and by the snapshot writer, which marks the chunks of every index it
// stores (see snapshot_writer.h).
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "format/digest.h"

namespace cairn {

// True for names ending in `.fidx` or `.didx`.
bool IsIndexFileName(std::string_view name);

// Parses the index `data` (named `name` in errors; Corruption if it does not parse), adds the
// bytes it describes to `*data_bytes` if given, and calls `visit` for each chunk reference in
// order, stopping at the first error.
// REQUIRES: IsIndexFileName(name).
Status ForEachIndexChunk(ByteView data, std::string_view name, uint64_t* data_bytes,
                         const std::function<Status(const Digest&)>& visit);

}  // namespace cairn

// ParallelFor runs a function over the indexes 0..n-1 on a few threads: the shape of every
// "fetch these N objects" loop. Work is handed out one index at a time; the first error stops
// the handing out (indexes already running finish) and is returned.
//
// Thread-safety: `fn` is called from several threads at once and must be thread-safe.
#pragma once

#include <cstddef>
#include <functional>

#include "base/status.h"

namespace cairn {

// Calls fn(i) for every i in [0, n) on min(threads, n) threads (at least one). Returns OK or
// the first error fn returned.
Status ParallelFor(size_t n, unsigned threads, const std::function<Status(size_t)>& fn);

}  // namespace cairn

#!/bin/sh
# Builds cairn_micro_bench if needed, runs it briefly and prints each benchmark's speed (MB/s =
# 10^6 bytes per second of CPU time, as PBS prints) beside PBS's 2020 reference value
# (`BENCHMARK_RESULT_2020_TOP` in PBS's proxmox-backup-client/src/benchmark.rs) and the ratio.
#
# Usage: bench/micro.sh [BUILD_DIR] [extra Google Benchmark flags, e.g. --benchmark_filter=Sha]
# BUILD_DIR defaults to build/ in the repository; it is configured (RelWithDebInfo, Ninja) if it
# has no CMake cache yet. CAIRN_BUILD_JOBS sets the build's parallelism (default 1).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/cairn_micro_bench"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
# Incremental: a no-op when the binary is up to date.
if ! cmake --build "$build" --target cairn_micro_bench -j "${CAIRN_BUILD_JOBS:-1}" >&2; then
  echo "micro.sh: cannot build cairn_micro_bench in $build (CAIRN_BUILD_BENCH must be ON)" >&2
  exit 1
fi
"$bin" --benchmark_format=json --benchmark_min_time=0.5 "$@" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print("%-28s %10s %20s %7s" % ("benchmark", "MB/s", "PBS reference MB/s", "ratio"))
for b in doc["benchmarks"]:
    mbps = b.get("bytes_per_second", 0) / 1e6
    ref = b.get("pbs_ref_MBps", 0)
    ref_s = "%.0f" % ref if ref else "-"
    ratio = "%.2f" % (mbps / ref) if ref else "-"
    print("%-28s %10.0f %20s %7s" % (b["name"], mbps, ref_s, ratio))
ctx = doc.get("context", {})
print("(%s, %s CPUs, load %s; benchmark library build %s)" % (
    ctx.get("host_name", "?"), ctx.get("num_cpus", "?"),
    " ".join("%.1f" % x for x in ctx.get("load_avg", [])), ctx.get("library_build_type", "?")))
'

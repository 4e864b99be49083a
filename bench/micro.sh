#!/bin/sh
# Runs cairn_micro_bench briefly and prints each benchmark's speed (MB/s = 10^6 bytes per second
# of CPU time, as PBS prints) beside PBS's 2020 reference value (pbs-reference 9) and the ratio.
#
# Usage: bench/micro.sh [BUILD_DIR] [extra Google Benchmark flags, e.g. --benchmark_filter=Sha]
# BUILD_DIR defaults to ./build; the binary is BUILD_DIR/bench/cairn_micro_bench.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
bin="$build/bench/cairn_micro_bench"
if [ ! -x "$bin" ]; then
  echo "micro.sh: $bin not found; build it with: ninja -C $build cairn_micro_bench" >&2
  exit 1
fi
"$bin" --benchmark_format=json --benchmark_min_time=0.5 "$@" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print("%-28s %10s %14s %7s" % ("benchmark", "MB/s", "PBS-ref MB/s", "ratio"))
for b in doc["benchmarks"]:
    mbps = b.get("bytes_per_second", 0) / 1e6
    ref = b.get("pbs_ref_MBps", 0)
    ref_s = "%.0f" % ref if ref else "-"
    ratio = "%.2f" % (mbps / ref) if ref else "-"
    print("%-28s %10.0f %14s %7s" % (b["name"], mbps, ref_s, ratio))
ctx = doc.get("context", {})
print("(%s, %s CPUs, load %s; library build %s)" % (
    ctx.get("host_name", "?"), ctx.get("num_cpus", "?"),
    " ".join("%.1f" % x for x in ctx.get("load_avg", [])), ctx.get("library_build_type", "?")))
'

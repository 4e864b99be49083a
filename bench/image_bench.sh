#!/usr/bin/env bash
# End-to-end image backup/restore throughput: Cairn side by side with restic and borg on the same
# file in one run, plus the single-process limit of SHA-256 + zstd-1 on that data.
#
# Usage: bench/image_bench.sh [SIZE_MIB=1024] [WORKDIR=/dev/shm/cairn-bench] [DATA=random|mixed]
# Needs build/cairn (scripts/build) and restic + borg (CAIRN_BENCH_DEPS=1 scripts/install-deps).
# Timings are wall clock; peak RSS from /usr/bin/time. A benchmark, not a test: nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
work=${2:-/dev/shm/cairn-bench}
kind=${3:-random}
cairn=$PWD/build/cairn
[ -x "$cairn" ] || scripts/build build >/dev/null
for tool in restic borg openssl zstd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run CAIRN_BENCH_DEPS=1 scripts/install-deps"; exit 1; }
done

rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
img=$work/disk.img
python3 bench/make_image.py "$img" "$size_mib" "$kind"
bytes=$(stat -c %s "$img")
sync

results=()
# run NAME CMD...: times a command, records "NAME seconds rss_kib".
run() {
  local name=$1; shift
  if ! /usr/bin/time -f "%e %M" "$@" >/dev/null 2>"$work/err"; then
    cat "$work/err"; echo "$name failed"; exit 1
  fi
  results+=("$name $(tail -n 1 "$work/err")")
}

# Single-process limit: SHA-256 then zstd -1 on one core each, summed.
t0=$(date +%s.%N); openssl dgst -sha256 "$img" >/dev/null; t1=$(date +%s.%N)
zstd -1 -q -c -T1 "$img" >/dev/null; t2=$(date +%s.%N)
limit=$(python3 -c "print($bytes/((($t1)-($t0))+(($t2)-($t1)))/2**20)")

export CAIRN_CONFIG_DIR=$work/cairn-config CAIRN_DEFAULT_STORE=$work/cairn-store
"$cairn" datastore create bench "$work/cairn-store" >/dev/null
run cairn-backup "$cairn" backup --store bench --backup-type vm --backup-id 1 --backup-time 1000 disk.img:"$img"
run cairn-rerun "$cairn" backup --store bench --backup-type vm --backup-id 1 --backup-time 2000 disk.img:"$img"
run cairn-restore "$cairn" restore --store bench vm/1/1970-01-01T00:33:20Z disk.img "$work/cairn.out"
cmp "$img" "$work/cairn.out"; rm -f "$work/cairn.out"
cairn_store=$(du -sb "$work/cairn-store" | cut -f1)

export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$work/restic-repo
restic init -q >/dev/null
run restic-backup restic backup -q "$img"
run restic-rerun restic backup -q "$img"
run restic-restore restic restore latest --target "$work/restic-out"
cmp "$img" "$work/restic-out$img"; rm -rf "$work/restic-out"
restic_store=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)

export BORG_REPO=$work/borg-repo BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
borg init -e none >/dev/null
run borg-backup borg create ::a "$img"
run borg-rerun borg create ::b "$img"
mkdir -p "$work/borg-out"
run borg-restore sh -c "cd '$work/borg-out' && borg extract ::b"
cmp "$img" "$work/borg-out$img"; rm -rf "$work/borg-out"
borg_store=$(du -sb "$BORG_REPO" | cut -f1)

python3 - "$bytes" "$limit" "$cairn_store" "$restic_store" "$borg_store" "$kind" "${results[@]}" <<'PY'
import sys
size, limit = int(sys.argv[1]), float(sys.argv[2])
stores = {"cairn": int(sys.argv[3]), "restic": int(sys.argv[4]), "borg": int(sys.argv[5])}
kind = sys.argv[6]
rows = {}
for item in sys.argv[7:]:
    name, secs, rss = item.split()
    rows[name] = (float(secs), int(rss))
mib = size / 2**20
print(f"image: {mib:.0f} MiB of {kind} data; single-process SHA-256 + zstd-1 limit: {limit:.0f} MiB/s")
print(f"{'run':<16}{'seconds':>9}{'MiB/s':>9}{'peak RSS MiB':>14}")
for name, (secs, rss) in rows.items():
    print(f"{name:<16}{secs:>9.2f}{mib / max(secs, 1e-9):>9.0f}{rss / 1024:>14.0f}")
print(f"stored bytes: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in stores.items()))
for op in ("backup", "rerun", "restore"):
    c = rows[f"cairn-{op}"][0]
    print(f"{op:<8} throughput ratio cairn/restic {rows[f'restic-{op}'][0] / c:5.2f}x   cairn/borg {rows[f'borg-{op}'][0] / c:5.2f}x")
print(f"cairn first backup = {mib / rows['cairn-backup'][0] / limit * 100:.0f}% of the single-process limit")
PY

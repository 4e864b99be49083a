#!/usr/bin/env bash
# Backups over the network protocol beside local ones, restic and borg, in one run.
#
# Usage: bench/protocol_bench.sh [TREE_MIB=1024] [IMAGE_MIB=4096] [WORKDIR=/dev/shm/cairn-protocol]
# Needs build/cairn (scripts/build), /usr/bin/python3, restic + borg
# (CAIRN_BENCH_DEPS=1 scripts/install-deps) and openssl.
#
# Data: a tree from bench/make_tree.py and a `mixed` image from bench/make_image.py (random,
# zeros and text). Runs, each backing up the tree (root.pxar) and the image (disk.img) into an
# empty repository, then restoring both (checked with diff -r and cmp); Cairn's runs take the
# tree and the image one at a time, so that the ratios are per kind of data:
#   cairn-local   cairn backup/restore --store (a local datastore)
#   cairn-server  cairn backup/restore --repository against `cairn server` on 127.0.0.1 (TLS,
#                 HTTP/2; the server's datastore on the same tmpfs)
#   restic, borg  their defaults (restic encrypts always; borg -e none)
#   parallel8     8 backups at once to the server, each of its own eighth of the tree
#                 (compared with the local backup of the whole tree)
# Reported: wall time, MiB/s, client peak RSS (/usr/bin/time), the server's peak RSS (VmHWM)
# against the bound of 64 MiB + 32 MiB per session, `cairn benchmark --repository`'s upload
# speed beside `openssl speed -evp aes-256-gcm` on one core, and the ratios. Nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tree_mib=${1:-1024}
image_mib=${2:-4096}
work=${3:-/dev/shm/cairn-protocol}
cairn=$repo/build/cairn
[ -x "$cairn" ] || { echo "missing $cairn: run scripts/build" >&2; exit 1; }
for tool in restic borg openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run CAIRN_BENCH_DEPS=1 scripts/install-deps" >&2; exit 1; }
done
source bench/server_lib.sh
bench_workdir "$work"

tree=$work/tree image=$work/disk.img
echo "generating a ${tree_mib} MiB tree and a ${image_mib} MiB image..." >&2
python3 bench/make_tree.py "$tree" "$tree_mib" >/dev/null
python3 bench/make_image.py "$image" "$image_mib" mixed
tree_bytes=$(du -sb "$tree" | cut -f1)
bytes=$(( tree_bytes + $(stat -c %s "$image") ))

results=$work/results; : > "$results"
run() {  # run NAME CMD...: records "NAME seconds rss_kib"
  local name=$1; shift
  sync
  if ! /usr/bin/time -f "%e %M" "$@" >"$work/stdout" 2>"$work/err"; then
    tail -5 "$work/err" >&2; echo "$name failed" >&2; exit 1
  fi
  echo "$name $(tail -n 1 "$work/err")" >> "$results"
}
check_restore() {  # check_restore NAME TREE_OUT IMAGE_OUT
  diff -r "$tree" "$2" >/dev/null || { echo "$1: restored tree differs" >&2; exit 1; }
  cmp -s "$image" "$3" || { echo "$1: restored image differs" >&2; exit 1; }
  rm -rf "$2" "$3"
}

export CAIRN_CONFIG_DIR=$work/config CAIRN_CACHE_DIR=$work/cache HOME=$work/home
mkdir -p "$HOME"

# Each archive alone, so that the ratios are per kind of data (the tree is chunked by content
# and has many small files; the image is fixed 4 MiB chunks of one file).
cairn_runs() {  # cairn_runs NAME REPOSITORY-OPTION...
  local name=$1; shift
  run "$name-backup-tree" "$cairn" backup "$@" --backup-id t --backup-time 1000 root.pxar:"$tree"
  run "$name-backup-image" "$cairn" backup "$@" --backup-id i --backup-time 1000 disk.img:"$image"
  run "$name-restore-tree" "$cairn" restore "$@" host/t/1970-01-01T00:16:40Z root.pxar "$work/out"
  run "$name-restore-image" "$cairn" restore "$@" host/i/1970-01-01T00:16:40Z disk.img "$work/out.img"
  check_restore "$name" "$work/out" "$work/out.img"
}

# Local datastore.
"$cairn" datastore create local1 "$work/local1" >/dev/null
cairn_runs cairn-local --store local1
"$cairn" datastore remove local1 >/dev/null; rm -rf "$work/local1"

# The server on loopback, a token with Admin.
start_server "$work"
cairn_runs cairn-server --repository "$remote"

# Eight sessions at once, each backing up its own eighth of the tree's top-level entries.
mapfile -t entries < <(ls "$tree")
for i in $(seq 0 7); do
  mkdir -p "$work/part$i"
  for ((j = i; j < ${#entries[@]}; j += 8)); do cp -al "$tree/${entries[j]}" "$work/part$i/"; done
done
cat > "$work/parallel8.sh" <<'SH'
set -e
for i in $(seq 0 7); do
  "$1" backup --repository "$2" --backup-id "p$i" --backup-time 2000 \
    root.pxar:"$(readlink -f "$3/part$i")" >/dev/null 2>"$3/p$i.err" &
done
for i in $(seq 0 7); do wait -n; done
SH
run parallel8 bash "$work/parallel8.sh" "$cairn" "$remote" "$work"
server_hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
tls=$("$cairn" --output-format json benchmark --repository "$remote" --seconds 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["tls"]["speed"])')
stop_server
rm -rf "$work/store1"
# One core's AES-256-GCM on 16 KiB records: what TLS costs the server per byte, at best.
aes=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 2 2>/dev/null |
  awk 'tolower($1) == "aes-256-gcm" {print $NF}')

export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$work/restic-repo RESTIC_CACHE_DIR=$work/restic-cache
restic init -q >/dev/null
run restic-backup restic backup -q "$tree" "$image"
run restic-restore restic restore latest --target "$work/restic-out"
check_restore restic "$work/restic-out$tree" "$work/restic-out$image"
rm -rf "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR" "$work/restic-out"

export BORG_REPO=$work/borg-repo BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_CACHE_DIR=$work/borg-cache BORG_BASE_DIR=$work/borg-base
borg init -e none >/dev/null
run borg-backup sh -c "cd '$work' && borg create ::a tree disk.img"
mkdir -p "$work/borg-out"
run borg-restore sh -c "cd '$work/borg-out' && borg extract ::a"
check_restore borg "$work/borg-out/tree" "$work/borg-out/disk.img"
rm -rf "$BORG_REPO"

/usr/bin/python3 - "$bytes" "$tree_bytes" "$results" "$server_hwm_kib" "$tls" "$aes" <<'PY'
import sys
size, tree_size, results = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hwm, tls, aes = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
rows = {}
for line in open(results):
    name, secs, rss = line.split()
    rows[name] = (float(secs), int(rss))
mib, tree_mib = size / 2**20, tree_size / 2**20
amounts = {"tree": tree_mib, "image": mib - tree_mib}
def amount(name):
    if name == "parallel8": return tree_mib
    for kind, value in amounts.items():
        if name.endswith("-" + kind): return value
    return mib
print(f"data: tree {tree_mib:.0f} MiB, mixed image {mib - tree_mib:.0f} MiB; parallel8: the tree "
      "in 8 sessions at once")
print(f"{'run':<28}{'seconds':>9}{'MiB/s':>9}{'client RSS MiB':>16}")
for name, (secs, rss) in rows.items():
    print(f"{name:<28}{secs:>9.2f}{amount(name) / max(secs, 1e-9):>9.0f}{rss / 1024:>16.0f}")
print(f"server peak RSS {hwm / 1024:.0f} MiB (bound 64 + 32 x 8 sessions = 320 MiB)")
aes_mbs = float(aes.rstrip("k")) * 1000 / 1e6 if aes else 0
print(f"upload speed (cairn benchmark) {tls / 1e6:.0f} MB/s; openssl aes-256-gcm one core "
      f"{aes_mbs:.0f} MB/s")
for op in ("backup", "restore"):
    for kind in amounts:
        local, server = rows[f"cairn-local-{op}-{kind}"][0], rows[f"cairn-server-{op}-{kind}"][0]
        print(f"cairn-server {op} {kind}: {local / server:.2f}x the local speed")
    both = sum(rows[f"cairn-server-{op}-{kind}"][0] for kind in amounts)
    print(f"cairn-server {op} tree + image: {rows[f'restic-{op}'][0] / both:.2f}x restic, "
          f"{rows[f'borg-{op}'][0] / both:.2f}x borg")
print(f"parallel8: {rows['cairn-local-backup-tree'][0] / rows['parallel8'][0]:.2f}x the local "
      "backup of the tree")
PY

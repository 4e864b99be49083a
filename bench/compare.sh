#!/usr/bin/env bash
# File backup side by side: Cairn, restic and borg on the same directory tree in one run.
#
# Usage: bench/compare.sh [SIZE_MIB=1024] [WORKDIR=/dev/shm/cairn-compare]
# Needs build/cairn (scripts/build) and restic + borg (CAIRN_BENCH_DEPS=1 scripts/install-deps).
#
# Data: bench/make_tree.py (reproducible): ~10,000 small text-like files, text-like files of
# varied sizes, one large incompressible file. Steps per tool, each tool with its defaults:
#   backup   first backup into an empty repository
#   rerun    a second backup after 5 % of the files were modified (bench/make_tree.py --modify)
#   restore  the second backup into an empty directory (checked with diff -r)
# Cairn runs four times: unencrypted with its default (legacy layout, every file read again on
# the rerun), "cairn-split" (--change-detection-mode data), "cairn-meta" (--change-detection-mode
# metadata: unchanged files are not read on the rerun; restic and borg skip them too, by their
# files caches) and "cairn-crypt" (default layout, with a key file). restic encrypts
# always; borg runs with its default (repokey encryption would add a passphrase; -e none keeps it
# comparable to unencrypted Cairn). Wall time, MiB/s of the tree size, peak RSS (/usr/bin/time)
# and repository size after both backups; then the ratios. A benchmark: nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
size_mib=${1:-1024}
work=${2:-/dev/shm/cairn-compare}
cairn=$repo/build/cairn
[ -x "$cairn" ] || { echo "missing $cairn: run scripts/build" >&2; exit 1; }
for tool in restic borg /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run CAIRN_BENCH_DEPS=1 scripts/install-deps" >&2; exit 1; }
done
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

pristine=$work/pristine
echo "generating ${size_mib} MiB tree..." >&2
python3 bench/make_tree.py "$pristine" "$size_mib"
bytes=$(du -sb "$pristine" | cut -f1)
files=$(find "$pristine" -type f | wc -l)
tree=$work/tree
# Each tool backs up a fresh copy of the tree, which is then modified in place, so inodes and
# ctimes of unchanged files stay the same between its two backups (restic and borg use both to
# skip unchanged files).
fresh_tree() { rm -rf "$tree"; cp -a "$pristine" "$tree"; sync; }
modify_tree() { python3 bench/make_tree.py "$tree" "$size_mib" --modify 5 >/dev/null; sync; }

results=$work/results; : > "$results"
run() {  # run NAME CMD...: records "NAME seconds rss_kib"
  local name=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  if ! /usr/bin/time -f "%e %M" "$@" >"$work/stdout" 2>"$work/err"; then
    tail -5 "$work/err" >&2; echo "$name failed" >&2; exit 1
  fi
  echo "$name $(tail -n 1 "$work/err")" >> "$results"
}
store_size() { echo "$1 $(du -sb "$2" | cut -f1)" >> "$work/stores"; }
: > "$work/stores"

# Cairn: unencrypted legacy layout (the default), split layout, and encrypted.
export CAIRN_CONFIG_DIR=$work/cairn-config
export CAIRN_CACHE_DIR=$work/cairn-cache
python3 - "$work/cairn.key" <<'PY'
import base64, json, os, sys
with open(sys.argv[1], "w") as f:
    json.dump({"kdf": None, "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
               "data": base64.b64encode(os.urandom(32)).decode()}, f)
os.chmod(sys.argv[1], 0o600)
PY
cairn_variant() {  # cairn_variant NAME EXTRA-ARGS...
  local name=$1; shift
  "$cairn" datastore create "$name" "$work/$name-store" >/dev/null
  fresh_tree
  run "$name-backup" "$cairn" backup --store "$name" --backup-id b --backup-time 1000 "$@" root.pxar:"$tree"
  modify_tree
  run "$name-rerun" "$cairn" backup --store "$name" --backup-id b --backup-time 2000 "$@" root.pxar:"$tree"
  local keyargs=()
  [[ " $* " == *" --keyfile "* ]] && keyargs=(--keyfile "$work/cairn.key")
  run "$name-restore" "$cairn" restore --store "$name" "${keyargs[@]}" host/b/1970-01-01T00:33:20Z root.pxar "$work/out"
  diff -r "$tree" "$work/out" >/dev/null || { echo "$name restore differs" >&2; exit 1; }
  rm -rf "$work/out"
  store_size "$name" "$work/$name-store"
  rm -rf "$work/$name-store"
}
cairn_variant cairn
cairn_variant cairn-split --change-detection-mode data
cairn_variant cairn-meta --change-detection-mode metadata
cairn_variant cairn-crypt --keyfile "$work/cairn.key"

export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$work/restic-repo RESTIC_CACHE_DIR=$work/restic-cache
restic init -q >/dev/null
fresh_tree
run restic-backup restic backup -q "$tree"
modify_tree
run restic-rerun restic backup -q "$tree"
run restic-restore restic restore latest --target "$work/out"
diff -r "$tree" "$work/out$tree" >/dev/null || { echo "restic restore differs" >&2; exit 1; }
rm -rf "$work/out"
store_size restic "$RESTIC_REPOSITORY"
rm -rf "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR"

export BORG_REPO=$work/borg-repo BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_CACHE_DIR=$work/borg-cache BORG_BASE_DIR=$work/borg-base
borg init -e none >/dev/null
fresh_tree
run borg-backup sh -c "cd '$tree' && borg create ::a ."
modify_tree
run borg-rerun sh -c "cd '$tree' && borg create ::b ."
mkdir -p "$work/out"
run borg-restore sh -c "cd '$work/out' && borg extract ::b"
diff -r "$tree" "$work/out" >/dev/null || { echo "borg restore differs" >&2; exit 1; }
rm -rf "$work/out"
store_size borg "$BORG_REPO"

python3 - "$bytes" "$files" "$results" "$work/stores" <<'PY'
import sys
size, files = int(sys.argv[1]), int(sys.argv[2])
rows = {}
for line in open(sys.argv[3]):
    name, secs, rss = line.split()
    rows[name] = (float(secs), int(rss))
stores = dict((l.split()[0], int(l.split()[1])) for l in open(sys.argv[4]))
mib = size / 2**20
print(f"tree: {mib:.0f} MiB in {files} files; rerun after modifying 5 % of the files")
print(f"{'run':<22}{'seconds':>9}{'MiB/s':>9}{'peak RSS MiB':>14}")
for name, (secs, rss) in rows.items():
    print(f"{name:<22}{secs:>9.2f}{mib / max(secs, 1e-9):>9.0f}{rss / 1024:>14.0f}")
print("repository size after both backups: " +
      ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in stores.items()))
for variant in ("cairn", "cairn-split", "cairn-meta", "cairn-crypt"):
    for op in ("backup", "rerun", "restore"):
        c = rows[f"{variant}-{op}"][0]
        print(f"{variant:<12}{op:<8} speed vs restic {rows[f'restic-{op}'][0] / c:5.2f}x   "
              f"vs borg {rows[f'borg-{op}'][0] / c:5.2f}x   (wall time ratio "
              f"{c / rows[f'restic-{op}'][0]:.2f} of restic's)")
PY

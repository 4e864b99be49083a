#!/usr/bin/env bash
# Garbage collection on a filesystem datastore beside an S3 datastore on moto, same content.
#
# Usage: bench/gc_bench.sh [CHUNKS=60000] [WORKDIR=/dev/shm/cairn-gc-bench]
# Needs build/cairn (scripts/build; CAIRN_BIN=PATH takes another binary, which is copied into
# WORKDIR first so a rebuild meanwhile cannot change it), moto and /usr/bin/time.
#
# Content: one group vm/100 with 8 snapshots of 64 KiB chunks (the smallest --chunk-size), each
# a random image made of a region all 8 share (1/10 of CHUNKS) and a region of its own, so the
# stores hold CHUNKS distinct chunks (rounded up). The same 8 backups go into a filesystem
# datastore and into an S3 datastore (cache on the same tmpfs) on a fresh moto.
#   run 0: the first `cairn gc` on both (everything referenced; it stores the all-zero chunk of
#          its atime check, which on S3 also makes it load the cache's LRU from the files);
#   run 1: `cairn gc` on both again (the steady state: nothing to remove); then 1L and 1S, the
#          same on S3 through a proxy adding CAIRN_BENCH_LATENCY_MS (30) per GET, with 8 and 1
#          connections (key ranges listed in parallel, or one after another);
#   then `cairn prune vm/100 --keep-last 4` on both, every file under .chunks/ gets its atime set
#   two days back (mtime kept), and
#   run 2: `cairn gc` on both (default cutoff): the chunks only the 4 pruned snapshots used go.
# Reported per run: wall time and peak RSS (/usr/bin/time), chunks removed and in use (gc's
# JSON), its S3 requests by kind, moto's log for the same run (LIST pages, DeleteObjects
# batches), chunks left (counted in the directory and the bucket), and the S3/filesystem time
# ratio; list pages against ceil(chunks/1000), delete batches against ceil(removed/1000); the CPU
# seconds of Cairn (user + sys) and of moto (from /proc; one Python process, so its CPU time is
# about the time it spent answering: moto filters and sorts the whole bucket for every page).
# Nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
chunks=${1:-60000}
work=${2:-/dev/shm/cairn-gc-bench}
src_bin=${CAIRN_BIN:-$repo/build/cairn}
[ -x "$src_bin" ] || { echo "missing $src_bin: run scripts/build" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time" >&2; exit 1; }
python3 -c 'import moto, boto3' 2>/dev/null || { echo "missing moto/boto3" >&2; exit 1; }

rm -rf "$work"; mkdir -p "$work/state"
cleanup() {
  # set -e applies here too: a failing kill (the proxy already stopped) must not end the
  # cleanup before moto is stopped and the work directory removed.
  if [ -n "${proxy_pid:-}" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
  python3 "$repo/tests/s3/s3_server.py" stop --state-dir "$work/state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cairn=$work/cairn
cp "$src_bin" "$cairn"
export CAIRN_CONFIG_DIR=$work/config CAIRN_HOSTNAME=gc-bench
bucket="cairn-gc-bench"
snapshots=8
chunk_kib=64
shared=$(( (chunks + 9) / 10 ))
own=$(( (chunks - shared + snapshots - 1) / snapshots ))
distinct=$(( shared + snapshots * own ))

python3 "$repo/tests/s3/s3_server.py" start --kind moto --state-dir "$work/state" >/dev/null
peer=$work/state/moto.json
log=$work/state/moto.log
field() { python3 -c "import json,sys; print(json.load(open('$peer'))['$1'])"; }
endpoint=$(field endpoint); access=$(field access_key); secret=$(field secret_key)
region=$(field region); moto_pid=$(field pid)
moto_ticks() { awk '{ print $14 + $15 }' "/proc/$moto_pid/stat"; }  # utime + stime
printf '%s\n' "$secret" > "$work/moto.secret"
"$cairn" s3 endpoint create moto --endpoint "$endpoint" --access-key "$access" \
  --secret-key-file "$work/moto.secret" --region "$region" --path-style >/dev/null 2>&1
"$cairn" s3 benchmark moto "$bucket" --object-size 16 --count 2 >/dev/null 2>&1  # makes the bucket
"$cairn" datastore create gcfs "$work/fs" >/dev/null
"$cairn" datastore create gcs3 "$work/cache" --backend s3 --s3-endpoint moto --bucket "$bucket" \
  >/dev/null 2>&1

# The 8 images: shared.bin (the common region) followed by each snapshot's own random chunks.
echo "content: $snapshots snapshots x $((shared + own)) chunks of $chunk_kib KiB ($shared shared," \
  "$own own each) = $distinct distinct chunks, $(( distinct * chunk_kib / 1024 )) MiB per store"
head -c $(( shared * chunk_kib * 1024 )) /dev/urandom > "$work/shared.bin"
t0=$SECONDS
for i in $(seq 1 "$snapshots"); do
  cp "$work/shared.bin" "$work/disk.img"
  head -c $(( own * chunk_kib * 1024 )) /dev/urandom >> "$work/disk.img"
  for store in gcfs gcs3; do
    "$cairn" backup --store "$store" --backup-type vm --backup-id 100 \
      --backup-time $(( 1700000000 + i * 86400 )) --chunk-size "$chunk_kib" \
      --output-format json disk.img:"$work/disk.img" > "$work/backup.json" 2>"$work/err" \
      || { cat "$work/err" >&2; echo "backup $i into $store failed" >&2; exit 1; }
  done
done
rm -f "$work/disk.img" "$work/shared.bin"
echo "backups: $(( SECONDS - t0 )) s for $snapshots snapshots into both stores (untimed setup)"

# Counts chunk files in a store's .chunks/, chunk objects in the bucket.
local_chunks() { find "$1/.chunks" -type f | wc -l; }
bucket_chunks() {
  python3 - "$endpoint" "$access" "$secret" "$region" "$bucket" <<'PY'
import sys, boto3
e, a, s, region, b = sys.argv[1:6]
c = boto3.client("s3", endpoint_url=e, aws_access_key_id=a, aws_secret_access_key=s, region_name=region)
n = 0
for page in c.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="gcs3/.chunks/"):
    n += len(page.get("Contents", []))
print(n)
PY
}

results=$work/results; : > "$results"
# gc NAME STORE: one timed `cairn gc`; appends a JSON line to $results.
gc() {
  local name=$1 store=$2 before moto_cpu
  before=$(wc -l < "$log")
  moto_cpu=$(moto_ticks)
  if ! /usr/bin/time -f "%e %M %U %S" "$cairn" gc --store "$store" --output-format json \
      > "$work/gc.json" 2>"$work/err"; then
    cat "$work/err" >&2; echo "$name failed" >&2; exit 1
  fi
  sleep 0.3  # let moto flush its log
  moto_cpu=$(( $(moto_ticks) - moto_cpu ))
  tail -n +"$((before + 1))" "$log" > "$work/gc.log"  # before counting the bucket ourselves
  local left
  if [ "$store" = gcs3 ]; then left="$(bucket_chunks) $(local_chunks "$work/cache")"
  else left="- $(local_chunks "$work/fs")"; fi
  python3 - "$name" "$store" "$bucket" "$work/gc.json" "$work/err" "$left" "$work/gc.log" "$moto_cpu" \
    >> "$results" <<'PY'
import json, re, sys, collections
import os
name, store, bucket, gcjson, err, left, log, moto_ticks = sys.argv[1:9]
n = collections.Counter()
for line in open(log):
    m = re.search(r"\"(GET|PUT|HEAD|POST|DELETE) /([^/? ]+)([^ ]*) HTTP", line)
    if not m or m.group(2) != bucket:
        continue
    method, rest = m.group(1), m.group(3)
    kind = ("LIST" if method == "GET" and "list-type" in rest else
            "DELETEOBJECTS" if method == "POST" and "delete" in rest else method)
    n[kind] += 1
secs, rss, user, system = open(err).read().split()[-4:]
status = json.load(open(gcjson))
objects, files = left.split()
print(json.dumps({"name": name, "store": store, "seconds": float(secs), "rss_kib": int(rss),
                  "cpu": float(user) + float(system),
                  "moto_cpu": int(moto_ticks) / os.sysconf("SC_CLK_TCK"),
                  "gc": status, "moto": dict(n), "left_objects": objects, "left_files": files}))
PY
}

gc fs-0 gcfs
gc s3-0 gcs3
gc fs-1 gcfs
gc s3-1 gcs3

# Runs 1L and 1S: the steady-state GC again through tests/s3/fault_proxy.py delaying every GET
# (each LIST page) by $latency_ms ms, as a distant S3 endpoint would: with the endpoint's 8
# connections (the 16 key ranges listed 8 at a time) and with 1 (one range after another).
latency_ms=${CAIRN_BENCH_LATENCY_MS:-30}
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$repo/tests/s3/fault_proxy.py" --port "$proxy_port" --upstream-port "${endpoint##*:}" \
  --log "$work/proxy.log" &
proxy_pid=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$proxy_port/__cairn_fault__" && break; sleep 0.1
done
curl -s -o /dev/null -X POST "http://127.0.0.1:$proxy_port/__cairn_fault__" \
  -d "{\"rate\": 1.0, \"kinds\": [\"delay\"], \"delay_ms\": $latency_ms, \"methods\": [\"GET\"]}"
"$cairn" s3 endpoint update moto --endpoint "http://127.0.0.1:$proxy_port" >/dev/null 2>&1
gc s3-1L gcs3
"$cairn" s3 endpoint update moto --max-connections 1 >/dev/null 2>&1
gc s3-1S gcs3
"$cairn" s3 endpoint update moto --endpoint "$endpoint" --max-connections 8 >/dev/null 2>&1
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true

for store in gcfs gcs3; do
  "$cairn" prune --store "$store" vm/100 --keep-last $(( snapshots / 2 )) >/dev/null 2>"$work/err" \
    || { cat "$work/err" >&2; echo "prune of $store failed" >&2; exit 1; }
done
# Make every chunk look unmarked for two days (atime only; GC judges by atime).
python3 - "$work/fs/.chunks" "$work/cache/.chunks" <<'PY'
import os, sys, time
old = time.time() - 2 * 86400
for top in sys.argv[1:]:
    for d in os.scandir(top):
        for f in os.scandir(d.path):
            st = f.stat(follow_symlinks=False)
            os.utime(f.path, (old, st.st_mtime), follow_symlinks=False)
PY

gc fs-2 gcfs
gc s3-2 gcs3

python3 - "$results" "$distinct" "$(( own * snapshots / 2 ))" "$latency_ms" <<'PY'
import json, math, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
distinct, only_pruned, latency_ms = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"\nstore: {distinct} distinct chunks of 64 KiB (+ the all-zero chunk of GC's atime check);"
      f" run 0 the first GC, 1 the second, 2 after pruning 4 of 8 snapshots"
      f" ({only_pruned} chunks only they used)")
print(f"{'run':<6}{'seconds':>9}{'gc says':>9}{'CPU s':>7}{'moto CPU':>9}{'RSS MiB':>9}{'marked':>8}{'removed':>9}{'kept':>8}"
      f"{'left':>12}  {'S3 requests (gc JSON)':<28}{'moto LIST/DeleteObjects':>24}")
for name, r in rows.items():
    s = r["gc"]
    q = (s.get("requests") or {}).get("requests") or {}
    req = " ".join(f"{k} {v}" for k, v in q.items() if v) or "-"
    s3 = r["store"] == "gcs3"
    moto = f"{r['moto'].get('LIST', 0)} / {r['moto'].get('DELETEOBJECTS', 0)}" if s3 else "-"
    left = f"{r['left_objects']}/{r['left_files']}" if s3 else r["left_files"]
    mcpu = f"{r['moto_cpu']:.2f}" if s3 else "-"
    print(f"{name:<6}{r['seconds']:>9.2f}{s['duration']:>9.2f}{r['cpu']:>7.2f}{mcpu:>9}"
          f"{r['rss_kib'] / 1024:>9.0f}"
          f"{s['marked-chunks']:>8}{s['removed-chunks']:>9}{s['disk-chunks']:>8}{left:>12}"
          f"  {req:<28}{moto:>24}")
print("(seconds: wall time of the process; gc says: its own duration; CPU s: Cairn's user + sys;"
      " moto CPU: moto's user + sys meanwhile; kept: disk-chunks;"
      " left: chunk files (filesystem), chunk objects in the bucket / files in the cache (S3),"
      " counted after the run)")
for run, target, pbs in (("0", None, None), ("1", 1.3, 1.5), ("2", 2.0, 4.3)):
    fs, s3 = rows[f"fs-{run}"], rows[f"s3-{run}"]
    ratio = s3["seconds"] / max(fs["seconds"], 1e-9)
    listed = s3["gc"]["disk-chunks"] + s3["gc"]["removed-chunks"]
    removed = s3["gc"]["removed-chunks"]
    moto = s3["moto"]
    goal = f" (target <= {target}x, PBS {pbs}x)" if target else " (first GC)"
    print(f"run {run}: S3/filesystem {ratio:.2f}x{goal};"
          f" LIST pages {moto.get('LIST', 0)} (ceil({listed}/1000) = {math.ceil(listed / 1000)};"
          f" in 16 key ranges at most {math.ceil(listed / 1000) + 15}),"
          f" DeleteObjects {moto.get('DELETEOBJECTS', 0)} (ceil({removed}/1000) ="
          f" {math.ceil(removed / 1000)})")
    rest = s3["seconds"] - s3["moto_cpu"]
    print(f"       without moto's {s3['moto_cpu']:.2f} CPU s the S3 run would take {rest:.2f} s"
          f" = {rest / max(fs['seconds'], 1e-9):.2f}x filesystem")
par, ser = rows["s3-1L"], rows["s3-1S"]
print(f"run 1 with {latency_ms} ms per GET: ranges in parallel {par['seconds']:.2f} s, one at a time"
      f" {ser['seconds']:.2f} s ({ser['seconds'] / max(par['seconds'], 1e-9):.2f}x);"
      f" {par['moto'].get('LIST', 0)} LIST pages")
PY

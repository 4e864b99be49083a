#!/usr/bin/env bash
# Backup and restore into S3 on moto: a Cairn S3 datastore side by side with restic's S3
# repository, same data, same moto server, one run.
#
# Usage: bench/s3_datastore_bench.sh [SIZE_MIB=512] [WORKDIR=/dev/shm/cairn-s3ds-bench]
# Needs build/cairn (scripts/build), restic (CAIRN_BENCH_DEPS=1 scripts/install-deps) and moto.
#
# The data is one disk image of mixed content (1/4 random, 1/4 zeros, 1/2 text-like;
# bench/make_image.py), backed up by Cairn as an image (4 MiB fixed chunks) and by
# restic as a file (its content-defined chunks, packed into ~16 MiB objects). Steps per tool:
# first backup, restore with an empty local cache (Cairn: cache wiped; restic has none), and for
# Cairn a restore with a warm cache. Requests are counted by kind from moto's request log for
# the tool's bucket; "PUT/GiB" is PUT requests per GiB of data stored in the bucket. moto (one
# Python process, started afresh for each tool) is the bottleneck: ratios compare how well each
# client uses it. Nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
size_mib=${1:-512}
work=${2:-/dev/shm/cairn-s3ds-bench}
cairn=$repo/build/cairn
[ -x "$cairn" ] || { echo "missing $cairn: run scripts/build" >&2; exit 1; }
for tool in restic /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run CAIRN_BENCH_DEPS=1 scripts/install-deps" >&2; exit 1; }
done
python3 -c 'import moto, boto3' 2>/dev/null || { echo "missing moto/boto3" >&2; exit 1; }

rm -rf "$work"; mkdir -p "$work/state"
cleanup() {
  python3 "$repo/tests/s3/s3_server.py" stop --state-dir "$work/state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

img=$work/disk.img
python3 "$repo/bench/make_image.py" "$img" "$size_mib" mixed

peer=$work/state/moto.json
log=$work/state/moto.log
# Each tool gets a fresh moto with one bucket (moto keeps objects in memory and slows down as
# they accumulate, so sharing one process would favour whoever runs first).
fresh_moto() {
  python3 "$repo/tests/s3/s3_server.py" stop --state-dir "$work/state" >/dev/null 2>&1 || true
  python3 "$repo/tests/s3/s3_server.py" start --kind moto --state-dir "$work/state" >/dev/null
  endpoint=$(field endpoint); access=$(field access_key); secret=$(field secret_key)
  region=$(field region)
  python3 - "$endpoint" "$access" "$secret" "$region" "$1" <<'PY'
import sys, boto3
e, a, s, region, bucket = sys.argv[1:6]
boto3.client("s3", endpoint_url=e, aws_access_key_id=a, aws_secret_access_key=s,
             region_name=region).create_bucket(Bucket=bucket)
PY
}
field() { python3 -c "import json,sys; print(json.load(open('$peer'))['$1'])"; }

results=$work/results; : > "$results"
# run NAME BUCKET CMD...: times CMD; records name, seconds, RSS and moto's requests for BUCKET.
run() {
  local name=$1 bucket=$2; shift 2
  local before; before=$(wc -l < "$log")
  if ! /usr/bin/time -f "%e %M" "$@" >"$work/out" 2>"$work/err"; then
    cat "$work/err" >&2; echo "$name failed" >&2; exit 1
  fi
  sleep 0.2  # let moto flush its log
  local counts
  counts=$(tail -n +"$((before + 1))" "$log" | python3 -c '
import re, sys, collections
bucket = sys.argv[1]
n = collections.Counter()
for line in sys.stdin:
    m = re.search(r"\"(GET|PUT|HEAD|POST|DELETE) /([^/? ]+)([^ ]*) HTTP", line)
    if not m or m.group(2) != bucket:
        continue
    method, rest = m.group(1), m.group(3)
    kind = "LIST" if method == "GET" and "list-type" in rest else method
    n[kind] += 1
print(",".join(f"{k}={v}" for k, v in sorted(n.items())) or "-")' "$bucket")
  echo "$name $(tail -n 1 "$work/err") $counts" >> "$results"
}
stored() {  # bytes and objects in a bucket
  python3 - "$endpoint" "$access" "$secret" "$region" "$1" <<'PY'
import sys, boto3
e, a, s, region, b = sys.argv[1:6]
c = boto3.client("s3", endpoint_url=e, aws_access_key_id=a, aws_secret_access_key=s, region_name=region)
total = count = 0
for page in c.get_paginator("list_objects_v2").paginate(Bucket=b):
    for o in page.get("Contents", []):
        total += o["Size"]; count += 1
print(total, count)
PY
}

# Cairn: an S3 datastore with its cache on the same tmpfs.
fresh_moto cairn-bench
export CAIRN_CONFIG_DIR=$work/cairn-config
"$cairn" s3 endpoint create bench --endpoint "$endpoint" --access-key "$access" \
  --secret-key "$secret" --region "$region" --path-style >/dev/null 2>&1
"$cairn" datastore create bench "$work/cairn-cache" --backend s3 --s3-endpoint bench \
  --bucket cairn-bench >/dev/null
run cairn-backup cairn-bench "$cairn" backup --store bench --backup-type vm --backup-id 1 \
  --backup-time 1000 disk.img:"$img"
snapshot=vm/1/1970-01-01T00:16:40Z
find "$work/cairn-cache/.chunks" -type f -delete   # restore from the bucket
run cairn-restore-cold cairn-bench "$cairn" restore --store bench "$snapshot" disk.img "$work/cairn.out"
cmp "$img" "$work/cairn.out"; rm -f "$work/cairn.out"
run cairn-restore-warm cairn-bench "$cairn" restore --store bench "$snapshot" disk.img "$work/cairn.out"
cmp "$img" "$work/cairn.out"; rm -f "$work/cairn.out"
read -r cairn_bytes cairn_objects < <(stored cairn-bench)

# restic: an S3 repository on a moto of its own.
fresh_moto restic-bench
export AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=$region
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=s3:$endpoint/restic-bench RESTIC_CACHE_DIR=$work/restic-cache
restic init -q >/dev/null
run restic-backup restic-bench restic backup -q "$img"
rm -rf "$work/restic-cache"
run restic-restore-cold restic-bench restic restore latest --target "$work/restic-out"
cmp "$img" "$work/restic-out$img"; rm -rf "$work/restic-out"
read -r restic_bytes restic_objects < <(stored restic-bench)

python3 - "$size_mib" "$cairn_bytes" "$cairn_objects" "$restic_bytes" "$restic_objects" "$results" <<'PY'
import sys
mib = int(sys.argv[1])
stored = {"cairn": (int(sys.argv[2]), int(sys.argv[3])), "restic": (int(sys.argv[4]), int(sys.argv[5]))}
rows = {}
for line in open(sys.argv[6]):
    name, secs, rss, counts = line.split()
    reqs = dict(kv.split("=") for kv in counts.split(",")) if counts != "-" else {}
    rows[name] = (float(secs), int(rss), {k: int(v) for k, v in reqs.items()})
print(f"data: {mib} MiB disk image (mixed); server: moto on 127.0.0.1")
print(f"{'run':<20}{'seconds':>9}{'MiB/s':>9}{'RSS MiB':>9}  requests")
for name, (secs, rss, reqs) in rows.items():
    req = " ".join(f"{k} {v}" for k, v in sorted(reqs.items()))
    print(f"{name:<20}{secs:>9.2f}{mib / max(secs, 1e-9):>9.1f}{rss / 1024:>9.0f}  {req}")
for tool, (b, n) in stored.items():
    puts = rows[f"{tool}-backup"][2].get("PUT", 0)
    gib = b / 2**30
    print(f"{tool:<7} stored {b / 2**20:.0f} MiB in {n} objects; {puts} PUTs = {puts / gib:.0f} PUT/GiB stored")
c, r = rows["cairn-backup"][0], rows["restic-backup"][0]
print(f"backup  throughput cairn/restic {r / c:.2f}x")
c, r = rows["cairn-restore-cold"][0], rows["restic-restore-cold"][0]
print(f"restore throughput cairn/restic {r / c:.2f}x (both from the bucket)")
PY

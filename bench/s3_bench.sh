#!/usr/bin/env bash
# S3 client throughput: Cairn's S3 client (`cairn s3 benchmark`) side by side with boto3
# (bench/s3_boto3_bench.py, same workload) and awscli (`aws s3 cp --recursive`) against moto and
# s3rver on 127.0.0.1, at 4 KiB and 4 MiB objects, with the same concurrency.
#
# Usage: bench/s3_bench.sh [--threads N=8] [--count-small N=2000] [--count-large N=100]
#                          [--rounds N=1] [--tools cairn,boto3,awscli] [--servers moto,s3rver]
# Needs build/cairn (scripts/build), moto + boto3 + awscli (pip) and s3rver (scripts/install-deps).
#
# Per server and size every tool gets a fresh bucket; runs of one size follow each other on the
# same server (with --rounds N the order alternates and the table shows each tool's median).
# Cairn and boto3: THREADS threads PUT COUNT objects (each takes the next one), GET them all,
# then delete them (not timed); rates are from each tool's own timing of the PUT and GET phases.
# awscli: `aws s3 cp --recursive` of a directory of COUNT files up, then down, with
# max_concurrent_requests = THREADS; its wall time includes interpreter start (~0.5 s) and, for
# the download, listing the bucket. The servers are single-process Python (moto) and Node
# (s3rver) and the bottleneck: ratios measure client overhead, not S3. Cairn's endpoint gets
# --max-connections THREADS, boto3 max_pool_connections THREADS. "retries" sums each tool's own
# count over its runs, cleanup included (s3rver answers 500 to a DeleteObjects batch that empties
# a key "directory", so one retry there is normal). Nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
threads=8 count_small=2000 count_large=100 rounds=1 tools=cairn,boto3,awscli servers=moto,s3rver
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --count-small) count_small=$2; shift 2 ;;
    --count-large) count_large=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "s3_bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
has() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }
cairn=$repo/build/cairn
if has "$tools" cairn; then
  [ -x "$cairn" ] || { echo "missing $cairn: build it with scripts/build" >&2; exit 1; }
  "$cairn" s3 benchmark --help 2>&1 | grep -q -- --object-size ||
    { echo "$cairn has no 's3 benchmark' command; use --tools boto3,awscli or rebuild" >&2; exit 1; }
fi
python3 -c 'import boto3, moto' 2>/dev/null || { echo "missing boto3/moto: pip install boto3 'moto[server]'" >&2; exit 1; }
if has "$tools" awscli; then
  command -v aws >/dev/null || { echo "missing aws (pip install awscli) or use --tools cairn,boto3" >&2; exit 1; }
fi

# Servers' data, the awscli files and Cairn's config live on tmpfs when there is one, so the
# local disk is not what is measured.
base=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work=$(mktemp -d "$base/cairn-s3-bench.XXXXXX")
state=$work/servers
cleanup() {
  python3 "$repo/tests/s3/s3_server.py" stop --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$state" "$work/cairn-config" "$work/results"

field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
now() { date +%s.%N; }

# awscli: credentials from the environment, one config file with the concurrency.
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
export AWS_EC2_METADATA_DISABLED=true
printf '[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = %s\n  max_queue_size = %s\n  addressing_style = path\n' \
  "$threads" "$((threads * 100))" >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"

sizes=("4KiB 4096 $count_small" "4MiB 4194304 $count_large")
if has "$tools" awscli; then
  for spec in "${sizes[@]}"; do
    read -r label size count <<<"$spec"
    python3 - "$work/files-$label" "$size" "$count" <<'PY'
import os, struct, sys
d, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d)
base = os.urandom(size)
for i in range(count):
    with open(os.path.join(d, f"{i:08d}"), "wb") as f:
        f.write(struct.pack(">Q", i) + base[8:])
PY
  done
fi

# run_cairn SERVER LABEL SIZE COUNT BUCKET OUT
run_cairn() {
  "$cairn" --config-dir "$work/cairn-config" --output-format json s3 benchmark "$1" "$5" \
    --object-size "$3" --count "$4" --threads "$threads" >"$6"
}
run_boto3() {
  python3 "$repo/bench/s3_boto3_bench.py" --server "$state/$1.json" "$5" \
    --object-size "$3" --count "$4" --threads "$threads" >"$6"
}
# awscli: upload then download the directory; writes the same JSON shape from wall times.
run_awscli() {
  local server=$1 label=$2 size=$3 count=$4 bucket=$5 out=$6 ep down
  ep=$(field "$state/$server.json" endpoint)
  down=$work/down
  rm -rf "$down"; mkdir -p "$down"
  AWS_ACCESS_KEY_ID=$(field "$state/$server.json" access_key) \
  AWS_SECRET_ACCESS_KEY=$(field "$state/$server.json" secret_key) bash -c '
    set -euo pipefail
    aws --endpoint-url "$1" s3api create-bucket --bucket "$2" >/dev/null
    t0=$(date +%s.%N)
    aws --endpoint-url "$1" s3 cp --recursive --only-show-errors "$3" "s3://$2/bench-awscli/"
    t1=$(date +%s.%N)
    aws --endpoint-url "$1" s3 cp --recursive --only-show-errors "s3://$2/bench-awscli/" "$4"
    t2=$(date +%s.%N)
    echo "$t0 $t1 $t2" >"$5.times"
    aws --endpoint-url "$1" s3 rm --recursive --only-show-errors "s3://$2/bench-awscli/" >/dev/null
  ' _ "$ep" "$bucket" "$work/files-$label" "$down" "$out"
  [ "$(find "$down" -type f | wc -l)" -eq "$count" ] || { echo "awscli: download incomplete" >&2; return 1; }
  python3 - "$size" "$count" "$out" <<'PY'
import json, sys
size, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0, t1, t2 = map(float, open(out + ".times").read().split())
def fig(s):
    return {"objects": count, "bytes": size * count, "seconds": s,
            "objects-per-second": count / s, "mib-per-second": size * count / 2**20 / s}
json.dump({"put": fig(t1 - t0), "get": fig(t2 - t1)}, open(out, "w"))
PY
  rm -f "$out.times"; rm -rf "$down"
}

order=()
for tool in cairn boto3 awscli; do has "$tools" "$tool" && order+=("$tool"); done
start=$(now)
IFS=, read -r -a server_list <<<"$servers"
for server in "${server_list[@]}"; do
  python3 "$repo/tests/s3/s3_server.py" start --kind "$server" --state-dir "$state" >/dev/null
  if has "$tools" cairn; then
    max_conn=()
    "$cairn" s3 endpoint create --help 2>&1 | grep -q -- --max-connections && max_conn=(--max-connections "$threads")
    "$cairn" --config-dir "$work/cairn-config" s3 endpoint create "$server" \
      --endpoint "$(field "$state/$server.json" endpoint)" \
      --access-key "$(field "$state/$server.json" access_key)" \
      --secret-key "$(field "$state/$server.json" secret_key)" \
      --region us-east-1 --path-style "${max_conn[@]}" >/dev/null 2>"$work/endpoint.err" ||
      { cat "$work/endpoint.err" >&2; exit 1; }  # (its stderr: the plain-http warning)
  fi
  # Warm-up: the server's first requests (imports, JIT) are not anyone's figures.
  python3 "$repo/bench/s3_boto3_bench.py" --server "$state/$server.json" "warmup-$server" \
    --object-size 4096 --count $((threads * 4)) --threads "$threads" >/dev/null
  for spec in "${sizes[@]}"; do
    read -r label size count <<<"$spec"
    for ((r = 1; r <= rounds; r++)); do
      run_order=("${order[@]}")
      if ((r % 2 == 0)); then  # even rounds: reversed order
        run_order=(); for ((i = ${#order[@]} - 1; i >= 0; i--)); do run_order+=("${order[i]}"); done
      fi
      for tool in "${run_order[@]}"; do
        bucket=$(echo "bench-$server-$label-$tool-r$r" | tr '[:upper:]' '[:lower:]')
        out=$work/results/$server.$label.$tool.$r.json
        printf '%-7s %-5s %-7s round %d ... ' "$server" "$label" "$tool" "$r" >&2
        t0=$(now)
        "run_$tool" "$server" "$label" "$size" "$count" "$bucket" "$out"
        printf '%.1f s\n' "$(python3 -c "print($(now) - $t0)")" >&2
      done
    done
  done
  python3 "$repo/tests/s3/s3_server.py" stop --state-dir "$state" --kind "$server" >/dev/null
done
elapsed=$(python3 -c "print(round($(now) - $start))")

python3 - "$work/results" "$threads" "$elapsed" "$servers" "${order[@]}" <<'PY'
import glob, json, os, statistics, sys
results, threads, elapsed, servers, tools = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5:]
runs = {}
for path in glob.glob(os.path.join(results, "*.json")):
    server, label, tool, _r, _ = os.path.basename(path).split(".")
    runs.setdefault((server, label, tool), []).append(json.load(open(path)))
def med(key, phase, field):
    vals = [doc[phase][field] for doc in runs.get(key, [])]
    return statistics.median(vals) if vals else None
print(f"S3 client throughput, {threads} threads; median of {max(len(v) for v in runs.values())} "
      f"round(s); total {elapsed} s")
hdr = (f"{'server':<8}{'size':<6}{'tool':<8}{'PUT obj/s':>10}{'PUT MiB/s':>10}{'GET obj/s':>10}"
       f"{'GET MiB/s':>10}{'retries':>8}")
if "cairn" in tools:
    hdr += f"{'Cairn/this PUT':>16}{'Cairn/this GET':>16}"
print(hdr)
slower = []
for server in servers:
    for label in ("4KiB", "4MiB"):
        for tool in tools:
            key = (server, label, tool)
            if key not in runs:
                continue
            row = f"{server:<8}{label:<6}{tool:<8}"
            row += "".join(f"{med(key, ph, f):>10.{1 if f == 'objects-per-second' else 2}f}"
                           for ph in ("put", "get") for f in ("objects-per-second", "mib-per-second"))
            retries = [doc["s3"]["retries"] for doc in runs[key] if "s3" in doc]
            row += f"{sum(retries):>8}" if retries else f"{'-':>8}"
            if "cairn" in tools:
                for ph in ("put", "get"):
                    c, t = med((server, label, "cairn"), ph, "objects-per-second"), med(key, ph, "objects-per-second")
                    row += f"{c / t:>15.2f}x"
                    if tool == "boto3" and c < t:
                        slower.append(f"{server} {label} {ph.upper()} ({c / t:.2f}x)")
            print(row)
if "cairn" in tools and "boto3" in tools:
    print("Cairn slower than boto3: " + (", ".join(slower) if slower else "nowhere"))
PY

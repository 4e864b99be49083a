#!/usr/bin/env bash
# The server's memory under parallel backup sessions, against the bound issue 16 sets
# (64 MiB + 32 MiB per active session).
#
# Usage: bench/server_memory.sh [SESSIONS=8] [IMAGE_MIB=128] [WORKDIR=/dev/shm/cairn-server-memory]
# Needs build/cairn (scripts/build).
#
# Starts `cairn server` on 127.0.0.1 with an empty filesystem datastore, then runs SESSIONS
# `cairn backup --repository` at once, each of its own incompressible image (IMAGE_MIB of
# random bytes, so every 4 MiB chunk travels whole), and reports the server's peak RSS (VmHWM)
# and the wall time. Run it again with 1 session for the fixed part. Nothing asserts.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-8}
image_mib=${2:-128}
work=${3:-/dev/shm/cairn-server-memory}
cairn=$PWD/build/cairn
[ -x "$cairn" ] || { echo "missing $cairn: run scripts/build" >&2; exit 1; }
source bench/server_lib.sh
bench_workdir "$work"
mkdir -p "$work/home"

for i in $(seq 1 "$sessions"); do
  head -c "$((image_mib << 20))" /dev/urandom > "$work/image$i"
done
export CAIRN_CONFIG_DIR=$work/config CAIRN_CACHE_DIR=$work/cache HOME=$work/home
start_server "$work"
idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")

start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$sessions"); do
  "$cairn" backup --repository "$remote" --backup-id "m$i" --backup-time 1000 \
    disk.img:"$work/image$i" >/dev/null 2>"$work/backup$i.err" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
end=$(date +%s.%N)
[ "$failed" = 0 ] || { tail -3 "$work"/backup*.err >&2; echo "a backup failed" >&2; exit 1; }
hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
python3 - "$sessions" "$image_mib" "$idle_kib" "$hwm_kib" "$start" "$end" <<'PY'
import sys
sessions, image_mib, idle, hwm = (int(v) for v in sys.argv[1:5])
seconds = float(sys.argv[6]) - float(sys.argv[5])
bound = 64 + 32 * sessions
print(f"{sessions} sessions x {image_mib} MiB incompressible: {seconds:.2f} s, "
      f"{sessions * image_mib / seconds:.0f} MiB/s together")
print(f"server RSS idle {idle / 1024:.0f} MiB, peak {hwm / 1024:.0f} MiB "
      f"(bound 64 + 32 x {sessions} = {bound} MiB: {hwm / 1024 / bound:.2f} of it)")
PY

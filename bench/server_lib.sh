# Shared by the benchmarks that run `cairn server` (source it; needs bash and $cairn set).
#
# bench_workdir DIR   makes DIR afresh; on exit the server (if any) is stopped and DIR removed.
# start_server DIR    in DIR: datastore store1, a root@pam!bench token with Admin, `cairn
#                     server` on a free loopback port. Sets server_pid and remote (the
#                     --repository value) and exports CAIRN_PASSWORD and CAIRN_FINGERPRINT.
#                     Expects CAIRN_CONFIG_DIR, CAIRN_CACHE_DIR and HOME set under DIR.
# stop_server         stops it.

server_pid=
bench_workdir() {
  bench_dir=$1
  rm -rf "$bench_dir"; mkdir -p "$bench_dir"
  trap 'stop_server; rm -rf "$bench_dir"' EXIT
  trap 'exit 130' INT TERM
}

start_server() {
  local dir=$1 secret port fingerprint
  "$cairn" datastore create store1 "$dir/store1" >/dev/null
  secret=$("$cairn" --output-format json token create root@pam bench |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
  "$cairn" acl update / Admin --auth-id 'root@pam!bench' >/dev/null
  "$cairn" server --listen 127.0.0.1:0 --state-dir "$dir/state" >"$dir/server.out" 2>"$dir/server.err" &
  server_pid=$!
  for _ in $(seq 100); do grep -q "listening on port" "$dir/server.out" && break; sleep 0.1; done
  read -r _ _ _ port _ fingerprint _ < <(grep "listening on port" "$dir/server.out")
  export CAIRN_PASSWORD=$secret CAIRN_FINGERPRINT=$fingerprint
  remote="root@pam!bench@127.0.0.1:${port%,}:store1"
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=
  fi
  return 0
}

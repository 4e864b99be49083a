#!/usr/bin/env python3
"""Load benchmark of `cairn server` (bench/README.md, "Server").

Usage: bench/server_load.py PATH/TO/cairn [--snapshots N] [--clients C] [--seconds S]

1. Builds a store with N snapshots (default 10,000: 100 groups of 100; one real backup, its
   snapshot directory copied under other backup times, so every snapshot is valid and shares
   the chunks) and starts the server on 127.0.0.1.
2. Measures GET .../snapshots (the whole list) with 4 keep-alive clients for 20 s: requests/s
   and latency.
3. Runs C clients (default 200; loopback only) for S seconds (default 60), each looping over
   ping, version, groups, status and a one-group snapshot list on its own keep-alive connection,
   while garbage collection is started over the API again and again. Reports requests/s, p50,
   p99 and max latency, errors (must be 0), and the server's threads, open files and RSS idle,
   under load and 35 s after (the server gives free memory back every 30 s after traffic).
Prints a Markdown table for bench/README.md. Everything runs on this machine, so the clients
compete with the server for the same cores.
"""

import argparse
import hashlib
import http.client
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

T0 = 1700000000


def rfc3339(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {"threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "rss_mib": int(fields["VmRSS"].split()[0]) / 1024}


class Connection:
    def __init__(self, port, fingerprint, token):
        self.port, self.fingerprint, self.token = port, fingerprint, token
        self.conn = None

    def open(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context,
                                                timeout=120)
        self.conn.connect()
        der = self.conn.sock.getpeercert(binary_form=True)
        seen = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        assert seen == self.fingerprint, "certificate changed"

    def call(self, method, path):
        if self.conn is None:
            self.open()
        self.conn.request(method, "/api2/json" + path,
                          headers={"Authorization": "PBSAPIToken " + self.token})
        response = self.conn.getresponse()
        body = response.read()
        return response.status, body


def setup(cairn, root, snapshots):
    env = dict(os.environ, HOME=root, CAIRN_CONFIG_DIR=os.path.join(root, "config"))

    def run(*args):
        return subprocess.run([cairn, *args], env=env, check=True, capture_output=True,
                              text=True).stdout

    store = os.path.join(root, "store1")
    run("datastore", "create", "store1", store)
    data = os.path.join(root, "data")
    os.makedirs(data)
    with open(os.path.join(data, "f.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    groups = max(1, snapshots // 100)
    per_group = snapshots // groups
    run("backup", "--store", "store1", "--backup-id", "g0", "--backup-time", str(T0),
        "root.pxar:" + data)
    template = os.path.join(store, "host", "g0", rfc3339(T0))
    for g in range(groups):
        group_dir = os.path.join(store, "host", f"g{g}")
        os.makedirs(group_dir, exist_ok=True)
        if g:
            shutil.copy(os.path.join(store, "host", "g0", "owner"), group_dir)
        for i in range(per_group):
            target = os.path.join(group_dir, rfc3339(T0 + i * 3600))
            if not os.path.exists(target):
                shutil.copytree(template, target)
    secret = json.loads(run("--output-format", "json", "token", "create", "root@pam",
                            "bench"))["value"]
    run("acl", "update", "/", "Admin", "--auth-id", "root@pam!bench")
    return env, f"root@pam!bench:{secret}", groups * per_group


def measure_listing(port, fingerprint, token, seconds=20, clients=4):
    latencies, errors = [], []
    stop = time.monotonic() + seconds

    def worker():
        conn = Connection(port, fingerprint, token)
        while time.monotonic() < stop:
            start = time.monotonic()
            status, body = conn.call("GET", "/admin/datastore/store1/snapshots")
            latencies.append(time.monotonic() - start)
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / seconds, latencies, errors


def load(port, fingerprint, token, clients, seconds, pid, groups):
    latencies, errors, peak = [], [], {"threads": 0, "fds": 0, "rss_mib": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    paths = ["/ping", "/version", "/admin/datastore/store1/groups",
             "/admin/datastore/store1/status"]

    def worker(n):
        conn = Connection(port, fingerprint, token)
        i = n
        mine = []
        while time.monotonic() < stop:
            i += 1
            path = paths[i % 4] if i % 5 else (
                "/admin/datastore/store1/snapshots?backup-type=host&backup-id=g%d" % (i % groups))
            start = time.monotonic()
            try:
                status, _ = conn.call("GET", path)
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                status = repr(e)
                conn.conn = None
            mine.append(time.monotonic() - start)
            if status != 200:
                with lock:
                    errors.append(status)
        with lock:
            latencies.extend(mine)

    def gc_loop():
        conn = Connection(port, fingerprint, token)
        runs = 0
        while time.monotonic() < stop:
            status, body = conn.call("POST", "/admin/datastore/store1/gc")
            if status == 200:
                upid = json.loads(body)["data"]
                quoted = urllib.parse.quote(upid, safe="")
                while time.monotonic() < stop:
                    status, body = conn.call("GET", f"/nodes/localhost/tasks/{quoted}/status")
                    if json.loads(body)["data"]["status"] == "stopped":
                        runs += 1
                        break
                    time.sleep(0.2)
        gc_runs.append(runs)

    def sample():
        while time.monotonic() < stop:
            stats = proc_stats(pid)
            for key in peak:
                peak[key] = max(peak[key], stats[key])
            time.sleep(0.5)

    gc_runs = []
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    threads += [threading.Thread(target=gc_loop), threading.Thread(target=sample)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, peak, gc_runs[0] if gc_runs else 0


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cairn")
    parser.add_argument("--snapshots", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="cairn-server-bench-", dir=os.environ.get("TMPDIR"))
    server = None
    try:
        env, token, count = setup(os.path.abspath(args.cairn), root, args.snapshots)
        server = subprocess.Popen([args.cairn, "server", "--listen", "127.0.0.1:0",
                                   "--state-dir", os.path.join(root, "state")], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline().split()
        port, fingerprint = int(line[3].rstrip(",")), line[5]
        Connection(port, fingerprint, token).call("GET", "/ping")
        idle = proc_stats(server.pid)
        rate, lat, errors = measure_listing(port, fingerprint, token)
        print(f"snapshots listing ({count} snapshots): {rate:.2f} req/s, "
              f"p50 {statistics.median(lat) * 1000:.0f} ms, errors {len(errors)}")
        groups = max(1, args.snapshots // 100)
        latencies, load_errors, peak, gc_runs = load(port, fingerprint, token, args.clients,
                                                     args.seconds, server.pid, groups)
        time.sleep(35)  # the server returns free memory to the system every 30 s after traffic
        after = proc_stats(server.pid)
        print()
        print("| measure | value |")
        print("|---|---|")
        print(f"| `GET snapshots`, {count} snapshots, 4 clients | {rate:.2f} req/s "
              f"(p50 {statistics.median(lat) * 1000:.0f} ms, p99 "
              f"{percentile(lat, 0.99) * 1000:.0f} ms) |")
        print(f"| {args.clients} clients x {args.seconds} s, GC running ({gc_runs} runs) | "
              f"{len(latencies) / args.seconds:.0f} req/s, p50 "
              f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
              f"{percentile(latencies, 0.99) * 1000:.1f} ms, max "
              f"{max(latencies) * 1000:.0f} ms |")
        print(f"| errors | {len(load_errors) + len(errors)} |")
        print(f"| server threads idle / peak under load / after | {idle['threads']} / "
              f"{peak['threads']} / {after['threads']} |")
        print(f"| server open files idle / peak / after | {idle['fds']} / {peak['fds']} / "
              f"{after['fds']} |")
        print(f"| server RSS idle / peak / after | {idle['rss_mib']:.0f} MiB / "
              f"{peak['rss_mib']:.0f} MiB / {after['rss_mib']:.0f} MiB |")
        if load_errors or errors:
            print("errors:", sorted(set(map(str, load_errors + errors)))[:10], file=sys.stderr)
            return 1
        return 0
    finally:
        if server:
            server.terminate()
            server.wait(timeout=120)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

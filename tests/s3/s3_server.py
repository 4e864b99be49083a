#!/usr/bin/env python3
"""Starts and stops real S3 servers on free loopback ports, for Cairn's S3 tests (ctest fixtures).

  s3_server.py start --kind KIND --state-dir DIR [--upstream KIND2]
  s3_server.py stop  --state-dir DIR [--kind KIND]      (no --kind: every server in DIR)
  s3_server.py reset --state-dir DIR --kind KIND        (empty the store, keep the server)

KIND is one of moto, moto-auth, moto-tls, s3rver, fault-proxy (see tests/s3/README.md).
`start` leaves the server running detached, writes DIR/KIND.json (endpoint, port, pid, keys...)
and prints it; the server's output goes to DIR/KIND.log. Only 127.0.0.1 is ever used.
Standard library only, except boto3 for moto-auth's setup and for resetting moto-auth/s3rver.
"""

import argparse
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HOST = "127.0.0.1"
REGION = "us-east-1"
KINDS = ("moto", "moto-auth", "moto-tls", "s3rver", "fault-proxy")
READY_TIMEOUT = 30.0
START_ATTEMPTS = 3
STOP_GRACE = 5.0
FAULT_PATH = "/__cairn_fault__"
# The policy moto-auth's user gets: everything on S3.
S3_ALL_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
})
# A marker of each kind's command line: stop only kills a pid whose command line has it, so a
# stale state file never gets an unrelated process (one that reused the pid) killed.
MARKERS = {
    "moto": "moto.server", "moto-auth": "moto.server", "moto-tls": "moto.server",
    "s3rver": "s3rver.js", "fault-proxy": "fault_proxy.py",
}


class StartError(Exception):
    pass


def die(msg):
    print(f"s3_server.py: {msg}", file=sys.stderr)
    sys.exit(1)


# --- processes --------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_state(pid):
    """'Z', 'R', 'S'...; None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid):
    st = proc_state(pid)
    return st is not None and st not in ("Z", "X")


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def listener_owned_by(pid, port):
    """True/False whether pid holds the LISTEN socket on HOST:port; None if unknown."""
    inodes = set()
    want = f"{socket.htonl(0x7F000001):08X}:{port:04X}"  # 127.0.0.1 as /proc/net/tcp writes it
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    inodes.add(fields[9])
    except OSError:
        return None
    if not inodes:
        return False
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    except OSError:
        return None
    return False


def terminate(pid, marker=None):
    """SIGTERM pid and its process group, SIGKILL after STOP_GRACE. True if it was running."""
    if not alive(pid):
        return False
    if marker and marker not in cmdline(pid):
        print(f"s3_server.py: pid {pid} is no longer ours ({cmdline(pid)!r}); not killing",
              file=sys.stderr)
        return False
    own_group = False
    try:
        own_group = os.getpgid(pid) == pid
    except OSError:
        pass

    def send(sig):
        try:
            if own_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.05)
    else:
        send(signal.SIGKILL)
        deadline = time.monotonic() + STOP_GRACE
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if own_group:
        # Anything left in the group (children of the server) goes too.
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return True


# --- state files ------------------------------------------------------------------------------

def json_path(state_dir, kind):
    return os.path.join(state_dir, f"{kind}.json")


def pid_path(state_dir, kind):
    return os.path.join(state_dir, f"{kind}.pid")


def write_atomic(path, text):
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(state_dir, kind):
    try:
        with open(json_path(state_dir, kind)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        print(f"s3_server.py: unreadable {json_path(state_dir, kind)}: {e}", file=sys.stderr)
        return None


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- HTTP probes ------------------------------------------------------------------------------

def insecure_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def http_request(scheme, port, method, path, body=None, timeout=2.0, headers=None):
    if scheme == "https":
        conn = http.client.HTTPSConnection(HOST, port, timeout=timeout,
                                           context=insecure_tls_context())
    else:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def leaf_fingerprint(port):
    """SHA-256 of the served leaf certificate (DER), as AA:BB:...; plus the certificate DER."""
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with insecure_tls_context().wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- the kinds --------------------------------------------------------------------------------

def tools_dir():
    return os.environ.get("CAIRN_TOOLS_DIR") or os.path.join(REPO, ".cache", "tools")


def moto_command(port, tls):
    # The interpreter running this script has moto; run its server module directly so that the
    # pid we record is the server itself (moto_server on PATH is a pyenv shim).
    cmd = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    if tls:
        cmd.append("--ssl")
    return cmd


def plan(kind, state_dir, upstream):
    """Returns (command(port) -> argv, env, scheme, ready_path, base record)."""
    env = dict(os.environ)
    base = {"region": REGION, "fingerprint": "", "conditional_put": True}
    if kind in ("moto", "moto-auth", "moto-tls"):
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        ready = "/"
        if kind == "moto-auth":
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
            # GET / would be a ListBuckets and spend one of the 3 unauthenticated calls.
            ready = "/moto-api/data.json"
        base.update(access_key="test", secret_key="test")
        return (lambda port: moto_command(port, kind == "moto-tls"), env,
                "https" if kind == "moto-tls" else "http", ready, base)
    if kind == "s3rver":
        script = os.path.join(tools_dir(), "node_modules", "s3rver", "bin", "s3rver.js")
        if not os.path.isfile(script):
            raise StartError(f"s3rver not found at {script}; run scripts/install-deps "
                             "(it installs npm s3rver@3.7.1 there; CAIRN_TOOLS_DIR moves it)")
        node = shutil.which("node")
        if not node:
            raise StartError("node not on PATH; run scripts/install-deps")
        data = os.path.join(state_dir, "s3rver-data")
        shutil.rmtree(data, ignore_errors=True)  # a fresh store each start, like moto's
        os.makedirs(data)
        # Without the legacy provider every truncated ListObjectsV2 answers 500 (its
        # continuation tokens use a cipher OpenSSL 3 only has there).
        env["NODE_OPTIONS"] = "--openssl-legacy-provider"
        base.update(access_key="S3RVER", secret_key="S3RVER", conditional_put=False)
        return (lambda port: [node, script, "-d", data, "-a", HOST, "-p", str(port),
                              "--service-endpoint", "localhost", "--silent"],
                env, "http", "/", base)
    if kind == "fault-proxy":
        if not upstream:
            raise StartError("fault-proxy needs --upstream KIND (started first, same --state-dir)")
        up = read_json(state_dir, upstream)
        if not up or not alive(up.get("pid", 0)):
            raise StartError(f"upstream {upstream!r} is not running in {state_dir}; start it first")
        base.update(access_key=up["access_key"], secret_key=up["secret_key"],
                    region=up.get("region", REGION),
                    conditional_put=up.get("conditional_put", True), upstream=upstream)
        log = os.path.join(state_dir, "fault-proxy.log")
        script = os.path.join(HERE, "fault_proxy.py")

        def command(port):
            cmd = [sys.executable, script, "--port", str(port), "--upstream-host", HOST,
                   "--upstream-port", str(up["port"]), "--log", log]
            if up.get("scheme") == "https":
                cmd.append("--upstream-tls")
            return cmd
        return command, env, "http", FAULT_PATH, base
    raise StartError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def log_tail(path, offset, limit=4000):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode(errors="replace")


def wait_ready(proc, scheme, port, path):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with status {proc.returncode}"
        try:
            http_request(scheme, port, "GET", path, timeout=2.0)
            owned = listener_owned_by(proc.pid, port)
            if owned is not False:
                return None
        except (OSError, http.client.HTTPException, ssl.SSLError):
            pass
        time.sleep(0.1)
    return f"not answering on port {port} after {READY_TIMEOUT:.0f} s"


def setup_moto_auth(port):
    """Spends moto's 3 unauthenticated calls on an IAM user with s3:* and returns its key."""
    import boto3
    from botocore.config import Config
    cfg = Config(retries={"total_max_attempts": 1})
    endpoint = f"http://{HOST}:{port}"
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
    iam.create_user(UserName="cairn")
    key = iam.create_access_key(UserName="cairn")["AccessKey"]
    iam.put_user_policy(UserName="cairn", PolicyName="cairn-s3-all",
                        PolicyDocument=S3_ALL_POLICY)
    access, secret = key["AccessKeyId"], key["SecretAccessKey"]

    # From now on signatures are checked: a wrong secret must be refused, the right one not.
    from botocore.exceptions import ClientError

    def s3(secret_key):
        return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id=access, aws_secret_access_key=secret_key,
                            config=Config(retries={"total_max_attempts": 1},
                                          s3={"addressing_style": "path"}))
    try:
        s3(secret + "x").list_buckets()
        raise StartError("moto-auth: a wrong secret was accepted")
    except ClientError as e:
        code = e.response["Error"].get("Code")
        status = e.response["ResponseMetadata"].get("HTTPStatusCode")
        if status != 403 or code not in ("SignatureDoesNotMatch", "InvalidAccessKeyId"):
            raise StartError(f"moto-auth: a wrong secret got {status} {code}, not 403")
    s3(secret).list_buckets()
    return access, secret


def start(args):
    kind, state_dir = args.kind, os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    # A leftover from an earlier run in this dir is stopped first: start means a fresh server.
    stop_one(state_dir, kind, quiet=True)

    command, env, scheme, ready_path, base = plan(kind, state_dir, args.upstream)
    log_path = os.path.join(state_dir, f"{kind}.log")
    errors = []
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        argv = command(port)
        with open(log_path, "ab") as logf:
            offset = logf.tell()
            logf.write(f"--- s3_server.py start {kind} attempt {attempt} "
                       f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv)}\n".encode())
            logf.flush()
            offset = logf.tell()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, env=env, cwd=state_dir,
                                    start_new_session=True, close_fds=True)
        # Noted at once, so that stop finds the process even if this script dies right here.
        write_atomic(pid_path(state_dir, kind), f"{proc.pid}\n")
        problem = wait_ready(proc, scheme, port, ready_path)
        record = None
        if problem is None:
            try:
                record = finish_record(kind, base, scheme, port, proc.pid)
            except StartError as e:
                problem = str(e)
            except Exception as e:  # boto3 / TLS trouble: report it like any start failure
                problem = f"{type(e).__name__}: {e}"
        if record is not None:
            text = json.dumps(record, indent=2) + "\n"
            write_atomic(json_path(state_dir, kind), text)
            remove(pid_path(state_dir, kind))
            sys.stdout.write(text)
            return 0
        terminate(proc.pid)
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        remove(pid_path(state_dir, kind))
        tail = log_tail(log_path, offset)
        errors.append(f"attempt {attempt} on port {port}: {problem}\n{tail}")
    die(f"could not start {kind} (log {log_path}):\n" + "\n".join(errors))


def finish_record(kind, base, scheme, port, pid):
    record = {
        "kind": kind,
        "endpoint": f"{scheme}://{HOST}:{port}",
        "host": HOST,
        "vhost_endpoint": f"{scheme}://localhost:{port}",
        "port": port,
        "scheme": scheme,
        "pid": pid,
    }
    record.update(base)
    if kind == "moto-auth":
        record["access_key"], record["secret_key"] = setup_moto_auth(port)
    if kind == "moto-tls":
        record["fingerprint"] = leaf_fingerprint(port)
    if kind == "fault-proxy":
        record["control_url"] = f"http://{HOST}:{port}{FAULT_PATH}"
    order = ["kind", "endpoint", "host", "vhost_endpoint", "port", "scheme", "pid",
             "access_key", "secret_key", "region", "fingerprint", "conditional_put"]
    return {k: record[k] for k in order + [k for k in record if k not in order]}


# --- stop / reset -----------------------------------------------------------------------------

def stop_one(state_dir, kind, quiet=False):
    rec = read_json(state_dir, kind)
    pids = []
    if rec and isinstance(rec.get("pid"), int):
        pids.append(rec["pid"])
    try:
        with open(pid_path(state_dir, kind)) as f:
            pids.append(int(f.read().strip()))
    except (OSError, ValueError):
        pass
    stopped = False
    for pid in dict.fromkeys(pids):
        stopped |= terminate(pid, MARKERS.get(kind))
    remove(json_path(state_dir, kind))
    remove(pid_path(state_dir, kind))
    if stopped and not quiet:
        print(f"stopped {kind} (pid {', '.join(map(str, dict.fromkeys(pids)))})")
    return stopped


def stop(args):
    state_dir = os.path.abspath(args.state_dir)
    if not os.path.isdir(state_dir):
        return 0
    if args.kind:
        stop_one(state_dir, args.kind)
        return 0
    present = {n[:-5] for n in os.listdir(state_dir) if n.endswith(".json")}
    present |= {n[:-4] for n in os.listdir(state_dir) if n.endswith(".pid")}
    # The proxy first, then what it stands in front of.
    for kind in sorted(present & set(KINDS), key=lambda k: (k != "fault-proxy", k)):
        stop_one(state_dir, kind)
    return 0


def wipe_s3(rec):
    """Deletes every object, version, upload and bucket through the S3 API."""
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=rec["endpoint"], region_name=rec["region"],
                      aws_access_key_id=rec["access_key"],
                      aws_secret_access_key=rec["secret_key"], verify=False,
                      config=Config(s3={"addressing_style": "path"}))
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        except Exception:
            pass  # s3rver has no versioning
        try:
            for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
                s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        except Exception:
            pass
        s3.delete_bucket(Bucket=name)


def reset(args):
    state_dir = os.path.abspath(args.state_dir)
    rec = read_json(state_dir, args.kind)
    if not rec:
        die(f"{args.kind} is not running in {state_dir}")
    if args.kind == "fault-proxy":
        status, body = http_request("http", rec["port"], "POST", FAULT_PATH, body=b'{"rate": 0}')
        if status != 200:
            die(f"fault-proxy reset: {status} {body[:200]!r}")
        print("fault-proxy: faults off, counters reset")
    elif args.kind in ("moto", "moto-tls"):
        status, body = http_request(rec["scheme"], rec["port"], "POST", "/moto-api/reset")
        if status != 200:
            die(f"moto reset: {status} {body[:200]!r}")
        print(f"{args.kind}: reset")
    else:
        # moto-auth: /moto-api/reset would also drop the IAM user whose key the tests hold.
        wipe_s3(rec)
        print(f"{args.kind}: all buckets deleted")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start a server, write DIR/KIND.json")
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--upstream", choices=[k for k in KINDS if k != "fault-proxy"],
                   help="for fault-proxy: the server (same state dir) it stands in front of")
    p = sub.add_parser("stop", help="stop one server (--kind) or every server in the state dir")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--state-dir", required=True)
    p = sub.add_parser("reset", help="empty a running server's store")
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("--state-dir", required=True)
    args = ap.parse_args(argv)
    try:
        return {"start": start, "stop": stop, "reset": reset}[args.command](args)
    except StartError as e:
        die(str(e))


if __name__ == "__main__":
    sys.exit(main())

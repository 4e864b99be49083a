"""What the server's end-to-end tests share (server_test.py, protocol_test.py): the cairn binary
with a private config directory, a `cairn server` process on a free port, an HTTPS API client
pinning the server's certificate, and small helpers. Standard library only.

The binary is the first command-line argument of the test script (removed from sys.argv before
unittest sees it) or $CAIRN_BIN.
"""

import hashlib
import http.client
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

CAIRN = os.environ.get("CAIRN_BIN", "")
if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
    CAIRN = sys.argv.pop(1)
CAIRN = os.path.abspath(CAIRN) if CAIRN else ""
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

T0 = 1795000000
PASSWORD = "pass-word-1"


class Cairn:
    """The binary with a private config dir; every command's output is checked by the caller."""

    def __init__(self, root):
        self.root = root
        self.config = os.path.join(root, "config")
        self.state = os.path.join(root, "state")
        self.env = dict(os.environ, HOME=root, XDG_CONFIG_HOME=root, XDG_DATA_HOME=root,
                        XDG_CACHE_HOME=root, XDG_STATE_HOME=root, CAIRN_CONFIG_DIR=self.config)
        self.env.pop("CAIRN_FILE_FAULTS", None)

    def run(self, *args, stdin=None, check=True):
        proc = subprocess.run([CAIRN, *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"cairn {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc

    def json(self, *args):
        return json.loads(self.run("--output-format", "json", *args).stdout)

    def remote(self, server, repository, secret, *args, check=True, env=None):
        """`cairn --output-format json ARGS --repository REPOSITORY` against `server`, with the
        secret (a password or token secret) and the server's fingerprint in the environment."""
        run_env = dict(self.env, CAIRN_PASSWORD=secret, CAIRN_FINGERPRINT=server.fingerprint,
                       **(env or {}))
        proc = subprocess.run([CAIRN, "--output-format", "json", *args, "--repository",
                               repository], env=run_env, capture_output=True, text=True,
                              timeout=900)
        if check and proc.returncode != 0:
            raise AssertionError(f"cairn {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc


class Server:
    """`cairn server` on a free port; start() waits for its "listening" line."""

    def __init__(self, cairn, extra_env=None):
        self.cairn = cairn
        self.extra_env = extra_env or {}
        self.proc = None

    def start(self):
        env = dict(self.cairn.env, **self.extra_env)
        self.proc = subprocess.Popen(
            [CAIRN, "server", "--listen", "127.0.0.1:0", "--state-dir", self.cairn.state,
             "--node", "testnode"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on port"):
            self.proc.kill()
            raise AssertionError("server did not start: " + line + self.proc.stderr.read())
        parts = line.split()
        self.port = int(parts[3].rstrip(","))
        self.fingerprint = parts[5]
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stops the server if it still runs; returns its exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=120)
        for pipe in (self.proc.stdout, self.proc.stderr):
            pipe.close()
        return self.proc.returncode

    def connect(self, timeout=60):
        """An HTTPS connection that accepts only the server's certificate (by fingerprint)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context,
                                           timeout=timeout)
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        seen = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        if seen != self.fingerprint:
            raise AssertionError(f"certificate fingerprint {seen} != {self.fingerprint}")
        return conn


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def data(self):
        return self.json()["data"]


class Client:
    """An API client: an identity (token, ticket, nothing) and a server."""

    def __init__(self, server, token=None, ticket=None, csrf=None, fmt="json"):
        self.server, self.token, self.ticket, self.csrf, self.fmt = (server, token, ticket, csrf,
                                                                      fmt)

    def request(self, method, path, params=None, body=None, headers=None, raw_path=False):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = "PBSAPIToken " + self.token
        if self.ticket:
            headers["Cookie"] = "PBSAuthCookie=" + urllib.parse.quote(self.ticket)
            if self.csrf:
                headers["CSRFPreventionToken"] = self.csrf
        target = path if raw_path else f"/api2/{self.fmt}{path}"
        if params is not None and body is None:
            if method in ("POST", "PUT"):
                body = json.dumps(params)
                headers.setdefault("Content-Type", "application/json")
            else:
                target += "?" + urllib.parse.urlencode(params, doseq=True)
        conn = self.server.connect()
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def get(self, route, **params):
        return self.request("GET", route, params)


def login(server, user, password):
    reply = Client(server).request("POST", "/access/ticket",
                                   {"username": user, "password": password})
    return reply


def wait_task(client, upid, limit_s=300):
    """Polls a task until it has stopped (bounded; tasks here take milliseconds to seconds)."""
    path = "/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") + "/status"
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = client.get(path).data
        if status["status"] == "stopped":
            return status
        time.sleep(0.05)
    raise AssertionError(f"task {upid} still running after {limit_s} s")


def tree_state(root):
    """Files and their contents under root (lock files aside): refusals must change nothing."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if ".chunks" in dirnames:
            dirnames.remove(".chunks")
        for name in filenames:
            if name.endswith(".lock") or ".locks" in dirpath:
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                state[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return state


def rfc3339(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def make_tree(root, seed, big=9 << 20):
    """A small tree with what a file archive must keep: sizes from 0 to several chunks,
    nesting, a symlink, a hard link, an empty directory, modes and mtimes."""
    rng = random.Random(seed)
    os.makedirs(os.path.join(root, "etc", "deep", "deeper"))
    os.makedirs(os.path.join(root, "empty"))
    for i in range(40):
        sub = ["", "etc", "etc/deep", "etc/deep/deeper"][i % 4]
        size = rng.choice([0, 1, 100, 4096, 70_000, 300_000])
        with open(os.path.join(root, sub, f"file{i}.dat"), "wb") as f:
            f.write(rng.randbytes(size))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(rng.randbytes(big))
    os.symlink("etc/file1.dat", os.path.join(root, "link"))
    os.link(os.path.join(root, "file0.dat"), os.path.join(root, "hardlink"))
    os.chmod(os.path.join(root, "etc", "file1.dat"), 0o600)
    # Old mtimes: metadata mode reads again files changed in the last moments before a backup.
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (1_700_000_000, 1_700_000_000 + len(name)))
    os.utime(os.path.join(root, "etc", "file5.dat"), (1_600_000_000, 1_600_000_000))


def tree_of(root):
    """path -> (kind, mode, mtime_ns, content digest or link target) for comparisons."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("l", os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ("d", st.st_mode, st.st_mtime_ns)
            else:
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("f", st.st_mode, st.st_mtime_ns, digest)
    return out


def chunk_files(store_dir):
    """The chunk store's files: name -> content digest."""
    out = {}
    chunks = os.path.join(store_dir, ".chunks")
    for dirpath, _, filenames in os.walk(chunks):
        for name in filenames:
            if len(name) == 64:
                with open(os.path.join(dirpath, name), "rb") as f:
                    out[name] = hashlib.sha256(f.read()).hexdigest()
    return out

#!/usr/bin/env python3
"""SIGKILL crash campaigns against the real `cairn` binary, for every job (issue 21, campaign 2).

Usage: crash_campaign.py [--cairn PATH] [--points P | --short] [--seed S] [--jobs A,B,...]
                         [--at V:K]... [--report FILE] [--workdir DIR] [--keep-work]
                         [--list-jobs] [-v]

For each job a setup is built once (a store with several groups, snapshots and namespaces made
from seeded random data; images, config blobs, file archives in the legacy and split layouts,
an encrypted group, a protected snapshot, notes). The job is run once to completion with
CAIRN_FILE_FAULTS=count, which prints the number N of local file mutations it made (create,
write, fsync, rename, remove, mkdir, touch: src/base/file_faults.h). A job may have several
variants (e.g. forget of different snapshots); a kill point is a pair (variant, K) with K in
[1, N], so it lands inside the work by construction. P points are drawn, seeded, from all pairs
(all of them when there are no more than P); a variant that kills only at mutations of some
paths (kill@any#K~PATH, e.g. verify setting the corrupt chunk aside under .chunks/) has its N
found by probing and all of its points run besides. For each point the pristine setup is
restored (the directory tree saved after the setup: configuration, store or S3 cache store,
client cache; for S3 stores moto is reset and every object of the bucket written back), the job
is run with CAIRN_FILE_FAULTS=kill@any#K, which makes the process SIGKILL itself right before
its K-th mutation, and then:

  (a) the store opens: `namespace list` and `snapshot list` of every namespace exit 0 (an
      interrupted s3-refresh may leave maintenance mode s3-refresh, which blocks commands with
      a message naming `cairn datastore s3-refresh`: documented, counted, and the rerun comes
      first);
  (b) every listed snapshot was in the setup (or is the job's new backup), none is damaged,
      every snapshot the job may not remove is listed, protection and notes are as before, and
      every listed snapshot restores to exactly its source data (image and blob bytes; file
      archives compared entry by entry: type, mode, size, content, mtime, symlink target);
  (c) `cairn verify` of the whole store exits 0 (verify job: exit 4 with exactly the snapshot
      that holds the corrupt chunk failed, and that chunk still at its name or set aside as
      `<digest>.0.bad`, with its bytes, never lost);
  (d) the next job works: the same job again without faults exits 0 (or reports "not found"
      for a target the killed run already removed), after which the store holds exactly what
      the job promises; then a new backup restores to its source, `cairn gc` exits 0 with no
      missing chunks, and `cairn verify` exits 0. On S3 a cache attached afresh from the bucket
      (`datastore create --reuse`) lists the same snapshots. For `datastore create --reuse`
      (attaching in a second configuration with a new cache directory) the store is either
      registered and opens, or not registered, and the same command again must attach it.

Every failure is recorded with the job, the variant, K, the check and the command output, and
the campaign goes on. Leftovers that cost only space (temporary files of interrupted atomic
writes, snapshot directories without a manifest) are counted, not failed. A summary table per
job is printed; `--report FILE` writes everything as JSON. `--at V:K` runs one point again
(variant index V as printed, 0-based) and `--keep-work` keeps its directories for a look.
Exit status: 0 if nothing failed, 1 if any check failed, 2 on a usage or setup error.

Standard library only. moto (tests/s3/s3_server.py) is started for the S3 jobs and always
stopped again. The work directory is made under $TMPDIR, else /dev/shm when writable (a
datastore has 65,536 chunk directories), and removed at the end unless --keep-work.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from xml.etree import ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
S3_SERVER = os.path.join(REPO, "tests", "s3", "s3_server.py")

T0 = 1795000000          # 2026-11-18T...Z: fixed backup times, nothing depends on the clock
DAY = 86400
T_JOB = T0 + 50 * DAY    # the backup job's new snapshots
T_NEXT = T0 + 100 * DAY  # the new backup of check (d)
CHUNK = 64 * 1024        # --chunk-size 64: small images still have several chunks
STORE = "crash"
ENDPOINT = "moto1"
BUCKET = "crash-bucket"
HOSTNAME = "crash-host"
COUNT_RE = re.compile(r"^cairn: (\d+) file mutations$")
TMP_RE = re.compile(r"\.tmp_\d+_\d+$")
SNAPSHOT_DIR_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CMD_TIMEOUT = 300


# --- data -------------------------------------------------------------------------------------

def random_bytes(n, seed):
    rng = random.Random(seed)
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_image(seed, chunks=6, base=None, changed=(), zero=(), tail=1234):
    """CHUNK-sized random chunks plus a partial tail; with `base`, a copy of it whose chunks in
    `changed` are new random data (an incremental backup then shares the others)."""
    if base is None:
        parts = [bytes(CHUNK) if i in zero else random_bytes(CHUNK, seed * 1000 + i)
                 for i in range(chunks)]
        parts.append(random_bytes(tail, seed * 1000 + 999))
        return b"".join(parts)
    data = bytearray(base)
    for i in changed:
        data[i * CHUNK:(i + 1) * CHUNK] = random_bytes(CHUNK, seed * 1000 + i)
    return bytes(data)


def write_file(path, data, mode=None, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def fix_dir_mtimes(root, seed):
    """Deterministic directory mtimes, deepest first (so setting one does not move another)."""
    dirs = [dp for dp, _, _ in os.walk(root)]
    for i, d in enumerate(sorted(dirs, key=lambda p: -p.count(os.sep))):
        t = (1600000000 + seed * 1000 + i) * 10**9 + 123
        os.utime(d, ns=(t, t))


def build_tree(root, seed, files=14):
    """A small directory tree: nested directories, files of various sizes and modes (one empty,
    one larger than a chunk), a symlink and a hard link, fixed mtimes."""
    rng = random.Random(seed)
    for d in ("etc/conf.d", "var/lib/app", "home/user/docs"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    dirs = ["etc", "etc/conf.d", "var/lib/app", "home/user", "home/user/docs", "."]
    for i in range(files):
        d = dirs[i % len(dirs)]
        size = 0 if i == 3 else (300 * 1024 if i == 5 else rng.randrange(1, 40000))
        write_file(os.path.join(root, d, "f%02d.dat" % i), random_bytes(size, seed * 100 + i),
                   mode=0o640 if i % 3 == 0 else 0o644, mtime_ns=(1700000000 + i) * 10**9 + i)
    write_file(os.path.join(root, "etc", "hosts"), b"127.0.0.1 localhost\n", mode=0o600,
               mtime_ns=1234567890123456789)
    os.symlink("etc/hosts", os.path.join(root, "hosts-link"))
    os.link(os.path.join(root, "etc", "hosts"), os.path.join(root, "hosts-hard"))
    os.chmod(os.path.join(root, "var", "lib"), 0o750)
    fix_dir_mtimes(root, seed)


def mutate_tree(root, seed):
    """The next state of a tree: two files rewritten, one added, one removed."""
    rng = random.Random(seed)
    files = sorted(os.path.relpath(os.path.join(dp, f), root)
                   for dp, _, fs in os.walk(root) for f in fs if f.endswith(".dat"))
    for rel in rng.sample(files, 2):
        write_file(os.path.join(root, rel), random_bytes(rng.randrange(1, 50000), seed + len(rel)),
                   mtime_ns=(1710000000 + seed) * 10**9)
    victim = rng.choice([f for f in files if os.path.exists(os.path.join(root, f))])
    os.remove(os.path.join(root, victim))
    write_file(os.path.join(root, "var", "lib", "app", "new%d.dat" % seed),
               random_bytes(rng.randrange(1, 70000), seed * 7), mtime_ns=(1720000000 + seed) * 10**9)
    fix_dir_mtimes(root, seed)


def tree_listing(root):
    """{relative path: description} of a whole tree (the root itself left out): files with
    mode, size, mtime (ns) and SHA-256; directories with mode and mtime; symlinks with target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ["link", os.readlink(p)]
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ["file", oct(stat.S_IMODE(st.st_mode)), st.st_size, st.st_mtime_ns,
                            sha256_file(p)]
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ["dir", oct(stat.S_IMODE(st.st_mode)), st.st_mtime_ns]
            else:
                out[rel] = ["other", oct(st.st_mode)]
    return out


def listing_diff(want, got):
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    parts = []
    if missing:
        parts.append("missing %s" % missing[:5])
    if extra:
        parts.append("extra %s" % extra[:5])
    if changed:
        parts.append("changed %s" % ["%s: %s != %s" % (k, want[k], got[k]) for k in changed[:3]])
    return "; ".join(parts)


def rfc3339(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# --- directories ------------------------------------------------------------------------------

def remove_tree(root):
    """rmtree that removes an empty directory with one rmdir (a datastore's 65,536 chunk
    directories go ten times faster); never follows symlinks; a missing root is fine."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        os.unlink(root)
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            try:
                os.rmdir(entry.path)
            except OSError:
                remove_tree(entry.path)
        else:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
    os.rmdir(root)


class TreeImage:
    """A pristine copy of a directory tree, restored in place as often as needed: the listing is
    taken once, each restore makes the directories (with their modes) and copies the files with
    their contents, modes, atimes and mtimes (GC judges chunks by atime). What matters of
    `cp -a` (directory times are not kept: nothing in a store depends on them), in half its
    time for a datastore's 65,536 chunk directories."""

    def __init__(self, src, dst_pristine):
        umask = os.umask(0)
        os.umask(umask)
        self.umask = umask
        self.root = src
        self.entries = []  # (relative dir, mode, names of files and symlinks in it)
        for dirpath, dirnames, filenames in os.walk(src):
            rel = os.path.relpath(dirpath, src)
            mode = stat.S_IMODE(os.lstat(dirpath).st_mode)
            links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            self.entries.append((rel, mode, filenames + links))
        # The pristine copy, made the same way, so that `src` may change afterwards.
        self.restore(dst_pristine)
        self.root = dst_pristine

    def restore(self, dst):
        remove_tree(dst)
        for rel, mode, items in self.entries:
            d = dst if rel == "." else os.path.join(dst, rel)
            os.mkdir(d, mode)
            if mode & ~self.umask != mode:
                os.chmod(d, mode)
            src_dir = self.root if rel == "." else os.path.join(self.root, rel)
            for name in items:
                s = os.path.join(src_dir, name)
                if os.path.islink(s):
                    os.symlink(os.readlink(s), os.path.join(d, name))
                else:
                    shutil.copy2(s, os.path.join(d, name))


# --- running cairn ----------------------------------------------------------------------------

class Run:
    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds

    def json(self):
        return json.loads(self.out)

    def record(self, limit=3000):
        return {"argv": self.argv, "rc": self.rc, "stdout": self.out[-limit:],
                "stderr": self.err[-limit:]}

    def brief(self):
        return "cairn %s -> %s; stderr: %s" % (" ".join(self.argv), self.rc,
                                              self.err.strip()[-600:])


class Env:
    """One user of cairn: configuration, default store, cache, HOME, all under `root`."""

    def __init__(self, cairn, root):
        self.cairn = cairn
        self.root = root
        self.config = os.path.join(root, "config")
        self.store = os.path.join(root, "store")
        self.cache = os.path.join(root, "client-cache")
        self.home = os.path.join(root, "home")
        self.tmp = os.path.join(root, "tmp")
        self._n = 0

    def make_dirs(self):
        for d in (self.config, self.home, self.tmp):
            os.makedirs(d, exist_ok=True)

    def environ(self, faults=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "XDG_"))}
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "CAIRN_CACHE_DIR": self.cache,
            "CAIRN_CONFIG_DIR": self.config,
            "CAIRN_DEFAULT_STORE": os.path.join(self.root, "default-store"),
            "CAIRN_HOSTNAME": HOSTNAME,
            "USER": "crash",
            "TZ": "UTC",
        })
        if faults:
            env["CAIRN_FILE_FAULTS"] = faults
        return env

    def run(self, *args, faults=None, timeout=CMD_TIMEOUT):
        argv = [str(a) for a in args]
        t = time.monotonic()
        try:
            p = subprocess.run([self.cairn, *argv], env=self.environ(faults),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=self.root, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", (e.stderr or b"") + b"\n(timed out)"
        return Run(argv, rc, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.monotonic() - t)

    def tmp_path(self, name):
        self._n += 1
        return os.path.join(self.tmp, "%d-%s" % (self._n, name))


class CheckFailed(Exception):
    def __init__(self, check, detail, run=None):
        super().__init__("%s: %s" % (check, detail))
        self.check, self.detail, self.run = check, detail, run


def mutation_count(run):
    lines = [l for l in run.err.splitlines() if l.strip()]
    m = COUNT_RE.match(lines[-1]) if lines else None
    return int(m.group(1)) if m else None


# --- the model of a store ---------------------------------------------------------------------

def key_str(key):
    ns, name = key
    return "%s%s" % ("ns %s: " % ns if ns else "", name)


class Snap:
    """What a snapshot must restore to: archive -> ("img"|"blob", sha256, path) or
    ("pxar", listing)."""

    def __init__(self, ns, group, t, archives, keyfile=None):
        self.ns, self.group, self.t = ns, group, t
        self.name = "%s/%s" % (group, rfc3339(t))
        self.archives = archives
        self.keyfile = keyfile  # encrypted with this key
        self.protected = False
        self.notes = None

    @property
    def key(self):
        return (self.ns, self.name)


class Model:
    """The snapshots, namespaces and notes a store holds."""

    def __init__(self):
        self.snaps = {}        # key -> Snap
        self.namespaces = set()  # below the root
        self.group_notes = {}  # (ns, group) -> text

    def copy(self):
        m = Model()
        m.snaps = dict(self.snaps)
        m.namespaces = set(self.namespaces)
        m.group_notes = dict(self.group_notes)
        return m

    def groups(self, ns):
        """In `cairn group list` order: by type (vm, ct, host), then id."""
        return sorted({s.group for s in self.snaps.values() if s.ns == ns},
                      key=lambda g: ({"vm": 0, "ct": 1, "host": 2}[g.split("/")[0]],
                                     g.split("/")[1]))

    def group_snaps(self, ns, group):
        return sorted((s for s in self.snaps.values() if s.ns == ns and s.group == group),
                      key=lambda s: s.t)

    def without(self, keys):
        m = self.copy()
        for k in keys:
            m.snaps.pop(k, None)
        return m


# --- building setups --------------------------------------------------------------------------

class Builder:
    """Makes a store's content with the CLI and records what each snapshot holds. Data files
    live in `data` (shared by every point of a job, never changed after the setup)."""

    def __init__(self, env, data, model=None):
        self.env = env
        self.data = data
        self.model = model or Model()
        self.keyfile = os.path.join(data, "key.json")

    def ok(self, *args, **kw):
        r = self.env.run(*args, **kw)
        if r.rc != 0:
            raise RuntimeError("setup: " + r.brief())
        return r

    def ensure_key(self):
        if not os.path.exists(self.keyfile):
            self.ok("key", "create", "--kdf", "none", self.keyfile)

    def image(self, name, data):
        path = os.path.join(self.data, name)
        if not os.path.exists(path):
            write_file(path, data)
        return path

    def tree(self, name, seed, parent=None):
        """A tree state in data/trees/NAME: fresh from `seed`, or `parent`'s tree mutated."""
        path = os.path.join(self.data, "trees", name)
        if not os.path.exists(path):
            if parent is None:
                build_tree(path, seed)
            else:
                subprocess.run(["cp", "-a", os.path.join(self.data, "trees", parent), path],
                               check=True)
                mutate_tree(path, seed)
        return path

    def backup(self, ns, group, t, specs, encrypt=False, mode=None, store=STORE, extra=()):
        """specs: [(archive name, path)]; `.img`, `.conf`, `.pxar` archives."""
        args = ["--output-format", "json", "backup", "--store", store, "--chunk-size", "64",
                "--backup-type", group.split("/")[0], "--backup-id", group.split("/")[1],
                "--backup-time", str(t)]
        if ns:
            args += ["--ns", ns]
        if encrypt:
            self.ensure_key()
            args += ["--keyfile", self.keyfile]
        if mode:
            args += ["--change-detection-mode", mode]
        args += list(extra)
        archives = {}
        for name, path in specs:
            args.append("%s:%s" % (name, path))
            archives[name] = source_of(name, path)
        r = self.ok(*args)
        snap = Snap(ns, group, t, archives, self.keyfile if encrypt else None)
        assert r.json()["snapshot"] == snap.name, (r.out, snap.name)
        self.model.snaps[snap.key] = snap
        return snap

    def namespace(self, ns, store=STORE):
        self.ok("namespace", "create", "--store", store, ns)
        self.model.namespaces.add(ns)

    def protect(self, snap, store=STORE):
        self.ok("snapshot", "protect", "--store", store, *ns_args(snap.ns), snap.name)
        snap.protected = True

    def snapshot_notes(self, snap, text, store=STORE):
        self.ok("snapshot", "notes", "--store", store, *ns_args(snap.ns), snap.name, "--set", text)
        snap.notes = text

    def group_notes(self, ns, group, text, store=STORE):
        self.ok("group", "notes", "--store", store, *ns_args(ns), group, "--set", text)
        self.model.group_notes[(ns, group)] = text


def source_of(archive, path):
    if archive.endswith(".pxar"):
        return ("pxar", tree_listing(path), path)
    with open(path, "rb") as f:
        data = f.read()
    return ("img" if archive.endswith(".img") else "blob", sha256_bytes(data), path)


def ns_args(ns):
    return ["--ns", ns] if ns else []


def vm_conf(i):
    return ("boot: order=scsi0\ncores: %d\nmemory: %d\n" % (i + 1, 1024 * (i + 1))).encode()


def build_standard(b):
    """The filesystem setup shared by most jobs: 22 snapshots in 4 namespaces.

      root:          vm/100   6 image + config snapshots, incremental, the oldest protected,
                              notes on the third and on the group
                     ct/200   3 file archives (legacy layout), the tree changing between them
                     host/enc 2 encrypted images
      site-a:        vm/300   3 images;  host/web 2 file archives (split layout, data mode)
      site-a/sub:    vm/400   2 images
      site-b:        ct/500   2 images;  host/meta 2 file archives (metadata mode)
    """
    for ns in ("site-a", "site-a/sub", "site-b"):
        b.namespace(ns)
    img = make_image(100)
    for i in range(6):
        if i:
            img = make_image(100 + i, base=img, changed=(i % 6, (i + 2) % 6))
        path = b.image("vm100-%d.img" % i, img)
        conf = b.image("vm100-%d.conf" % i, vm_conf(i))
        s = b.backup("", "vm/100", T0 + i * DAY, [("disk.img", path), ("vm.conf", conf)])
        if i == 0:
            b.protect(s)
        if i == 2:
            b.snapshot_notes(s, "before upgrade")
    b.group_notes("", "vm/100", "the database server")
    for i in range(3):
        tree = b.tree("ct200-%d" % i, 200 + i, None if i == 0 else "ct200-%d" % (i - 1))
        b.backup("", "ct/200", T0 + i * DAY, [("root.pxar", tree)])
    enc = make_image(150)
    for i in range(2):
        if i:
            enc = make_image(151, base=enc, changed=(1,))
        b.backup("", "host/enc", T0 + i * DAY, [("disk.img", b.image("enc-%d.img" % i, enc))],
                 encrypt=True)
    img = make_image(300, chunks=5)
    for i in range(3):
        if i:
            img = make_image(300 + i, base=img, changed=(i,))
        b.backup("site-a", "vm/300", T0 + i * DAY, [("disk.img", b.image("vm300-%d.img" % i, img))])
    for i in range(2):
        tree = b.tree("web-%d" % i, 400 + i, None if i == 0 else "web-%d" % (i - 1))
        b.backup("site-a", "host/web", T0 + i * DAY, [("root.pxar", tree)], mode="data")
    img = make_image(500, chunks=4, zero=(2,))
    for i in range(2):
        if i:
            img = make_image(500 + i, base=img, changed=(0,))
        b.backup("site-a/sub", "vm/400", T0 + i * DAY,
                 [("disk.img", b.image("vm400-%d.img" % i, img))])
    img = make_image(600, chunks=4)
    for i in range(2):
        if i:
            img = make_image(600 + i, base=img, changed=(3,))
        b.backup("site-b", "ct/500", T0 + i * DAY, [("disk.img", b.image("ct500-%d.img" % i, img))])
    for i in range(2):
        tree = b.tree("meta-%d" % i, 700 + i, None if i == 0 else "meta-%d" % (i - 1))
        b.backup("site-b", "host/meta", T0 + i * DAY, [("root.pxar", tree)], mode="metadata")


def build_small(b, chunks=6):
    """The S3 setup (rebuilt for every point, so smaller): 9 snapshots in 3 namespaces.

      root:        vm/100 3 image + config snapshots (oldest protected, notes on the second and
                   on the group); ct/200 2 file archives (legacy); host/enc 1 encrypted image
      site-a:      vm/300 2 images
      site-a/sub:  host/web 1 file archive (split layout)
    """
    for ns in ("site-a", "site-a/sub"):
        b.namespace(ns)
    img = make_image(100, chunks=chunks)
    for i in range(3):
        if i:
            img = make_image(100 + i, base=img, changed=(i, i + 2, chunks - i))
        path = b.image("vm100-%d.img" % i, img)
        conf = b.image("vm100-%d.conf" % i, vm_conf(i))
        s = b.backup("", "vm/100", T0 + i * DAY, [("disk.img", path), ("vm.conf", conf)])
        if i == 0:
            b.protect(s)
        if i == 1:
            b.snapshot_notes(s, "before upgrade")
    b.group_notes("", "vm/100", "the database server")
    for i in range(2):
        tree = b.tree("ct200-%d" % i, 200 + i, None if i == 0 else "ct200-%d" % (i - 1))
        b.backup("", "ct/200", T0 + i * DAY, [("root.pxar", tree)])
    b.backup("", "host/enc", T0, [("disk.img", b.image("enc-0.img", make_image(150, chunks=3)))],
             encrypt=True)
    img = make_image(300, chunks=chunks - 2)
    for i in range(2):
        if i:
            img = make_image(301, base=img, changed=(1, chunks - 3))
        b.backup("site-a", "vm/300", T0 + i * DAY, [("disk.img", b.image("vm300-%d.img" % i, img))])
    b.backup("site-a/sub", "host/web", T0, [("root.pxar", b.tree("web-0", 400))], mode="data")


def age_chunks(chunks_dir, seconds=2 * DAY):
    """Sets the atime of every chunk file (or S3 cache marker) `seconds` back, as if no GC had
    marked them since: the campaign's GC then really removes what nothing references."""
    when = time.time() - seconds
    for dirpath, _, files in os.walk(chunks_dir):
        for name in files:
            p = os.path.join(dirpath, name)
            os.utime(p, (when, os.stat(p).st_mtime), follow_symlinks=False)


def chunk_files(chunks_dir):
    out = set()
    for dirpath, _, files in os.walk(chunks_dir):
        for name in files:
            out.add(os.path.join(dirpath, name))
    return out


# --- jobs -------------------------------------------------------------------------------------

class Variant:
    """One form of a job: the command, the snapshots it may remove (may_vanish), the snapshots
    it adds (new), and what the store holds after it ran to completion (final)."""

    def __init__(self, label, args, final, may_vanish=(), new=(), gone_ok_rc=None,
                 target_gone=None, ok_rc=0, order=None, path_part=None):
        self.label = label
        # Kill only at mutations of paths containing this (kill@any#K~PATH): such a variant's
        # N is found by probing (K = 1, 2, ... until the job ends by itself) and all of its
        # points are run, besides the sampled ones.
        self.path_part = path_part
        self.ok_rc = ok_rc            # exit code of a run to completion
        self.order = order            # the order the job removes snapshots in, if documented
        self.args = list(args)
        self.final = final
        self.may_vanish = set(may_vanish)
        self.new = list(new)          # Snaps the job adds (backup)
        self.gone_ok_rc = gone_ok_rc  # exit code a rerun may give once the target is gone
        self.target_gone = target_gone  # fn(listed keys, namespaces) -> bool

    def fault(self, k):
        return "kill@any#%d%s" % (k, "~" + self.path_part if self.path_part else "")


class Job:
    name = ""
    backend = "fs"
    title = ""
    next_group = ("", "vm/100")  # where check (d)'s new backup goes

    def build(self, ctx, env, data):
        raise NotImplementedError

    def variants(self, model):
        raise NotImplementedError

    def job_env(self, live):
        """The env the job runs in and the checks use."""
        return live["main"]

    # hooks
    def after_kill(self, ctx, point, live):
        """Checks before anything else runs (e.g. where the corrupt chunk is). May return a
        note string."""
        return None

    def open_blocked_ok(self, run):
        return False

    def expected_verify(self, model):
        """(exit code, set of keys expected failed) of a whole-store verify right after the
        kill."""
        return 0, set()

    def restore_expected_to_fail(self):
        """(snapshot key, archive) pairs whose restore must fail."""
        return set()

    def next_backup_specs(self, model, data):
        path = os.path.join(data, "next.img")
        if not os.path.exists(path):
            with open(os.path.join(data, "vm100-0.img"), "rb") as f:
                base = f.read()
            write_file(path, make_image(990, base=base, changed=(1, 4)))
        return [("disk.img", path)]


def removal_gone(keys):
    return lambda listed, namespaces: not (set(keys) & listed)


class FsJob(Job):
    def build(self, ctx, env, data):
        b = Builder(env, data)
        b.ok("datastore", "create", STORE, env.store)
        build_standard(b)
        self.extra_setup(ctx, env, data, b)
        age_chunks(os.path.join(env.store, ".chunks"))
        return b.model

    def extra_setup(self, ctx, env, data, b):
        pass


class PruneJob(FsJob):
    name = "prune"
    title = "prune (keep-last, one group and whole namespaces)"

    def variants(self, m):
        out = []
        for label, ns, group, keep in (("vm/100 --keep-last 2", "", "vm/100", 2),
                                       ("--ns site-a --keep-last 1", "site-a", None, 1),
                                       ("--ns '' --keep-last 1", "", None, 1)):
            # Groups one after another in `group list` order, each group's removals oldest
            # first (docs/cli.md, prune).
            groups = [group] if group else m.groups(ns)
            removed = []
            for g in groups:
                snaps = [s for s in reversed(m.group_snaps(ns, g)) if not s.protected]
                removed += [s.key for s in reversed(snaps[keep:])]
            args = ["prune", "--store", STORE]
            args += [group] if group else []
            args += ["--ns", ns] if (ns or not group) else []
            args += ["--keep-last", str(keep)]
            out.append(Variant(label, args, m.without(removed), may_vanish=removed,
                               order=removed))
        return out


class ForgetJob(FsJob):
    name = "forget"
    title = "snapshot forget"

    def variants(self, m):
        picks = [("", "vm/100", 5), ("", "vm/100", 2), ("", "vm/100", 3), ("", "ct/200", 1),
                 ("", "host/enc", 1), ("site-a", "host/web", 0), ("site-a/sub", "vm/400", 1),
                 ("site-b", "host/meta", 1), ("site-a", "vm/300", 0)]
        out = []
        for ns, group, i in picks:
            s = m.group_snaps(ns, group)[i]
            out.append(Variant("%s" % key_str(s.key),
                               ["snapshot", "forget", "--store", STORE, *ns_args(ns), s.name],
                               m.without([s.key]), may_vanish=[s.key], gone_ok_rc=3,
                               target_gone=removal_gone([s.key])))
        return out


class NamespaceRemoveJob(FsJob):
    name = "namespace-remove"
    title = "namespace remove --delete-groups"

    def variants(self, m):
        out = []
        for ns in ("site-a", "site-b", "site-a/sub"):
            gone = [k for k, s in m.snaps.items() if s.ns == ns or s.ns.startswith(ns + "/")]
            final = m.without(gone)
            final.namespaces = {n for n in m.namespaces if n != ns and not n.startswith(ns + "/")}
            final.group_notes = {k: v for k, v in m.group_notes.items()
                                 if k[0] != ns and not k[0].startswith(ns + "/")}

            def target_gone(listed, namespaces, ns=ns):
                return ns not in namespaces
            out.append(Variant(ns, ["namespace", "remove", "--store", STORE, "--delete-groups", ns],
                               final, may_vanish=gone, gone_ok_rc=3, target_gone=target_gone))
        return out


class GroupRemoveJob(FsJob):
    name = "group-remove"
    title = "group remove"

    def variants(self, m):
        out = []
        for ns, group in (("", "vm/100"), ("", "ct/200"), ("site-a", "host/web"),
                          ("site-b", "ct/500")):
            gone = [s.key for s in m.group_snaps(ns, group) if not s.protected]
            kept = [s for s in m.group_snaps(ns, group) if s.protected]
            final = m.without(gone)
            if not kept:
                final.group_notes.pop((ns, group), None)
            gone_fn = (lambda listed, namespaces: False) if kept else removal_gone(gone)
            # A group holding a protected snapshot: the others are removed, then exit 6
            # ("still holds protected snapshots; removed the others").
            out.append(Variant(key_str((ns, group)),
                               ["group", "remove", "--store", STORE, *ns_args(ns), group], final,
                               may_vanish=gone, gone_ok_rc=None if kept else 3,
                               target_gone=gone_fn, ok_rc=6 if kept else 0))
        return out


class GcFsJob(FsJob):
    name = "gc-fs"
    title = "gc, filesystem store"

    def extra_setup(self, ctx, env, data, b):
        # Forgotten snapshots leave chunks nothing references (aged by the caller: GC removes
        # them); the others' chunks are touched.
        for ns, group, i in (("", "vm/100", 1), ("", "vm/100", 3), ("", "ct/200", 0),
                             ("site-a", "vm/300", 1), ("site-b", "ct/500", 0)):
            s = b.model.group_snaps(ns, group)[i]
            b.ok("snapshot", "forget", "--store", STORE, *ns_args(ns), s.name)
            del b.model.snaps[s.key]

    def variants(self, m):
        return [Variant("gc", ["gc", "--store", STORE], m.copy())]


class VerifyJob(FsJob):
    name = "verify"
    title = "verify with one corrupt chunk set aside"

    next_group = ("site-b", "ct/500")

    def extra_setup(self, ctx, env, data, b):
        # The chunk to corrupt: one that only the newest snapshot references. A last snapshot
        # of site-b's ct/500 (the namespace verify reaches last, so that a whole-store verify
        # sets the chunk aside late in its work) is backed up with two chunks of fresh data; the
        # chunk files its backup added are those chunks, and nothing is backed up after it.
        chunks = os.path.join(env.store, ".chunks")
        before = chunk_files(chunks)
        with open(os.path.join(data, "ct500-1.img"), "rb") as f:
            img = make_image(170, base=f.read(), changed=(0, 2))
        s = b.backup("site-b", "ct/500", T0 + 6 * DAY, [("disk.img", b.image("ct500-2.img", img))])
        added = sorted(f for f in chunk_files(chunks) - before if os.path.getsize(f) > 1000)
        victim = added[0]
        with open(victim, "r+b") as f:
            f.seek(os.path.getsize(victim) // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0xFF]))
        self.victim_rel = os.path.relpath(victim, env.store)
        self.victim_sha = sha256_file(victim)
        self.corrupt_key = s.key

    def variants(self, m):
        # Verify exits 4: the snapshot with the corrupt chunk fails. The last variant kills at
        # each mutation of a path under .chunks/ (setting the chunk aside), every one of them.
        return [Variant("whole store", ["verify", "--store", STORE], m.copy(), ok_rc=4),
                Variant("group site-b ct/500", ["verify", "--store", STORE, "--ns", "site-b",
                                                "ct/500"], m.copy(), ok_rc=4),
                Variant("whole store, 1 read + 1 verify thread",
                        ["verify", "--store", STORE, "--read-threads", "1", "--verify-threads",
                         "1"], m.copy(), ok_rc=4),
                Variant("whole store, kills on .chunks/ only", ["verify", "--store", STORE],
                        m.copy(), ok_rc=4, path_part=".chunks/")]

    def after_kill(self, ctx, point, live):
        env = self.job_env(live)
        at = os.path.join(env.store, self.victim_rel)
        places = [p for p in (at, at + ".0.bad") if os.path.exists(p)]
        others = [p for p in (at + ".1.bad",) if os.path.exists(p)]
        if len(places) != 1 or others:
            raise CheckFailed("corrupt chunk kept", "expected the chunk at exactly one of %s, "
                              "found %s" % ([self.victim_rel, self.victim_rel + ".0.bad"],
                                            [os.path.relpath(p, env.store) for p in places + others]))
        if sha256_file(places[0]) != self.victim_sha:
            raise CheckFailed("corrupt chunk kept", "%s changed its bytes" % places[0])
        return "chunk %s" % ("set aside" if places[0].endswith(".bad") else "in place")

    def expected_verify(self, model):
        return 4, {self.corrupt_key}

    def restore_expected_to_fail(self):
        return {(self.corrupt_key, "disk.img")}

    def next_backup_specs(self, model, data):
        # The corrupt snapshot's data again: the backup stores a good copy of the chunk, after
        # which the old snapshot verifies again.
        return [("disk.img", os.path.join(data, "ct500-2.img"))]


class BackupJob(FsJob):
    name = "backup"
    title = "backup (images and file archives)"

    def extra_setup(self, ctx, env, data, b):
        # The job's sources: a changed image, a changed tree (legacy), the metadata-mode tree
        # changed in place (data/meta-live, backed up at the setup's end), an encrypted image.
        with open(os.path.join(data, "vm100-5.img"), "rb") as f:
            base = f.read()
        b.image("job-vm100.img", make_image(180, base=base, changed=(1, 2, 5)))
        b.image("job-vm100.conf", vm_conf(9))
        b.tree("job-ct200", 210, "ct200-2")
        live = os.path.join(data, "meta-live")
        subprocess.run(["cp", "-a", os.path.join(data, "trees", "meta-1"), live], check=True)
        b.backup("site-b", "host/meta", T0 + 5 * DAY, [("root.pxar", live)], mode="metadata")
        mutate_tree(live, 777)
        b.image("job-new.img", make_image(181, chunks=5))
        b.image("job-enc.img", make_image(182, base=open(os.path.join(data, "enc-1.img"),
                                                         "rb").read(), changed=(0,)))

    def variants(self, m):
        d = self.data
        out = []
        for label, ns, group, specs, opts in (
                ("image + config, incremental", "", "vm/100",
                 [("disk.img", "job-vm100.img"), ("vm.conf", "job-vm100.conf")], []),
                ("file archive, legacy", "", "ct/200", [("root.pxar", "trees/job-ct200")], []),
                ("file archive, metadata mode", "site-b", "host/meta",
                 [("root.pxar", "meta-live")], ["--change-detection-mode", "metadata"]),
                ("image, new group (full)", "site-a/sub", "vm/401",
                 [("disk.img", "job-new.img")], []),
                ("encrypted image", "", "host/enc", [("disk.img", "job-enc.img")],
                 ["--keyfile", os.path.join(d, "key.json")])):
            paths = [(a, os.path.join(d, p)) for a, p in specs]
            snap = Snap(ns, group, T_JOB, {a: source_of(a, p) for a, p in paths},
                        os.path.join(d, "key.json") if "--keyfile" in opts else None)
            final = m.copy()
            final.snaps[snap.key] = snap
            args = ["backup", "--store", STORE, "--chunk-size", "64", *ns_args(ns),
                    "--backup-type", group.split("/")[0], "--backup-id", group.split("/")[1],
                    "--backup-time", str(T_JOB), *opts] + ["%s:%s" % ap for ap in paths]
            out.append(Variant(label, args, final, new=[snap]))
        return out

    def build(self, ctx, env, data):
        self.data = data
        return super().build(ctx, env, data)


class S3Job(Job):
    backend = "s3"
    image_chunks = 6

    def build(self, ctx, env, data):
        ctx.s3_endpoint(env)
        b = Builder(env, data)
        ctx.make_bucket(env)
        b.ok("datastore", "create", STORE, env.store, "--backend", "s3", "--s3-endpoint",
             ENDPOINT, "--bucket", BUCKET)
        build_small(b, self.image_chunks)
        self.extra_setup(ctx, env, data, b)
        age_chunks(os.path.join(env.store, ".chunks"))
        return b.model

    def extra_setup(self, ctx, env, data, b):
        pass


class GcS3Job(S3Job):
    name = "gc-s3"
    title = "gc, S3 store (moto)"
    image_chunks = 16  # more chunks to mark and to remove: N >= 50

    def extra_setup(self, ctx, env, data, b):
        for ns, group, i in (("", "vm/100", 1), ("", "ct/200", 0), ("site-a", "vm/300", 0)):
            s = b.model.group_snaps(ns, group)[i]
            b.ok("snapshot", "forget", "--store", STORE, *ns_args(ns), s.name)
            del b.model.snaps[s.key]

    def variants(self, m):
        return [Variant("gc", ["gc", "--store", STORE], m.copy())]


class RefreshJob(S3Job):
    name = "s3-refresh"
    title = "datastore s3-refresh (moto)"

    def variants(self, m):
        return [Variant("s3-refresh", ["datastore", "s3-refresh", STORE], m.copy())]

    def open_blocked_ok(self, run):
        # Documented: a refresh interrupted during the swap leaves mode s3-refresh, and every
        # command says to run it again.
        return run.rc == 5 and ("cairn datastore s3-refresh %s" % STORE) in run.err


class ReuseJob(S3Job):
    name = "reuse"
    title = "datastore create --reuse (attach afresh, moto)"

    def build(self, ctx, env, data):
        model = super().build(ctx, env, data)
        attach = self.attach_env(env)
        remove_tree(attach.root)
        attach.make_dirs()
        ctx.s3_endpoint(attach)
        return model

    def attach_env(self, env):
        return Env(env.cairn, os.path.join(env.root, "attach"))

    def job_env(self, live):
        return self.attach_env(live["main"])

    def variants(self, m):
        # @ATTACH_STORE@: the attach env's cache path (Campaign.job_args)
        return [Variant("create --reuse", ["datastore", "create", STORE, "@ATTACH_STORE@",
                                           "--backend", "s3", "--s3-endpoint", ENDPOINT,
                                           "--bucket", BUCKET, "--reuse"], m.copy())]


JOBS = [PruneJob, ForgetJob, NamespaceRemoveJob, GroupRemoveJob, GcFsJob, GcS3Job, VerifyJob,
        RefreshJob, ReuseJob, BackupJob]
SHORT_JOBS = ("prune", "gc-fs", "verify", "gc-s3")


# --- the campaign -----------------------------------------------------------------------------

class MotoBucket:
    """Just enough of S3 to copy a bucket out of moto and back (moto checks no signatures, but
    wants an Authorization header to be present)."""

    AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=00",
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": "20260101T000000Z"}

    def __init__(self, moto):
        self.host, self.port = moto["host"], moto["port"]

    def request(self, method, path, body=None, headers=None):
        h = dict(self.AUTH)
        h.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError("moto %s %s: %d %r" % (method, path, resp.status, data[:300]))
        return data

    def dump(self, bucket):
        objects, token = [], None
        while True:
            query = {"list-type": "2", "max-keys": "1000"}
            if token:
                query["continuation-token"] = token
            xml = self.request("GET", "/%s?%s" % (bucket, urllib.parse.urlencode(query)))
            root = ElementTree.fromstring(xml)
            ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
            for c in root.findall(ns + "Contents"):
                key = c.find(ns + "Key").text
                objects.append((key, self.request("GET", "/%s/%s" % (
                    bucket, urllib.parse.quote(key, safe="/~")))))
            token_el = root.find(ns + "NextContinuationToken")
            if root.findtext(ns + "IsTruncated") != "true" or token_el is None:
                return objects
            token = token_el.text

    def load(self, bucket, objects):
        self.request("PUT", "/%s" % bucket)
        for key, data in objects:
            self.request("PUT", "/%s/%s" % (bucket, urllib.parse.quote(key, safe="/~")), data,
                         {"Content-Type": "application/octet-stream"})


class Campaign:
    def __init__(self, args):
        self.args = args
        self.cairn = os.path.abspath(args.cairn)
        self.binary = {"path": self.cairn}
        self.verbose = args.verbose
        self.moto = None
        self.work = None

    def log(self, msg):
        print(msg, flush=True)

    def snapshot_binary(self):
        """Runs a copy of the binary made at the start, so that a rebuild meanwhile (others
        may be working in the same tree) neither breaks nor changes the campaign."""
        dst = os.path.join(self.work, "bin", "cairn")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        for attempt in range(30):
            try:
                shutil.copy2(self.cairn, dst)
                p = subprocess.run([dst, "--version"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=30)
                if p.returncode == 0:
                    break
            except (OSError, subprocess.SubprocessError):
                pass
            time.sleep(2)  # being rebuilt right now
        else:
            raise RuntimeError("cannot run a copy of %s" % self.cairn)
        st = os.stat(self.cairn)
        self.binary.update({"sha256": sha256_file(dst), "mtime": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)), "version": p.stdout.decode().strip()})
        try:
            head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=30)
            if head.returncode == 0:
                self.binary["git_head"] = head.stdout.decode().strip()
        except (OSError, subprocess.SubprocessError):
            pass
        self.cairn = dst

    def vlog(self, msg):
        if self.verbose:
            print("    " + msg, flush=True)

    # S3 --------------------------------------------------------------------------------------
    def start_moto(self):
        peers = os.path.join(self.work, "peers")
        os.makedirs(peers, exist_ok=True)
        self.moto_dir = peers
        p = subprocess.run([sys.executable, S3_SERVER, "start", "--kind", "moto", "--state-dir",
                            peers], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("starting moto failed: %s" % p.stderr.decode(errors="replace"))
        self.moto = json.loads(p.stdout)

    def stop_moto(self):
        if self.moto is None:
            return
        subprocess.run([sys.executable, S3_SERVER, "stop", "--state-dir", self.moto_dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.moto = None

    @property
    def s3(self):
        return MotoBucket(self.moto)

    def reset_moto(self):
        p = subprocess.run([sys.executable, S3_SERVER, "reset", "--kind", "moto", "--state-dir",
                            self.moto_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("resetting moto failed: %s" % p.stderr.decode(errors="replace"))

    def s3_endpoint(self, env):
        if self.moto is None:
            self.start_moto()
        secret = os.path.join(env.root, "moto.secret")
        with open(secret, "w") as f:
            f.write(self.moto["secret_key"] + "\n")
        os.chmod(secret, 0o600)
        r = env.run("s3", "endpoint", "create", ENDPOINT, "--endpoint", self.moto["endpoint"],
                    "--access-key", self.moto["access_key"], "--secret-key-file", secret,
                    "--region", self.moto["region"], "--path-style")
        if r.rc != 0:
            raise RuntimeError("setup: " + r.brief())

    def make_bucket(self, env):
        # `cairn s3 benchmark` creates a missing bucket (as the CLI tests do).
        r = env.run("s3", "benchmark", ENDPOINT, BUCKET, "--object-size", "16", "--count", "1")
        if r.rc != 0:
            raise RuntimeError("setup: " + r.brief())

    # setups ----------------------------------------------------------------------------------
    def fresh_live(self, job, jobdir):
        main = Env(self.cairn, os.path.join(jobdir, "live"))
        remove_tree(main.root)
        main.make_dirs()
        return {"main": main}

    def build_setup(self, job, jobdir, data):
        live = self.fresh_live(job, jobdir)
        if job.backend == "s3" and self.moto is not None:
            self.reset_moto()
        model = job.build(self, live["main"], data)
        return live, model

    def save_setup(self, job, jobdir):
        """The pristine state: a copy of the live directory (configuration, store or cache
        store, client cache), and for S3 jobs every object of the bucket."""
        tree = TreeImage(os.path.join(jobdir, "live"), os.path.join(jobdir, "pristine"))
        objects = self.s3.dump(BUCKET) if job.backend == "s3" else None
        return tree, objects

    def restore_setup(self, job, jobdir, pristine):
        """Returns the live envs in their pristine state. S3: moto is reset and the bucket
        written again object by object (same keys and bytes; only LastModified is newer)."""
        tree, objects = pristine
        if objects is not None:
            self.reset_moto()
            self.s3.load(BUCKET, objects)
        tree.restore(os.path.join(jobdir, "live"))
        return {"main": Env(self.cairn, os.path.join(jobdir, "live"))}

    def probe(self, job, v, jobdir, pristine, limit=50):
        """The number of mutations of a path-filtered variant: K = 1, 2, ... until the job
        is not killed any more."""
        for k in range(1, limit + 1):
            live = self.restore_setup(job, jobdir, pristine)
            r = job.job_env(live).run(*self.job_args(job, v, live), faults=v.fault(k))
            if r.rc != -signal.SIGKILL:
                return k - 1
        return limit

    def job_args(self, job, variant, live):
        env = job.job_env(live)
        return [env.store if a == "@ATTACH_STORE@" else a for a in variant.args]

    # one job ---------------------------------------------------------------------------------
    def run_job(self, job, seed, points):
        t_start = time.monotonic()
        res = {"job": job.name, "title": job.title, "backend": job.backend, "variants": [],
               "points": [], "failures": [], "setup_seconds": 0.0}
        jobdir = os.path.join(self.work, job.name)
        data = os.path.join(jobdir, "data")
        os.makedirs(data, exist_ok=True)
        self.log("== %s: %s" % (job.name, job.title))
        try:
            live, model = self.build_setup(job, jobdir, data)
        except Exception as e:
            res["failures"].append({"job": job.name, "variant": None, "k": None,
                                    "check": "setup", "detail": str(e),
                                    "trace": traceback.format_exc()})
            res["runtime_seconds"] = time.monotonic() - t_start
            self.log("   setup FAILED: %s" % e)
            return res
        pristine = self.save_setup(job, jobdir)
        res["setup_seconds"] = time.monotonic() - t_start
        res["snapshots_in_setup"] = len(model.snaps)
        variants = job.variants(model)

        # Count each variant's mutations with a run to completion, which also checks the
        # campaign's idea of what the job does.
        counts = []
        for vi, v in enumerate(variants):
            live = self.restore_setup(job, jobdir, pristine) if vi else live
            env = job.job_env(live)
            r = env.run(*self.job_args(job, v, live), faults="count")
            n = mutation_count(r)
            ok_rc = v.ok_rc
            entry = {"label": v.label, "args": self.job_args(job, v, live), "mutations": n,
                     "rc": r.rc, "seconds": round(r.seconds, 3)}
            res["variants"].append(entry)
            if r.rc != ok_rc or n is None:
                res["failures"].append({"job": job.name, "variant": v.label, "k": None,
                                        "check": "count run", "detail": "exit %s (expected %d), "
                                        "mutations %s" % (r.rc, ok_rc, n), "run": r.record()})
                counts.append(0)
                continue
            try:
                self.check_listing(env, v.final, set(), "count run: final state", exact=True)
            except CheckFailed as e:
                res["failures"].append({"job": job.name, "variant": v.label, "k": None,
                                        "check": e.check, "detail": e.detail,
                                        "run": e.run.record() if e.run else None})
            if v.path_part:
                n = self.probe(job, v, jobdir, pristine)
                entry["mutations"] = n
                entry["path_part"] = v.path_part
            counts.append(n)
            self.log("   variant %-45s N = %d mutations%s (%.2fs)" % (
                v.label, n, " on paths with %r" % v.path_part if v.path_part else "", r.seconds))

        population = [(vi, k) for vi, n in enumerate(counts) for k in range(1, n + 1)
                      if not variants[vi].path_part]
        rng = random.Random("%s:%s" % (seed, job.name))
        chosen = population if len(population) <= points else rng.sample(population, points)
        chosen += [(vi, k) for vi, n in enumerate(counts) for k in range(1, n + 1)
                   if variants[vi].path_part]
        if self.args.at:
            chosen = [tuple(int(x) for x in a.split(":")) for a in self.args.at]
        chosen.sort()
        res["population"] = len(population)
        for i, (vi, k) in enumerate(chosen):
            v = variants[vi]
            t = time.monotonic()
            point = {"variant": v.label, "k": k, "n": counts[vi]}
            fails = []
            try:
                live = self.restore_setup(job, jobdir, pristine)
                point["restore_setup_seconds"] = round(time.monotonic() - t, 2)
                self.run_point(job, v, k, live, model, point, fails, data)
            except Exception as e:
                fails.append({"check": "harness", "detail": "%s: %s" % (type(e).__name__, e),
                              "trace": traceback.format_exc()})
            point["seconds"] = round(time.monotonic() - t, 2)
            point["failures"] = len(fails)
            res["points"].append(point)
            for f in fails:
                f.update({"job": job.name, "variant": v.label, "k": k})
                res["failures"].append(f)
            status = "ok" if not fails else "FAILED (%s)" % ", ".join(
                sorted({f["check"] for f in fails}))
            self.log("   [%2d/%d] %-45s K=%-5d %-12s %s%s" % (
                i + 1, len(chosen), v.label, k, point.get("outcome", ""), status,
                (" - " + point["note"]) if point.get("note") else ""))
            for f in fails:
                self.vlog("%s: %s" % (f["check"], f["detail"][:500]))
        res["runtime_seconds"] = time.monotonic() - t_start
        if not self.args.keep_work:
            remove_tree(jobdir)
        return res

    # one point -------------------------------------------------------------------------------
    def run_point(self, job, v, k, live, model, point, fails, data):
        env = job.job_env(live)
        args = self.job_args(job, v, live)
        r = env.run(*args, faults=v.fault(k))
        if r.rc == -signal.SIGKILL:
            point["outcome"] = "killed"
        else:
            point["outcome"] = "exit %s" % r.rc
            point["job_run"] = r.record()
        notes = []
        self._last_namespaces = set()

        timings = point.setdefault("timings", {})

        def check(fn, *a):
            t = time.monotonic()
            try:
                out = fn(*a)
                return True, out
            except CheckFailed as e:
                fails.append({"check": e.check, "detail": e.detail,
                              "run": e.run.record() if e.run else None})
                return False, None
            finally:
                name = getattr(fn, "__name__", "check")
                timings[name] = round(timings.get(name, 0) + time.monotonic() - t, 3)

        ok, note = check(job.after_kill, self, point, live)
        if note:
            notes.append(note)

        # (a) the store opens (or the documented block of an interrupted refresh)
        rerun_done = False
        if job.name == "reuse":
            ok, note = check(self.reuse_state, job, v, env, args)
            if note:
                notes.append(note)
            rerun_done = True
        else:
            blocked = env.run("--output-format", "json", "namespace", "list", "--store", STORE)
            if blocked.rc != 0 and job.open_blocked_ok(blocked):
                notes.append("left maintenance mode s3-refresh (documented); rerun first")
                point["blocked"] = True
                check(self.rerun, job, v, env, args, model)
                rerun_done = True
            elif blocked.rc != 0:
                fails.append({"check": "(a) store opens", "detail": blocked.brief(),
                              "run": blocked.record()})

        # (a)+(b) listing, then every listed snapshot restores to its source
        listed = None
        ok, listed = check(self.check_listing, env, model, v.may_vanish,
                           "(b) listing after the kill", False, v.new, v.order)
        if listed is not None:
            if v.new and {s.key for s in v.new} <= listed:
                notes.append("new snapshot visible")
            check(self.check_restores, job, env, listed, model, v)
            check(self.check_notes, env, listed, model)

        # (c) verify
        code, failed = job.expected_verify(model)
        check(self.check_verify, env, code, failed, "(c) verify after the kill")

        # (d) the same job again, the final state, a new backup + restore, gc, verify
        if not rerun_done:
            check(self.rerun, job, v, env, args, model, listed)
        ok, final_listed = check(self.check_listing, env, v.final, set(),
                                 "(d) state after the rerun", True)
        ok, _ = check(self.next_backup, job, env, v, data)
        check(self.check_gc, env)
        check(self.check_verify, env, 0, set(), "(d) verify after gc")
        if job.backend == "s3":
            check(self.check_fresh_attach, env)
        t = time.monotonic()
        left = self.leftovers(env.store)
        timings["leftovers"] = round(time.monotonic() - t, 3)
        if left:
            point["leftovers"] = left
        if notes:
            point["note"] = "; ".join(notes)

    # checks ----------------------------------------------------------------------------------
    def list_store(self, env, check):
        r = env.run("--output-format", "json", "namespace", "list", "--store", STORE)
        if r.rc != 0:
            raise CheckFailed(check, "namespace list: " + r.brief(), r)
        namespaces = set(r.json())
        listed = {}
        for ns in [""] + sorted(namespaces):
            r = env.run("--output-format", "json", "snapshot", "list", "--store", STORE,
                        *ns_args(ns))
            if r.rc != 0:
                raise CheckFailed(check, "snapshot list --ns %r: %s" % (ns, r.brief()), r)
            for entry in r.json():
                listed[(ns, entry["snapshot"])] = entry
        return namespaces, listed

    def check_listing(self, env, model, may_vanish, check, exact=False, new=(), order=None):
        """Returns the listed keys. `model` is what the store held before the job; `may_vanish`
        what the job may have removed; `new` what it may have added."""
        namespaces, listed = self.list_store(env, check)
        keys = set(listed)
        new_keys = {s.key for s in new}
        problems = []
        damaged = ["%s: %s" % (key_str(k), e["error"]) for k, e in listed.items() if "error" in e]
        if damaged:
            problems.append("damaged: %s" % damaged)
        unexpected = keys - set(model.snaps) - new_keys
        if unexpected:
            problems.append("unexpected snapshots %s" % sorted(map(key_str, unexpected)))
        missing = set(model.snaps) - set(may_vanish) - keys
        if missing:
            problems.append("missing snapshots %s" % sorted(map(key_str, missing)))
        for k in keys & set(model.snaps):
            if bool(listed[k].get("protected")) != model.snaps[k].protected:
                problems.append("%s protected=%s, expected %s" % (
                    key_str(k), listed[k].get("protected"), model.snaps[k].protected))
        if exact:
            ns_missing = model.namespaces - namespaces
            ns_extra = namespaces - model.namespaces
            if ns_missing or ns_extra:
                problems.append("namespaces: missing %s, unexpected %s" % (
                    sorted(ns_missing), sorted(ns_extra)))
        else:
            # A namespace may only be gone if the job may remove all of its snapshots.
            for ns in model.namespaces - namespaces:
                holds = {k for k in model.snaps if k[0] == ns}
                if holds - set(may_vanish):
                    problems.append("namespace %s is gone" % ns)
        if order:
            gone = [k for k in order if k not in keys]
            if gone != order[:len(gone)]:
                problems.append("removed %s, not the first of the documented order %s" % (
                    sorted(map(key_str, gone)), [key_str(k) for k in order]))
        if problems:
            raise CheckFailed(check, "; ".join(problems))
        self._last_namespaces = namespaces
        return keys

    def restore_one(self, env, snap, archive, source):
        target = env.tmp_path(archive)
        args = ["restore", "--store", STORE, *ns_args(snap.ns)]
        if snap.keyfile:
            args += ["--keyfile", snap.keyfile]
        r = env.run(*args, snap.name, archive, target)
        return r, target

    def check_restores(self, job, env, listed, model, v):
        snaps = dict(model.snaps)
        for s in v.new:
            snaps[s.key] = s
        bad = job.restore_expected_to_fail()
        problems = []
        last = None
        for key in sorted(listed):
            snap = snaps[key]
            for archive, source in sorted(snap.archives.items()):
                r, target = self.restore_one(env, snap, archive, source)
                if (key, archive) in bad:
                    if r.rc == 0 and self.compare(source, target) is None:
                        problems.append("%s %s restored although its chunk is corrupt" % (
                            key_str(key), archive))
                    elif r.rc == 0:
                        problems.append("%s %s: restore of the corrupt snapshot exited 0 with "
                                        "wrong content" % (key_str(key), archive))
                    remove_tree(target)
                    continue
                if r.rc != 0:
                    problems.append("%s %s: %s" % (key_str(key), archive, r.brief()))
                    last = r
                    continue
                diff = self.compare(source, target)
                if diff:
                    problems.append("%s %s: restored content differs: %s" % (
                        key_str(key), archive, diff))
                remove_tree(target)
        if problems:
            raise CheckFailed("(b) restore", "; ".join(problems), last)

    def compare(self, source, target):
        kind = source[0]
        if kind == "pxar":
            got = tree_listing(target)
            return listing_diff(source[1], got) or None
        got = sha256_file(target)
        return None if got == source[1] else "sha256 %s, expected %s" % (got, source[1])

    def check_notes(self, env, listed, model):
        problems = []
        for key in sorted(listed):
            snap = model.snaps.get(key)
            if snap is None or snap.notes is None:
                continue
            r = env.run("--output-format", "json", "snapshot", "notes", "--store", STORE,
                        *ns_args(snap.ns), snap.name)
            if r.rc != 0 or r.json().get("notes") != snap.notes:
                problems.append("notes of %s: %s" % (key_str(key), r.brief() if r.rc else r.out))
        for (ns, group), text in sorted(model.group_notes.items()):
            if not any(k[0] == ns and k[1].startswith(group + "/") for k in listed):
                continue
            r = env.run("--output-format", "json", "group", "notes", "--store", STORE,
                        *ns_args(ns), group)
            if r.rc != 0 or r.json().get("notes") != text:
                problems.append("notes of group %s: %s" % (
                    key_str((ns, group)), r.brief() if r.rc else r.out))
        if problems:
            raise CheckFailed("(b) notes", "; ".join(problems))

    def check_verify(self, env, code, failed, check):
        r = env.run("--output-format", "json", "verify", "--store", STORE)
        try:
            report = json.loads(r.out)
        except ValueError:
            raise CheckFailed(check, "exit %s, no JSON report: %s" % (r.rc, r.brief()), r)
        got_failed = {(s["ns"], s["snapshot"]) for s in report.get("snapshots", [])
                      if s["state"] != "ok"}
        if r.rc != code or got_failed != failed:
            detail = "exit %s (expected %s); not ok: %s (expected %s)" % (
                r.rc, code, sorted(map(key_str, got_failed)), sorted(map(key_str, failed)))
            probs = [p for s in report.get("snapshots", []) for p in s.get("problems", [])]
            if probs:
                detail += "; problems: %s" % probs[:5]
            raise CheckFailed(check, detail, r)

    def rerun(self, job, v, env, args, model, listed=None):
        r = env.run(*args)
        if r.rc == v.ok_rc:
            return
        if v.new:
            # A backup whose snapshot became visible before the kill cannot be made again with
            # the same backup time (exit 2, "not newer than the last snapshot").
            if listed is not None and {s.key for s in v.new} <= listed and r.rc == 2:
                return
        if v.gone_ok_rc is not None and r.rc == v.gone_ok_rc and v.target_gone is not None:
            namespaces = getattr(self, "_last_namespaces", set())
            if listed is not None and v.target_gone(listed, namespaces):
                return
        raise CheckFailed("(d) rerun", r.brief(), r)

    def reuse_state(self, job, v, env, args):
        """After a killed attach: the store is registered and opens, or it is registered but
        its cache is marked unfinished (the store is registered before it is attached), or it is
        not registered. In the last two the same command again must attach it (a cache path
        left half made by the killed run must not stop it)."""
        r = env.run("--output-format", "json", "datastore", "list")
        registered = r.rc == 0 and any(d.get("name") == STORE for d in r.json())
        if registered:
            opened = env.run("--output-format", "json", "namespace", "list", "--store", STORE)
            if opened.rc != 0 and "interrupted" in opened.err:
                r = env.run(*args)
                if r.rc != 0:
                    raise CheckFailed("(d) rerun", "rerun of an attach killed after registering: "
                                      + r.brief(), r)
                opened = env.run("--output-format", "json", "namespace", "list", "--store", STORE)
                if opened.rc != 0:
                    raise CheckFailed("(a) store opens", "after the rerun: " + opened.brief(),
                                      opened)
                return "registered, attach unfinished; rerun finished it"
            if opened.rc != 0:
                raise CheckFailed("(a) store opens", opened.brief(), opened)
            r = env.run(*args)
            if r.rc != 1 or "already" not in r.err:
                raise CheckFailed("(d) rerun", "rerun of an attach that completed: " + r.brief(),
                                  r)
            return "attached before the kill"
        r = env.run(*args)
        if r.rc == 0:
            return "not attached; rerun attached it"
        # Recorded as a failure; then the way out a user has (the cache holds only what can be
        # rebuilt), so that the remaining checks still run.
        failure = CheckFailed("(d) rerun", "killed attach left %s (%s), not registered, and the "
                              "same command is refused: %s" % (
                                  env.store, ", ".join(sorted(os.listdir(env.store)))[:200]
                                  if os.path.isdir(env.store) else "absent", r.brief()), r)
        remove_tree(env.store)
        r2 = env.run(*args)
        if r2.rc != 0:
            failure.detail += "; and after removing the cache directory: " + r2.brief()
        raise failure

    def next_backup(self, job, env, v, data):
        ns, group = job.next_group
        specs = job.next_backup_specs(None, data)
        r = env.run("--output-format", "json", "backup", "--store", STORE, "--chunk-size", "64",
                    *ns_args(ns), "--backup-type", group.split("/")[0], "--backup-id",
                    group.split("/")[1], "--backup-time", str(T_NEXT),
                    *["%s:%s" % s for s in specs])
        if r.rc != 0:
            raise CheckFailed("(d) new backup", r.brief(), r)
        snap = Snap(ns, group, T_NEXT, {a: source_of(a, p) for a, p in specs})
        for archive, source in snap.archives.items():
            rr, target = self.restore_one(env, snap, archive, source)
            if rr.rc != 0:
                raise CheckFailed("(d) new backup restores", rr.brief(), rr)
            diff = self.compare(source, target)
            if diff:
                raise CheckFailed("(d) new backup restores", diff)

    def check_gc(self, env):
        r = env.run("--output-format", "json", "gc", "--store", STORE)
        if r.rc != 0:
            raise CheckFailed("(d) gc", r.brief(), r)
        status = r.json()
        if status.get("missing-chunks"):
            raise CheckFailed("(d) gc", "%d referenced chunks missing: %s" % (
                status["missing-chunks"], r.err.strip()[-600:]), r)

    def check_fresh_attach(self, env):
        """The bucket is the truth: a cache attached afresh lists what the store lists."""
        other = Env(self.cairn, os.path.join(env.root, "fresh"))
        remove_tree(other.root)
        other.make_dirs()
        try:
            self.s3_endpoint(other)
            r = other.run("datastore", "create", STORE, other.store, "--backend", "s3",
                          "--s3-endpoint", ENDPOINT, "--bucket", BUCKET, "--reuse")
            if r.rc != 0:
                raise CheckFailed("(d) fresh attach", r.brief(), r)
            _, mine = self.list_store(env, "(d) fresh attach")
            _, theirs = self.list_store(other, "(d) fresh attach")
            if set(mine) != set(theirs):
                raise CheckFailed("(d) fresh attach", "cache lists %s, bucket %s" % (
                    sorted(map(key_str, set(mine) - set(theirs))),
                    sorted(map(key_str, set(theirs) - set(mine)))))
        finally:
            remove_tree(other.root)

    def leftovers(self, store):
        """Files of interrupted atomic writes (`*.tmp_PID_N`) and snapshot directories without a
        manifest, outside `.chunks` (GC sweeps the chunk directories): they cost space only
        (the next backup of a group removes its unfinished snapshots)."""
        tmp, unfinished = [], []
        for dirpath, dirnames, filenames in os.walk(store):
            if dirpath == store and ".chunks" in dirnames:
                dirnames.remove(".chunks")
            for name in filenames:
                if TMP_RE.search(name):
                    tmp.append(os.path.relpath(os.path.join(dirpath, name), store))
            rel = os.path.relpath(dirpath, store)
            if (SNAPSHOT_DIR_RE.match(os.path.basename(dirpath)) and
                    not rel.startswith((".locks", ".refresh-tmp")) and
                    "index.json.blob" not in filenames):
                unfinished.append(rel)
        out = {}
        if tmp:
            out["tmp-files"] = sorted(tmp)
        if unfinished:
            out["unfinished-snapshots"] = sorted(unfinished)
        return out


# --- main -------------------------------------------------------------------------------------

def work_root():
    base = os.environ.get("TMPDIR")
    if not base and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        base = "/dev/shm"
    return tempfile.mkdtemp(prefix="cairn-crash-", dir=base or None)


def summarize(results, total):
    rows = []
    head = ("job", "variants", "N (mutations)", "points", "killed", "not killed", "blocked*",
            "failed points", "failures", "seconds")
    for r in results:
        pts = r["points"]
        killed = sum(1 for p in pts if p.get("outcome") == "killed")
        failed_points = sum(1 for p in pts if p.get("failures"))
        ns = [str(v["mutations"]) for v in r["variants"]]
        rows.append((r["job"], str(len(r["variants"])), "/".join(ns) if len(ns) <= 4 else
                     "%s..%s" % (min(v["mutations"] or 0 for v in r["variants"]),
                                 max(v["mutations"] or 0 for v in r["variants"])),
                     str(len(pts)), str(killed), str(len(pts) - killed),
                     str(sum(1 for p in pts if p.get("blocked"))),
                     str(failed_points), str(len(r["failures"])),
                     "%.0f" % r.get("runtime_seconds", 0)))
    widths = [max(len(head[i]), *(len(row[i]) for row in rows)) if rows else len(head[i])
              for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    lines.append("total: %d points, %d failures, %.0f s wall" % (
        sum(len(r["points"]) for r in results), sum(len(r["failures"]) for r in results), total))
    lines.append("* blocked: an interrupted s3-refresh left maintenance mode s3-refresh "
                 "(documented; the rerun clears it)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cairn", default=os.environ.get("CAIRN_BIN") or
                    os.path.join(REPO, "build", "cairn"))
    ap.add_argument("--points", type=int, default=50, help="kill points per job (default 50)")
    ap.add_argument("--short", action="store_true",
                    help="5 points per job and only %s (for CI)" % ", ".join(SHORT_JOBS))
    ap.add_argument("--seed", default="1", help="seed of the kill points (default 1)")
    ap.add_argument("--jobs", help="comma-separated job names (default: all; --list-jobs)")
    ap.add_argument("--report", help="write the JSON report here")
    ap.add_argument("--workdir", help="parent of the work directory (default $TMPDIR or /dev/shm)")
    ap.add_argument("--keep-work", action="store_true", help="keep the work directory")
    ap.add_argument("--at", action="append", default=[], metavar="V:K",
                    help="run exactly this point: variant index V (0-based, as listed) and "
                    "kill point K; repeatable (reproduces a failure of the report)")
    ap.add_argument("--list-jobs", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    names = [j.name for j in JOBS]
    if args.list_jobs:
        for j in JOBS:
            print("%-18s %-4s %s" % (j.name, j.backend, j.title))
        return 0
    points = args.points
    selected = names
    if args.short:
        points = 5 if args.points == 50 else args.points
        selected = list(SHORT_JOBS)
    if args.jobs:
        selected = [s.strip() for s in args.jobs.split(",") if s.strip()]
        unknown = [s for s in selected if s not in names]
        if unknown:
            print("unknown job(s) %s; one of %s" % (unknown, ", ".join(names)), file=sys.stderr)
            return 2
    if not os.access(args.cairn, os.X_OK):
        print("no cairn binary at %s (build it: scripts/build)" % args.cairn, file=sys.stderr)
        return 2
    if points < 1:
        print("--points must be at least 1", file=sys.stderr)
        return 2

    camp = Campaign(args)
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        camp.work = tempfile.mkdtemp(prefix="cairn-crash-", dir=args.workdir)
    else:
        camp.work = work_root()

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)

    t0 = time.monotonic()
    results = []
    try:
        camp.snapshot_binary()
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        remove_tree(camp.work)
        return 2
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print("crash campaign: %s, %d points per job, seed %s, jobs %s; work dir %s" % (
        camp.binary["path"], points, args.seed, ", ".join(selected), camp.work), flush=True)
    interrupted = False
    try:
        for cls in JOBS:
            if cls.name in selected:
                results.append(camp.run_job(cls(), args.seed, points))
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted", file=sys.stderr)
    finally:
        camp.stop_moto()
        if not args.keep_work:
            remove_tree(camp.work)
        else:
            print("work dir kept: %s" % camp.work)
    total = time.monotonic() - t0
    print()
    print(summarize(results, total))
    failures = [f for r in results for f in r["failures"]]
    for f in failures[:30]:
        print("FAIL %s [%s] K=%s %s: %s" % (f["job"], f.get("variant"), f.get("k"), f["check"],
                                           f["detail"][:400]))
    if len(failures) > 30:
        print("... and %d more failures (see the report)" % (len(failures) - 30))
    if args.report:
        report = {"started": started, "seconds": round(total, 1), "cairn": camp.binary,
                  "seed": args.seed, "points_per_job": points, "short": args.short,
                  "interrupted": interrupted, "jobs": results,
                  "failures": len(failures)}
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
        print("report: %s" % args.report)
    if interrupted:
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

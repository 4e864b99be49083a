#!/usr/bin/env python3
"""End-to-end tests of the real `cairn` binary (standard library only).

Usage: cli_test.py PATH/TO/cairn [--shard K/N | unittest args]   (or set CAIRN_BIN)

--shard K/N runs every N-th test starting at the K-th (0-based, in name order), so that ctest
can run the suite as N entries side by side.

Every test runs the binary as a user would, with its own temporary CAIRN_CONFIG_DIR and
CAIRN_DEFAULT_STORE under $TMPDIR (HOME and XDG_* point there too, so nothing outside the test
directory is ever touched). Creating a datastore makes 65,536 directories, so a test class shares
one datastore between its tests where that does not weaken them; such tests use distinct backup
ids or namespaces and never depend on each other's order.

No test depends on timing: every backup passes --backup-time, and lock conflicts are produced by
holding the lock file (flock) from the test itself.

Exit codes asserted here (src/cli/main.cc ExitCodeFor): InvalidArgument 2, NotFound 3,
Corruption 4, Busy 5, PermissionDenied 6, Unavailable 7, any other error (AlreadyExists, IOError) 1.
Command-line parse errors come from CLI11 and use its own codes (non-zero, not "error: ...").
"""

import fcntl
import hashlib
import json
import os
import pty
import random
import re
import shutil
import stat
import subprocess
import time
import sys
import tempfile
import unittest

CAIRN = os.environ.get("CAIRN_BIN", "")
if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
    CAIRN = sys.argv.pop(1)
CAIRN = os.path.abspath(CAIRN) if CAIRN else ""

T0 = 1795000000  # 2026-11-18T...Z: a fixed backup time, so no test depends on the clock
PROGRESS_LINE = re.compile(r"^\S+: \d+% \(.* of .*\)$")
CHUNK = 64 * 1024  # --chunk-size 64 (KiB): small images still have many chunks


def rfc3339(epoch):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def random_bytes(n, seed):
    rng = random.Random(seed)
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_state(root, skip_chunk_dirs=False, ignore_locks=False):
    """Everything under `root`: path -> (kind, mode, size, sha256); a directory's size is the
    number of its entries listed. With `skip_chunk_dirs` the 65,536 directories under a store's
    `.chunks/` are not listed (a cheap check for one command; callers then do a full check once
    per test). With `ignore_locks` a store's `.locks/` directory is left out.
    One `find` lists the tree: over a store's prefix directories it takes half the time of
    os.walk, and the suite takes states hundreds of times."""
    record = ["-printf", "%y %m %s %P\\0"]
    prune = []
    if skip_chunk_dirs:  # .chunks itself is listed; its files are added below
        prune += ["(", "-type", "d", "-name", ".chunks"] + record + ["-prune", ")", "-o"]
    if ignore_locks:
        prune += ["(", "-type", "d", "-name", ".locks", "-prune", ")", "-o"]
    listing = subprocess.run(["find", root, "-mindepth", "1"] + prune + record,
                             check=True, capture_output=True).stdout
    entries = [line.decode("utf-8", "surrogateescape").split(" ", 3)
               for line in listing.split(b"\0")[:-1]]
    if skip_chunk_dirs:
        for kind, _, _, rel in list(entries):
            if kind == "d" and os.path.basename(rel) == ".chunks":
                for entry in os.scandir(os.path.join(root, rel)):
                    if not entry.is_dir(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        kind = "f" if stat.S_ISREG(st.st_mode) else "o"
                        entries.append((kind, "%o" % stat.S_IMODE(st.st_mode), str(st.st_size),
                                        os.path.join(rel, entry.name)))
    state = {".": ("d", stat.S_IMODE(os.lstat(root).st_mode), 0, None)}
    for kind, mode, size, rel in entries:
        parent = os.path.dirname(rel) or "."
        k, m, n, d = state[parent]
        state[parent] = (k, m, n + 1, d)
        if kind == "d":
            state[rel] = ("d", int(mode, 8), 0, None)
        elif kind == "f":
            digest = sha256_file(os.path.join(root, rel)) if int(size) else ""
            state[rel] = ("f", int(mode, 8), int(size), digest)
        else:
            state[rel] = ("o", int(mode, 8), int(size), None)
    return state


def state_diff(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return {"added": added[:10], "removed": removed[:10], "changed": changed[:10]}


def remove_tree(root):
    """shutil.rmtree without its cost on datastores: an empty directory is removed with one rmdir
    instead of being opened and listed, which makes a chunk store's 65,536 prefix directories go
    ten times faster (0.4 s instead of 4 s; every test removes a few). Never follows symlinks."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
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


class Env:
    """A temporary home for one test or test class: config dir, default store path, HOME."""

    def __init__(self, name):
        self.root = tempfile.mkdtemp(prefix="cairn-cli-%s-" % name)
        self.config = os.path.join(self.root, "config")
        self.default_store = os.path.join(self.root, "default-store")
        self.home = os.path.join(self.root, "home")
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.home)
        os.makedirs(self.data)

    def environ(self, extra=None, unset=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "XDG_"))}
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "CAIRN_CACHE_DIR": os.path.join(self.root, "cache"),
            "CAIRN_CONFIG_DIR": self.config,
            "CAIRN_DEFAULT_STORE": self.default_store,
            "USER": "tester",
        })
        for k in unset:
            env.pop(k, None)
        env.update(extra or {})
        return env

    def run(self, *args, envvars=None, unset=(), stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE):
        return subprocess.run([CAIRN, *args], env=self.environ(envvars, unset), stdin=stdin,
                              stdout=subprocess.PIPE, stderr=stderr, cwd=self.root, timeout=600)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, name, data):
        p = os.path.join(self.data, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def cleanup(self):
        try:
            remove_tree(self.root)
        except OSError:
            shutil.rmtree(self.root, ignore_errors=True)


class CliTestCase(unittest.TestCase):
    """Assertions shared by every test class."""

    def ok(self, env, *args, **kw):
        r = env.run(*args, **kw)
        self.assertEqual(r.returncode, 0, "cairn %s failed (%d): %s" % (
            " ".join(map(repr, args)), r.returncode, r.stderr.decode(errors="replace")))
        return r

    def json_of(self, env, *args, pretty=False, **kw):
        r = self.ok(env, "--output-format", "json-pretty" if pretty else "json", *args, **kw)
        return json.loads(r.stdout)

    def fails(self, env, code, *args, names=None, **kw):
        """Runs cairn expecting exit `code` (None: any non-zero) and a one-line `error: ...`
        on stderr that contains every string in `names`. Returns the error line."""
        r = env.run(*args, **kw)
        err = r.stderr.decode(errors="replace")
        if code is None:
            self.assertNotEqual(r.returncode, 0, "cairn %r should have failed" % (args,))
        else:
            self.assertEqual(r.returncode, code, "cairn %r: exit %d, expected %d; stderr: %r" % (
                args, r.returncode, code, err))
        self.assertEqual(r.stdout, b"", "failing command printed a result: %r" % r.stdout)
        # Progress lines ("disk.img.fidx: 20% (...)") may precede the error when the command
        # fails midway; the error itself is the last line and exactly one line.
        lines = err.split("\n")
        while len(lines) > 2 and PROGRESS_LINE.match(lines[0]):
            lines.pop(0)
        err = "\n".join(lines)
        self.assertTrue(err.startswith("error: "), "stderr is not 'error: ...': %r" % err)
        self.assertTrue(err.endswith("\n"), "stderr does not end in a newline: %r" % err)
        self.assertEqual(err.count("\n"), 1, "error is not one line: %r" % err)
        for name in names or ():
            self.assertIn(name, err, "error does not name %r: %r" % (name, err))
        return err.strip()

    def assertUnchanged(self, before, after):
        self.assertEqual(before, after, "disk changed: %s" % state_diff(before, after))


def make_image(seed, chunks=10, zero_chunks=(3, 4), tail=1234):
    """A disk image of `chunks` CHUNK-sized random chunks (some all-zero) plus a partial tail."""
    parts = []
    for i in range(chunks):
        parts.append(bytes(CHUNK) if i in zero_chunks else random_bytes(CHUNK, seed * 1000 + i))
    parts.append(random_bytes(tail, seed * 1000 + 999))
    return b"".join(parts)


VM_CONF = b"boot: order=scsi0\ncores: 2\nmemory: 2048\nscsi0: local:vm-100-disk-0,size=1G\n"


# ---------------------------------------------------------------------------------------------
class DefaultStoreTest(CliTestCase):
    """The embedded default datastore: works with no configuration at all."""

    def setUp(self):
        self.env = Env("default")

    def tearDown(self):
        self.env.cleanup()

    def test_default_store_is_created_on_first_use(self):
        env = self.env
        self.assertFalse(os.path.exists(env.config))
        self.assertFalse(os.path.exists(env.default_store))
        r = self.ok(env, "snapshot", "list")
        self.assertEqual(r.stdout.decode().strip(), "no snapshots")
        self.assertTrue(os.path.isdir(os.path.join(env.default_store, ".chunks", "0000")))
        self.assertTrue(os.path.isdir(os.path.join(env.default_store, ".chunks", "ffff")))
        stores = self.json_of(env, "datastore", "list")
        self.assertEqual(stores, [{"name": "default", "path": env.default_store,
                                   "backend": "filesystem"}])
        with open(os.path.join(env.config, "datastore.json")) as f:
            self.assertIn("default", json.load(f)["datastores"])
        # A backup and a restore work without --store.
        img = env.write("disk.img", make_image(1, chunks=3, zero_chunks=()))
        self.ok(env, "backup", "--chunk-size", "64", "--backup-type", "vm", "--backup-id", "100",
                "--backup-time", str(T0), "disk.img:" + img)
        out = env.path("out.img")
        self.ok(env, "restore", "vm/100/" + rfc3339(T0), "disk.img", out)
        self.assertEqual(sha256_file(out), sha256_file(img))

    def test_xdg_locations_without_cairn_env(self):
        env = self.env
        unset = ("CAIRN_CONFIG_DIR", "CAIRN_DEFAULT_STORE")
        if os.geteuid() == 0:
            self.skipTest("root uses /etc/cairn and /var/lib/cairn/default")
        self.ok(env, "snapshot", "list", unset=unset)
        store = os.path.join(env.home, ".local", "share", "cairn", "default")
        self.assertTrue(os.path.isdir(os.path.join(store, ".chunks")))
        cfg = os.path.join(env.home, ".config", "cairn", "datastore.json")
        with open(cfg) as f:
            self.assertEqual(json.load(f)["datastores"]["default"]["path"], store)
        # --config-dir beats the environment.
        other = env.path("other-config")
        stores = self.json_of(env, "--config-dir", other, "datastore", "list")
        self.assertEqual(stores, [])


# ---------------------------------------------------------------------------------------------
class DatastoreCommandsTest(CliTestCase):
    """datastore create|list|show|remove."""

    def setUp(self):
        self.env = Env("datastore")

    def tearDown(self):
        self.env.cleanup()

    def test_create_list_show_remove(self):
        env = self.env
        self.assertEqual(self.ok(env, "datastore", "list").stdout.decode().strip(),
                         "no datastores configured")
        path = env.path("stores", "store1")
        created = self.json_of(env, "datastore", "create", "store1", path)
        self.assertEqual(created, {"name": "store1", "path": path, "backend": "filesystem"})
        self.assertTrue(os.path.isdir(os.path.join(path, ".chunks", "abcd")))
        text = self.ok(env, "datastore", "list").stdout.decode()
        self.assertIn("NAME", text)
        self.assertIn("store1", text)
        self.assertIn(path, text)
        listed = self.json_of(env, "datastore", "list", pretty=True)
        self.assertEqual(listed, [{"name": "store1", "path": path, "backend": "filesystem"}])

        img = env.write("disk.img", make_image(2, chunks=2, zero_chunks=()))
        self.ok(env, "namespace", "create", "--store", "store1", "site")
        self.ok(env, "backup", "--store", "store1", "--ns", "site", "--chunk-size", "64",
                "--backup-id", "web1", "--backup-time", str(T0), "disk.img:" + img)
        shown = self.json_of(env, "datastore", "show", "store1")
        self.assertEqual(shown, {"name": "store1", "path": path, "backend": "filesystem",
                                 "location": path, "maintenance-mode": "none",
                                 "namespaces": 1, "groups": 1, "snapshots": 1})
        text = self.ok(env, "datastore", "show", "store1").stdout.decode()
        self.assertIn("snapshots:   1", text)

        # remove keeps the data by default
        removed = self.json_of(env, "datastore", "remove", "store1")
        self.assertEqual(removed, {"name": "store1", "data-destroyed": False})
        self.assertTrue(os.path.isdir(os.path.join(path, ".chunks")))
        self.assertEqual(self.json_of(env, "datastore", "list"), [])
        self.fails(env, 3, "datastore", "show", "store1", names=["store1"])

        # re-register a fresh store and destroy it
        path2 = env.path("stores", "store2")
        self.ok(env, "datastore", "create", "store2", path2)
        removed = self.json_of(env, "datastore", "remove", "--destroy-data", "store2")
        self.assertEqual(removed, {"name": "store2", "data-destroyed": True})
        self.assertFalse(os.path.exists(path2))
        self.assertEqual(self.json_of(env, "datastore", "list"), [])

    def test_create_killed_after_registering_is_finished_by_running_it_again(self):
        """Regression (issue 21, crash campaign): `datastore create` killed after the store was
        complete but before it was registered left an unregistered store whose directory every
        later create refused. The store is now registered first; a create killed after that
        leaves the entry and a directory marked unfinished, and the same command finishes it."""
        env = self.env
        path = env.path("store1")
        self.ok(env, "datastore", "create", "store1", path)
        # What a kill between registering and finishing leaves: the entry, and the marker.
        with open(os.path.join(path, ".cairn-creating"), "w"):
            pass
        self.fails(env, None, "snapshot", "list", "--store", "store1", names=["interrupted"])
        # Another path under the same name is still refused, changing nothing.
        self.fails(env, 1, "datastore", "create", "store1", env.path("elsewhere"), names=["store1"])
        self.assertFalse(os.path.exists(env.path("elsewhere")))
        self.ok(env, "datastore", "create", "store1", path)
        self.assertFalse(os.path.exists(os.path.join(path, ".cairn-creating")))
        data = env.path("conf.txt")
        with open(data, "w") as f:
            f.write("x = 1\n")
        self.ok(env, "backup", "--store", "store1", "vm.conf:" + data)
        # A complete store is not created again.
        self.fails(env, 1, "datastore", "create", "store1", path, names=["store1"])

    def test_create_relative_path_is_made_absolute(self):
        env = self.env
        created = self.json_of(env, "datastore", "create", "rel-store", "rel/dir")
        self.assertEqual(created["path"], env.path("rel", "dir"))  # cwd is env.root

    def test_create_refuses_non_empty_dir_and_duplicates(self):
        env = self.env
        busy = env.path("busy")
        os.makedirs(busy)
        with open(os.path.join(busy, "precious.txt"), "w") as f:
            f.write("keep me")
        before = tree_state(env.root)
        self.fails(env, 1, "datastore", "create", "store1", busy, names=[busy, "precious.txt"])
        self.assertUnchanged(before, tree_state(env.root))

        good = env.path("good")
        self.ok(env, "datastore", "create", "store1", good)
        # The same name again, at another path: refused before anything is created.
        before = tree_state(env.root)
        self.fails(env, 1, "datastore", "create", "store1", env.path("other"), names=["store1"])
        self.assertFalse(os.path.exists(env.path("other")))
        # Another name, at a path that already holds a datastore.
        self.fails(env, 1, "datastore", "create", "store2", good, names=[good])
        self.assertUnchanged(before, tree_state(env.root))

    def test_remove_unknown_and_destroy_refuses_non_datastore(self):
        env = self.env
        self.fails(env, 3, "datastore", "remove", "nosuch", names=["nosuch"])
        # A config entry that points at an ordinary directory: --destroy-data must refuse.
        victim = env.path("victim")
        os.makedirs(victim)
        with open(os.path.join(victim, "important"), "w") as f:
            f.write("data")
        os.makedirs(env.config)
        with open(os.path.join(env.config, "datastore.json"), "w") as f:
            json.dump({"datastores": {"fake": {"path": victim, "backend": "filesystem"}}}, f)
        before = tree_state(env.root)
        r = env.run("datastore", "remove", "--destroy-data", "fake")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.startswith(b"error: "), r.stderr)
        self.assertUnchanged(before, tree_state(env.root))
        # Without --destroy-data the broken entry is unregistered (with a warning), data untouched.
        r = self.ok(env, "datastore", "remove", "fake")
        self.assertIn(b"unregistered without releasing", r.stderr)
        with open(os.path.join(victim, "important")) as f:
            self.assertEqual(f.read(), "data")

    def test_destroy_waits_for_running_operations(self):
        """Regression (issue 21, defect 2): `datastore remove --destroy-data` while a backup ran
        deleted the store under it (the backup still reported its snapshot created), ended with
        "Directory not empty" and left a registered but unusable store whose path could not be
        reused. A running operation is simulated here, deterministically, by holding the
        operations lock shared as every running command does."""
        env = self.env
        path = env.path("stores", "busy1")
        self.ok(env, "datastore", "create", "busy1", path)
        conf = env.write("vm.conf", VM_CONF)
        self.ok(env, "backup", "--store", "busy1", "--backup-type", "vm", "--backup-id", "1",
                "--backup-time", str(T0), "vm.conf:" + conf)
        ops = os.path.join(path, ".locks", "operations.lck")
        self.assertTrue(os.path.exists(ops))
        before = tree_state(path, ignore_locks=True)
        with open(ops, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            self.fails(env, 5, "datastore", "remove", "--destroy-data", "busy1",
                       names=["busy1", "running"])
            self.fails(env, 5, "datastore", "remove", "busy1", names=["busy1", "running"])
        self.assertUnchanged(before, tree_state(path, ignore_locks=True))
        shown = self.json_of(env, "datastore", "show", "busy1")
        self.assertEqual(shown["maintenance-mode"], "none")
        self.assertEqual(shown["snapshots"], 1)
        # Nothing runs any more: the removal completes and the path can be used again.
        self.json_of(env, "datastore", "remove", "--destroy-data", "--wait", "5", "busy1")
        self.assertFalse(os.path.exists(path))
        self.ok(env, "datastore", "create", "busy1", path)

    def test_interrupted_destroy_blocks_commands_and_is_finished_by_rerunning_it(self):
        env = self.env
        # What a removal that died after setting its mode leaves behind.
        path = self.store_left_in_mode("half", "delete", "deleting all data")
        err = self.fails(env, 5, "snapshot", "list", "--store", "half", names=["half"])
        self.assertIn("cairn datastore remove --destroy-data half", err)
        self.fails(env, 5, "datastore", "maintenance", "half", "--mode", "none", names=["removed"])
        self.fails(env, 2, "datastore", "maintenance", "half", "--mode", "delete")
        self.ok(env, "datastore", "remove", "--destroy-data", "half")
        self.assertFalse(os.path.exists(path))

    def test_invalid_config_file_is_reported(self):
        env = self.env
        os.makedirs(env.config)
        cfg = os.path.join(env.config, "datastore.json")
        with open(cfg, "w") as f:
            f.write("{not json")
        before = tree_state(env.root)
        self.fails(env, 4, "datastore", "list", names=[cfg])
        self.fails(env, 4, "snapshot", "list", names=[cfg])
        self.assertUnchanged(before, tree_state(env.root))
        # Regression (issue 21): valid JSON of the wrong shape was called "not valid JSON".
        for text, kind in (("[]", "array"), ("null", "null"), ("7", "number")):
            with open(cfg, "w") as f:
                f.write(text)
            err = self.fails(env, 4, "datastore", "list", names=[cfg, "must hold a JSON object"])
            self.assertIn("not " + kind, err)
        with open(cfg, "w") as f:
            json.dump({"datastores": {"x1": {"path": "/tmp", "backend": 5}}}, f)
        self.fails(env, 4, "datastore", "list", names=[cfg, "'backend' must be a string"])

    def test_s3_config_with_out_of_range_numbers_is_refused(self):
        """Regression (found by fuzz/s3_config_fuzzer): "burst-in": 1e30 was converted to an
        integer with undefined behaviour; numbers of the wrong kind are now refused by name."""
        env = self.env
        os.makedirs(env.config, exist_ok=True)
        cfg = os.path.join(env.config, "s3.json")
        for field, value in (("burst-in", 1e30), ("rate-out", -5), ("port", 70000),
                             ("max-connections", 2.5)):
            with open(cfg, "w") as f:
                json.dump({"endpoints": {"aws": {"endpoint": "s3.amazonaws.com",
                                                 "access-key": "AKIA", field: value}}}, f)
            self.fails(env, 4, "s3", "endpoint", "list", names=["aws", field])

    def test_leftover_refresh_mode_says_how_to_finish_it(self):
        """Regression (issue 21): a command blocked by an s3-refresh mode left by an interrupted
        refresh did not say that rerunning `datastore s3-refresh` clears it."""
        self.store_left_in_mode("left", "s3-refresh", "refresh interrupted; rerun")
        err = self.fails(self.env, 5, "snapshot", "list", "--store", "left", names=["left"])
        self.assertIn("cairn datastore s3-refresh left", err)

    def store_left_in_mode(self, name, mode, message):
        """A new filesystem datastore `name` with maintenance mode `mode` set as its job would
        leave it; returns its path."""
        path = self.env.path("stores", name)
        self.ok(self.env, "datastore", "create", name, path)
        with open(os.path.join(path, ".maintenance"), "w") as f:
            json.dump({"type": mode, "message": message}, f)
        return path


# ---------------------------------------------------------------------------------------------
class SharedStoreTestCase(CliTestCase):
    """One default datastore for the whole class (created once in setUpClass)."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env(cls.__name__)
        r = cls.env.run("datastore", "list")  # config only; the store is created lazily
        assert r.returncode == 0, r.stderr
        r = cls.env.run("snapshot", "list")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def backup(self, *specs, btype="vm", bid="100", time=T0, extra=()):
        return self.json_of(self.env, "backup", "--chunk-size", "64", "--backup-type", btype,
                            "--backup-id", bid, "--backup-time", str(time), *extra, *specs)


class BackupRestoreTest(SharedStoreTestCase):
    """backup, snapshot list/files, restore, incremental backups, group list, progress."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.image = make_image(3)
        cls.img = cls.env.write("disk.img", cls.image)
        cls.conf = cls.env.write("vm.conf", VM_CONF)

    def test_backup_list_files_restore(self):
        env = self.env
        r = self.ok(env, "backup", "--chunk-size", "64", "--backup-type", "vm", "--backup-id",
                    "200", "--backup-time", str(T0), "disk.img:" + self.img, "vm.conf:" + self.conf)
        snap = "vm/200/" + rfc3339(T0)
        self.assertIn("snapshot %s created" % snap, r.stdout.decode())
        self.assertIn("disk.img.fidx", r.stdout.decode())

        text = self.ok(env, "snapshot", "list", "vm/200").stdout.decode()
        self.assertIn("SNAPSHOT", text)
        self.assertIn(snap, text)
        self.assertIn("disk.img.fidx", text)
        for fmt in (False, True):
            listed = self.json_of(env, "snapshot", "list", "vm/200", pretty=fmt)
            self.assertEqual(len(listed), 1)
            s = listed[0]
            self.assertEqual(s["backup-type"], "vm")
            self.assertEqual(s["backup-id"], "200")
            self.assertEqual(s["backup-time"], T0)
            self.assertEqual(s["snapshot"], snap)
            self.assertFalse(s["protected"])
            self.assertIn("disk.img.fidx", s["files"])
            self.assertIn("vm.conf.blob", s["files"])
            self.assertIsInstance(s["size"], int)
        pretty = self.ok(env, "--output-format", "json-pretty", "snapshot", "list", "vm/200")
        self.assertIn(b"\n  ", pretty.stdout)

        files = {f["filename"]: f for f in self.json_of(env, "snapshot", "files", snap)}
        self.assertIn("disk.img.fidx", files)
        self.assertIn("vm.conf.blob", files)
        self.assertEqual(files["disk.img.fidx"]["size"], len(self.image))
        self.assertEqual(files["disk.img.fidx"]["crypt-mode"], "none")
        self.assertEqual(len(files["disk.img.fidx"]["csum"]), 64)
        text = self.ok(env, "snapshot", "files", snap).stdout.decode()
        self.assertIn("CRYPT-MODE", text)
        self.assertIn("vm.conf.blob", text)

        out = env.path("restored.img")
        restored = self.json_of(env, "restore", snap, "disk.img", out)
        self.assertEqual(restored["bytes"], len(self.image))
        self.assertEqual(restored["archive"], "disk.img.fidx")
        self.assertEqual(restored["snapshot"], snap)
        self.assertEqual(restored["target"], out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.image)
        # The server-side name works too, and config blobs restore byte-identical.
        out2 = env.path("restored2.img")
        self.ok(env, "restore", snap, "disk.img.fidx", out2)
        self.assertEqual(sha256_file(out2), sha256_file(self.img))
        conf_out = env.path("restored.conf")
        self.ok(env, "restore", snap, "vm.conf", conf_out)
        with open(conf_out, "rb") as f:
            self.assertEqual(f.read(), VM_CONF)
        # An existing file is kept unless --overwrite is given; with it, it is replaced.
        with open(out, "wb") as f:
            f.write(b"old content")
        self.fails(env, 2, "restore", snap, "disk.img", out, names=[out, "--overwrite"])
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"old content")
        self.ok(env, "restore", "--overwrite", snap, "disk.img", out)
        self.assertEqual(sha256_file(out), sha256_file(self.img))

    def test_backup_json_fields_and_incremental(self):
        env = self.env
        first = self.backup("disk.img:" + self.img, "vm.conf:" + self.conf, bid="300")
        for key in ("snapshot", "namespace", "backup-time", "incremental", "duration", "bytes",
                    "archives"):
            self.assertIn(key, first)
        self.assertEqual(first["snapshot"], "vm/300/" + rfc3339(T0))
        self.assertEqual(first["namespace"], "")
        self.assertEqual(first["backup-time"], T0)
        self.assertFalse(first["incremental"])
        self.assertEqual(first["bytes"], len(self.image) + len(VM_CONF))
        arch = {a["filename"]: a for a in first["archives"]}
        img = arch["disk.img.fidx"]
        for key in ("size", "chunks", "known-chunks", "zero-chunks", "uploaded-chunks",
                    "duplicate-chunks", "uploaded-bytes"):
            self.assertIsInstance(img[key], int, key)
        self.assertEqual(img["size"], len(self.image))
        self.assertEqual(img["chunks"], 11)
        self.assertEqual(img["zero-chunks"], 2)
        self.assertEqual(arch["vm.conf.blob"]["size"], len(VM_CONF))

        second = self.backup("disk.img:" + self.img, "vm.conf:" + self.conf, bid="300",
                             time=T0 + 3600)
        self.assertTrue(second["incremental"])
        img2 = {a["filename"]: a for a in second["archives"]}["disk.img.fidx"]
        self.assertEqual(img2["uploaded-chunks"], 0)
        self.assertEqual(img2["uploaded-bytes"], 0)
        self.assertEqual(img2["chunks"], 11)
        listed = self.json_of(env, "snapshot", "list", "vm/300")
        self.assertEqual([s["backup-time"] for s in listed], [T0, T0 + 3600])
        # text mode says so
        third = self.ok(env, "backup", "--chunk-size", "64", "--backup-type", "vm", "--backup-id",
                        "300", "--backup-time", str(T0 + 7200), "disk.img:" + self.img)
        self.assertIn("(incremental)", third.stdout.decode())
        out = env.path("incr.img")
        self.ok(env, "restore", "vm/300/" + rfc3339(T0 + 3600), "disk.img", out)
        self.assertEqual(sha256_file(out), sha256_file(self.img))

    def test_group_list_and_notes(self):
        env = self.env
        self.backup("vm.conf:" + self.conf, btype="ct", bid="group-test")
        groups = {g["backup-type"] + "/" + g["backup-id"]: g
                  for g in self.json_of(env, "group", "list")}
        g = groups["ct/group-test"]
        self.assertEqual(g["backup-count"], 1)
        self.assertEqual(g["last-backup"], T0)
        self.assertEqual(g["owner"], "root@pam" if os.geteuid() == 0 else "tester@pam")
        self.assertIn("ct/group-test", self.ok(env, "group", "list").stdout.decode())
        self.assertEqual(self.json_of(env, "group", "notes", "ct/group-test"),
                         {"group": "ct/group-test", "notes": ""})
        self.ok(env, "group", "notes", "ct/group-test", "--set", "line 1\nline 2")
        self.assertEqual(self.json_of(env, "group", "notes", "ct/group-test")["notes"],
                         "line 1\nline 2")

    def test_missing_snapshot_and_archive(self):
        env = self.env
        self.backup("vm.conf:" + self.conf, bid="missing-test")
        snap = "vm/missing-test/" + rfc3339(T0)
        out = env.path("never")
        self.fails(env, 3, "restore", "vm/missing-test/" + rfc3339(T0 + 1), "vm.conf", out,
                   names=["vm/missing-test/" + rfc3339(T0 + 1)])
        self.fails(env, 3, "restore", snap, "disk.img", out, names=["disk.img"])
        self.fails(env, 3, "snapshot", "files", "vm/missing-test/" + rfc3339(T0 + 1))
        self.fails(env, 3, "snapshot", "list", "vm/no-such-group", names=["vm/no-such-group"])
        self.fails(env, 3, "backup", "--backup-id", "missing-test", "--backup-time",
                   str(T0 + 1), "x.img:" + env.path("absent.img"), names=["absent.img"])
        self.assertEqual(len(self.json_of(env, "snapshot", "list", "vm/missing-test")), 1)
        self.assertFalse(os.path.exists(out))

    def test_backup_argument_errors(self):
        env = self.env
        before = tree_state(env.root)
        self.fails(env, 2, "backup", "--chunk-size", "100", "--backup-time", str(T0),
                   "disk.img:" + self.img, names=["--chunk-size"])
        self.fails(env, 2, "backup", "--backup-time", str(T0), "disk.img:" + self.img,
                   "disk.img:" + self.img, names=["disk.img"])
        self.fails(env, 2, "backup", "--backup-time", str(T0), "disk.exe:" + self.img,
                   names=["disk.exe"])
        self.fails(env, 2, "backup", "--backup-time", str(T0), "disk.img", names=["disk.img"])
        self.fails(env, 2, "backup", "--backup-id", "args", "--backup-time", "-5",
                   "disk.img:" + self.img, names=["-5"])
        self.assertUnchanged(before, tree_state(env.root))

    def test_same_snapshot_twice_is_refused(self):
        env = self.env
        self.backup("vm.conf:" + self.conf, bid="twice", time=T0 + 10)
        before = tree_state(env.default_store, ignore_locks=True)
        for t in (T0 + 10, T0):  # the same time, and an older one
            self.fails(env, 2, "backup", "--backup-type", "vm", "--backup-id", "twice",
                       "--backup-time", str(t), "vm.conf:" + self.conf,
                       names=["not newer", "vm/twice/" + rfc3339(T0 + 10)])
        self.assertUnchanged(before, tree_state(env.default_store, ignore_locks=True))

    def test_writer_registry_is_cleaned_up(self):
        env = self.env
        writers = os.path.join(env.default_store, ".locks", "writers")
        before = set(os.listdir(writers)) if os.path.isdir(writers) else set()
        self.backup("vm.conf:" + self.conf, bid="registry")
        self.fails(env, 2, "backup", "--backup-type", "vm", "--backup-id", "registry",
                   "--backup-time", str(T0), "vm.conf:" + self.conf)
        self.assertEqual(set(os.listdir(writers)) - before, set())

    def test_progress_output(self):
        env = self.env
        # Not a terminal: plain lines on stderr, stdout carries only the result.
        r = self.ok(env, "backup", "--chunk-size", "64", "--backup-id", "progress",
                    "--backup-time", str(T0), "disk.img:" + self.img)
        err = r.stderr.decode()
        self.assertIn("disk.img.fidx: 100%", err)
        self.assertNotIn("\r", err)
        self.assertNotIn("100%", r.stdout.decode())
        # JSON mode: no progress at all, stdout is exactly one JSON document.
        r = self.ok(env, "--output-format", "json", "backup", "--chunk-size", "64",
                    "--backup-id", "progress", "--backup-time", str(T0 + 1), "disk.img:" + self.img)
        self.assertEqual(r.stderr, b"")
        json.loads(r.stdout)
        r = self.ok(env, "--output-format", "json", "restore", "host/progress/" + rfc3339(T0),
                    "disk.img", env.path("p.img"))
        self.assertEqual(r.stderr, b"")
        # A terminal: a redrawn bar (carriage returns) ending at 100% and a final newline.
        master, slave = pty.openpty()
        try:
            r = env.run("restore", "host/progress/" + rfc3339(T0), "disk.img",
                        env.path("p2.img"), stderr=slave)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            tty = b"".join(chunks).decode(errors="replace")
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(r.returncode, 0, tty)
        self.assertIn("\r", tty)
        self.assertIn("100%", tty)
        self.assertIn("ETA", tty)

    def test_restore_never_replaces_a_device_or_fifo(self):
        """Regression (issue 21, defect 1): restoring onto a character device or FIFO exited 0
        and left a regular file in its place (as root this destroyed /dev/full)."""
        env = self.env
        img = env.write("dev.img", make_image(77, chunks=2, zero_chunks=()))
        conf = env.write("vm.conf", VM_CONF)
        snap = self.backup("disk.img:" + img, "vm.conf:" + conf, bid="devtarget")["snapshot"]
        nodes = [env.path("myfifo")]
        os.mkfifo(nodes[0])
        if os.geteuid() == 0:
            nodes.append(env.path("mynull"))
            os.mknod(nodes[1], 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        for node in nodes:
            before = os.lstat(node)
            for archive in ("vm.conf", "disk.img"):
                for extra in ((), ("--overwrite",)):
                    self.fails(env, 2, "restore", *extra, snap, archive, node, names=[node])
                    after = os.lstat(node)
                    self.assertEqual((after.st_mode, after.st_ino), (before.st_mode, before.st_ino))
        # An existing regular file is replaced only with --overwrite.
        mine = env.path("mine.conf")
        with open(mine, "w") as f:
            f.write("precious")
        self.fails(env, 2, "restore", snap, "vm.conf", mine, names=[mine, "--overwrite"])
        with open(mine) as f:
            self.assertEqual(f.read(), "precious")
        self.ok(env, "restore", "--overwrite", snap, "vm.conf", mine)
        with open(mine, "rb") as f:
            self.assertEqual(f.read(), VM_CONF)


# ---------------------------------------------------------------------------------------------
class EncryptionTest(SharedStoreTestCase):
    """key create|show-fingerprint|change-passphrase and encrypted backup/restore."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.image = make_image(4, chunks=4, zero_chunks=(1,))
        cls.marker = b"CAIRN-PLAINTEXT-MARKER-0123456789"
        cls.conf_data = VM_CONF + cls.marker + b"\n"
        cls.img = cls.env.write("disk.img", cls.image)
        cls.conf = cls.env.write("vm.conf", cls.conf_data)

    def create_key(self, name, password="correct horse"):
        path = self.env.path(name)
        created = self.json_of(self.env, "key", "create", path,
                               envvars={"CAIRN_KEY_PASSWORD": password})
        self.assertEqual(created["path"], path)
        self.assertTrue(created["fingerprint"])
        return path, created["fingerprint"]

    def write_plain_key(self, name, seed):
        """An unprotected key file ("kdf": null, `data` = the raw 32-byte key) in the PBS format
        that KeyFile::Parse reads, written here because `key create` is broken (see below)."""
        import base64
        path = self.env.path(name)
        with open(path, "w") as f:
            json.dump({"kdf": None, "created": "2026-11-23T10:00:00Z",
                       "modified": "2026-11-23T10:00:00Z",
                       "data": base64.b64encode(random_bytes(32, seed)).decode()}, f)
        os.chmod(path, 0o600)
        return path

    def test_encrypted_backup_restore_and_wrong_keys(self):
        env = self.env
        key = self.write_plain_key("plain.key", 1)
        other = self.write_plain_key("other.key", 2)
        fp = self.json_of(env, "key", "show-fingerprint", key)["fingerprint"]
        self.assertEqual(self.ok(env, "key", "show-fingerprint", key).stdout.decode().strip(), fp)
        self.assertNotEqual(fp, self.json_of(env, "key", "show-fingerprint", other)["fingerprint"])

        r = self.json_of(env, "backup", "--chunk-size", "64", "--backup-type", "vm",
                         "--backup-id", "enc", "--backup-time", str(T0), "--keyfile", key,
                         "disk.img:" + self.img, "vm.conf:" + self.conf)
        snap = r["snapshot"]
        files = {f["filename"]: f for f in self.json_of(env, "snapshot", "files", snap)}
        self.assertEqual(files["disk.img.fidx"]["crypt-mode"], "encrypt")
        self.assertEqual(files["vm.conf.blob"]["crypt-mode"], "encrypt")
        # The plaintext never reaches the datastore.
        for dirpath, _, names in os.walk(env.default_store):
            for name in names:
                with open(os.path.join(dirpath, name), "rb") as f:
                    self.assertNotIn(self.marker, f.read(), os.path.join(dirpath, name))

        out = env.path("enc-out.img")
        self.fails(env, 2, "restore", snap, "disk.img", out, names=["--keyfile"])
        self.fails(env, 2, "restore", snap, "vm.conf", out, names=["--keyfile"])
        self.fails(env, 2, "restore", "--keyfile", other, snap, "disk.img", out, names=[snap])
        self.fails(env, 2, "restore", "--keyfile", other, snap, "vm.conf", out, names=[snap])
        self.assertFalse(os.path.exists(out))

        self.ok(env, "restore", "--keyfile", key, snap, "disk.img", out)
        self.assertEqual(sha256_file(out), sha256_file(self.img))
        conf_out = env.path("enc-out.conf")
        self.ok(env, "restore", "--keyfile", key, snap, "vm.conf", conf_out)
        with open(conf_out, "rb") as f:
            self.assertEqual(f.read(), self.conf_data)

        # The next backup with the same key is incremental; with another key it is not.
        r = self.json_of(env, "backup", "--chunk-size", "64", "--backup-type", "vm",
                         "--backup-id", "enc", "--backup-time", str(T0 + 60), "--keyfile", key,
                         "disk.img:" + self.img)
        self.assertTrue(r["incremental"])
        self.assertEqual(r["archives"][0]["uploaded-chunks"], 0)
        r = self.json_of(env, "backup", "--chunk-size", "64", "--backup-type", "vm",
                         "--backup-id", "enc", "--backup-time", str(T0 + 120), "--keyfile", other,
                         "disk.img:" + self.img)
        self.assertGreater(r["archives"][0]["uploaded-chunks"], 0)

    def test_key_create_and_use(self):
        env = self.env
        key, fp = self.create_key("enc.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        pw = {"CAIRN_KEY_PASSWORD": "correct horse"}
        self.assertEqual(self.json_of(env, "key", "show-fingerprint", key, envvars=pw),
                         {"path": key, "fingerprint": fp})
        r = self.json_of(env, "backup", "--backup-id", "created-key", "--backup-time", str(T0),
                         "--keyfile", key, "vm.conf:" + self.conf, envvars=pw)
        out = env.path("created-key.conf")
        self.fails(env, None, "restore", "--keyfile", key, r["snapshot"], "vm.conf", out,
                   envvars={"CAIRN_KEY_PASSWORD": "wrong passphrase"}, names=[key])
        self.fails(env, 2, "restore", "--keyfile", key, r["snapshot"], "vm.conf", out,
                   names=["CAIRN_KEY_PASSWORD"])  # protected key, no passphrase
        self.assertFalse(os.path.exists(out))
        self.ok(env, "restore", "--keyfile", key, r["snapshot"], "vm.conf", out, envvars=pw)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.conf_data)
        plain = self.json_of(env, "key", "create", "--kdf", "none", env.path("none.key"))
        self.assertEqual(self.json_of(env, "key", "show-fingerprint",
                                      env.path("none.key"))["fingerprint"], plain["fingerprint"])

    def test_change_passphrase(self):
        env = self.env
        key, fp = self.create_key("change.key", password="old passphrase")
        old = {"CAIRN_KEY_PASSWORD": "old passphrase"}
        new = {"CAIRN_KEY_PASSWORD": "new passphrase"}
        r = self.json_of(env, "backup", "--backup-id", "change", "--backup-time", str(T0),
                         "--keyfile", key, "vm.conf:" + self.conf, envvars=old)
        snap = r["snapshot"]
        changed = self.json_of(env, "key", "change-passphrase", key,
                               envvars={**old, "CAIRN_NEW_KEY_PASSWORD": "new passphrase"})
        self.assertEqual(changed["path"], key)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(self.json_of(env, "key", "show-fingerprint", key,
                                      envvars=new)["fingerprint"], fp)
        out = env.path("change.conf")
        self.fails(env, None, "restore", "--keyfile", key, snap, "vm.conf", out, envvars=old,
                   names=[key])
        self.assertFalse(os.path.exists(out))
        self.ok(env, "restore", "--keyfile", key, snap, "vm.conf", out, envvars=new)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.conf_data)
        # The wrong current passphrase does not change the key file.
        with open(key, "rb") as f:
            saved = f.read()
        self.fails(env, None, "key", "change-passphrase", key,
                   envvars={**old, "CAIRN_NEW_KEY_PASSWORD": "third passphrase"}, names=[key])
        with open(key, "rb") as f:
            self.assertEqual(f.read(), saved)

    def test_key_create_refusals(self):
        env = self.env
        path = env.path("existing.key")
        with open(path, "w") as f:
            f.write("not a key")
        self.fails(env, 1, "key", "create", path,
                   envvars={"CAIRN_KEY_PASSWORD": "some passphrase"}, names=[path])
        with open(path) as f:
            self.assertEqual(f.read(), "not a key")
        # No CAIRN_KEY_PASSWORD and stdin is not a terminal: refuse, write nothing.
        fresh = env.path("fresh.key")
        self.fails(env, 2, "key", "create", fresh, names=["CAIRN_KEY_PASSWORD"])
        self.assertFalse(os.path.exists(fresh))
        self.fails(env, 3, "key", "show-fingerprint", env.path("no-such.key"),
                   names=["no-such.key"])
        self.fails(env, 3, "backup", "--backup-id", "nokey", "--backup-time", str(T0),
                   "--keyfile", env.path("no-such.key"), "vm.conf:" + self.conf,
                   names=["no-such.key"])
        # A file that is not a key file.
        self.fails(env, 2, "key", "show-fingerprint", path, names=[path])


# ---------------------------------------------------------------------------------------------
class NotesProtectTest(SharedStoreTestCase):
    """snapshot notes|protect|forget and group remove around protected snapshots."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf = cls.env.write("vm.conf", VM_CONF)

    def test_notes(self):
        env = self.env
        snap = self.backup("vm.conf:" + self.conf, bid="notes")["snapshot"]
        self.assertEqual(self.json_of(env, "snapshot", "notes", snap),
                         {"snapshot": snap, "notes": ""})
        r = self.json_of(env, "snapshot", "notes", snap, "--set", "before upgrade")
        self.assertEqual(r, {"snapshot": snap, "notes": "before upgrade"})
        self.assertEqual(self.ok(env, "snapshot", "notes", snap).stdout.decode(),
                         "before upgrade\n")
        # Notes do not break the manifest: the snapshot still restores.
        out = env.path("notes.conf")
        self.ok(env, "restore", snap, "vm.conf", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), VM_CONF)
        self.fails(env, 3, "snapshot", "notes", "vm/notes/" + rfc3339(T0 + 5), "--set", "x")

    def test_protect_forget(self):
        env = self.env
        snap = self.backup("vm.conf:" + self.conf, bid="protect")["snapshot"]
        self.assertEqual(self.json_of(env, "snapshot", "protect", snap),
                         {"snapshot": snap, "protected": True})
        self.assertTrue(self.json_of(env, "snapshot", "list", "vm/protect")[0]["protected"])
        self.assertIn("yes", self.ok(env, "snapshot", "list", "vm/protect").stdout.decode())
        before = tree_state(env.default_store)
        self.fails(env, 6, "snapshot", "forget", snap, names=[snap])
        # group remove keeps the protected snapshot (and the group)
        r = env.run("group", "remove", "vm/protect")
        self.assertEqual(len(self.json_of(env, "snapshot", "list", "vm/protect")), 1,
                         "group remove deleted a protected snapshot (exit %d)" % r.returncode)
        self.assertUnchanged(before, tree_state(env.default_store))

        self.assertEqual(self.json_of(env, "snapshot", "protect", "--off", snap),
                         {"snapshot": snap, "protected": False})
        self.assertEqual(self.json_of(env, "snapshot", "forget", snap), {"removed": snap})
        self.assertEqual(self.json_of(env, "snapshot", "list", "vm/protect"), [])
        self.fails(env, 3, "snapshot", "forget", snap, names=[snap])
        self.fails(env, 3, "snapshot", "protect", snap, names=[snap])

    def test_group_remove(self):
        env = self.env
        self.backup("vm.conf:" + self.conf, bid="gremove")
        self.backup("vm.conf:" + self.conf, bid="gremove", time=T0 + 1)
        self.assertEqual(self.json_of(env, "group", "remove", "vm/gremove"),
                         {"removed": "vm/gremove"})
        ids = [g["backup-id"] for g in self.json_of(env, "group", "list")]
        self.assertNotIn("gremove", ids)
        self.fails(env, 3, "group", "remove", "vm/gremove", names=["vm/gremove"])


# ---------------------------------------------------------------------------------------------
class NamespaceTest(SharedStoreTestCase):
    """namespace create|list|remove and --ns on the other commands."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf = cls.env.write("vm.conf", VM_CONF)

    def test_create_list_remove(self):
        env = self.env
        self.assertEqual(self.json_of(env, "namespace", "create", "lr"), {"created": "lr"})
        self.ok(env, "namespace", "create", "lr/b")
        self.ok(env, "namespace", "create", "lr/b/c")
        self.ok(env, "namespace", "create", "lr")  # exists: OK
        self.assertEqual(self.json_of(env, "namespace", "list", "--ns", "lr"), ["lr/b", "lr/b/c"])
        self.assertIn("lr/b/c", self.ok(env, "namespace", "list").stdout.decode())
        self.assertIn("lr", self.json_of(env, "namespace", "list"))
        self.assertEqual(self.ok(env, "namespace", "list", "--ns", "lr/b/c").stdout.decode(),
                         "no namespaces\n")
        self.assertEqual(self.json_of(env, "namespace", "remove", "lr/b/c"), {"removed": "lr/b/c"})
        self.assertEqual(self.json_of(env, "namespace", "list", "--ns", "lr"), ["lr/b"])
        self.ok(env, "namespace", "remove", "lr")  # empty children are removed with it
        self.assertNotIn("lr", self.json_of(env, "namespace", "list"))
        self.assertNotIn("lr/b", self.json_of(env, "namespace", "list"))

    def test_parent_missing_and_errors(self):
        env = self.env
        before = tree_state(env.default_store)
        self.fails(env, 3, "namespace", "create", "nope/child", names=["nope"])
        self.fails(env, 3, "namespace", "remove", "nope", names=["nope"])
        self.fails(env, 2, "namespace", "create", "", names=["empty"])
        self.fails(env, 2, "namespace", "remove", "", names=["root"])
        self.fails(env, 2, "namespace", "create", "a/b/c/d/e/f/g/h", names=["a/b/c/d/e/f/g/h"])
        self.fails(env, 3, "backup", "--ns", "nope", "--backup-time", str(T0),
                   "vm.conf:" + self.conf, names=["nope"])
        self.assertUnchanged(before, tree_state(env.default_store))

    def test_backup_into_namespace_and_delete_groups(self):
        env = self.env
        self.ok(env, "namespace", "create", "site")
        self.ok(env, "namespace", "create", "site/sub")
        r = self.json_of(env, "backup", "--ns", "site", "--backup-id", "web1", "--backup-time",
                         str(T0), "vm.conf:" + self.conf)
        self.assertEqual(r["namespace"], "site")
        snap = r["snapshot"]
        self.ok(env, "backup", "--ns", "site/sub", "--backup-id", "web2", "--backup-time",
                str(T0), "vm.conf:" + self.conf)
        self.assertEqual([s["snapshot"] for s in self.json_of(env, "snapshot", "list", "--ns",
                                                              "site")], [snap])
        self.assertNotIn("host/web1", [s["snapshot"][:9] for s in
                                       self.json_of(env, "snapshot", "list")])
        self.fails(env, 3, "snapshot", "files", snap)  # not in the root namespace
        self.assertEqual(len(self.json_of(env, "snapshot", "files", "--ns", "site", snap)), 1)
        out = env.path("ns.conf")
        self.ok(env, "restore", "--ns", "site", snap, "vm.conf", out)

        before = tree_state(env.default_store)
        self.fails(env, 2, "namespace", "remove", "site", names=["site", "--delete-groups"])
        self.assertUnchanged(before, tree_state(env.default_store))
        self.ok(env, "snapshot", "protect", "--ns", "site/sub", "host/web2/" + rfc3339(T0))
        before = tree_state(env.default_store)
        self.fails(env, 6, "namespace", "remove", "--delete-groups", "site",
                   names=["site", "host/web2/" + rfc3339(T0)])
        self.assertUnchanged(before, tree_state(env.default_store))
        self.ok(env, "snapshot", "protect", "--off", "--ns", "site/sub", "host/web2/" + rfc3339(T0))
        self.assertEqual(self.json_of(env, "namespace", "remove", "--delete-groups", "site"),
                         {"removed": "site"})
        self.assertNotIn("site", self.json_of(env, "namespace", "list"))
        self.fails(env, 3, "snapshot", "list", "--ns", "site", names=["site"])


# ---------------------------------------------------------------------------------------------
class HostileNamesTest(SharedStoreTestCase):
    """Hostile names everywhere they can be typed: non-zero exit, one-line `error: ...` naming
    the input, nothing changed on disk (neither in the store nor next to it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf = cls.env.write("vm.conf", VM_CONF)
        cls.img = cls.env.write("disk.img", make_image(5, chunks=2, zero_chunks=()))
        r = cls.env.run("--output-format", "json", "backup", "--chunk-size", "64",
                        "--backup-type", "vm", "--backup-id", "100", "--backup-time", str(T0),
                        "disk.img:" + cls.img, "vm.conf:" + cls.conf)
        assert r.returncode == 0, r.stderr
        cls.snap = json.loads(r.stdout)["snapshot"]
        r = cls.env.run("namespace", "create", "ns1")
        assert r.returncode == 0, r.stderr
        # Decoys next to the store that a traversal would hit.
        os.makedirs(os.path.join(cls.env.root, "etc"))
        with open(os.path.join(cls.env.root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0\n")

    def setUp(self):
        self.full_before = tree_state(self.env.root)

    def tearDown(self):
        # One full comparison per test, including every directory under .chunks/.
        self.assertUnchanged(self.full_before, tree_state(self.env.root))

    GOOD_PARTS = {"vm", "100", rfc3339(T0), "ns1"}

    def check_refused(self, args, bad, code=2):
        """Runs `args`, expecting exit `code`, a one-line error naming the bad input `bad` (the
        whole string, or a bad '/'-component of it: errors name the offending component), and
        no change on disk."""
        env = self.env
        before = tree_state(env.root, skip_chunk_dirs=True)
        with self.subTest(args=args):
            err = self.fails(env, code, *args)
            if bad:
                alternatives = [self.shown(bad)] + [self.shown(p) if p else "''"
                                                   for p in bad.split("/")
                                                   if p not in self.GOOD_PARTS]
                self.assertTrue(any(a in err for a in alternatives),
                                "error names none of %r: %r" % (alternatives, err))
            self.assertUnchanged(before, tree_state(env.root, skip_chunk_dirs=True))

    @staticmethod
    def shown(name):
        """How an error message renders untrusted input: control characters as \\xNN."""
        return "".join("\\x%02x" % ord(c) if ord(c) < 0x20 or ord(c) == 0x7f else c
                       for c in name)[:80]

    BAD_IDS = ["..", ".", "a/../b", "a/b", "/abs", "\x01id", "id\x1b[31m", "x" * 300, ".hidden",
               "-dash", "a b"]  # "" is not hostile: it means "this host's name"
    BAD_NAMESPACES = ["..", "a/../b", "/abs", "a//b", "a/", "ns\x01", "n" * 300, "../../etc",
                      "a/b/c/d/e/f/g/h"]
    BAD_SNAPSHOTS = ["vm/100/../../etc", "../../etc/passwd", "vm/../" + rfc3339(T0),
                     "vm/100/" + rfc3339(T0) + "/..", "vm/100/..", "vm/100/2026-13-45T99:00:00Z",
                     "vm/" + "x" * 300 + "/" + rfc3339(T0), "vm/1\x0100/" + rfc3339(T0),
                     "xx/100/" + rfc3339(T0), "vm/100/" + rfc3339(T0) + "Z", ""]
    BAD_ARCHIVES = ["../x.img", "../../index.json.blob", "a/b.img", ".img", ".hidden.img",
                    "x\x01.img", "y" * 300 + ".img", "disk.exe", "..", ""]
    BAD_GROUPS = ["vm/..", "vm/a/b", "../vm/100", "vm/", "vm/\x01", "vm/" + "z" * 300, "xx/100",
                  ""]

    def test_backup_ids(self):
        for bad in self.BAD_IDS:
            self.check_refused(["backup", "--backup-id", bad, "--backup-time", str(T0),
                                "vm.conf:" + self.conf], bad)

    def test_backup_namespaces(self):
        for bad in self.BAD_NAMESPACES:
            self.check_refused(["backup", "--ns", bad, "--backup-time", str(T0),
                                "vm.conf:" + self.conf], bad)

    def test_backup_archive_names(self):
        for bad in self.BAD_ARCHIVES:
            if not bad:
                continue
            spec = bad + ":" + self.conf
            self.check_refused(["backup", "--backup-id", "hostile", "--backup-time", str(T0),
                                spec], bad)

    def test_backup_spec_with_newline_is_one_line(self):
        self.check_refused(["backup", "--backup-time", str(T0), "evil\nname.img:" + self.conf],
                           "evil")

    def test_snapshot_time_with_control_chars_is_escaped(self):
        self.check_refused(["snapshot", "files", "vm/100/" + rfc3339(T0) + "\x01"],
                           "vm/100/" + rfc3339(T0) + "\x01")
        self.check_refused(["snapshot", "files", "vm/100/" + rfc3339(T0) + "\nx"], "x")

    def test_restore_snapshots_and_archives(self):
        target = self.env.path("restore-target")
        for bad in self.BAD_SNAPSHOTS:
            self.check_refused(["restore", bad, "disk.img", target], bad)
        for bad in self.BAD_ARCHIVES:
            self.check_refused(["restore", self.snap, bad, target], bad)
        # Well-formed but not an archive of the snapshot: the manifest itself.
        self.check_refused(["restore", self.snap, "index.json.blob", target], "index.json.blob",
                           code=3)

    def test_snapshot_commands(self):
        for cmd in (["snapshot", "files"], ["snapshot", "forget"], ["snapshot", "notes"],
                    ["snapshot", "notes", "--set", "pwned"], ["snapshot", "protect"],
                    ["snapshot", "protect", "--off"]):
            for bad in self.BAD_SNAPSHOTS:
                self.check_refused(cmd + [bad], bad)
            for bad in self.BAD_NAMESPACES:
                self.check_refused(cmd + ["--ns", bad, self.snap], bad)

    def test_group_commands(self):
        for cmd in (["snapshot", "list"], ["group", "notes"], ["group", "notes", "--set", "x"],
                    ["group", "remove"]):
            for bad in self.BAD_GROUPS:
                if not bad and cmd == ["snapshot", "list"]:
                    continue  # an empty GROUP means "all groups"
                self.check_refused(cmd + [bad], bad)
        for bad in self.BAD_NAMESPACES:
            self.check_refused(["group", "list", "--ns", bad], bad)
            self.check_refused(["snapshot", "list", "--ns", bad], bad)

    def test_namespace_commands(self):
        for bad in self.BAD_NAMESPACES + ["ns1/..", "ns1/\x01", "ns1/" + "q" * 200]:
            self.check_refused(["namespace", "create", bad], bad)
            self.check_refused(["namespace", "remove", bad], bad)
            self.check_refused(["namespace", "remove", "--delete-groups", bad], bad)
            self.check_refused(["namespace", "list", "--ns", bad], bad)

    def test_datastore_names(self):
        for bad in ["..", "a/b", "../escape", "ab", "x" * 33, "x" * 300, "st\x01re", "-store",
                    ".store", ""]:
            self.check_refused(["datastore", "create", "--", bad, self.env.path("new-store")],
                               bad)
            self.assertFalse(os.path.exists(self.env.path("new-store")))

    def test_unknown_store_names(self):
        for bad in ["..", "../default", "a/b", "x" * 300]:
            for cmd in (["snapshot", "list"], ["group", "list"], ["namespace", "list"]):
                self.check_refused(cmd + ["--store", bad], bad, code=3)
            self.check_refused(["datastore", "show", bad], bad, code=3)
            self.check_refused(["datastore", "remove", bad], bad, code=3)
            self.check_refused(["datastore", "remove", "--destroy-data", bad], bad,
                               code=3)

    def test_store_name_control_chars_are_escaped(self):
        self.check_refused(["datastore", "show", "bad\nname"], "bad", code=3)


# ---------------------------------------------------------------------------------------------
class CorruptionTest(SharedStoreTestCase):
    """Damaged chunks, indexes and manifests are reported naming the object; a failed restore
    never touches the existing target and leaves no temporary file. (Lock files under `.locks/`
    that valid operations create on demand are left out of the before/after comparison.)"""

    def setUp(self):
        # A fresh group per test, with no all-zero chunks: every chunk file is read on restore.
        self.bid = self._testMethodName.replace("_", "-")
        seed = sum(self.bid.encode())
        self.image = make_image(seed, chunks=4, zero_chunks=())  # 4 chunks + a partial tail
        self.img = self.env.write(self.bid + ".img", self.image)
        before = set(self.chunk_files())
        r = self.backup("disk.img:" + self.img, "vm.conf:" + self.env.write("vm.conf", VM_CONF),
                        bid=self.bid)
        self.snap = r["snapshot"]
        self.new_chunks = sorted(set(self.chunk_files()) - before)
        self.assertEqual(len(self.new_chunks), 5)
        self.snapdir = os.path.join(self.env.default_store, "vm", self.bid, rfc3339(T0))
        self.assertTrue(os.path.isfile(os.path.join(self.snapdir, "index.json.blob")))
        # Good restored copies, made before anything is damaged.
        self.good_img = self.env.path(self.bid + "-good.img")
        self.ok(self.env, "restore", self.snap, "disk.img", self.good_img)
        with open(self.good_img, "rb") as f:
            self.assertEqual(f.read(), self.image)
        self.good_conf = self.env.path(self.bid + "-good.conf")
        self.ok(self.env, "restore", self.snap, "vm.conf", self.good_conf)

    def chunk_files(self):
        listing = subprocess.run(["find", os.path.join(self.env.default_store, ".chunks"),
                                  "-type", "f", "-print0"], check=True, capture_output=True)
        return [os.fsdecode(p) for p in listing.stdout.split(b"\0")[:-1]]

    @staticmethod
    def flip(path, offset=None):
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            i = len(data) // 2 if offset is None else offset
            data[i] ^= 0x55
            f.seek(0)
            f.write(data)

    def state(self):
        return tree_state(self.env.root, ignore_locks=True)

    def restore_fails_untouched(self, code, archive="disk.img", names=()):
        """Restores `archive` onto the good copy (with --overwrite: must fail with `code`, naming
        `names`, and change nothing) and onto a new path (must fail and create nothing)."""
        target = self.good_img if archive == "disk.img" else self.good_conf
        before = self.state()
        err = self.fails(self.env, code, "restore", "--overwrite", self.snap, archive, target,
                         names=names)
        self.assertUnchanged(before, self.state())
        new = self.env.path(self.bid + "-new")
        self.fails(self.env, code, "restore", self.snap, archive, new, names=names)
        self.assertUnchanged(before, self.state())
        return err

    def test_corrupt_chunk(self):
        for chunk in self.new_chunks[:2]:
            self.flip(chunk)
        err = self.restore_fails_untouched(4)
        self.assertTrue(any(os.path.basename(c)[:16] in err for c in self.new_chunks[:2]), err)
        with open(self.good_img, "rb") as f:
            self.assertEqual(f.read(), self.image)

    def test_truncated_chunk(self):
        with open(self.new_chunks[0], "r+b") as f:
            f.truncate(10)
        self.restore_fails_untouched(4, names=[os.path.basename(self.new_chunks[0])[:16]])

    def test_missing_chunk(self):
        os.unlink(self.new_chunks[3])
        # Observed: NotFound (3) naming the chunk.
        self.restore_fails_untouched(3, names=[os.path.basename(self.new_chunks[3])[:16]])

    def test_corrupt_manifest(self):
        self.flip(os.path.join(self.snapdir, "index.json.blob"))
        before = self.state()
        self.fails(self.env, 4, "snapshot", "files", self.snap, names=["index.json.blob"])
        self.fails(self.env, 4, "snapshot", "notes", self.snap, names=["index.json.blob"])
        self.fails(self.env, 4, "snapshot", "notes", self.snap, "--set", "x",
                   names=["index.json.blob"])
        # The listing shows the damaged snapshot (exit 0) instead of failing for the group.
        listed = self.json_of(self.env, "snapshot", "list", "vm/" + self.bid)
        damaged = [s for s in listed if s["snapshot"] == self.snap]
        self.assertEqual(len(damaged), 1)
        self.assertIn("index.json.blob", damaged[0]["error"])
        self.assertUnchanged(before, self.state())
        self.restore_fails_untouched(4, names=["index.json.blob"])
        self.restore_fails_untouched(4, archive="vm.conf", names=["index.json.blob"])

    def test_truncated_manifest(self):
        with open(os.path.join(self.snapdir, "index.json.blob"), "r+b") as f:
            f.truncate(5)
        self.fails(self.env, 4, "snapshot", "files", self.snap, names=["index.json.blob"])
        self.restore_fails_untouched(4, names=["index.json.blob"])

    def test_corrupt_index(self):
        self.flip(os.path.join(self.snapdir, "disk.img.fidx"), offset=4200)
        self.restore_fails_untouched(4, names=["disk.img.fidx"])

    def test_corrupt_config_blob(self):
        self.flip(os.path.join(self.snapdir, "vm.conf.blob"))
        self.restore_fails_untouched(4, archive="vm.conf", names=["vm.conf.blob"])
        with open(self.good_conf, "rb") as f:
            self.assertEqual(f.read(), VM_CONF)


# ---------------------------------------------------------------------------------------------
class LockTest(SharedStoreTestCase):
    """Busy (exit 5) when another process holds a lock; produced by holding the flock here."""

    def test_busy_group_and_snapshot(self):
        env = self.env
        conf = env.write("vm.conf", VM_CONF)
        snap = self.backup("vm.conf:" + conf, bid="locked")["snapshot"]
        group_lock = os.path.join(env.default_store, ".locks", "vm", "locked", "group.lck")
        snap_lock = os.path.join(env.default_store, ".locks", "vm", "locked",
                                 rfc3339(T0) + ".lck")
        self.assertTrue(os.path.exists(group_lock), os.listdir(os.path.dirname(group_lock)))
        with open(group_lock, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self.fails(env, 5, "backup", "--backup-type", "vm", "--backup-id", "locked",
                       "--backup-time", str(T0 + 1), "vm.conf:" + conf, names=["vm/locked"])
            self.fails(env, 5, "group", "remove", "vm/locked", names=["vm/locked"])
        fd = os.open(snap_lock, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.fails(env, 5, "snapshot", "forget", snap, names=[snap])
        finally:
            os.close(fd)
        self.ok(env, "snapshot", "forget", snap)


# ---------------------------------------------------------------------------------------------
class HelpAndUsageTest(CliTestCase):
    """--help for every (sub)command, --version, usage errors."""

    COMMANDS = [
        [], ["datastore"], ["datastore", "create"], ["datastore", "list"], ["datastore", "show"],
        ["datastore", "remove"], ["backup"], ["restore"], ["snapshot"], ["snapshot", "list"],
        ["snapshot", "files"], ["snapshot", "forget"], ["snapshot", "notes"],
        ["snapshot", "protect"], ["group"], ["group", "list"], ["group", "notes"],
        ["group", "remove"], ["namespace"], ["namespace", "create"], ["namespace", "list"],
        ["namespace", "remove"], ["key"], ["key", "create"], ["key", "show-fingerprint"],
        ["key", "change-passphrase"],
    ]

    @classmethod
    def setUpClass(cls):
        cls.env = Env("help")

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def test_help_everywhere(self):
        for cmd in self.COMMANDS:
            with self.subTest(cmd=cmd):
                r = self.ok(self.env, *cmd, "--help")
                out = r.stdout.decode()
                self.assertIn("Usage", out)
                if cmd:
                    self.assertIn(cmd[-1], out)
        self.assertFalse(os.path.exists(self.env.config))
        self.assertFalse(os.path.exists(self.env.default_store))

    def test_global_options_after_the_subcommand(self):
        r = self.ok(self.env, "datastore", "list", "--output-format", "json")
        self.assertEqual(json.loads(r.stdout), [])

    def test_version(self):
        r = self.ok(self.env, "--version")
        self.assertTrue(r.stdout.decode().startswith("cairn "))

    def test_usage_errors(self):
        env = self.env
        for args in ([], ["nosuch"], ["datastore"], ["datastore", "create", "only-name"],
                     ["backup"], ["restore", "a", "b"], ["--output-format", "xml", "datastore",
                                                         "list"],
                     ["backup", "--backup-type", "../vm", "x.conf:/dev/null"],
                     ["snapshot", "list", "--bogus"]):
            with self.subTest(args=args):
                r = env.run(*args)
                self.assertNotEqual(r.returncode, 0)
                self.assertNotEqual(r.stderr, b"")
        self.assertFalse(os.path.exists(self.env.config))
        self.assertFalse(os.path.exists(self.env.default_store))


def unique_bucket(prefix):
    """A bucket name no earlier run against the same long-lived peers used."""
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.time() * 1000) % 100000)


class S3TestCase(CliTestCase):
    """Base of the tests against the real S3 peers of the ctest fixture s3_peers
    ($CAIRN_S3_PEERS): endpoint and bucket helpers."""

    ENV_NAME = "s3"

    @classmethod
    def setUpClass(cls):
        cls.env = Env(cls.ENV_NAME)
        peers = os.environ.get("CAIRN_S3_PEERS")
        if not peers:
            raise RuntimeError("CAIRN_S3_PEERS is not set: run through ctest (fixture s3_peers)")
        cls.peers = {}
        for kind in ("moto", "moto-auth", "s3rver"):
            with open(os.path.join(peers, kind + ".json")) as f:
                cls.peers[kind] = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def create_endpoint(self, ident, kind, *extra, secret=None, env=None):
        env = env or self.env
        p = self.peers[kind]
        secret_file = env.path(ident + ".secret")
        with open(secret_file, "w") as f:
            f.write((secret or p["secret_key"]) + "\n")
        self.ok(env, "s3", "endpoint", "create", ident, "--endpoint", p["endpoint"],
                "--access-key", p["access_key"], "--secret-key-file", secret_file,
                "--region", p["region"], "--path-style", *extra)
        return p

    def make_bucket(self, kind, name, env=None):
        # `cairn s3 benchmark` creates a missing bucket; a tiny run is the user-visible way.
        self.ok(env or self.env, "s3", "benchmark", kind, name, "--object-size", "16",
                "--count", "2")


class S3CommandsTest(S3TestCase):
    """cairn s3 ..."""

    def test_endpoint_lifecycle_never_shows_the_secret(self):
        p = self.create_endpoint("life", "moto", "--put-rate-limit", "50",
                                 "--provider-quirks", "delete-objects-via-delete-object")
        secret = p["secret_key"] + "-very-secret"
        self.ok(self.env, "s3", "endpoint", "update", "life", "--secret-key", secret,
                "--max-connections", "4")
        outputs = [self.ok(self.env, *args).stdout for args in (
            ("s3", "endpoint", "list"), ("s3", "endpoint", "show", "life"),
            ("--output-format", "json", "s3", "endpoint", "show", "life"),
            ("--output-format", "json", "s3", "endpoint", "list"))]
        for out in outputs:
            self.assertNotIn(secret.encode(), out)
        shown = self.json_of(self.env, "s3", "endpoint", "show", "life")
        self.assertEqual(shown["max-connections"], 4)
        self.assertEqual(shown["put-rate-limit"], 50)
        self.assertEqual(shown["provider-quirks"], ["delete-objects-via-delete-object"])
        self.assertNotIn("secret-key", shown)
        with open(os.path.join(self.env.config, "s3.json")) as f:
            settings = f.read()
        self.assertNotIn(secret, settings)
        secrets = os.path.join(self.env.config, "s3-secrets.json")
        self.assertEqual(stat.S_IMODE(os.stat(secrets).st_mode), 0o600)
        with open(secrets) as f:
            self.assertEqual(json.load(f)["life"], secret)
        self.ok(self.env, "s3", "endpoint", "update", "life", "--provider-quirks", "")
        self.assertNotIn("provider-quirks", self.json_of(self.env, "s3", "endpoint", "show", "life"))
        self.ok(self.env, "s3", "endpoint", "remove", "life")
        self.fails(self.env, 3, "s3", "endpoint", "show", "life", names=["life"])
        with open(secrets) as f:
            self.assertNotIn("life", json.load(f))

    def test_bad_endpoint_settings_are_refused(self):
        p = self.peers["moto"]
        base = ["s3", "endpoint", "create", "bad", "--access-key", "a", "--secret-key", "b"]
        for extra, name in ((["--endpoint", "ftp://x"], "ftp://x"),
                            (["--endpoint", "host/path"], "host/path"),
                            (["--endpoint", "h", "--fingerprint", "zz"], "fingerprint"),
                            (["--endpoint", "h", "--region", "Bad Region"], "region"),
                            (["--endpoint", "h", "--provider-quirks", "nope"], "nope"),
                            (["--endpoint", "http://h", "--fingerprint", "AB" * 32], "https")):
            with self.subTest(extra=extra):
                self.fails(self.env, 2, *base, *extra, names=[name])
        self.fails(self.env, 2, "s3", "endpoint", "create", "x", "--endpoint", p["endpoint"],
                   "--access-key", "a", names=["secret key"])
        self.fails(self.env, 2, "s3", "endpoint", "create", "../x", "--endpoint", "h",
                   "--access-key", "a", "--secret-key", "b", names=["id"])
        self.fails(self.env, 3, "s3", "check", "missing-endpoint", "bucket",
                   names=["missing-endpoint"])
        secrets = os.path.join(self.env.config, "s3-secrets.json")
        if os.path.exists(secrets):
            os.chmod(secrets, 0o644)
            self.fails(self.env, 6, "s3", "endpoint", "list", names=["chmod 600"])
            os.chmod(secrets, 0o600)

    def test_check_reports_what_each_provider_needs(self):
        self.create_endpoint("chk-moto", "moto")
        self.create_endpoint("chk-s3rver", "s3rver")
        self.make_bucket("chk-moto", "check-bucket")
        self.make_bucket("chk-s3rver", "check-bucket")
        report = self.json_of(self.env, "s3", "check", "chk-moto", "check-bucket")
        self.assertTrue(report["ok"])
        self.assertEqual(report["needed-provider-quirks"], [])
        self.assertGreater(report["s3"]["requests"]["put"], 0)

        r = self.env.run("s3", "check", "chk-s3rver", "check-bucket")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"skip-if-none-match-header", r.stdout)
        self.assertIn(b"cairn s3 endpoint update chk-s3rver --provider-quirks", r.stdout)
        self.ok(self.env, "s3", "endpoint", "update", "chk-s3rver", "--provider-quirks",
                "skip-if-none-match-header")
        self.assertTrue(self.json_of(self.env, "s3", "check", "chk-s3rver", "check-bucket")["ok"])

        self.fails(self.env, 3, "s3", "check", "chk-moto", "no-such-bucket",
                   names=["no-such-bucket"])

    def test_wrong_credentials_and_unreachable_endpoints(self):
        self.create_endpoint("auth-ok", "moto-auth")
        self.make_bucket("auth-ok", "auth-bucket")
        self.create_endpoint("auth-bad", "moto-auth", secret="wrong-secret")
        self.fails(self.env, 6, "s3", "check", "auth-bad", "auth-bucket", names=["403"])
        self.fails(self.env, 6, "s3", "ls", "auth-bad", "auth-bucket",
                   names=["SignatureDoesNotMatch"])
        self.ok(self.env, "s3", "endpoint", "create", "nowhere", "--endpoint",
                "http://127.0.0.1:9", "--access-key", "a", "--secret-key", "b", "--path-style")
        self.fails(self.env, 7, "s3", "ls", "nowhere", "bucket", names=["127.0.0.1:9"])

    def test_ls_lists_folders_and_keys(self):
        self.create_endpoint("ls-moto", "moto")
        self.make_bucket("ls-moto", "ls-bucket")
        listing = self.json_of(self.env, "s3", "ls", "ls-moto", "ls-bucket")
        self.assertEqual(listing, [], "the benchmark removes its objects")
        result = self.json_of(self.env, "s3", "benchmark", "ls-moto", "ls-bucket",
                              "--object-size", "1000", "--count", "10", "--threads", "2")
        self.assertEqual(result["put"]["objects"], 10)
        self.assertEqual(result["get"]["bytes"], 10000)
        self.assertEqual(result["s3"]["requests"]["delete"], 1)



class S3DatastoreCommandsTest(S3TestCase):
    """Datastores kept in S3: create, back up, restore, attach from another host, refresh,
    maintenance, remove."""

    ENV_NAME = "s3ds"

    def s3_store(self, env, name, endpoint, bucket, *extra):
        return self.json_of(env, "datastore", "create", name, env.path("cache-" + name),
                            "--backend", "s3", "--s3-endpoint", endpoint, "--bucket", bucket,
                            *extra)

    def backup(self, env, store, img, time, *extra):
        return self.json_of(env, "backup", "--store", store, "--chunk-size", "64",
                            "--backup-id", "web1", "--backup-time", str(time),
                            "disk.img:" + img, *extra)

    def restored(self, env, store, snapshot):
        out = env.path("restored.img")
        if os.path.exists(out):
            os.remove(out)
        self.ok(env, "restore", "--store", store, snapshot, "disk.img", out)
        with open(out, "rb") as f:
            return f.read()

    def test_backup_restore_and_attach_from_another_host(self):
        self.create_endpoint("ds-moto", "moto")
        bucket = unique_bucket("ds-bucket")
        self.make_bucket("ds-moto", bucket)
        created = self.s3_store(self.env, "offsite", "ds-moto", bucket,
                                "--max-cache-size", "256K")
        self.assertEqual(created["backend"], "s3")
        self.assertEqual(created["bucket"], bucket)
        listed = self.json_of(self.env, "datastore", "list")
        self.assertEqual([(d["name"], d["backend"], d.get("bucket")) for d in listed],
                         [("offsite", "s3", bucket)])

        data = make_image(21, chunks=12, zero_chunks=())
        img = self.env.write("disk.img", data)
        result = self.backup(self.env, "offsite", img, T0)
        snapshot = result["snapshot"]
        stats = result["backend-stats"]["offsite"]
        # 12 chunks and the tail's, then owner, index and manifest
        self.assertEqual(stats["requests"]["requests"]["put"], 13 + 3)
        self.assertLessEqual(stats["cache"]["bytes"], 256 * 1024)
        self.assertGreater(stats["cache"]["evictions"], 0)
        text = self.ok(self.env, "restore", "--store", "offsite", snapshot, "disk.img",
                       self.env.path("text.img"))
        self.assertIn(b"datastore 'offsite' (s3): requests GET", text.stderr)
        self.assertEqual(self.restored(self.env, "offsite", snapshot), data)

        # Another host finds the prefix in use, and attaches once the first lets go of it.
        other = Env("s3ds-other")
        self.addCleanup(other.cleanup)
        host_b = {"CAIRN_HOSTNAME": "host-b"}
        self.create_endpoint("ds-moto", "moto", env=other)
        err = self.fails(other, 1, "datastore", "create", "offsite", other.path("cache"),
                         "--backend", "s3", "--s3-endpoint", "ds-moto", "--bucket", bucket,
                         "--reuse", envvars=host_b, names=["in use", "--overwrite-in-use"])
        self.assertFalse(os.path.exists(other.path("cache", ".chunks")), err)
        self.ok(self.env, "datastore", "remove", "offsite")
        self.ok(other, "datastore", "create", "offsite", other.path("cache"), "--backend", "s3",
                "--s3-endpoint", "ds-moto", "--bucket", bucket, "--reuse", envvars=host_b)
        snaps = self.json_of(other, "snapshot", "list", "--store", "offsite")
        self.assertEqual([s["snapshot"] for s in snaps], [snapshot])
        self.assertEqual(self.restored(other, "offsite", snapshot), data)

        refreshed = self.json_of(other, "datastore", "s3-refresh", "offsite")
        self.assertEqual(refreshed["files"], 3)  # owner, index, manifest
        self.assertEqual(refreshed["skipped"], [])

        # Maintenance: read-only refuses backups (exit 5, Busy) but not restores.
        self.ok(other, "datastore", "maintenance", "offsite", "--mode", "read-only",
                "--message", "moving racks")
        self.fails(other, 5, "backup", "--store", "offsite", "--backup-time", str(T0 + 10),
                   "disk.img:" + img, names=["read-only", "moving racks"])
        self.assertEqual(self.restored(other, "offsite", snapshot), data)
        self.ok(other, "snapshot", "notes", "--store", "offsite", snapshot)  # reading is fine
        self.fails(other, 5, "snapshot", "notes", "--store", "offsite", snapshot, "--set", "x",
                   names=["read-only"])
        self.ok(other, "datastore", "maintenance", "offsite", "--mode", "offline")
        self.fails(other, 5, "snapshot", "list", "--store", "offsite", names=["offline"])
        self.fails(other, 2, "datastore", "maintenance", "offsite", "--mode", "s3-refresh")
        self.ok(other, "datastore", "maintenance", "offsite", "--mode", "none")
        shown = self.json_of(other, "datastore", "show", "offsite")
        self.assertEqual((shown["maintenance-mode"], shown["snapshots"]), ("none", 1))

        self.ok(other, "datastore", "remove", "offsite", "--destroy-data")
        self.assertEqual(self.json_of(other, "s3", "ls", "ds-moto", bucket, "-r"), [])
        self.assertFalse(os.path.exists(other.path("cache")))

    def test_no_cache_backup_and_s3rver_quirk(self):
        self.create_endpoint("ds-s3rver", "s3rver", "--provider-quirks",
                             "skip-if-none-match-header")
        bucket = unique_bucket("ds-quirk")
        self.make_bucket("ds-s3rver", bucket)
        self.s3_store(self.env, "quirky", "ds-s3rver", bucket)
        data = make_image(22, chunks=6, zero_chunks=())
        img = self.env.write("quirk.img", data)
        result = self.backup(self.env, "quirky", img, T0, "--no-cache")
        self.assertEqual(result["backend-stats"]["quirky"]["cache"]["inserts"], 0)
        cache = self.env.path("cache-quirky", ".chunks")
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(cache) for f in fs]
        self.assertEqual(sorted(sizes), [0] * 7, "no-cache leaves only markers (6 chunks + tail)")
        self.assertEqual(self.restored(self.env, "quirky", result["snapshot"]), data)

    def test_create_errors_are_clear_and_leave_nothing(self):
        self.create_endpoint("err-moto", "moto")
        self.create_endpoint("err-auth", "moto-auth", secret="wrong-secret")
        base = ["datastore", "create"]
        self.fails(self.env, 3, *base, "err1", self.env.path("err1"), "--backend", "s3",
                   "--s3-endpoint", "nope", "--bucket", "b-1x", names=["nope"])
        self.fails(self.env, 3, *base, "err2", self.env.path("err2"), "--backend", "s3",
                   "--s3-endpoint", "err-moto", "--bucket", "missing-bucket",
                   names=["missing-bucket"])
        self.fails(self.env, 6, *base, "err3", self.env.path("err3"), "--backend", "s3",
                   "--s3-endpoint", "err-auth", "--bucket", "auth-bucket")
        self.fails(self.env, 2, *base, "err4", self.env.path("err4"), "--backend", "s3",
                   names=["--bucket"])
        self.fails(self.env, 2, *base, "err5", self.env.path("err5"), "--bucket", "x-bucket",
                   names=["--backend s3"])
        self.fails(self.env, 2, *base, "err6", self.env.path("err6"), "--backend", "s3",
                   "--s3-endpoint", "err-moto", "--bucket", "b-1x", "--max-cache-size", "lots",
                   names=["lots"])
        # A datastore whose bucket can no longer be reached can still be unregistered.
        self.ok(self.env, "s3", "endpoint", "create", "gone", "--endpoint", "http://127.0.0.1:9",
                "--access-key", "a", "--secret-key", "b", "--path-style")
        cfg = os.path.join(self.env.config, "datastore.json")
        config = {"datastores": {}}
        if os.path.exists(cfg):
            with open(cfg) as f:
                config = json.load(f)
        config["datastores"]["lost"] = {"path": self.env.path("lost-cache"), "backend": "s3",
                                        "s3-endpoint": "gone", "bucket": "lost-bucket"}
        with open(cfg, "w") as f:
            json.dump(config, f)
        self.fails(self.env, 3, "datastore", "remove", "lost", "--destroy-data", names=["lost"])
        r = self.ok(self.env, "datastore", "remove", "lost")
        self.assertIn(b"unregistered without releasing", r.stderr)
        for name in ("err1", "err2", "err3", "err4", "err5", "err6"):
            self.assertFalse(os.path.exists(self.env.path(name, ".chunks")), name)
        self.assertEqual(self.json_of(self.env, "datastore", "list"), [])


# ---------------------------------------------------------------------------------------------
def age_chunk_files(chunks_dir, seconds):
    """Sets the atime of every local chunk file or marker to `seconds` ago, as if nothing had
    marked them since."""
    when = time.time() - seconds
    for dirpath, _, files in os.walk(chunks_dir):
        for name in files:
            path = os.path.join(dirpath, name)
            os.utime(path, (when, os.stat(path).st_mtime))


class GcCommandTest(S3TestCase):
    """cairn gc and cairn gc status, on a filesystem datastore and an S3 datastore."""

    ENV_NAME = "gc"

    def check_gc(self, store, chunks_dir):
        """Backs up two images, forgets the first, ages every chunk, and collects garbage."""
        first = make_image(31, chunks=6, zero_chunks=())
        second = make_image(32, chunks=6, zero_chunks=())
        old = self.json_of(self.env, "backup", "--store", store, "--chunk-size", "64",
                           "--backup-id", "gc", "--backup-time", str(T0),
                           "disk.img:" + self.env.write("a.img", first))
        new = self.json_of(self.env, "backup", "--store", store, "--chunk-size", "64",
                           "--backup-id", "gc", "--backup-time", str(T0 + 60),
                           "disk.img:" + self.env.write("b.img", second))
        self.ok(self.env, "snapshot", "forget", "--store", store, old["snapshot"])
        self.assertIn("no garbage collection", self.ok(
            self.env, "gc", "status", "--store", store).stdout.decode())
        age_chunk_files(chunks_dir, 2 * 86400)

        result = self.json_of(self.env, "gc", "--store", store)
        self.assertEqual(result["removed-chunks"], 7)  # the first image's 6 chunks and tail
        self.assertEqual(result["disk-chunks"], 8)     # the second's, and the all-zero chunk
        self.assertEqual(result["index-file-count"], 1)
        status = self.json_of(self.env, "gc", "status", "--store", store)
        self.assertEqual(status["removed-chunks"], 7)
        text = self.ok(self.env, "gc", "status", "--store", store).stdout.decode()
        self.assertIn("removed:       7 chunks", text)

        out = self.env.path("restored.img")
        self.ok(self.env, "restore", "--store", store, new["snapshot"], "disk.img", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), second)
        self.assertEqual(self.json_of(self.env, "gc", "--store", store)["removed-chunks"], 0)
        return result

    def test_filesystem_datastore(self):
        self.ok(self.env, "datastore", "create", "local", self.env.path("local"))
        self.check_gc("local", self.env.path("local", ".chunks"))
        # A second GC of the same store waits for nobody: it is refused.
        os.makedirs(self.env.path("local", ".locks"), exist_ok=True)
        with open(self.env.path("local", ".locks", "gc.lck"), "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            self.fails(self.env, 5, "gc", "--store", "local", names=["garbage collection"])
        self.fails(self.env, 2, "gc", "--store", "local", "--atime-cutoff", "0",
                   names=["gc-atime-cutoff"])

    def test_the_stores_tuning_sets_the_cutoff_and_flags_win(self):
        self.ok(self.env, "datastore", "create", "tuned", self.env.path("tuned"),
                "--tuning", "gc-atime-cutoff=60")
        shown = self.json_of(self.env, "datastore", "tuning", "tuned")
        self.assertEqual((shown["tuning"], shown["gc-atime-cutoff"]), ("gc-atime-cutoff=60", 60))
        self.fails(self.env, 2, "datastore", "tuning", "tuned", "--set", "gc-atime-cutoff=9999",
                   names=["gc-atime-cutoff"])
        self.fails(self.env, 2, "datastore", "tuning", "tuned", "--set", "sync-level=file",
                   names=["sync-level"])
        image = make_image(33, chunks=4, zero_chunks=())
        snap = self.json_of(self.env, "backup", "--store", "tuned", "--chunk-size", "64",
                            "--backup-id", "t", "--backup-time", str(T0),
                            "disk.img:" + self.env.write("t.img", image))
        self.ok(self.env, "snapshot", "forget", "--store", "tuned", snap["snapshot"])
        age_chunk_files(self.env.path("tuned", ".chunks"), 2 * 3600)
        # Two hours unmarked: kept by a cutoff given on the command line (the default's 24 h 5 min),
        # removed by the store's 60 minutes.
        kept = self.json_of(self.env, "gc", "--store", "tuned", "--atime-cutoff", "1445")
        self.assertEqual(kept["removed-chunks"], 0)
        self.assertEqual(self.json_of(self.env, "gc", "--store", "tuned")["removed-chunks"], 5)
        cleared = self.json_of(self.env, "datastore", "tuning", "tuned", "--clear")
        self.assertEqual((cleared["tuning"], cleared["gc-atime-cutoff"]), ("", 1445))
        self.assertNotIn("tuning", self.json_of(self.env, "datastore", "list")[0])

    def test_s3_datastore(self):
        self.create_endpoint("gc-moto", "moto")
        bucket = unique_bucket("gc-bucket")
        self.make_bucket("gc-moto", bucket)
        self.ok(self.env, "datastore", "create", "offsite", self.env.path("cache"),
                "--backend", "s3", "--s3-endpoint", "gc-moto", "--bucket", bucket)
        result = self.check_gc("offsite", self.env.path("cache", ".chunks"))
        requests = result["requests"]["requests"]
        self.assertEqual(requests["list"], 16)   # a page for each of the 16 key ranges
        self.assertEqual(requests["delete"], 1)  # one DeleteObjects for all removed keys
        self.assertEqual(requests["get"], 0)


class VerifyCommandTest(S3TestCase):
    """cairn verify: finds a damaged chunk, sets it aside, and the next backup repairs it."""

    ENV_NAME = "verify"

    def backup(self, store, image, t):
        return self.json_of(self.env, "backup", "--store", store, "--chunk-size", "64",
                            "--backup-id", "ver", "--backup-time", str(t),
                            "disk.img:" + self.env.write("v%d.img" % t, image))

    def test_corrupt_chunk_is_set_aside_and_the_next_backup_repairs_it(self):
        self.ok(self.env, "datastore", "create", "vlocal", self.env.path("vlocal"))
        image = make_image(41, chunks=6, zero_chunks=())
        first = self.backup("vlocal", image, T0)
        result = self.json_of(self.env, "verify", "--store", "vlocal")
        self.assertEqual((result["ok"], result["failed"], result["chunks-checked"]), (1, 0, 7))

        chunks = [os.path.join(d, f) for d, _, files in os.walk(self.env.path("vlocal", ".chunks"))
                  for f in files]
        self.assertEqual(len(chunks), 7)
        with open(chunks[0], "r+b") as f:
            f.seek(40)
            byte = f.read(1)
            f.seek(40)
            f.write(bytes([byte[0] ^ 0xFF]))
        # Damage found is the result: the report on stdout, exit 4 and one error line.
        failed = self.env.run("verify", "--store", "vlocal", "--output-format", "json")
        self.assertEqual(failed.returncode, 4)
        self.assertEqual(failed.stderr.decode().strip().split("\n")[-1],
                         "error: 1 of 1 snapshots failed verification")
        report = json.loads(failed.stdout)
        self.assertEqual((report["failed"], report["corrupt-chunks"]), (1, 1))
        self.assertEqual(report["snapshots"][0]["state"], "failed")
        self.assertIn(os.path.basename(chunks[0]), report["snapshots"][0]["problems"][0])
        self.assertTrue(os.path.exists(chunks[0] + ".0.bad"))
        self.assertFalse(os.path.exists(chunks[0]))

        # The failed snapshot is no incremental base: the chunk is stored again.
        second = self.backup("vlocal", image, T0 + 60)
        self.assertFalse(second["incremental"])
        self.assertTrue(os.path.exists(chunks[0]))
        text = self.ok(self.env, "verify", "--store", "vlocal", "--ignore-verified").stdout.decode()
        self.assertRegex(text, r"ok +host/ver/")
        self.assertIn("2 ok, 0 failed", text)
        out = self.env.path("restored.img")
        self.ok(self.env, "restore", "--store", "vlocal", first["snapshot"], "disk.img", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), image)
        again = self.json_of(self.env, "verify", "--store", "vlocal", "--ignore-verified")
        self.assertEqual((again["skipped"], again["chunks-checked"]), (2, 0))
        again = self.json_of(self.env, "verify", "--store", "vlocal", first["snapshot"],
                             "--ignore-verified", "--outdated-after", "0")
        self.assertEqual((again["ok"], again["chunks-checked"]), (1, 7))

        self.fails(self.env, 3, "verify", "--store", "vlocal", "vm/none", names=["vm/none"])
        self.fails(self.env, 2, "verify", "--store", "vlocal", "vm", names=["'vm'"])
        self.fails(self.env, 2, "verify", "--store", "vlocal", "--outdated-after", "3",
                   names=["--ignore-verified"])

    def test_s3_datastore_reads_each_chunk_once_from_the_bucket(self):
        self.create_endpoint("ver-moto", "moto")
        bucket = unique_bucket("ver-bucket")
        self.make_bucket("ver-moto", bucket)
        self.ok(self.env, "datastore", "create", "voff", self.env.path("vcache"),
                "--backend", "s3", "--s3-endpoint", "ver-moto", "--bucket", bucket)
        image = make_image(42, chunks=6, zero_chunks=())
        self.backup("voff", image, T0)
        self.backup("voff", image, T0 + 60)
        result = self.json_of(self.env, "verify", "--store", "voff", "--read-threads", "4")
        self.assertEqual((result["ok"], result["chunks-checked"]), (2, 7))
        requests = result["backend-stats"]["voff"]["requests"]["requests"]
        self.assertEqual(requests["get"], 7)  # the cache holds them all; verify asks the bucket


# ---------------------------------------------------------------------------------------------
class PruneTest(SharedStoreTestCase):
    """prune: retention options in local time, dry run, protected snapshots, namespaces, Busy."""

    DAY = 86400
    NOON = T0 - T0 % DAY + 12 * 3600  # 2026-11-18T12:00:00Z

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conf = cls.env.write("vm.conf", VM_CONF)

    def seed(self, bid):
        """Seven snapshots of vm/BID, returned oldest first: noon (UTC) of days 0..5 and 08:00 of
        day 5. Day 1 is protected."""
        times = [self.NOON + d * self.DAY for d in range(5)]
        times += [self.NOON + 5 * self.DAY - 4 * 3600, self.NOON + 5 * self.DAY]
        for t in times:
            self.backup("vm.conf:" + self.conf, bid=bid, time=t)
        self.ok(self.env, "snapshot", "protect", "vm/%s/%s" % (bid, rfc3339(times[1])))
        return times

    def prune(self, *args, tz="UTC"):
        return self.json_of(self.env, "prune", *args, envvars={"TZ": tz})

    def remaining(self, group, *args):
        return [s["backup-time"] for s in self.json_of(self.env, "snapshot", "list", group, *args)]

    @staticmethod
    def decisions(bid, *rows):
        return [{"backup-type": "vm", "backup-id": bid, "backup-time": t, "keep": reason is not None,
                 "reason": reason} for t, reason in rows]

    def test_dry_run_then_prune(self):
        env = self.env
        t = self.seed("pa")
        expected = self.decisions("pa", (t[6], "keep-daily"), (t[5], None), (t[4], "keep-daily"),
                                  (t[3], "keep-daily"), (t[2], None), (t[1], "protected"),
                                  (t[0], None))
        before = tree_state(env.default_store, skip_chunk_dirs=True, ignore_locks=True)
        self.assertEqual(self.prune("vm/pa", "--keep-daily", "3", "--dry-run"), expected)
        text = self.ok(env, "prune", "vm/pa", "--keep-daily", "3", "--dry-run",
                       envvars={"TZ": "UTC"}).stdout.decode()
        self.assertRegex(text, r"vm/pa/%s +remove +-\n" % rfc3339(t[5]))
        self.assertRegex(text, r"vm/pa/%s +keep +protected\n" % rfc3339(t[1]))
        self.assertTrue(text.endswith("dry run: would remove 3 of 7 snapshots\n"), text)
        # Days are local: at UTC+14 noon UTC is 02:00 of the next day, 08:00 UTC still today.
        self.assertEqual(self.prune("vm/pa", "--keep-daily", "3", "--dry-run",
                                    tz="Pacific/Kiritimati"),
                         self.decisions("pa", (t[6], "keep-daily"), (t[5], "keep-daily"),
                                        (t[4], None), (t[3], "keep-daily"), (t[2], None),
                                        (t[1], "protected"), (t[0], None)))
        self.assertUnchanged(before, tree_state(env.default_store, skip_chunk_dirs=True,
                                                ignore_locks=True))

        self.assertEqual(self.prune("vm/pa", "--keep-daily", "3"), expected)
        self.assertEqual(self.remaining("vm/pa"), [t[1], t[3], t[4], t[6]])
        self.assertTrue(self.json_of(env, "snapshot", "list", "vm/pa")[0]["protected"])
        text = self.ok(env, "prune", "vm/pa", "--keep-daily", "3").stdout.decode()
        self.assertIn("removed 0 of 4 snapshots", text)

    def test_without_keep_options_nothing_is_pruned(self):
        t = self.seed("pc")
        text = self.ok(self.env, "prune", "vm/pc").stdout.decode()
        self.assertTrue(text.endswith("no keep options given: nothing is pruned\n"), text)
        reasons = [e["reason"] for e in self.prune("vm/pc", "--keep-daily", "0")]
        self.assertEqual(reasons, ["keep-all"] * 5 + ["protected", "keep-all"])
        self.assertEqual(self.remaining("vm/pc"), t)

    def test_namespace_prunes_each_of_its_groups(self):
        env = self.env
        self.ok(env, "namespace", "create", "site")
        self.ok(env, "namespace", "create", "site/child")
        for ns, bid in (("site", "n1"), ("site", "n2"), ("site/child", "n1"), ("", "n1")):
            for d in range(3):
                self.backup("vm.conf:" + self.conf, bid=bid, time=self.NOON + d * self.DAY,
                            extra=("--ns", ns))
        out = self.prune("--ns", "site", "--keep-last", "1")
        self.assertEqual([(e["backup-id"], e["keep"]) for e in out],
                         [("n1", True), ("n1", False), ("n1", False),
                          ("n2", True), ("n2", False), ("n2", False)])
        self.assertEqual(self.remaining("vm/n1", "--ns", "site"), [self.NOON + 2 * self.DAY])
        self.assertEqual(len(self.remaining("vm/n2", "--ns", "site")), 1)
        self.assertEqual(len(self.remaining("vm/n1", "--ns", "site/child")), 3)  # not recursive
        self.assertEqual(len(self.remaining("vm/n1")), 3)  # the root namespace's group
        self.prune("--ns", "site/child", "vm/n1", "--keep-last", "2")
        self.assertEqual(len(self.remaining("vm/n1", "--ns", "site/child")), 2)
        self.assertEqual(len(self.remaining("vm/n1")), 3)
        self.prune("--ns", "", "--keep-last", "1")  # --ns "" is the root namespace
        self.assertEqual(len(self.remaining("vm/n1")), 1)

    def test_busy_while_a_backup_runs_and_stopped_by_a_reader(self):
        env = self.env
        t = self.seed("pb")
        before = tree_state(env.default_store, skip_chunk_dirs=True, ignore_locks=True)
        group_lock = os.path.join(env.default_store, ".locks", "vm", "pb", "group.lck")
        with open(group_lock, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # what a running backup of the group holds
            for dry_run in ((), ("--dry-run",)):
                self.fails(env, 5, "prune", "vm/pb", "--keep-last", "1", *dry_run,
                           names=["vm/pb"])
        self.assertUnchanged(before, tree_state(env.default_store, skip_chunk_dirs=True,
                                                ignore_locks=True))
        # Removal is oldest first; a reader of day 2 stops it there, after day 0 went.
        snap_lock = os.path.join(env.default_store, ".locks", "vm", "pb", rfc3339(t[2]) + ".lck")
        fd = os.open(snap_lock, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            self.fails(env, 5, "prune", "vm/pb", "--keep-last", "1",
                       names=["vm/pb/" + rfc3339(t[2]), "after removing vm/pb/" + rfc3339(t[0])])
        finally:
            os.close(fd)
        self.assertEqual(self.remaining("vm/pb"), t[1:])

    def test_errors(self):
        env = self.env
        self.fails(env, 2, "prune", "--keep-last", "1", names=["GROUP", "--ns"])
        self.fails(env, 2, "prune", "vm/..", "--keep-last", "1", names=[".."])
        self.fails(env, 3, "prune", "vm/nosuch", "--keep-last", "1", names=["vm/nosuch"])
        self.fails(env, 3, "prune", "--ns", "nosuch", "--keep-last", "1", names=["nosuch"])
        for bad in ("-1", "1.5", "x"):
            r = env.run("prune", "vm/nosuch", "--keep-last", bad)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"expected a whole number", r.stderr)
        self.assertIn("--keep-weekly", self.ok(env, "prune", "--help").stdout.decode())


if __name__ == "__main__":
    if not CAIRN or not os.access(CAIRN, os.X_OK):
        sys.exit("usage: cli_test.py PATH/TO/cairn [unittest args] (or set CAIRN_BIN)")
    if len(sys.argv) == 3 and sys.argv[1] == "--shard":
        index, count = (int(part) for part in sys.argv[2].split("/"))
        tests = []
        def flatten(suite):
            for item in suite:
                if isinstance(item, unittest.TestSuite):
                    flatten(item)
                else:
                    tests.append(item)
        flatten(unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
        tests.sort(key=lambda test: test.id())
        shard = unittest.TestSuite(tests[index::count])
        result = unittest.TextTestRunner(verbosity=2).run(shard)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main(verbosity=2)

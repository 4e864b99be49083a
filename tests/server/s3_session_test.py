#!/usr/bin/python3
"""Backup and reader sessions into datastores kept in S3 (the real S3 peers of the ctest
fixture s3_peers: moto and s3rver, $CAIRN_S3_PEERS), driven by Cairn's own client
(`cairn backup|restore --repository`).

Usage: through ctest (it starts the peers), or with CAIRN_S3_PEERS set by hand
(tests/s3/README.md): /usr/bin/python3 s3_session_test.py PATH/TO/cairn

Each peer kind gets its own bucket, datastore (with a small local cache, so that restores go
to the bucket) and server. Checked: restores are byte-identical; `no-cache` sessions leave the
chunks in the bucket only, and a second host attaching the bucket restores from it alone; eight
backups, a restore, GC (one-minute atime cutoff, every chunk's mark aged two hours) and verify
at once all succeed and leave every snapshot whole, as a verify by another host through an
empty cache confirms.
"""

import json
import os
import shutil
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

from harness import (T0, Cairn, Client, Server, make_tree, rfc3339, tree_of,
                     wait_task)


def peers():
    directory = os.environ.get("CAIRN_S3_PEERS")
    if not directory:
        raise unittest.SkipTest("CAIRN_S3_PEERS is not set: run through ctest (fixture s3_peers)")
    out = {}
    for kind in ("moto", "s3rver"):
        with open(os.path.join(directory, kind + ".json")) as f:
            out[kind] = json.load(f)
    return out


def cache_content_bytes(cache_dir):
    """Bytes of chunk content in a local cache (evicted or uncached chunks are empty markers)."""
    total = 0
    for dirpath, _, filenames in os.walk(os.path.join(cache_dir, ".chunks")):
        for name in filenames:
            if len(name) == 64:
                total += os.path.getsize(os.path.join(dirpath, name))
    return total


class S3SessionTest(unittest.TestCase):
    KIND = None

    @classmethod
    def setUpClass(cls):
        if cls.KIND is None:
            raise unittest.SkipTest("base class")
        peer = peers()[cls.KIND]
        cls.tmp = tempfile.mkdtemp(prefix=f"cairn-s3-session-{cls.KIND}-")
        cls.cairn = c = Cairn(cls.tmp)
        cls.bucket = f"sessions-{uuid.uuid4().hex[:12]}"
        create_endpoint(c, cls.tmp, peer)
        c.run("s3", "benchmark", "peer", cls.bucket, "--object-size", "16", "--count", "2")
        cls.cache = os.path.join(cls.tmp, "cache")
        c.run("datastore", "create", "s3store", cls.cache, "--backend", "s3", "--s3-endpoint",
              "peer", "--bucket", cls.bucket, "--max-cache-size", "4M")
        cls.secret = c.json("token", "create", "root@pam", "t")["value"]
        c.run("acl", "update", "/", "Admin", "--auth-id", "root@pam!t")
        cls.server = Server(c).start()
        cls.root = Client(cls.server, token=f"root@pam!t:{cls.secret}")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def remote(self, *args, check=True):
        return self.cairn.remote(self.server, f"root@pam!t@127.0.0.1:{self.server.port}:s3store",
                                 self.secret, *args, check=check)

    def task_log(self, upid):
        path = "/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") + "/log"
        return "\n".join(line["t"] for line in self.root.get(path, limit=1000).data)

    def restore_and_compare(self, snapshot, archive, source):
        target = os.path.join(self.tmp, "restore-" + uuid.uuid4().hex[:8])
        self.remote("restore", snapshot, archive, target)
        if os.path.isdir(source):
            self.assertEqual(tree_of(target), tree_of(source))
        else:
            with open(target, "rb") as a, open(source, "rb") as b:
                self.assertTrue(a.read() == b.read(), f"{snapshot} {archive} differs")
        shutil.rmtree(target, ignore_errors=True) if os.path.isdir(target) else os.remove(target)

    def test_a_backup_restores_through_the_server(self):
        tree = os.path.join(self.tmp, "tree-a")
        make_tree(tree, 11, big=6 << 20)
        image = os.path.join(self.tmp, "a.img")
        with open(image, "wb") as f:
            f.write(os.urandom(5 << 20) + bytes(4 << 20))
        self.remote("backup", "--backup-id", "a", "--backup-time", str(T0), "root.pxar:" + tree,
                    "disk.img:" + image)
        # The cache holds at most 4 MiB of the ~11 MiB: the rest comes from the bucket.
        self.assertLessEqual(cache_content_bytes(self.cache), 4 << 20)
        self.restore_and_compare("host/a/" + rfc3339(T0), "root.pxar", tree)
        self.restore_and_compare("host/a/" + rfc3339(T0), "disk.img", image)
        out = json.loads(self.remote("backup", "--backup-id", "a", "--backup-time",
                                     str(T0 + 60), "root.pxar:" + tree).stdout)
        self.assertEqual(out["archives"][0]["uploaded-chunks"], 0)

    def test_no_cache_sessions_leave_the_chunks_in_the_bucket_only(self):
        tree = os.path.join(self.tmp, "tree-nc")
        make_tree(tree, 12, big=3 << 20)
        before = cache_content_bytes(self.cache)
        self.remote("backup", "--backup-id", "nc", "--backup-time", str(T0), "--no-cache",
                    "root.pxar:" + tree)
        self.assertEqual(cache_content_bytes(self.cache), before)
        self.restore_and_compare("host/nc/" + rfc3339(T0), "root.pxar", tree)
        # A second host attaching the bucket (taking it over) has everything it needs there.
        other = self.attach_elsewhere("other")
        target = os.path.join(other.root, "restored")
        other.run("restore", "--store", "s3store", "host/nc/" + rfc3339(T0), "root.pxar",
                  target)
        self.assertEqual(tree_of(target), tree_of(tree))

    def attach_elsewhere(self, name):
        """A second Cairn (another host) attaching the bucket with an empty cache of its own."""
        other = Cairn(os.path.join(self.tmp, name))
        os.makedirs(other.root)
        create_endpoint(other, other.root, peers()[self.KIND])
        other.run("datastore", "create", "s3store", os.path.join(other.root, "cache"),
                  "--backend", "s3", "--s3-endpoint", "peer", "--bucket", self.bucket, "--reuse",
                  "--overwrite-in-use")
        return other

    def test_eight_backups_a_restore_gc_and_verify_at_once(self):
        base = os.path.join(self.tmp, "campaign")
        trees = []
        for i in range(8):
            tree = os.path.join(base, f"t{i}")
            make_tree(tree, 100 + i % 3, big=1 << 20)  # groups share content three ways
            with open(os.path.join(tree, "own.txt"), "w") as f:
                f.write(f"tree {i}\n" * 1000)
            trees.append(tree)
        gone = os.path.join(base, "gone")
        make_tree(gone, 101, big=1 << 20)  # trees 1, 4 and 7 upload its chunks again
        with open(os.path.join(gone, "only-here.bin"), "wb") as f:
            f.write(os.urandom(1 << 20))
        self.remote("backup", "--backup-id", "c0", "--backup-time", str(T0), "root.pxar:" +
                    trees[0])
        self.remote("backup", "--backup-id", "gone", "--backup-time", str(T0),
                    "root.pxar:" + gone)
        self.remote("snapshot", "forget", "host/gone/" + rfc3339(T0))
        # GC with a one-minute cutoff, and every chunk last marked two hours ago: whatever the
        # running sessions upload again, reuse from a base snapshot or re-register must be
        # marked in time, or this GC removes it under them.
        reply = self.root.request("PUT", "/config/datastore/s3store",
                                  {"tuning": "gc-atime-cutoff=1"})
        self.assertEqual(reply.status, 200, reply.body)
        age_chunk_marks(self.cache, 2 * 3600)
        results = {}

        def run(name, *args):
            results[name] = self.remote(*args, check=False)

        threads = [threading.Thread(target=run, args=(
            f"backup{i}", "backup", "--backup-id", f"c{i}", "--backup-time", str(T0 + 60),
            "root.pxar:" + trees[i])) for i in range(8)]
        target = os.path.join(base, "restored")
        threads.append(threading.Thread(target=run, args=(
            "restore", "restore", "host/c0/" + rfc3339(T0), "root.pxar", target)))
        for t in threads:
            t.start()
        gc = self.root.request("POST", "/admin/datastore/s3store/gc", {})
        verify = self.root.request("POST", "/admin/datastore/s3store/verify", {})
        for t in threads:
            t.join()
        for name, proc in sorted(results.items()):
            self.assertEqual(proc.returncode, 0, f"{name}: {proc.stderr}")
        self.assertEqual(tree_of(target), tree_of(trees[0]))
        for reply in (gc, verify):
            self.assertEqual(reply.status, 200, reply.body)
            self.assertEqual(wait_task(self.root, reply.data)["exitstatus"], "OK",
                             self.task_log(reply.data))
        first_gc_log = self.task_log(gc.data)
        self.assertIn("atime cutoff 1 minutes", first_gc_log)
        # What only the forgotten snapshot used (two hours unmarked) was removed.
        self.assertRegex(first_gc_log, r"Removed garbage: [1-9][0-9]* chunks")
        # After another GC, every snapshot verifies and restores: nothing a session uploaded or
        # re-registered was lost. (Found here: snapshots skipped as recently verified were
        # logged as warnings, so a second verify never ended OK.)
        gc = self.root.request("POST", "/admin/datastore/s3store/gc", {})
        self.assertEqual(wait_task(self.root, gc.data)["exitstatus"], "OK")
        verify = self.root.request("POST", "/admin/datastore/s3store/verify", {})
        self.assertEqual(wait_task(self.root, verify.data)["exitstatus"], "OK",
                         self.task_log(verify.data))
        for i in (0, 3, 7):
            self.restore_and_compare(f"host/c{i}/" + rfc3339(T0 + 60), "root.pxar", trees[i])
        # The forgotten snapshot's own chunks are gone from the bucket; every snapshot verifies
        # from what the bucket holds, read by another host through an empty cache.
        other = self.attach_elsewhere("fresh-cache")
        checked = other.json("verify", "--store", "s3store")
        self.assertEqual((checked["failed"], checked["not-verified"], checked["missing-chunks"]),
                         (0, 0, 0), checked)
        verified = {s["snapshot"] for s in checked["snapshots"] if s["state"] == "ok"}
        self.assertLessEqual({f"host/c{i}/{rfc3339(T0 + 60)}" for i in range(8)}, verified)


def age_chunk_marks(cache_dir, seconds):
    """Sets the atime of every chunk file and marker in a local cache to `seconds` ago, as if
    nothing had marked them since."""
    when = time.time() - seconds
    for dirpath, _, filenames in os.walk(os.path.join(cache_dir, ".chunks")):
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.utime(path, (when, os.stat(path).st_mtime))


def create_endpoint(cairn, root, peer):
    secret_file = os.path.join(root, "s3.secret")
    with open(secret_file, "w") as f:
        f.write(peer["secret_key"] + "\n")
    cairn.run("s3", "endpoint", "create", "peer", "--endpoint", peer["endpoint"], "--access-key",
              peer["access_key"], "--secret-key-file", secret_file, "--region", peer["region"],
              "--path-style")


class MotoSessionTest(S3SessionTest):
    KIND = "moto"


class S3rverSessionTest(S3SessionTest):
    KIND = "s3rver"


del S3SessionTest  # only its subclasses run

if __name__ == "__main__":
    unittest.main()

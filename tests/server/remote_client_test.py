#!/usr/bin/python3
"""End-to-end tests of Cairn's own client against `cairn server`: `cairn backup|restore|catalog|
dump --repository` speak PBS's backup and reader protocols (client/remote/server_repository).

Usage: /usr/bin/python3 remote_client_test.py PATH/TO/cairn [unittest args]   (or set CAIRN_BIN)
Needs Debian's python3-zstandard (to read stored manifests), hence /usr/bin/python3.

What goes over the network is checked against what the same backup writes to a local store
(same archives, sizes, checksums and chunk files), restores are compared byte for byte with
the source, and failures (refused credentials, privileges, chunk size, a lost base chunk, a
client or server killed mid-session) must leave the store as it was or consistent.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (CAIRN, T0, Cairn, Client, Server, chunk_files, make_tree, rfc3339,
                     tree_of, wait_task)
import pbs_client

S = "/admin/datastore/store1"


def stored_manifest(store_dir, backup_id, epoch, ns=""):
    path = os.path.join(store_dir, *(f"ns/{p}" for p in ns.split("/") if p), "host", backup_id,
                        rfc3339(epoch), "index.json.blob")
    with open(path, "rb") as f:
        return json.loads(pbs_client.decode_blob(f.read()))


def archive_entries(manifest):
    return sorted((f["filename"], f["size"], f["csum"], f.get("crypt-mode", "none"))
                  for f in manifest["files"])


class RemoteClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cairn-remote-client-", dir="/dev/shm"
                                   if os.path.isdir("/dev/shm") else None)
        cls.cairn = Cairn(cls.tmp)
        c = cls.cairn
        cls.store_dir = os.path.join(cls.tmp, "store1")
        cls.local_dir = os.path.join(cls.tmp, "local1")
        c.run("datastore", "create", "store1", cls.store_dir)
        c.run("datastore", "create", "local1", cls.local_dir)
        c.run("user", "create", "alice@pbs", "--password-file", "-", stdin="pw-12345678\n")
        c.run("user", "create", "reader@pbs", "--password-file", "-", stdin="pw-12345678\n")
        cls.secrets = {}
        for user, role, path in (("alice@pbs", "DatastoreBackup", "/datastore/store1"),
                                 ("reader@pbs", "DatastoreReader", "/datastore/store1"),
                                 ("root@pam", "Admin", "/")):
            cls.secrets[user] = c.json("token", "create", user, "t")["value"]
            c.run("acl", "update", path, role, "--auth-id", f"{user}!t")
        c.run("acl", "update", "/datastore/store1", "DatastoreBackup", "--auth-id", "alice@pbs")
        c.run("acl", "update", "/datastore/store1", "DatastoreReader", "--auth-id", "reader@pbs")
        cls.server = Server(c).start()
        cls.root = Client(cls.server, token=f"root@pam!t:{cls.secrets['root@pam']}")
        cls.source = os.path.join(cls.tmp, "src")
        make_tree(cls.source, 1)
        cls.image = os.path.join(cls.tmp, "disk.img")
        rng = random.Random(2)
        with open(cls.image, "wb") as f:  # data, a zero region, a short tail chunk
            f.write(rng.randbytes(9 << 20) + bytes(8 << 20) + rng.randbytes(1000))
        cls.conf = os.path.join(cls.tmp, "vm.conf")
        with open(cls.conf, "w") as f:
            f.write("memory: 2048\ncores: 2\n")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def remote(self, *args, user="alice@pbs", secret=None, check=True, env=None):
        """`cairn ARGS --repository USER!t@127.0.0.1:PORT:store1` with the token's secret."""
        return self.cairn.remote(self.server, f"{user}!t@127.0.0.1:{self.server.port}:store1",
                                 secret or self.secrets[user], *args, check=check, env=env)

    def snapshots(self, backup_id):
        reply = self.root.get(S + "/snapshots", **{"backup-type": "host", "backup-id": backup_id})
        self.assertEqual(reply.status, 200, reply.body)
        return sorted(s["backup-time"] for s in reply.data)

    def wait_tasks(self):
        for task in self.root.get("/nodes/localhost/tasks", limit=200).data:
            wait_task(self.root, task["upid"])

    def restore_dir(self, name):
        path = os.path.join(self.tmp, "restore-" + name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def test_a_backup_matches_the_same_backup_made_locally_and_restores_byte_for_byte(self):
        specs = ["root.pxar:" + self.source, "disk.img:" + self.image, "vm.conf:" + self.conf]
        out = json.loads(self.remote("backup", "--backup-id", "same", "--backup-time", str(T0),
                                     *specs).stdout)
        self.assertFalse(out["incremental"])
        self.cairn.run("backup", "--store", "local1", "--backup-id", "same", "--backup-time",
                       str(T0), *specs)
        remote = stored_manifest(self.store_dir, "same", T0)
        local = stored_manifest(self.local_dir, "same", T0)
        # The same archives with the same sizes and index checksums, and the same chunk files:
        # the server stored exactly what a local backup stores.
        self.assertEqual(archive_entries(remote), archive_entries(local))
        self.assertEqual([f["filename"] for f in remote["files"]],
                         ["root.pxar.didx", "disk.img.fidx", "vm.conf.blob",
                          "catalog.pcat1.didx"])
        self.assertEqual(chunk_files(self.store_dir), chunk_files(self.local_dir))
        self.assertEqual(remote["unprotected"]["chunk_upload_stats"]["count"],
                         len(chunk_files(self.store_dir)))

        snap = "host/same/" + rfc3339(T0)
        target = self.restore_dir("same")
        self.remote("restore", snap, "root.pxar", target)
        self.assertEqual(tree_of(target), tree_of(self.source))
        self.remote("restore", snap, "disk.img", target + ".img")
        with open(target + ".img", "rb") as a, open(self.image, "rb") as b:
            self.assertTrue(a.read() == b.read())
        self.remote("restore", snap, "vm.conf", target + ".conf")
        with open(target + ".conf") as a, open(self.conf) as b:
            self.assertEqual(a.read(), b.read())
        # A subtree, the catalog and one file, all through reader sessions.
        self.remote("restore", snap, "root.pxar", target + "-sub", "--path", "etc/deep")
        self.assertEqual(tree_of(os.path.join(target + "-sub", "deep")),
                         tree_of(os.path.join(self.source, "etc", "deep")))
        listing = json.loads(self.remote("catalog", "ls", snap, "root.pxar", "/etc").stdout)
        self.assertIn("/etc/deep", [e["path"] for e in listing])
        dumped = subprocess.run(
            [CAIRN, "dump", snap, "root.pxar", "/etc/file1.dat", "--repository",
             f"alice@pbs!t@127.0.0.1:{self.server.port}:store1"],
            env=dict(self.cairn.env, CAIRN_PASSWORD=self.secrets["alice@pbs"],
                     CAIRN_FINGERPRINT=self.server.fingerprint), capture_output=True, timeout=60)
        self.assertEqual(dumped.returncode, 0, dumped.stderr)
        with open(os.path.join(self.source, "etc", "file1.dat"), "rb") as f:
            self.assertEqual(dumped.stdout, f.read())
        self.cairn.run("verify", "--store", "store1")

    def test_an_incremental_backup_sends_only_what_changed(self):
        tree = os.path.join(self.tmp, "incr")
        make_tree(tree, 3)
        self.remote("backup", "--backup-id", "incr", "--backup-time", str(T0),
                    "root.pxar:" + tree, "disk.img:" + self.image)
        before = len(chunk_files(self.store_dir))
        with open(os.path.join(tree, "etc", "new.txt"), "w") as f:
            f.write("a new file\n")
        out = json.loads(self.remote("backup", "--backup-id", "incr", "--backup-time",
                                     str(T0 + 60), "root.pxar:" + tree,
                                     "disk.img:" + self.image).stdout)
        self.assertTrue(out["incremental"])
        image = next(a for a in out["archives"] if a["filename"] == "disk.img.fidx")
        self.assertEqual(image["uploaded-chunks"], 0)  # every image chunk was known
        pxar = next(a for a in out["archives"] if a["filename"] == "root.pxar.didx")
        self.assertGreater(pxar["known-chunks"], 0)
        self.assertLess(pxar["uploaded-chunks"], pxar["chunks"])
        self.assertLess(len(chunk_files(self.store_dir)) - before, 5)
        target = self.restore_dir("incr")
        self.remote("restore", "host/incr/" + rfc3339(T0 + 60), "root.pxar", target)
        self.assertEqual(tree_of(target), tree_of(tree))
        self.assertEqual(self.snapshots("incr"), [T0, T0 + 60])

    def test_metadata_mode_reuses_unchanged_files_through_a_reader_session(self):
        tree = os.path.join(self.tmp, "meta")
        make_tree(tree, 4)
        # Files whose ctime is within 100 ms of a backup's start are left out of its file state
        # (they could still change within the same tick) and read again by the next one.
        time.sleep(0.2)
        args = ["--backup-id", "meta", "--change-detection-mode", "metadata"]
        self.remote("backup", *args, "--backup-time", str(T0), "root.pxar:" + tree)
        with open(os.path.join(tree, "etc", "file2.dat"), "ab") as f:
            f.write(b"changed")
        proc = self.remote("backup", *args, "--backup-time", str(T0 + 60), "root.pxar:" + tree,
                           "--log-level", "info")
        out = json.loads(proc.stdout)
        archive = out["archives"][0]
        self.assertEqual(archive["filename"], "root.mpxar.didx", out)
        self.assertGreater(archive["reused-files"], 30, proc.stderr)
        target = self.restore_dir("meta")
        self.remote("restore", "host/meta/" + rfc3339(T0 + 60), "root.pxar", target)
        self.assertEqual(tree_of(target), tree_of(tree))
        self.cairn.run("verify", "--store", "store1")

    def test_an_encrypted_backup_restores_only_with_its_key(self):
        key = os.path.join(self.tmp, "client.key")
        self.cairn.run("key", "create", key, "--kdf", "none")
        self.remote("backup", "--backup-id", "crypt", "--backup-time", str(T0), "--keyfile", key,
                    "root.pxar:" + self.source, "vm.conf:" + self.conf)
        manifest = stored_manifest(self.store_dir, "crypt", T0)
        self.assertIn("signature", manifest)
        self.assertTrue(all(f["crypt-mode"] == "encrypt" for f in manifest["files"]))
        snap = "host/crypt/" + rfc3339(T0)
        target = self.restore_dir("crypt")
        refused = self.remote("restore", snap, "root.pxar", target, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("key", refused.stderr)
        self.remote("restore", snap, "root.pxar", target, "--keyfile", key)
        self.assertEqual(tree_of(target), tree_of(self.source))
        # The next backup with the key is incremental over the encrypted one.
        out = json.loads(self.remote("backup", "--backup-id", "crypt", "--backup-time",
                                     str(T0 + 60), "--keyfile", key,
                                     "root.pxar:" + self.source).stdout)
        self.assertEqual(out["archives"][0]["uploaded-chunks"], 0)

    def test_benchmark_measures_the_upload_and_stores_nothing(self):
        out = json.loads(self.remote("benchmark", "--seconds", "0.2").stdout)
        self.assertEqual(set(out), {"tls", "sha256", "compress", "decompress", "verify",
                                    "aes256_gcm"})
        self.assertGreater(out["tls"]["speed"], 0)
        self.assertGreater(out["sha256"]["top"], 0)
        self.wait_tasks()
        tasks = self.root.get("/nodes/localhost/tasks", typefilter="benchmark").data
        self.assertEqual([t["status"] for t in tasks], ["OK"])
        self.assertEqual(self.snapshots("benchmark"), [])
        # host/benchmark is for benchmark sessions only.
        proc = self.remote("backup", "--backup-id", "benchmark", "vm.conf:" + self.conf,
                           check=False)
        self.assertIn("reserved for benchmark sessions", proc.stderr)

    def test_refusals_say_why_and_change_nothing(self):
        before = (chunk_files(self.store_dir), self.snapshots("refused"))
        cases = [
            (dict(secret="wrong-secret"), ["root.pxar:" + self.source], "authentication"),
            (dict(user="reader@pbs"), ["root.pxar:" + self.source], "permission"),
            ({}, ["--chunk-size", "1024", "disk.img:" + self.image], "4 MiB"),
        ]
        for kwargs, specs, words in cases:
            proc = self.remote("backup", "--backup-id", "refused", "--backup-time", str(T0),
                               *specs, check=False, **kwargs)
            self.assertNotEqual(proc.returncode, 0, proc.stdout)
            self.assertIn(words, proc.stderr.lower() if words.islower() else proc.stderr)
        self.wait_tasks()
        self.assertEqual((chunk_files(self.store_dir), self.snapshots("refused")), before)
        # A backup time not newer than the group's last snapshot.
        self.remote("backup", "--backup-id", "refused", "--backup-time", str(T0 + 10),
                    "vm.conf:" + self.conf)
        proc = self.remote("backup", "--backup-id", "refused", "--backup-time", str(T0 + 5),
                           "vm.conf:" + self.conf, check=False)
        self.assertIn("is not newer than the last snapshot", proc.stderr)
        # A reader may restore what it may not write.
        self.remote("restore", "host/refused/" + rfc3339(T0 + 10), "vm.conf",
                    os.path.join(self.tmp, "reader.conf"), user="reader@pbs")

    def test_a_base_chunk_the_store_lost_is_uploaded_again(self):
        # The story: a chunk of the last snapshot went missing (removed by hand, or set aside
        # by verify as damaged). The server then refuses that snapshot's index as a base, as
        # its chunks could not all be referenced, and the client uploads the whole archive
        # again instead of failing, which repairs the store.
        tree = os.path.join(self.tmp, "lost")
        make_tree(tree, 5)
        self.remote("backup", "--backup-id", "lost", "--backup-time", str(T0),
                    "root.pxar:" + tree)
        index = os.path.join(self.store_dir, "host", "lost", rfc3339(T0), "root.pxar.didx")
        with open(index, "rb") as f:
            data = f.read()
        victim = data[4096 + 8:4096 + 40].hex()  # the archive's first chunk
        os.remove(os.path.join(self.store_dir, ".chunks", victim[:4], victim))
        proc = self.remote("backup", "--backup-id", "lost", "--backup-time", str(T0 + 60),
                           "root.pxar:" + tree)
        self.assertIn("references missing chunks", proc.stderr)
        pxar = json.loads(proc.stdout)["archives"][0]
        self.assertEqual(pxar["known-chunks"], 0)
        self.assertEqual(pxar["uploaded-chunks"], pxar["chunks"])
        self.assertIn(victim, chunk_files(self.store_dir))
        target = self.restore_dir("lost")
        self.remote("restore", "host/lost/" + rfc3339(T0), "root.pxar", target)
        self.assertEqual(tree_of(target), tree_of(tree))

    def test_a_client_killed_before_finish_leaves_no_snapshot(self):
        # Killed at its first local file write: in metadata mode that is the file state, saved
        # after every chunk and index went up but before the manifest and `finish`.
        tree = os.path.join(self.tmp, "killed")
        make_tree(tree, 6)
        before = self.snapshots("killed")
        proc = self.remote("backup", "--backup-id", "killed", "--backup-time", str(T0),
                           "--change-detection-mode", "metadata", "root.pxar:" + tree,
                           check=False, env={"CAIRN_FILE_FAULTS": "kill@any#1"})
        self.assertEqual(proc.returncode, -signal.SIGKILL, proc.stderr)
        self.wait_tasks()
        self.assertEqual(self.snapshots("killed"), before)
        self.assertFalse(os.path.exists(os.path.join(self.store_dir, "host", "killed",
                                                     rfc3339(T0))))
        # The group is free, and the same backup again finds on the server every chunk that
        # went up before the kill (only the catalog's last one had not).
        chunks = len(chunk_files(self.store_dir))
        self.remote("backup", "--backup-id", "killed", "--backup-time", str(T0 + 1),
                    "--change-detection-mode", "metadata", "root.pxar:" + tree)
        self.assertEqual(self.snapshots("killed"), [T0 + 1])
        self.assertLessEqual(len(chunk_files(self.store_dir)) - chunks, 1)
        target = self.restore_dir("killed")
        self.remote("restore", "host/killed/" + rfc3339(T0 + 1), "root.pxar", target)
        self.assertEqual(tree_of(target), tree_of(tree))


class ServerKilledTest(unittest.TestCase):
    """A server that dies mid-session (SIGKILL at its Nth chunk write): the client fails with a
    clear error, and the restarted server lists no partial snapshot and takes the next backup."""

    def test_a_server_killed_mid_session(self):
        tmp = tempfile.mkdtemp(prefix="cairn-server-killed-")
        try:
            c = Cairn(tmp)
            store = os.path.join(tmp, "store1")
            c.run("datastore", "create", "store1", store)
            secret = c.json("token", "create", "root@pam", "t")["value"]
            c.run("acl", "update", "/", "Admin", "--auth-id", "root@pam!t")
            tree = os.path.join(tmp, "src")
            make_tree(tree, 7)
            server = Server(c, {"CAIRN_FILE_FAULTS": "kill@create#3~.chunks"}).start()
            env = dict(c.env, CAIRN_PASSWORD=secret, CAIRN_FINGERPRINT=server.fingerprint)

            def backup(port, epoch):
                return subprocess.run(
                    [CAIRN, "backup", "--backup-id", "k", "--backup-time", str(epoch),
                     "root.pxar:" + tree, "--repository", f"root@pam!t@127.0.0.1:{port}:store1"],
                    env=env, capture_output=True, text=True, timeout=600)

            proc = backup(server.port, T0)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn("error:", proc.stderr)
            server.proc.wait(timeout=60)
            self.assertEqual(server.stop(), -signal.SIGKILL)
            server = Server(c).start()
            env["CAIRN_FINGERPRINT"] = server.fingerprint
            try:
                root = Client(server, token=f"root@pam!t:{secret}")
                listed = root.get(S + "/snapshots", **{"backup-type": "host", "backup-id": "k"})
                self.assertEqual(listed.data, [])
                proc = backup(server.port, T0 + 1)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                c.run("verify", "--store", "store1")
                target = os.path.join(tmp, "out")
                proc = subprocess.run(
                    [CAIRN, "restore", "host/k/" + rfc3339(T0 + 1), "root.pxar", target,
                     "--store", "store1"], env=c.env, capture_output=True, text=True)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(tree_of(target), tree_of(tree))
            finally:
                server.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

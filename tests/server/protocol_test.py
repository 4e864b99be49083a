#!/usr/bin/python3
"""End-to-end tests of PBS's backup protocol against `cairn server`, driven by the conformance
client pbs_client.py (written from the protocol's description, not from Cairn's code).

Usage: /usr/bin/python3 protocol_test.py PATH/TO/cairn [unittest args]   (or set CAIRN_BIN)
Needs Debian's python3-h2 and python3-zstandard (hence /usr/bin/python3).

What the client writes is read back with Cairn's own tools (`cairn verify`, `cairn restore`,
the REST API), and refusals are checked to change nothing in the store.
"""

import base64
import hashlib
import json
import os
import random
import shutil
import tempfile
import unittest
import urllib.parse

from harness import T0, Cairn, Client, Server, rfc3339, tree_state, wait_task
import pbs_client
from pbs_client import (BACKUP_PROTOCOL, READER_PROTOCOL, Backup, DynamicWriter, ProtocolError,
                        Reader, Session, UpgradeRefused)
import pxar_fixtures
from pxar_fixtures import FILE_SIZE, PAYLOAD_START_MARKER, PAYLOAD_TAIL_MARKER

S = "/admin/datastore/store1"


def chunks_of(seed, count, size=100_000):
    rng = random.Random(seed)
    return [rng.randbytes(size + rng.randrange(size)) for _ in range(count)]


def write_side_by_side(backup, name, chunks, step, other_name, other_chunks):
    """Two .didx archives written by writers open at once, as the real client writes an archive
    and its catalog, or a split archive's streams: `step` chunks of the first, then one of the
    other, and so on; the first is closed before the other."""
    first, other = DynamicWriter(backup, name), DynamicWriter(backup, other_name)
    pending = list(other_chunks)
    for i in range(0, len(chunks), step):
        first.add(chunks[i:i + step])
        if pending:
            other.add([pending.pop(0)])
    first.close()
    other.add(pending)
    other.close()


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cairn-protocol-")
        cls.cairn = Cairn(cls.tmp)
        c = cls.cairn
        cls.store_dir = os.path.join(cls.tmp, "store1")
        c.run("datastore", "create", "store1", cls.store_dir)
        for user in ("alice", "bob", "reader"):
            c.run("user", "create", user + "@pbs", "--password-file", "-", stdin="pw-12345678\n")
        cls.tokens = {}
        for user, role in (("alice@pbs", "DatastoreBackup"), ("bob@pbs", "DatastoreBackup"),
                           ("reader@pbs", "DatastoreReader"), ("root@pam", "Admin")):
            secret = c.json("token", "create", user, "t")["value"]
            cls.tokens[user] = f"{user}!t:{secret}"
            path = "/" if user == "root@pam" else "/datastore/store1"
            c.run("acl", "update", path, role, "--auth-id", user)
            c.run("acl", "update", path, role, "--auth-id", f"{user}!t")
        cls.server = Server(c).start()
        cls.root = Client(cls.server, token=cls.tokens["root@pam"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def session(self, user, backup_id, backup_time, **extra):
        query = {"backup-id": backup_id, "backup-time": backup_time, "backup-type": "host",
                 "benchmark": "false", "debug": "true", "store": "store1", **extra}
        return Session(self.server.port, self.server.fingerprint,
                       "authorization: PBSAPIToken " + self.tokens[user], query, BACKUP_PROTOCOL)

    def reader(self, user, backup_id, backup_time, **extra):
        query = {"backup-id": backup_id, "backup-time": backup_time, "backup-type": "host",
                 "debug": "true", "store": "store1", **extra}
        return Session(self.server.port, self.server.fingerprint,
                       "authorization: PBSAPIToken " + self.tokens[user], query, READER_PROTOCOL)

    def snapshots(self, backup_id):
        reply = self.root.get(S + "/snapshots", **{"backup-type": "host", "backup-id": backup_id})
        self.assertEqual(reply.status, 200, reply.body)
        return sorted(s["backup-time"] for s in reply.data)

    def test_a_backup_and_an_incremental_one_restore_and_verify(self):
        chunks = chunks_of(1, 12)
        s = self.session("alice@pbs", "files", T0)
        self.assertIsNone(s.call("GET", "previous_backup_time"))
        b = Backup(s, "host", "files", T0)
        b.dynamic_archive("root.pxar.didx", chunks)
        b.blob("client.conf.blob", b"setting = 1\n")
        b.finish()
        s.close()
        self.assertEqual(self.snapshots("files"), [T0])

        # The next backup: previous_backup_time, the previous manifest and index, then only the
        # two new chunks are uploaded; the rest are appended by digest.
        s = self.session("alice@pbs", "files", T0 + 60)
        self.assertEqual(s.call("GET", "previous_backup_time"), T0)
        status, manifest_blob = s.request("GET", "previous",
                                          {"archive-name": "index.json.blob"})
        self.assertEqual(status, 200)
        manifest = json.loads(pbs_client.decode_blob(manifest_blob))
        self.assertEqual([f["filename"] for f in manifest["files"]],
                         ["root.pxar.didx", "client.conf.blob"])
        status, index = s.request("GET", "previous", {"archive-name": "root.pxar.didx"})
        self.assertEqual(status, 200)
        known = {index[4096 + 40 * i + 8:4096 + 40 * i + 40].hex()
                 for i in range((len(index) - 4096) // 40)}
        self.assertEqual(len(known), 12)
        changed = chunks[:5] + chunks_of(2, 2) + chunks[5:]
        b = Backup(s, "host", "files", T0 + 60)
        b.dynamic_archive("root.pxar.didx", changed, known=known)
        b.finish()
        s.close()
        self.assertEqual(self.snapshots("files"), [T0, T0 + 60])
        stats = self.root.get(S + "/snapshots", **{"backup-type": "host",
                                                   "backup-id": "files"}).data
        self.assertTrue(all(snap.get("size") for snap in stats))

        # Cairn's own reader: verify checks every chunk against its digest; the stored index
        # lists exactly the client's chunks; the config blob restores.
        self.cairn.run("verify", "--store", "store1")
        reply = self.root.get(S + "/download", **{"backup-type": "host", "backup-id": "files",
                                                  "backup-time": T0 + 60,
                                                  "file-name": "root.pxar.didx"})
        self.assertEqual(reply.status, 200)
        index, end, entries = reply.body, 0, []
        for data in changed:
            end += len(data)
            entries.append((end, hashlib.sha256(data).digest()))
        stored = [(int.from_bytes(index[4096 + 40 * i:4096 + 40 * i + 8], "little"),
                   index[4096 + 40 * i + 8:4096 + 40 * i + 40])
                  for i in range((len(index) - 4096) // 40)]
        self.assertEqual(stored, entries)
        out = os.path.join(self.tmp, "client.conf")
        self.cairn.run("restore", "--store", "store1", f"host/files/{rfc3339(T0)}", "client.conf", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"setting = 1\n")

    def test_a_vm_backup_with_fixed_indexes_and_a_dirty_bitmap_incremental(self):
        rng = random.Random(7)
        size = 3 * pbs_client.FIXED_CHUNK_SIZE + 12345
        image = bytearray(size)
        image[:pbs_client.FIXED_CHUNK_SIZE] = rng.randbytes(pbs_client.FIXED_CHUNK_SIZE)
        image[-12345:] = rng.randbytes(12345)  # the middle stays zero
        s = self.session("alice@pbs", "vm1", T0)
        b = Backup(s, "host", "vm1", T0)
        csum = b.fixed_archive("drive-scsi0.img.fidx", bytes(image))
        b.blob("qemu-server.conf.blob", b"memory: 512\n")
        b.finish()
        s.close()

        image[pbs_client.FIXED_CHUNK_SIZE + 5] = 1  # one changed chunk
        s = self.session("alice@pbs", "vm1", T0 + 60)
        self.assertEqual(s.request("GET", "previous",
                                   {"archive-name": "drive-scsi0.img.fidx"})[0], 200)
        b = Backup(s, "host", "vm1", T0 + 60)
        b.fixed_archive("drive-scsi0.img.fidx", bytes(image),
                        reuse={"csum": csum, "changed": [1]})
        b.blob("qemu-server.conf.blob", b"memory: 512\n")
        b.finish()
        s.close()
        self.cairn.run("verify", "--store", "store1")
        r = Reader(self.reader("alice@pbs", "vm1", T0 + 60))
        self.assertEqual(r.restore_fixed("drive-scsi0.img.fidx", len(image)), bytes(image))
        r.s.close()
        out = os.path.join(self.tmp, "vm1.img")
        self.cairn.run("restore", "--store", "store1", f"host/vm1/{rfc3339(T0 + 60)}", "drive-scsi0.img",
                       out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), bytes(image))

    def test_refusals_before_the_upgrade_change_nothing(self):
        before = tree_state(self.store_dir)
        cases = [
            ("reader@pbs", {}, 403),                 # no Datastore.Backup
            ("alice@pbs", {"store": "nostore"}, 403),  # no ACL there either
            ("root@pam", {"store": "nostore"}, 404),
            ("alice@pbs", {"ns": "missing"}, 404),
            ("alice@pbs", {"backup-id": "../x"}, 400),
        ]
        for user, extra, status in cases:
            with self.subTest(user=user, extra=extra):
                with self.assertRaises(UpgradeRefused) as refused:
                    self.session(user, "refused", T0, **extra)
                self.assertEqual(refused.exception.status, status, refused.exception.body)
        # Another user's group; an older backup time than the last snapshot.
        s = self.session("alice@pbs", "owned", T0 + 100)
        b = Backup(s, "host", "owned", T0 + 100)
        b.blob("a.conf.blob", b"x")
        b.finish()
        s.close()
        before = tree_state(self.store_dir)
        with self.assertRaises(UpgradeRefused) as refused:
            self.session("bob@pbs", "owned", T0 + 200)
        self.assertEqual(refused.exception.status, 403)
        self.assertIn("backup owner check failed", refused.exception.body)
        with self.assertRaises(UpgradeRefused) as refused:
            self.session("alice@pbs", "owned", T0 + 50)
        self.assertEqual(refused.exception.status, 400)
        self.assertEqual(tree_state(self.store_dir), before)

    def test_a_reader_session_restores_what_a_backup_session_wrote(self):
        chunks = chunks_of(11, 6)
        s = self.session("alice@pbs", "restore", T0)
        b = Backup(s, "host", "restore", T0)
        b.dynamic_archive("root.pxar.didx", chunks)
        b.blob("client.conf.blob", b"conf")
        b.finish()
        s.close()
        # The owner (Datastore.Backup) and a DatastoreReader may read; another backup user not.
        for user in ("alice@pbs", "reader@pbs"):
            r = Reader(self.reader(user, "restore", T0))
            self.assertEqual([f["filename"] for f in r.manifest()["files"]],
                             ["root.pxar.didx", "client.conf.blob"])
            # A chunk of no downloaded index is refused (401), then allowed after the download.
            digest = hashlib.sha256(chunks[0]).hexdigest()
            status, _ = r.s.request("GET", "chunk", {"digest": digest})
            self.assertEqual(status, 401)
            self.assertEqual(r.restore_dynamic("root.pxar.didx"), b"".join(chunks))
            self.assertEqual(pbs_client.decode_blob(r.download("client.conf.blob")), b"conf")
            self.assertEqual(len(r.s.request("GET", "speedtest")[1]), 1 << 20)
            self.assertEqual(r.s.request("GET", "download", {"file-name": "nope.blob"})[0], 404)
            r.s.close()
        with self.assertRaises(UpgradeRefused) as refused:
            self.reader("bob@pbs", "restore", T0)
        self.assertEqual(refused.exception.status, 403)
        with self.assertRaises(UpgradeRefused) as refused:
            self.reader("alice@pbs", "restore", T0 + 5)
        self.assertEqual(refused.exception.status, 404)

    def check_fixture_tree(self, snapshot):
        """Cairn's own restore of `snapshot`'s root.pxar is the fixtures' tree."""
        target = os.path.join(self.tmp, "restored-" + snapshot.replace("/", "_"))
        self.cairn.run("restore", "--store", "store1", snapshot, "root.pxar", target)
        found = {}
        for d in sorted(os.listdir(target)):
            for f in sorted(os.listdir(os.path.join(target, d))):
                with open(os.path.join(target, d, f), "rb") as data:
                    found.setdefault(d, {})[f] = data.read() == bytes(FILE_SIZE)
        self.assertEqual(found, {d: {f: True for f in files}
                                 for d, files in pxar_fixtures.fixture_tree().items()})
        shutil.rmtree(target)

    def test_a_metadata_mode_backup_reads_the_previous_archive_in_a_second_session(self):
        # The first backup of a container in metadata mode: a split archive whose two streams
        # (PBS's published .mpxar, and the .ppxar cut where PBS's client cut it) are written by
        # two writers open at once.
        payload = pxar_fixtures.fixture_payload_chunks()
        mpxar = pxar_fixtures.fixture("backup-client-pxar-data.mpxar")
        s = self.session("alice@pbs", "ct", T0, **{"backup-type": "ct"})
        self.assertIsNone(s.call("GET", "previous_backup_time"))
        b = Backup(s, "ct", "ct", T0)
        write_side_by_side(b, "root.ppxar.didx", payload, 25, "root.mpxar.didx", [mpxar])
        b.finish()
        s.close()
        first = f"ct/ct/{rfc3339(T0)}"
        self.check_fixture_tree(first)

        # The next backup, as `proxmox-backup-client backup --change-detection-mode metadata`:
        # the previous manifest and payload index through `previous`, and the previous .mpxar
        # through a reader session opened beside the backup session (on the same group). Every
        # file is reused: the new payload stream is a new START marker, the previous stream's
        # chunks appended by digest only, and a TAIL marker; the new .mpxar is PBS's fixture
        # for exactly that.
        s = self.session("alice@pbs", "ct", T0 + 60, **{"backup-type": "ct"})
        self.assertEqual(s.call("GET", "previous_backup_time"), T0)
        status, blob = s.request("GET", "previous", {"archive-name": "index.json.blob"})
        self.assertEqual(status, 200)
        self.assertEqual(sorted(f["filename"]
                                for f in json.loads(pbs_client.decode_blob(blob))["files"]),
                         ["root.mpxar.didx", "root.ppxar.didx"])
        status, previous_payload = s.request("GET", "previous", {"archive-name": "root.ppxar.didx"})
        self.assertEqual(status, 200)
        reused = pxar_fixtures.didx_entries(previous_payload)
        r = Reader(self.reader("alice@pbs", "ct", T0, **{"backup-type": "ct"}))
        self.assertEqual(r.restore_dynamic("root.mpxar.didx"), mpxar)
        b = Backup(s, "ct", "ct", T0 + 60)
        meta = DynamicWriter(b, "root.mpxar.didx")
        data = DynamicWriter(b, "root.ppxar.didx")
        data.add([pxar_fixtures.header(PAYLOAD_START_MARKER)])
        ends = [0] + [end for end, _ in reused]
        data.append([digest.hex() for _, digest in reused],
                    [ends[i + 1] - ends[i] for i in range(len(reused))])
        data.add([pxar_fixtures.header(PAYLOAD_TAIL_MARKER)])
        meta.add([pxar_fixtures.fixture("backup-client-pxar-expected.mpxar")])
        data.close()
        meta.close()
        b.finish()
        s.close()
        r.s.close()
        second = f"ct/ct/{rfc3339(T0 + 60)}"
        self.check_fixture_tree(second)
        # The stored payload index: 16-byte markers around the previous snapshot's chunks.
        reply = self.root.get(S + "/download", **{"backup-type": "ct", "backup-id": "ct",
                                                  "backup-time": T0 + 60,
                                                  "file-name": "root.ppxar.didx"})
        stored = pxar_fixtures.didx_entries(reply.body)
        self.assertEqual([digest for _, digest in stored[1:-1]], [d for _, d in reused])
        self.assertEqual(stored[-1][0], 16 + reused[-1][0] + 16)
        self.cairn.run("verify", "--store", "store1", "ct/ct")

    def test_a_legacy_backup_writes_the_archive_and_its_catalog_side_by_side(self):
        # Legacy mode: the pxar archive and catalog.pcat1.didx are written by two writers open
        # at once, the catalog closed after the archive. The catalog (written from the format's
        # description) lists the fixtures' tree; Cairn's catalog browser reads it. (The archive
        # stream here is opaque bytes: the server never reads an archive's content.)
        archive = chunks_of(21, 6)
        catalog = pxar_fixtures.Catalog().finish({"root.pxar.didx": pxar_fixtures.fixture_tree()})
        s = self.session("alice@pbs", "legacy", T0)
        b = Backup(s, "host", "legacy", T0)
        write_side_by_side(b, "root.pxar.didx", archive, 2, "catalog.pcat1.didx",
                           [catalog[:len(catalog) // 2], catalog[len(catalog) // 2:]])
        b.finish()
        s.close()
        snapshot = f"host/legacy/{rfc3339(T0)}"
        listed = self.cairn.json("catalog", "ls", "--store", "store1", snapshot, "root.pxar",
                                 "/folder_3")
        self.assertEqual([(e["type"], e["path"], e["size"]) for e in listed],
                         [("f", f"/folder_3/file_{i}", FILE_SIZE) for i in range(10)])
        found = self.cairn.json("catalog", "find", "--store", "store1", snapshot, "root.pxar",
                                "file_9")
        self.assertEqual(len(found), 10)
        self.cairn.run("verify", "--store", "store1", "host/legacy")

    def test_the_client_log_is_uploaded_once_by_the_owner(self):
        s = self.session("alice@pbs", "logged", T0)
        b = Backup(s, "host", "logged", T0)
        b.blob("a.conf.blob", b"x")
        b.finish()
        s.close()
        log = pbs_client.encode_blob(b"INFO: starting backup\nINFO: done\n")
        target = (S + "/upload-backup-log?backup-type=host&backup-id=logged&backup-time="
                  + str(T0))
        headers = {"Content-Type": "application/octet-stream"}
        bob = Client(self.server, token=self.tokens["bob@pbs"])
        self.assertEqual(bob.request("POST", target, body=log, headers=headers).status, 403)
        alice = Client(self.server, token=self.tokens["alice@pbs"])
        reply = alice.request("POST", target, body=log, headers=headers)
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(reply.json(), {"data": None})
        again = alice.request("POST", target, body=log, headers=headers)
        self.assertEqual(again.status, 400)
        self.assertIn(b"already contains a log", again.body)
        bad = bytearray(log)
        bad[-1] ^= 1
        reply = alice.request("POST", target.replace("logged", "nosuch"), body=bytes(bad),
                              headers=headers)
        self.assertNotEqual(reply.status, 200)
        got = self.root.get(S + "/download", **{"backup-type": "host", "backup-id": "logged",
                                                "backup-time": T0,
                                                "file-name": "client.log.blob"})
        self.assertEqual(got.status, 200)
        self.assertEqual(got.body, log)

    def test_aborting_the_task_ends_the_session_and_discards_the_snapshot(self):
        s = self.session("alice@pbs", "cancelled", T0)
        b = Backup(s, "host", "cancelled", T0)
        b.dynamic_archive("root.pxar.didx", chunks_of(5, 2))
        running = self.root.get("/nodes/localhost/tasks", typefilter="backup", running=1).data
        upids = [t["upid"] for t in running if "cancelled" in t["upid"]]
        self.assertEqual(len(upids), 1, running)
        path = "/nodes/localhost/tasks/" + urllib.parse.quote(upids[0], safe="")
        self.assertEqual(self.root.request("DELETE", path).status, 200)
        status = wait_task(self.root, upids[0])
        self.assertNotEqual(status["exitstatus"], "OK")
        with self.assertRaises((ProtocolError, ConnectionError, OSError)):
            b.blob("a.conf.blob", b"x")
            b.finish()
        s.sock.close()
        self.assertEqual(self.snapshots("cancelled"), [])
        log = self.root.get(path + "/log", limit=500).data
        self.assertTrue(any("ended without finish" in line["t"] for line in log), log)

    def test_a_second_backup_of_a_group_is_refused_while_one_runs(self):
        first = self.session("alice@pbs", "busy", T0)
        with self.assertRaises(UpgradeRefused) as refused:
            self.session("alice@pbs", "busy", T0 + 1)
        self.assertEqual(refused.exception.status, 409, refused.exception.body)
        b = Backup(first, "host", "busy", T0)
        b.blob("a.conf.blob", b"x")
        b.finish()
        first.close()

    def test_an_encrypted_image_restores_with_the_key(self):
        # The conformance client encrypts as PBS's client does (pbs_client.Crypt, from the
        # format's description); Cairn's own restore decrypts it with the same key.
        key = os.urandom(32)
        crypt = pbs_client.Crypt(key)
        key_file = os.path.join(self.tmp, "conformance.key")
        with open(key_file, "w") as f:
            json.dump({"kdf": None, "created": "2026-01-01T00:00:00Z",
                       "modified": "2026-01-01T00:00:00Z",
                       "data": base64.b64encode(key).decode()}, f)
        image = random.Random(9).randbytes(2 * pbs_client.FIXED_CHUNK_SIZE + 12345)
        s = self.session("alice@pbs", "crypt", T0)
        b = Backup(s, "host", "crypt", T0)
        b.encrypted_image("disk.img.fidx", image, crypt)
        b.finish(crypt)
        s.close()
        self.cairn.run("verify", "--store", "store1")
        target = os.path.join(self.tmp, "crypt.img")
        snap = "host/crypt/" + rfc3339(T0)
        refused = self.cairn.run("restore", "--store", "store1", snap, "disk.img", target,
                                 check=False)
        self.assertIn("--keyfile", refused.stderr)
        self.cairn.run("restore", "--store", "store1", "--keyfile", key_file, snap, "disk.img",
                       target)
        with open(target, "rb") as f:
            self.assertTrue(f.read() == image)

    def test_a_session_that_ends_without_finish_leaves_nothing(self):
        s = self.session("alice@pbs", "aborted", T0)
        b = Backup(s, "host", "aborted", T0)
        b.dynamic_archive("root.pxar.didx", chunks_of(3, 3))
        # Protocol errors inside the session: unknown digest, wrong csum, finish too early.
        wid = s.call("POST", "dynamic_index", {"archive-name": "other.pxar.didx"})
        with self.assertRaises(ProtocolError) as error:
            s.call("PUT", "dynamic_index", json_body={"wid": wid, "digest-list": ["00" * 32],
                                                      "offset-list": [0]})
        self.assertIn("no such chunk", str(error.exception))
        with self.assertRaises(ProtocolError) as error:
            s.call("POST", "finish")
        self.assertIn("found open index writer", str(error.exception))
        s.close()  # the client goes away without finish
        # The session's task ends and removes the snapshot; the group is free again.
        tasks = self.root.get("/nodes/localhost/tasks", typefilter="backup", limit=50).data
        for task in tasks:
            wait_task(self.root, task["upid"])
        self.assertEqual(self.snapshots("aborted"), [])
        s = self.session("alice@pbs", "aborted", T0 + 1)
        self.assertIsNone(s.call("GET", "previous_backup_time"))
        s.close()


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""End-to-end tests of file archives (`cairn backup root.pxar:DIR`, `cairn restore ... root.pxar`)
with the real binary. Shares the harness of cli_test.py.

Usage: file_archive_test.py PATH/TO/cairn [unittest args]
"""

import glob
import os
import socket
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_test  # noqa: E402  (the harness; reads the binary path from argv)
from cli_test import T0, SharedStoreTestCase, random_bytes, rfc3339  # noqa: E402


def tree_listing(root):
    """{relative path: (type, mode, size-or-target, mtime_ns, content)} for a whole tree."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p), st.st_mtime_ns)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    out[rel] = ("file", oct(st.st_mode), st.st_mtime_ns, f.read())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", oct(st.st_mode), st.st_mtime_ns)
            else:
                out[rel] = ("other", oct(st.st_mode), st.st_mtime_ns)
    return out


class FileArchiveCliTest(SharedStoreTestCase):
    """backup NAME.pxar:DIR in both layouts, restore (whole, --path), excludes, warnings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.src = cls.env.path("data", "tree")
        os.makedirs(os.path.join(cls.src, "etc", "conf.d"))
        os.makedirs(os.path.join(cls.src, "var", "cache"))
        for i in range(40):
            with open(os.path.join(cls.src, "etc", "conf.d", "f%02d.conf" % i), "wb") as f:
                f.write(random_bytes(i * 311, i))
        with open(os.path.join(cls.src, "etc", "hosts"), "wb") as f:
            f.write(b"127.0.0.1 localhost\n")
        with open(os.path.join(cls.src, "big.bin"), "wb") as f:
            f.write(random_bytes(2 << 20, 99))
        with open(os.path.join(cls.src, "var", "cache", "junk.tmp"), "wb") as f:
            f.write(b"junk")
        os.symlink("etc/hosts", os.path.join(cls.src, "hosts-link"))
        os.link(os.path.join(cls.src, "etc", "hosts"), os.path.join(cls.src, "hosts-hard"))
        os.chmod(os.path.join(cls.src, "etc", "hosts"), 0o640)
        os.utime(os.path.join(cls.src, "etc", "hosts"), ns=(1, 1234567890123456789))

    def backup_tree(self, bid, time, *extra):
        return self.json_of(self.env, "backup", "--backup-type", "host", "--backup-id", bid,
                            "--backup-time", str(time), *extra, "root.pxar:" + self.src)

    def test_both_layouts_round_trip(self):
        want = tree_listing(self.src)
        for i, mode in enumerate(("legacy", "data")):
            bid = "layout-" + mode
            out = self.backup_tree(bid, T0 + i, "--change-detection-mode", mode)
            archive = out["archives"][0]
            self.assertEqual(archive["filename"],
                             "root.pxar.didx" if mode == "legacy" else "root.mpxar.didx")
            self.assertEqual(archive["files"], 43)
            self.assertEqual(archive["hardlinks"], 1)
            self.assertEqual(archive["warnings"], 0)
            snap = "host/%s/%s" % (bid, rfc3339(T0 + i))
            files = {f["filename"] for f in self.json_of(self.env, "snapshot", "files", snap)}
            expected = {"root.pxar.didx"} if mode == "legacy" else {"root.mpxar.didx",
                                                                    "root.ppxar.didx"}
            self.assertTrue(expected <= files, files)
            target = self.env.path("restore-" + mode)
            r = self.json_of(self.env, "restore", snap, "root.pxar", target)
            self.assertEqual(r["files"], 43)
            self.assertEqual(tree_listing(target), want)
            st = os.stat(os.path.join(target, "hosts-hard"))
            self.assertEqual(st.st_nlink, 2)

    def test_progress_of_a_tree_is_bytes_read(self):
        # A tree's size is unknown before the walk: progress says what was read (a line per GiB
        # off a terminal), never a percentage of "0 B". A sparse file makes the GiB cheap.
        src = self.env.path("data", "progress-tree")
        os.makedirs(src)
        with open(os.path.join(src, "sparse.img"), "wb") as f:
            f.truncate((1 << 30) + (1 << 20))
        r = self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "progress",
                    "--backup-time", str(T0), "root.pxar:" + src)
        err = r.stderr.decode()
        self.assertIn("root.pxar: 1.0 GiB read (", err)
        self.assertNotIn("%", err)
        self.assertNotIn("of 0 B", err)

    def test_rerun_is_incremental_and_prints_a_summary(self):
        self.backup_tree("rerun", T0)
        r = self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "rerun",
                    "--backup-time", str(T0 + 10), "root.pxar:" + self.src)
        text = r.stdout.decode()
        self.assertIn("(incremental)", text)
        self.assertIn("43 files, 5 directories", text)
        self.assertIn("nothing new", text)

    def test_metadata_mode_reads_only_what_changed(self):
        src = self.env.path("data", "meta-tree")
        import subprocess
        subprocess.run(["cp", "-a", self.src, src], check=True)  # keeps the hard link
        time.sleep(2.1)  # files changed within a second of a backup are read again by the next
        first = self.json_of(self.env, "backup", "--backup-type", "host", "--backup-id", "meta",
                             "--backup-time", str(T0), "--change-detection-mode", "metadata",
                             "root.pxar:" + src)
        self.assertEqual(first["archives"][0]["files-read"], 43)
        with open(os.path.join(src, "etc", "conf.d", "f05.conf"), "ab") as f:
            f.write(b"changed\n")
        time.sleep(2.1)  # so that f05 is recorded in the file state and not read by the third run
        r = self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "meta",
                    "--backup-time", str(T0 + 1), "--change-detection-mode", "metadata",
                    "root.pxar:" + src)
        self.assertIn("43 files (42 unchanged, not read)", r.stdout.decode())
        # The inode/ctime state lives in the client cache, one directory per store.
        stores = glob.glob(os.path.join(self.env.root, "cache", "file-state", "*"))
        self.assertEqual(len(stores), 1, stores)
        self.assertTrue(glob.glob(os.path.join(stores[0], "*.fstate")))
        target = self.env.path("meta-out")
        self.ok(self.env, "restore", "host/meta/" + rfc3339(T0 + 1), "root.pxar", target)
        self.assertEqual(tree_listing(target), tree_listing(src))

        # Same size, mtime put back (rsync -t, tar x): only the ctime changed, and it is read.
        path = os.path.join(src, "etc", "conf.d", "f06.conf")
        st = os.stat(path)
        with open(path, "r+b") as f:
            data = f.read()
            f.seek(0)
            f.write(bytes(b ^ 0xFF for b in data))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        r = self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "meta",
                    "--backup-time", str(T0 + 2), "--change-detection-mode", "metadata",
                    "root.pxar:" + src)
        self.assertIn("43 files (42 unchanged, not read)", r.stdout.decode())
        target = self.env.path("meta-out2")
        self.ok(self.env, "restore", "host/meta/" + rfc3339(T0 + 2), "root.pxar", target)
        self.assertEqual(tree_listing(target), tree_listing(src))

    def test_excludes_and_single_file_restore(self):
        out = self.backup_tree("excl", T0, "--exclude", "*.tmp", "--exclude", "/big.bin")
        self.assertEqual(out["archives"][0]["excluded"], 2)
        snap = "host/excl/" + rfc3339(T0)
        target = self.env.path("excl-out")
        self.ok(self.env, "restore", snap, "root.pxar", target)
        self.assertFalse(os.path.exists(os.path.join(target, "big.bin")))
        self.assertFalse(os.path.exists(os.path.join(target, "var", "cache", "junk.tmp")))
        self.assertTrue(os.path.isdir(os.path.join(target, "var", "cache")))
        one = self.env.path("one")
        self.ok(self.env, "restore", "--path", "/etc/hosts", snap, "root.pxar", one)
        self.assertEqual(os.listdir(one), ["hosts"])
        with open(os.path.join(one, "hosts"), "rb") as f:
            self.assertEqual(f.read(), b"127.0.0.1 localhost\n")
        self.assertEqual(os.stat(os.path.join(one, "hosts")).st_mtime_ns, 1234567890123456789)
        self.fails(self.env, 3, "restore", "--path", "/no/such", snap, "root.pxar",
                   self.env.path("none"), names=["no/such"])

    def test_catalog_ls_find_and_dump_in_both_layouts(self):
        for i, mode in enumerate(("legacy", "data")):
            bid = "browse-" + mode
            self.backup_tree(bid, T0 + i, "--change-detection-mode", mode)
            snap = "host/%s/%s" % (bid, rfc3339(T0 + i))
            if mode == "legacy":
                files = {f["filename"] for f in self.json_of(self.env, "snapshot", "files", snap)}
                self.assertIn("catalog.pcat1.didx", files)
            root = self.json_of(self.env, "catalog", "ls", snap, "root.pxar")
            self.assertEqual([e["path"] for e in root],
                             ["/big.bin", "/etc", "/hosts-hard", "/hosts-link", "/var"])
            self.assertEqual(root[0]["type"], "f")
            self.assertEqual(root[0]["size"], 2 << 20)
            self.assertEqual(root[3]["type"], "l")
            self.assertEqual(root[2]["type"], "h")
            conf = self.json_of(self.env, "catalog", "ls", snap, "root.pxar", "/etc/conf.d")
            self.assertEqual(len(conf), 40)
            one = self.json_of(self.env, "catalog", "ls", snap, "root.pxar", "etc/hosts")
            self.assertEqual(one, [{"type": "f", "path": "/etc/hosts", "size": 20,
                                    "mtime": 1234567890}])
            found = self.json_of(self.env, "catalog", "find", snap, "root.pxar", "f1?.conf")
            self.assertEqual([e["path"] for e in found],
                             ["/etc/conf.d/f%02d.conf" % n for n in range(10, 20)])
            text = self.ok(self.env, "catalog", "ls", snap, "root.pxar", "/etc").stdout.decode()
            self.assertIn("/etc/conf.d/", text)
            self.assertIn("/etc/hosts", text)
            r = self.ok(self.env, "dump", snap, "root.pxar", "/etc/hosts")
            self.assertEqual(r.stdout, b"127.0.0.1 localhost\n")
            r = self.ok(self.env, "dump", snap, "root.pxar", "hosts-hard")  # follows the link
            self.assertEqual(r.stdout, b"127.0.0.1 localhost\n")
            r = self.ok(self.env, "dump", snap, "root.pxar", "/big.bin")
            self.assertEqual(r.stdout, random_bytes(2 << 20, 99))
            self.fails(self.env, 3, "catalog", "ls", snap, "root.pxar", "/nope", names=["nope"])
            self.fails(self.env, 3, "dump", snap, "root.pxar", "/etc/nope", names=["etc/nope"])
            self.fails(self.env, 2, "dump", snap, "root.pxar", "/etc", names=["etc"])
            self.fails(self.env, 3, "catalog", "ls", snap, "other.pxar", names=["other.pxar"])

    def test_encrypted_file_archive(self):
        import base64
        import json
        key = self.env.path("file.key")
        with open(key, "w") as f:
            json.dump({"kdf": None, "created": "2026-11-23T10:00:00Z",
                       "modified": "2026-11-23T10:00:00Z",
                       "data": base64.b64encode(random_bytes(32, 5)).decode()}, f)
        os.chmod(key, 0o600)
        self.backup_tree("crypt", T0, "--keyfile", key)
        snap = "host/crypt/" + rfc3339(T0)
        self.fails(self.env, 2, "restore", snap, "root.pxar", self.env.path("nokey"),
                   names=["--keyfile"])
        target = self.env.path("crypt-out")
        self.ok(self.env, "restore", "--keyfile", key, snap, "root.pxar", target)
        self.assertEqual(tree_listing(target), tree_listing(self.src))
        r = self.ok(self.env, "dump", "--keyfile", key, snap, "root.pxar", "/etc/hosts")
        self.assertEqual(r.stdout, b"127.0.0.1 localhost\n")
        self.fails(self.env, 2, "catalog", "ls", snap, "root.pxar", names=["--keyfile"])

    def test_restore_never_touches_a_non_empty_target(self):
        self.backup_tree("busy", T0)
        target = self.env.path("busy-target")
        os.makedirs(target)
        with open(os.path.join(target, "mine"), "wb") as f:
            f.write(b"keep me")
        self.fails(self.env, 2, "restore", "host/busy/" + rfc3339(T0), "root.pxar", target,
                   names=["not empty"])
        self.assertEqual(os.listdir(target), ["mine"])

    def test_a_socket_is_skipped_with_a_warning(self):
        src = self.env.path("data", "with-socket")
        os.makedirs(src)
        with open(os.path.join(src, "file"), "wb") as f:
            f.write(b"data")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(os.path.join(src, "sock"))
        try:
            r = self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "sock",
                        "--backup-time", str(T0), "root.pxar:" + src)
        finally:
            sock.close()
        self.assertIn("skipped socket", r.stderr.decode())
        self.assertIn("1 warnings", r.stdout.decode())

    def test_bad_sources_fail_clearly(self):
        self.fails(self.env, 3, "backup", "--backup-id", "bad", "--backup-time", str(T0),
                   "root.pxar:" + self.env.path("no-such-dir"), names=["no-such-dir"])
        self.fails(self.env, None, "backup", "--backup-id", "bad", "--backup-time", str(T0),
                   "root.pxar:" + os.path.join(self.src, "big.bin"), names=["big.bin"])
        self.fails(self.env, 2, "backup", "--backup-id", "bad", "--backup-time", str(T0),
                   "root.mpxar:" + self.src, names=["root.mpxar"])

    def test_restore_as_an_unprivileged_user_skips_ownership_with_one_warning(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to create owned files and devices, then drop privileges")
        src = self.env.path("data", "owned")
        os.makedirs(os.path.join(src, "sub"))
        for i in range(5):
            path = os.path.join(src, "sub", "f%d" % i)
            with open(path, "wb") as f:
                f.write(random_bytes(1000 + i, i))
            os.chown(path, 1000 + i, 2000 + i)
            os.chmod(path, 0o640)
        os.mknod(os.path.join(src, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        self.ok(self.env, "backup", "--backup-type", "host", "--backup-id", "owned",
                "--backup-time", str(T0), "root.pxar:" + src)
        want = tree_listing(src)
        # Let user nobody read the store and config and write the target's parent.
        for path in (self.env.root, os.path.dirname(self.env.root)):
            os.chmod(path, os.stat(path).st_mode | 0o711)
        subprocess.run(["chmod", "-R", "a+rwX", self.env.root], check=True)
        os.chmod(self.env.root, 0o777)
        target = self.env.path("unprivileged-out")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            cli_test.CAIRN, "restore", "host/owned/" + rfc3339(T0), "root.pxar",
                            target], env=self.env.environ(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 0, err)
        self.assertEqual(err.count("ownership is not restored"), 1, err)
        self.assertIn("null: creating devices needs root", err)
        self.assertFalse(os.path.lexists(os.path.join(target, "null")))
        got = tree_listing(target)
        del want["null"]
        self.assertEqual(got, want)
        for i in range(5):
            st = os.stat(os.path.join(target, "sub", "f%d" % i))
            self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))

if __name__ == "__main__":
    if not cli_test.CAIRN or not os.access(cli_test.CAIRN, os.X_OK):
        sys.exit("usage: file_archive_test.py PATH/TO/cairn [unittest args]")
    unittest.main(verbosity=2)

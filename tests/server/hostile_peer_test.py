#!/usr/bin/python3
"""Hostile peers inside upgraded backup sessions: bodies that never end, a body claiming 4 GiB,
ten thousand streams, more concurrent streams than allowed, and malformed HTTP/2 frames. The
server must bound its memory (docs/protocol.md "Limits"), end only the offending stream or
connection, discard the session's snapshot, and go on serving everyone else.

Usage: /usr/bin/python3 hostile_peer_test.py PATH/TO/cairn [unittest args]  (or set CAIRN_BIN)
Needs Debian's python3-h2 (with hyperframe and hpack) and python3-zstandard.
"""

import os
import shutil
import socket
import struct
import tempfile
import unittest

import h2.errors
import h2.exceptions
import hpack

from harness import T0, Cairn, Client, Server, wait_task
from pbs_client import BACKUP_PROTOCOL, Backup, Session

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Per session the server holds at most ~32 MiB body budget + 128 streams x 256 KiB windows +
# one 16 MiB body (docs/protocol.md); allow the allocator some slack on top.
SESSION_BOUND_KIB = 96 << 10


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def read_until_closed(sock, limit=64 << 20):
    """Reads until the peer closes; returns what came (bounded)."""
    data = b""
    sock.settimeout(60)
    while len(data) < limit:
        try:
            more = sock.recv(65536)
        except (ConnectionResetError, OSError):
            break
        if not more:
            break
        data += more
    return data


class HostilePeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cairn-hostile-")
        cls.cairn = c = Cairn(cls.tmp)
        c.run("datastore", "create", "store1", os.path.join(cls.tmp, "store1"))
        cls.token = "root@pam!t:" + c.json("token", "create", "root@pam", "t")["value"]
        c.run("acl", "update", "/", "Admin", "--auth-id", "root@pam!t")
        cls.server = Server(c).start()
        cls.root = Client(cls.server, token=cls.token)
        cls.next_time = T0

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def session(self, backup_id, speak_h2=True):
        HostilePeerTest.next_time += 1
        query = {"backup-id": backup_id, "backup-time": self.next_time, "backup-type": "host",
                 "store": "store1"}
        return Session(self.server.port, self.server.fingerprint,
                       "authorization: PBSAPIToken " + self.token, query, BACKUP_PROTOCOL,
                       speak_h2=speak_h2)

    def assert_serves(self):
        """A whole backup session from another client still works."""
        s = self.session("healthy")
        b = Backup(s, "host", "healthy", self.next_time)
        b.dynamic_archive("root.pxar.didx", [os.urandom(1000), os.urandom(2000)])
        b.finish()
        s.close()

    def assert_discarded(self, backup_id):
        for task in self.root.get("/nodes/localhost/tasks", typefilter="backup", limit=500).data:
            if task["worker_id"] == "store1:host/" + backup_id:
                wait_task(self.root, task["upid"])
        listed = self.root.get("/admin/datastore/store1/snapshots",
                               **{"backup-type": "host", "backup-id": backup_id}).data
        self.assertEqual(listed, [])

    def test_bodies_that_never_end_hold_bounded_memory(self):
        s = self.session("stalled")
        wid = s.call("POST", "dynamic_index", {"archive-name": "root.pxar.didx"})
        before = rss_kib(self.server.proc.pid)
        sids = []
        for i in range(128):
            sid = s.conn.get_next_available_stream_id()
            headers = [(":method", "POST"), (":scheme", "https"), (":authority", "localhost"),
                       (":path", f"/dynamic_chunk?wid={wid}&digest={'ab' * 32}"
                                 f"&size=16000000&encoded-size=16000012")]
            # Half announce their size, which the server reserves once it admits the stream.
            if i % 2:
                headers.append(("content-length", "16000012"))
            s.conn.send_headers(sid, headers)
            sids.append(sid)
        # Push body bytes into every stream as long as the server opens windows; never end.
        s.sock.settimeout(2)
        chunk = os.urandom(1 << 20)
        progress = True
        while progress:
            progress = False
            for sid in sids:
                n = min(s.conn.local_flow_control_window(sid), s.conn.max_outbound_frame_size,
                        len(chunk))
                if n > 0:
                    s.conn.send_data(sid, chunk[:n])
                    progress = True
            s.sock.sendall(s.conn.data_to_send())
            try:
                s._feed(s.sock.recv(1 << 20))
            except socket.timeout:
                pass
        grown = rss_kib(self.server.proc.pid) - before
        self.assertLess(grown, SESSION_BOUND_KIB, f"server grew by {grown} KiB")
        self.assert_serves()  # the stalled session blocks nobody else
        s.close()
        self.assert_discarded("stalled")

    def test_a_body_claiming_4_gib_is_reset_at_the_limit(self):
        s = self.session("huge")
        before = rss_kib(self.server.proc.pid)
        sid = s.conn.get_next_available_stream_id()
        s.conn.send_headers(sid, [(":method", "POST"), (":scheme", "https"),
                                  (":authority", "localhost"),
                                  (":path", "/blob?file-name=x.blob&encoded-size=4294967296"),
                                  ("content-length", str(4 << 30))])
        sent, chunk = 0, os.urandom(1 << 20)
        try:
            while "reset" not in s.results.get(sid, {}) and sent < (64 << 20):
                n = min(s.conn.local_flow_control_window(sid), s.conn.max_outbound_frame_size,
                        len(chunk))
                if n > 0:
                    s.conn.send_data(sid, chunk[:n])
                    sent += n
                s.sock.sendall(s.conn.data_to_send())
                if n <= 0 or sent % (8 << 20) == 0:
                    s._pump()
        except h2.exceptions.StreamClosedError:
            pass
        while "reset" not in s.results.get(sid, {}) and s.results.get(sid, {}).get(
                "status") is None:
            s._pump()
        self.assertLess(sent, 32 << 20, "the server took far more than its body limit")
        grown = rss_kib(self.server.proc.pid) - before
        self.assertLess(grown, SESSION_BOUND_KIB, f"server grew by {grown} KiB")
        # The connection goes on: only that stream was refused.
        self.assertIsNone(s.call("GET", "previous_backup_time"))
        s.close()
        self.assert_discarded("huge")

    def test_ten_thousand_streams_leak_nothing(self):
        s = self.session("many")
        s.call("GET", "previous_backup_time")
        before = rss_kib(self.server.proc.pid)
        answers = s.send_all([("GET", "previous_backup_time", None, None)] * 10_000, in_flight=100)
        self.assertEqual({status for status, _ in answers}, {200})
        grown = rss_kib(self.server.proc.pid) - before
        self.assertLess(grown, 32 << 10, f"server grew by {grown} KiB over 10,000 streams")
        s.close()
        self.assert_discarded("many")

    def test_more_concurrent_streams_than_allowed_are_refused(self):
        s = self.session("crowd", speak_h2=False)
        encoder = hpack.Encoder()
        out = PREFACE + frame(4, 0, 0, b"")  # SETTINGS, defaults
        for i in range(300):  # HEADERS without END_STREAM: all stay open
            block = encoder.encode([(":method", "POST"), (":scheme", "https"),
                                    (":authority", "localhost"), (":path", "/speedtest")])
            out += frame(1, 0x4, 1 + 2 * i, block)
        s.sock.sendall(out)
        data = s.rest + read_until_refused(s.sock, 300 - 128)
        # Streams past the server's 128 get RST_STREAM (REFUSED_STREAM or PROTOCOL_ERROR), or the
        # connection ends with GOAWAY; either way the server lives on.
        kinds = parse_frame_kinds(data)
        self.assertTrue(3 in kinds or 7 in kinds, kinds)
        s.sock.close()
        self.assert_serves()
        self.assert_discarded("crowd")

    def test_malformed_frames_end_only_their_connection(self):
        bystander = self.session("bystander")
        bystander.call("GET", "previous_backup_time")
        cases = {
            "no preface": b"GET / HTTP/1.1\r\n\r\n" + os.urandom(200),
            "data on stream 0": PREFACE + frame(4, 0, 0, b"") + frame(0, 1, 0, b"x" * 10),
            "bad hpack": PREFACE + frame(4, 0, 0, b"") + frame(1, 0x5, 1, b"\xff\xff\xff\xff"),
            "frame over the size limit": PREFACE + frame(4, 0, 0, b"") + struct.pack(
                ">I", 16 << 20)[1:] + bytes([0, 0]) + struct.pack(">I", 1) + b"y" * 1000,
            "window overflow": PREFACE + frame(4, 0, 0, b"") + frame(
                8, 0, 0, struct.pack(">I", 0x7fffffff)) * 2,
        }
        for name, payload in cases.items():
            with self.subTest(name):
                s = self.session("bad-frames", speak_h2=False)
                s.sock.sendall(payload)
                read_until_closed(s.sock)  # the server closes it (after a GOAWAY if it can)
                s.sock.close()
                self.assert_discarded("bad-frames")
        # The session opened before all this is untouched.
        self.assertIsNone(bystander.call("GET", "previous_backup_time"))
        bystander.close()
        self.assert_serves()


def read_until_refused(sock, streams):
    """Reads until the peer sent GOAWAY, reset `streams` streams, or closed."""
    data = b""
    sock.settimeout(60)
    while True:
        kinds = parse_frame_kinds(data)
        if 7 in kinds or kinds.count(3) >= streams:
            return data
        try:
            more = sock.recv(65536)
        except (ConnectionResetError, OSError):
            return data
        if not more:
            return data
        data += more


def parse_frame_kinds(data):
    kinds, pos = [], 0
    while pos + 9 <= len(data):
        length = int.from_bytes(data[pos:pos + 3], "big")
        if pos + 9 + length > len(data):
            break
        kinds.append(data[pos + 3])
        pos += 9 + length
    return kinds


if __name__ == "__main__":
    unittest.main()

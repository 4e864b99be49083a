#!/usr/bin/env python3
"""End-to-end tests of `cairn server` (standard library only).

Usage: server_test.py PATH/TO/cairn [unittest args]   (or set CAIRN_BIN)

The real server runs on 127.0.0.1 on a free port with its own config and state directories
under $TMPDIR, and is driven over HTTPS with http.client, pinning the certificate the server
generated (its SHA-256 fingerprint, as PBS clients pin it). Users, tokens and ACLs are made with
the `cairn user|token|acl` commands; snapshots with `cairn backup` at fixed backup times.

Identities of the access matrix (ACLs on /datastore/store1):
  anonymous, wrong password, garbage ticket   -> 401 everywhere but the World routes
  noacl@pbs        no ACL                      -> 403 on store routes
  reader@pbs       DatastoreReader
  alice@pbs        DatastoreBackup, owns group host/alice
  bob@pbs          DatastoreBackup, owns nothing
  admin@pbs        DatastoreAdmin
  admin@pbs!ro     token with DatastoreAudit (fewer rights than its user)
  root@pam!admin   token with Admin on / (root@pam's privileges)

Failed logins are answered after 3 s and refusals after 0.5 s (as PBS): the matrix runs its
requests in parallel, so those delays cost seconds, not minutes. No test depends on timing.
"""

import concurrent.futures
import base64
import io
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
import unittest
import urllib.parse
import zipfile

from harness import (CAIRN, PASSWORD, SOURCE_DIR, T0, Cairn, Client, Server, login, tree_state,
                     wait_task)


class ServerFixture(unittest.TestCase):
    """One server over one store for the whole class (creating a store makes 65,536 dirs)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cairn-server-")
        cls.cairn = Cairn(cls.tmp)
        c = cls.cairn
        c.run("datastore", "create", "store1", os.path.join(cls.tmp, "store1"))
        data = os.path.join(cls.tmp, "data")
        os.makedirs(data)
        for i in range(3):
            with open(os.path.join(data, f"file{i}.bin"), "wb") as f:
                f.write(os.urandom(50000))
        for backup_id, times in (("alice", (T0, T0 + 60)), ("web1", (T0,)), ("victim", (T0,))):
            for t in times:
                c.run("backup", "--store", "store1", "--backup-id", backup_id, "--backup-time",
                      str(t), "root.pxar:" + data)
        for user in ("noacl", "reader", "alice", "bob", "admin"):
            c.run("user", "create", user + "@pbs", "--password-file", "-", stdin=PASSWORD + "\n")
        for user, role in (("reader", "DatastoreReader"), ("alice", "DatastoreBackup"),
                           ("bob", "DatastoreBackup"), ("admin", "DatastoreAdmin")):
            c.run("acl", "update", "/datastore/store1", role, "--auth-id", user + "@pbs")
        cls.tokens = {}
        for user, name, path, role in (("admin@pbs", "ro", "/datastore/store1", "DatastoreAudit"),
                                       ("root@pam", "admin", "/", "Admin")):
            secret = c.json("token", "create", user, name)["value"]
            cls.tokens[f"{user}!{name}"] = f"{user}!{name}:{secret}"
            c.run("acl", "update", path, role, "--auth-id", f"{user}!{name}")
        cls.server = Server(c).start()
        cls.root = Client(cls.server, token=cls.tokens["root@pam!admin"])
        reply = cls.root.request("POST", "/admin/datastore/store1/change-owner",
                                 {"backup-type": "host", "backup-id": "alice",
                                  "new-owner": "alice@pbs"})
        assert reply.status == 200, reply.body

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def as_user(self, user, password=PASSWORD):
        reply = login(self.server, user, password)
        self.assertEqual(reply.status, 200, reply.body)
        data = reply.data
        return Client(self.server, ticket=data["ticket"], csrf=data["CSRFPreventionToken"])


ALICE_SNAP = {"backup-type": "host", "backup-id": "alice", "backup-time": T0}
ALICE_GROUP = {"backup-type": "host", "backup-id": "alice"}
S = "/admin/datastore/store1"


class ApiTest(ServerFixture):
    def test_version_ping_identity(self):
        self.assertEqual(Client(self.server).get("/ping").json(), {"data": {"pong": True}})
        version = self.root.get("/version").data
        self.assertEqual(set(version), {"version", "release", "repoid"})
        identity = self.root.get("/nodes/localhost/identity").data
        self.assertEqual(len(identity["pbs-instance-id"]), 64)
        self.assertEqual(self.root.get("/nodes/othernode/identity").status, 404)

    def test_login_shapes_and_http_only_cookie(self):
        reply = login(self.server, "alice@pbs", PASSWORD)
        body = reply.json()
        self.assertEqual(body["status"], 200)
        self.assertTrue(body["success"])
        self.assertEqual(set(body["data"]), {"username", "ticket", "CSRFPreventionToken"})
        self.assertTrue(body["data"]["ticket"].startswith("PBS:alice@pbs:"))
        reply = Client(self.server).request("POST", "/access/ticket", {
            "username": "alice@pbs", "password": PASSWORD, "http-only": True})
        self.assertIn("__Host-PBSAuthCookie=", reply.headers["Set-Cookie"])
        self.assertIn("HttpOnly", reply.headers["Set-Cookie"])
        self.assertNotIn("ticket", reply.data)
        self.assertTrue(reply.data["ticket-info"].endswith("::ticketinfo"))
        # A form body works as well (PVE sends one), and so does the prefixed cookie.
        cookie = reply.headers["Set-Cookie"].split(";")[0]
        versioned = Client(self.server).request("GET", "/version", headers={"Cookie": cookie})
        self.assertEqual(versioned.status, 200)
        form = Client(self.server).request(
            "POST", "/access/ticket",
            body=urllib.parse.urlencode({"username": "bob@pbs", "password": PASSWORD}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(form.status, 200, form.body)

    def test_snapshot_list_shape(self):
        snapshots = self.root.get(S + "/snapshots").data
        self.assertEqual(len(snapshots), 4)
        item = next(s for s in snapshots if s["backup-id"] == "alice" and s["backup-time"] == T0)
        self.assertEqual(item["backup-type"], "host")
        self.assertEqual(item["owner"], "alice@pbs")
        self.assertFalse(item["protected"])
        self.assertGreater(item["size"], 0)
        names = [f["filename"] for f in item["files"]]
        self.assertIn("root.pxar.didx", names)
        self.assertEqual(names[-1], "index.json.blob")
        self.assertEqual(item["files"][0]["crypt-mode"], "none")
        only_web = self.root.get(S + "/snapshots", **{"backup-id": "web1"}).data
        self.assertEqual([s["backup-id"] for s in only_web], ["web1"])

    def test_group_list_and_owned_only_view(self):
        groups = {g["backup-id"]: g for g in self.root.get(S + "/groups").data}
        self.assertEqual(groups["alice"]["backup-count"], 2)
        self.assertEqual(groups["alice"]["last-backup"], T0 + 60)
        self.assertEqual(groups["alice"]["owner"], "alice@pbs")
        alice = self.as_user("alice@pbs")
        self.assertEqual([g["backup-id"] for g in alice.get(S + "/groups").data], ["alice"])
        bob = self.as_user("bob@pbs")
        self.assertEqual(bob.get(S + "/groups").data, [])
        self.assertEqual(bob.get(S + "/snapshots").data, [])

    def test_files_download_and_status(self):
        files = self.root.get(S + "/files", **ALICE_SNAP).data
        self.assertIn("root.pxar.didx", [f["filename"] for f in files])
        blob = self.root.get(S + "/download", **ALICE_SNAP, **{"file-name": "index.json.blob"})
        self.assertEqual(blob.status, 200)
        self.assertGreater(len(blob.body), 12)
        missing = self.root.get(S + "/download", **ALICE_SNAP, **{"file-name": "../../etc.blob"})
        self.assertEqual(missing.status, 404)
        status = self.root.get(S + "/status", verbose=1).data
        self.assertGreater(status["total"], 0)
        self.assertEqual(status["backend-type"], "filesystem")
        self.assertEqual(status["counts"]["host"]["groups"], 3)
        usage = self.root.get("/status/datastore-usage").data
        self.assertEqual([u["store"] for u in usage], ["store1"])

    def test_catalog_browse_and_downloads(self):
        def b64(path):
            return base64.b64encode(path.encode()).decode()
        archives = self.root.get(S + "/catalog", **ALICE_SNAP, filepath=b64("/")).data
        self.assertEqual([a["text"] for a in archives], ["root.pxar.didx"])
        listed = self.root.get(S + "/catalog", **ALICE_SNAP, filepath=archives[0]["filepath"]).data
        self.assertEqual(sorted(e["text"] for e in listed), ["file0.bin", "file1.bin", "file2.bin"])
        self.assertTrue(all(e["leaf"] and e["size"] == 50000 for e in listed))
        data_dir = os.path.join(self.tmp, "data")
        one = self.root.get(S + "/pxar-file-download", **ALICE_SNAP,
                            filepath=b64("/root.pxar.didx/file1.bin"))
        self.assertEqual(one.status, 200)
        with open(os.path.join(data_dir, "file1.bin"), "rb") as f:
            self.assertEqual(one.body, f.read())
        # Spelled with a trailing '/', '//' or '.', a path names the same file (a trailing '/'
        # on a file once made the server abort: the paths listed were shorter than the one asked).
        for spelled in ("/root.pxar.didx/file1.bin/", "//root.pxar.didx/./file1.bin"):
            again = self.root.get(S + "/pxar-file-download", **ALICE_SNAP, filepath=b64(spelled))
            self.assertEqual((again.status, again.body), (200, one.body), spelled)
        whole = self.root.get(S + "/pxar-file-download", **ALICE_SNAP,
                              filepath=b64("/root.pxar.didx"))
        self.assertEqual(whole.status, 200)
        with zipfile.ZipFile(io.BytesIO(whole.body)) as archive:
            for name in ("file0.bin", "file2.bin"):
                with open(os.path.join(data_dir, name), "rb") as f:
                    self.assertEqual(archive.read(name), f.read())
        # Bad and tricky paths are refused with a clear error and read nothing outside.
        for filepath, status in (("%%%", 400), (b64("/nothing.didx"), 404),
                                 (b64("/index.json.blob"), 404),
                                 (b64("/root.pxar.didx/../../../etc/passwd"), 400),
                                 (b64("/root.pxar.didx/nothing/"), 404),
                                 (b64("/root.pxar.didx/file1.bin\0x"), 400)):
            reply = self.root.get(S + "/pxar-file-download", **ALICE_SNAP, filepath=filepath)
            self.assertEqual(reply.status, status, (filepath, reply.body))
        # Reading needs Datastore.Read (or owning the group).
        noacl = self.as_user("noacl@pbs")
        self.assertEqual(noacl.get(S + "/catalog", **ALICE_SNAP, filepath=b64("/")).status, 403)

    def test_notes_and_protection_round_trip(self):
        snap = {"backup-type": "host", "backup-id": "web1", "backup-time": T0}
        self.assertEqual(self.root.request("PUT", S + "/notes",
                                           dict(snap, notes="line one\nline two")).status, 200)
        self.assertEqual(self.root.get(S + "/notes", **snap).data, "line one\nline two")
        item = next(s for s in self.root.get(S + "/snapshots", **{"backup-id": "web1"}).data)
        self.assertEqual(item["comment"], "line one")
        self.assertEqual(self.root.request("PUT", S + "/protected",
                                           dict(snap, protected=True)).status, 200)
        self.assertIs(self.root.get(S + "/protected", **snap).data, True)
        refused = self.root.request("DELETE", S + "/snapshots", snap)
        self.assertEqual(refused.status, 403, refused.body)
        self.assertEqual(self.root.request("PUT", S + "/protected",
                                           dict(snap, protected=False)).status, 200)
        group = {"backup-type": "host", "backup-id": "web1"}
        self.assertEqual(self.root.request("PUT", S + "/group-notes",
                                           dict(group, notes="web servers")).status, 200)
        self.assertEqual(self.root.get(S + "/group-notes", **group).data, "web servers")

    def test_namespaces(self):
        created = self.root.request("POST", S + "/namespace", {"name": "dev"})
        self.assertEqual(created.status, 200, created.body)
        self.assertEqual(self.root.request("POST", S + "/namespace",
                                           {"name": "web", "parent": "dev"}).status, 200)
        listed = [n["ns"] for n in self.root.get(S + "/namespace").data]
        self.assertEqual(listed, ["", "dev", "dev/web"])
        self.assertEqual(self.root.request("POST", S + "/namespace",
                                           {"name": "..", "parent": "dev"}).status, 400)
        self.assertEqual(self.root.request("DELETE", S + "/namespace", {"ns": "dev/web"}).status,
                         200)

    def test_prune_dry_run_lists_keep_decisions(self):
        reply = self.root.request("POST", S + "/prune",
                                  dict(ALICE_GROUP, **{"keep-last": 1, "dry-run": True}))
        self.assertEqual(reply.status, 200, reply.body)
        marks = {(p["backup-time"], p["keep"]) for p in reply.data}
        self.assertEqual(marks, {(T0 + 60, True), (T0, False)})
        self.assertEqual(len(self.root.get(S + "/snapshots", **{"backup-id": "alice"}).data), 2)

    def test_verify_task_logs_and_ends_ok(self):
        reply = self.root.request("POST", S + "/verify", dict(ALICE_GROUP))
        self.assertEqual(reply.status, 200, reply.body)
        upid = reply.data
        self.assertIn(":verify_group:", upid)
        status = wait_task(self.root, upid)
        self.assertEqual(status["exitstatus"], "OK")
        log = self.root.get("/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") +
                            "/log", limit=0).json()
        self.assertEqual(log["success"], 1)
        self.assertTrue(log["data"][-1]["t"].endswith("TASK OK"), log["data"][-1])
        download = self.root.get("/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") +
                                 "/log", download=1)
        self.assertEqual(download.headers["Content-Type"], "text/plain")
        self.assertIn(b"TASK OK", download.body)
        tasks = self.root.get("/nodes/localhost/tasks", typefilter="verify").json()
        self.assertIn(upid, [t["upid"] for t in tasks["data"]])

    def test_extjs_format(self):
        extjs = Client(self.server, token=self.tokens["root@pam!admin"], fmt="extjs")
        ok = extjs.get(S + "/groups").json()
        self.assertTrue(ok["success"])
        self.assertEqual(ok["status"], 200)
        failed = extjs.get(S + "/snapshots", bogus=1)
        self.assertEqual(failed.status, 200)
        body = failed.json()
        self.assertFalse(body["success"])
        self.assertEqual(body["status"], 400)
        self.assertEqual(body["message"], "parameter verification errors")
        self.assertIn("bogus", body["errors"])
        missing = extjs.get("/no/such/path").json()
        self.assertEqual(missing["status"], 404)

    def test_s3_endpoint_config_never_returns_the_secret(self):
        created = self.root.request("POST", "/config/s3", {
            "id": "ep1", "endpoint": "127.0.0.1", "port": 9, "access-key": "AKIDEXAMPLE",
            "secret-key": "very-secret-key", "path-style": True})
        self.assertEqual(created.status, 200, created.body)
        listed = self.root.get("/config/s3")
        self.assertNotIn(b"very-secret-key", listed.body)
        self.assertEqual([e["id"] for e in listed.data], ["ep1"])
        self.assertIn("digest", listed.json())
        self.assertNotIn(b"very-secret-key", self.root.get("/config/s3/ep1").body)
        updated = self.root.request("PUT", "/config/s3/ep1", {"region": "eu-1"})
        self.assertEqual(updated.status, 200, updated.body)
        self.assertEqual(self.root.get("/config/s3/ep1").data["region"], "eu-1")
        self.assertEqual(self.root.request("DELETE", "/config/s3/ep1").status, 200)

    def test_users_tokens_acl_over_the_api(self):
        reply = self.root.request("POST", "/access/users",
                                  {"userid": "carol@pbs", "password": "carol-pass",
                                   "comment": "made over the API"})
        self.assertEqual(reply.status, 200, reply.body)
        carol = self.as_user("carol@pbs", "carol-pass")
        token = carol.request("POST", "/access/users/carol@pbs/token/t1", {})
        self.assertEqual(token.status, 200, token.body)
        self.assertEqual(token.data["tokenid"], "carol@pbs!t1")
        self.assertEqual(len(token.data["value"]), 36)
        users = self.root.get("/access/users", include_tokens=1).data
        carol_entry = next(u for u in users if u["userid"] == "carol@pbs")
        self.assertEqual([t["tokenid"] for t in carol_entry["tokens"]], ["carol@pbs!t1"])
        self.assertEqual([u["userid"] for u in carol.get("/access/users").data], ["carol@pbs"])
        token_client = Client(self.server, token=f"carol@pbs!t1:{token.data['value']}")
        self.assertEqual(token_client.get("/version").status, 200)
        self.assertEqual(token_client.get(S + "/groups").status, 403)
        grant = self.root.request("PUT", "/access/acl", {
            "path": "/datastore/store1", "role": "DatastoreAudit", "auth-id": "carol@pbs"})
        self.assertEqual(grant.status, 200, grant.body)
        # A token gets its own ACL AND its user's: carol's grant alone does not reach t1.
        self.assertEqual(token_client.get(S + "/groups").status, 403)
        self.assertEqual(carol.get(S + "/groups").status, 200)
        acl = self.root.get("/access/acl").json()
        self.assertIn("digest", acl)
        self.assertIn({"path": "/datastore/store1", "ugid": "carol@pbs", "ugid_type": "user",
                       "propagate": True, "roleid": "DatastoreAudit"}, acl["data"])
        perms = carol.get("/access/permissions", path="/datastore/store1").data
        self.assertEqual(perms, {"/datastore/store1": {"Datastore.Audit": True}})
        roles = {r["roleid"]: r["privs"] for r in self.root.get("/access/roles").data}
        self.assertEqual(roles["DatastoreBackup"], ["Datastore.Backup"])
        self.assertEqual(carol.request("PUT", "/access/password",
                                       {"userid": "carol@pbs", "password": "new-pass"}).status,
                         200)
        self.assertEqual(login(self.server, "carol@pbs", "new-pass").status, 200)
        self.assertEqual(self.root.request("DELETE", "/access/users/carol@pbs").status, 200)
        self.assertEqual(token_client.get("/version").status, 401)

    def test_metrics_on_loopback(self):
        conn = self.server.connect()
        conn.request("GET", "/metrics")
        reply = conn.getresponse()
        text = reply.read().decode()
        self.assertEqual(reply.status, 200)
        self.assertIn('cairn_datastore_up{store="store1"} 1', text)
        self.assertIn("cairn_http_responses_total{status=\"200\"}", text)
        self.assertIn("# TYPE cairn_tasks gauge", text)


class HostileInputTest(ServerFixture):
    def test_path_tricks_and_bad_names_change_nothing(self):
        before = tree_state(self.tmp)
        cases = [
            ("GET", S + "/snapshots", {"ns": "../.."}),
            ("GET", S + "/snapshots", {"ns": "a/../b"}),
            ("GET", S + "/files", {"backup-type": "host", "backup-id": "../alice",
                                   "backup-time": T0}),
            ("GET", S + "/files", {"backup-type": "host", "backup-id": "al\x00ice",
                                   "backup-time": T0}),
            ("GET", S + "/files", {"backup-type": "../host", "backup-id": "alice",
                                   "backup-time": T0}),
            ("PUT", S + "/notes", dict(ALICE_SNAP, **{"backup-id": "a/b", "notes": "x"})),
            ("POST", S + "/namespace", {"name": "a/b"}),
            ("POST", S + "/namespace", {"name": "." * 3}),
            ("GET", "/admin/datastore/..%2f..%2fetc/snapshots", None),
            ("GET", "/admin/datastore/%2e%2e/snapshots", None),
            ("GET", "/admin/datastore/" + "x" * 100 + "/snapshots", None),
            ("POST", "/config/datastore", {"name": "../evil", "path": "/tmp/evil"}),
            ("POST", "/config/datastore", {"name": "ok1", "path": "relative/path"}),
            ("PUT", "/access/acl", {"path": "/datastore/../x", "role": "Admin",
                                    "auth-id": "bob@pbs"}),
            ("PUT", "/access/acl", {"path": "/datastore/store1", "role": "NoSuchRole",
                                    "auth-id": "bob@pbs"}),
            ("POST", "/access/users", {"userid": "ev/il@pbs"}),
        ]
        for method, path, params in cases:
            reply = self.root.request(method, path, params)
            self.assertIn(reply.status, (400, 404), f"{method} {path} {params}: {reply.body}")
            self.assertTrue(reply.body, "an error needs a message")
        # Creating a datastore with a bad name would have started a task: none ran.
        self.assertEqual(before, tree_state(self.tmp))

    def test_malformed_requests(self):
        r = self.root
        self.assertEqual(r.request("GET", "/api2/json/" + "a" * 3100, raw_path=True).status, 414)
        self.assertEqual(r.request("POST", "/access/users", body=b"{not json",
                                   headers={"Content-Type": "application/json"}).status, 400)
        self.assertEqual(r.request("POST", "/access/users", body=b"[1,2]",
                                   headers={"Content-Type": "application/json"}).status, 400)
        self.assertEqual(r.request("POST", "/access/users", body=b"x" * (600 * 1024),
                                   headers={"Content-Type": "application/json"}).status, 413)
        self.assertEqual(r.request("POST", "/access/users", body=b"a=1",
                                   headers={"Content-Type": "text/xml"}).status, 400)
        self.assertEqual(r.get(S + "/snapshots", unknown="1").status, 400)
        self.assertEqual(r.request("GET", "/api2/xml/version", raw_path=True).status, 400)
        self.assertEqual(r.request("GET", "/api2/json/.hidden", raw_path=True).status, 400)
        self.assertEqual(r.request("PATCH", "/version").status, 501)
        self.assertEqual(r.request("GET", "//api2/json//version", raw_path=True).status, 200)

    def test_header_injection_is_refused(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.server.port)) as raw:
            with context.wrap_socket(raw) as tls:
                tls.sendall(b"GET /api2/json/ping HTTP/1.1\r\nHost: x\r\nX-A: a\rInjected: 1\r\n"
                            b"\r\n")
                answer = tls.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer)

    def test_plain_http_is_redirected(self):
        with socket.create_connection(("127.0.0.1", self.server.port)) as raw:
            raw.sendall(b"GET /api2/json/ping HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                        % self.server.port)
            answer = raw.recv(4096).decode()
        self.assertTrue(answer.startswith("HTTP/1.1 301"), answer)
        self.assertIn(f"Location: https://127.0.0.1:{self.server.port}/api2/json/ping", answer)

    def test_certificate_matches_the_spec(self):
        cert = os.path.join(self.cairn.config, "proxy.pem")
        text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"],
                              capture_output=True, text=True, check=True).stdout
        self.assertIn("Public-Key: (4096 bit)", text)
        self.assertIn("Signature Algorithm: sha256WithRSAEncryption", text)
        self.assertIn("O = Cairn Backup Server", text)
        self.assertIn("CA:FALSE", text)
        self.assertIn("TLS Web Server Authentication", text)
        self.assertIn("IP Address:127.0.0.1", text)
        self.assertIn("DNS:localhost", text)
        self.assertIn("X509v3 Authority Key Identifier", text)
        fingerprint = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint",
                                      "-sha256"], capture_output=True, text=True,
                                     check=True).stdout.strip().split("=")[1]
        self.assertEqual(fingerprint, self.server.fingerprint)
        self.assertEqual(self.cairn.run("server", "fingerprint").stdout.strip(), fingerprint)
        self.assertEqual(os.stat(os.path.join(self.cairn.config, "proxy.key")).st_mode & 0o777,
                         0o600)
        self.assertEqual(os.stat(self.cairn.config).st_mode & 0o777, 0o700)


class AccessMatrixTest(ServerFixture):
    """Every route of interest x every identity: the status, and no change on a refusal."""

    def identities(self):
        out = {
            "anonymous": Client(self.server),
            "garbage-ticket": Client(self.server, ticket="PBS:admin@pbs:6B000000::AAAA"),
            "wrong-token": Client(self.server, token="admin@pbs!ro:00000000-0000-0000-0000-"
                                                     "000000000000"),
            "admin-ro-token": Client(self.server, token=self.tokens["admin@pbs!ro"]),
            "root": self.root,
        }
        for user in ("noacl", "reader", "alice", "bob", "admin"):
            out[user] = self.as_user(user + "@pbs")
        return out

    # route -> identities answered 200 (everyone else: 401 when not logged in, 403 otherwise)
    READS = {
        ("GET", S + "/groups", ()): {"reader", "alice", "bob", "admin", "admin-ro-token", "root"},
        ("GET", S + "/snapshots", ()): {"reader", "alice", "bob", "admin", "admin-ro-token",
                                        "root"},
        ("GET", S + "/files", tuple(ALICE_SNAP.items())): {"reader", "alice", "admin",
                                                           "admin-ro-token", "root"},
        ("GET", S + "/download", tuple(ALICE_SNAP.items()) + (("file-name", "index.json.blob"),)):
            {"reader", "alice", "admin", "root"},
        ("GET", S + "/catalog", tuple(ALICE_SNAP.items()) + (("filepath", "Lw=="),)):
            {"reader", "alice", "admin", "root"},
        ("GET", S + "/pxar-file-download",
         tuple(ALICE_SNAP.items()) + (("filepath", "L3Jvb3QucHhhci5kaWR4L2ZpbGUwLmJpbg=="),)):
            {"reader", "alice", "admin", "root"},
        ("GET", S + "/notes", tuple(ALICE_SNAP.items())): {"reader", "alice", "admin",
                                                           "admin-ro-token", "root"},
        ("GET", S + "/protected", tuple(ALICE_SNAP.items())): {"reader", "alice", "admin",
                                                               "admin-ro-token", "root"},
        ("GET", S + "/status", ()): {"reader", "alice", "bob", "admin", "admin-ro-token", "root"},
        ("GET", S + "/gc", ()): {"reader", "admin", "admin-ro-token", "root"},
        ("GET", "/config/datastore/store1", ()): {"reader", "admin", "admin-ro-token", "root"},
        ("GET", "/version", ()): {"noacl", "reader", "alice", "bob", "admin", "admin-ro-token",
                                  "root"},
        ("GET", "/ping", ()): {"anonymous", "garbage-ticket", "wrong-token", "noacl", "reader",
                               "alice", "bob", "admin", "admin-ro-token", "root"},
    }
    # Writes that would change something: refused ones must leave everything as it was.
    WRITES = {
        ("PUT", S + "/notes", tuple(ALICE_SNAP.items()) + (("notes", "changed"),)):
            {"alice", "admin", "root"},
        ("PUT", S + "/protected", tuple(ALICE_SNAP.items()) + (("protected", False),)):
            {"alice", "admin", "root"},
        ("POST", S + "/namespace", (("name", "matrix"),)): {"admin", "root"},
        ("DELETE", S + "/snapshots", (("backup-type", "host"), ("backup-id", "victim"),
                                      ("backup-time", T0))): {"admin", "root"},
        ("POST", "/access/users", (("userid", "mallory@pbs"),)): {"root"},
        ("PUT", "/access/acl", (("path", "/"), ("role", "Admin"), ("auth-id", "bob@pbs"))):
            {"root"},
        ("POST", "/config/datastore", (("name", "store2"), ("path", "/nonexistent/x"))): set(),
    }

    def expected(self, name, allowed):
        if name in allowed:
            return 200
        if name in ("anonymous", "garbage-ticket", "wrong-token"):
            return 401
        return 403

    def run_matrix(self, routes, identities):
        jobs = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            for (method, path, params), allowed in routes.items():
                for name, client in identities.items():
                    future = pool.submit(client.request, method, path, dict(params))
                    jobs.append((method, path, name, allowed, future))
        failures = []
        for method, path, name, allowed, future in jobs:
            reply = future.result()
            if reply.status != self.expected(name, allowed):
                failures.append(f"{name}: {method} {path}: {reply.status} {reply.body[:100]}")
        return failures

    def test_reads(self):
        failures = self.run_matrix(self.READS, self.identities())
        self.assertEqual(failures, [])

    def test_refused_writes_change_nothing(self):
        identities = self.identities()
        refused_only = {k: v for k, v in identities.items() if k not in ("admin", "root", "alice")}
        before = tree_state(self.tmp)
        failures = self.run_matrix({k: set() & v for k, v in self.WRITES.items()}, refused_only)
        self.assertEqual(failures, [])
        self.assertEqual(before, tree_state(self.tmp))
        # alice is refused where she does not own or lacks the privilege.
        alice_refused = {k: v for k, v in self.WRITES.items() if "alice" not in v}
        self.assertEqual(self.run_matrix(alice_refused, {"alice": identities["alice"]}), [])
        self.assertEqual(before, tree_state(self.tmp))
        # The allowed ones succeed (the datastore one fails in its task, not at the door).
        for (method, path, params), allowed in self.WRITES.items():
            if "admin" in allowed and path != "/access/users":
                reply = identities["admin"].request(method, path, dict(params))
                self.assertEqual(reply.status, 200, f"admin {method} {path}: {reply.body}")


class RemoteCliTest(ServerFixture):
    """The CLI's commands with --repository against the server (PBS's client commands)."""

    def remote(self, *args, auth="root@pam!admin", fingerprint=True, env=None, check=True):
        secret = self.tokens[auth].split(":", 1)[1] if "!" in auth else PASSWORD
        run_env = dict(self.cairn.env, CAIRN_PASSWORD=secret)
        run_env.update(env or {})
        repo = f"{auth}@127.0.0.1:{self.server.port}:store1"
        extra = ["--repository", repo] + (["--fingerprint", self.server.fingerprint]
                                          if fingerprint else [])
        return subprocess.run([CAIRN, "--output-format", "json", *args, *extra], env=run_env,
                              capture_output=True, text=True, timeout=300, check=check,
                              stdin=subprocess.DEVNULL)

    def test_snapshot_and_group_commands(self):
        listed = json.loads(self.remote("snapshot", "list").stdout)
        self.assertEqual(listed, self.root.get(S + "/snapshots").data)
        groups = json.loads(self.remote("group", "list").stdout)
        self.assertEqual({g["backup-id"] for g in groups}, {"alice", "web1", "victim"})
        snap = f"host/web1/{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(T0))}"
        self.remote("snapshot", "notes", snap, "--set", "set remotely")
        shown = json.loads(self.remote("snapshot", "notes", snap).stdout)
        self.assertEqual(shown["notes"], "set remotely")
        self.remote("snapshot", "protect", snap)
        self.assertIs(self.root.get(S + "/protected", **{"backup-type": "host",
                                                        "backup-id": "web1",
                                                        "backup-time": T0}).data, True)
        files = json.loads(self.remote("snapshot", "files", snap).stdout)
        self.assertIn("root.pxar.didx", [f["filename"] for f in files])
        refused = self.remote("snapshot", "forget", snap, check=False)
        self.assertEqual(refused.returncode, 6, refused.stderr)  # protected
        self.remote("snapshot", "protect", "--off", snap)
        self.remote("namespace", "create", "remote-ns")
        self.assertIn("remote-ns", json.loads(self.remote("namespace", "list").stdout))
        self.remote("namespace", "remove", "remote-ns")

    def test_prune_gc_tasks_and_status(self):
        pruned = json.loads(self.remote("prune", "host/alice", "--keep-last", "1",
                                        "--dry-run").stdout)
        self.assertEqual(sorted(p["keep"] for p in pruned), [False, True])
        # The server's GC uses the store's tuning; a cutoff given on the command line is refused.
        refused = self.remote("gc", "--atime-cutoff", "5", check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("cairn datastore tuning", refused.stderr)
        gc = self.remote("gc")
        self.assertIn("TASK OK", gc.stderr)
        upid = json.loads(gc.stdout)["upid"]
        tasks = json.loads(self.remote("task", "list").stdout)
        self.assertIn(upid, [t["upid"] for t in tasks])
        status = json.loads(self.remote("task", "status", upid).stdout)
        self.assertEqual(status["exitstatus"], "OK")
        self.assertIn("TASK OK", self.remote("task", "log", upid).stderr)
        usage = json.loads(self.remote("status").stdout)
        self.assertGreater(usage["total"], 0)

    def test_password_login_and_pbs_environment(self):
        env = {"PBS_REPOSITORY": f"alice@pbs@127.0.0.1:{self.server.port}:store1",
               "PBS_PASSWORD": PASSWORD, "PBS_FINGERPRINT": self.server.fingerprint}
        run_env = dict(self.cairn.env, **env)
        proc = subprocess.run([CAIRN, "--output-format", "json", "group", "list"], env=run_env,
                              capture_output=True, text=True, timeout=300, check=True)
        self.assertEqual([g["backup-id"] for g in json.loads(proc.stdout)], ["alice"])
        run_env["PBS_PASSWORD"] = "wrong"
        proc = subprocess.run([CAIRN, "group", "list"], env=run_env, capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 6, proc.stderr)

    def test_a_wrong_or_missing_fingerprint_is_refused_without_a_terminal(self):
        before = tree_state(self.tmp)
        wrong = "AA:" * 31 + "AA"
        proc = self.remote("namespace", "create", "never", fingerprint=False,
                           env={"CAIRN_FINGERPRINT": wrong}, check=False)
        self.assertEqual(proc.returncode, 6, proc.stderr)
        self.assertIn("does not match", proc.stderr)
        proc = self.remote("namespace", "create", "never", fingerprint=False, check=False)
        self.assertEqual(proc.returncode, 6, proc.stderr)
        self.assertIn(self.server.fingerprint, proc.stderr)
        self.assertEqual(before, tree_state(self.tmp))

    def test_trust_on_first_use_on_a_terminal(self):
        import pty
        secret = self.tokens["root@pam!admin"].split(":", 1)[1]
        repo = f"root@pam!admin@127.0.0.1:{self.server.port}:store1"
        env = dict(self.cairn.env, CAIRN_PASSWORD=secret, HOME=os.path.join(self.tmp, "tofu"),
                   XDG_CONFIG_HOME=os.path.join(self.tmp, "tofu"))
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(CAIRN, [CAIRN, "group", "list", "--repository", repo], env)
        output = b""
        answered = False
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"(y/n)" in output:
                os.write(fd, b"y\n")
                answered = True
        _, status = os.waitpid(pid, 0)
        self.assertTrue(answered, output)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output)
        self.assertIn(self.server.fingerprint.encode(), output)
        cache = os.path.join(self.tmp, "tofu", "cairn", "fingerprints")
        with open(cache) as f:
            self.assertEqual(f.read(), f"127.0.0.1:{self.server.port} {self.server.fingerprint}\n")
        # Remembered: no prompt, no terminal needed next time.
        proc = subprocess.run([CAIRN, "group", "list", "--repository", repo], env=env,
                              capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 0, proc.stderr)


class BlockedVerify:
    """A store whose verify blocks, deterministically, on one chunk: the chunk file is replaced
    by a FIFO, so reading it waits until the test writes the chunk's bytes into it."""

    def __init__(self, tmp):
        self.cairn = Cairn(tmp)
        c = self.cairn
        c.run("datastore", "create", "store1", os.path.join(tmp, "store1"))
        image = os.path.join(tmp, "disk.img")
        with open(image, "wb") as f:
            f.write(os.urandom(256 * 1024))
        c.run("backup", "--store", "store1", "--backup-id", "h", "--backup-time", str(T0),
              "--chunk-size", "64", "disk.img:" + image)
        self.secret = c.json("token", "create", "root@pam", "t")["value"]
        c.run("acl", "update", "/", "Admin", "--auth-id", "root@pam!t")
        chunks = os.path.join(tmp, "store1", ".chunks")
        self.chunk = next(os.path.join(d, f) for d, _, files in os.walk(chunks) for f in files)
        with open(self.chunk, "rb") as f:
            self.data = f.read()
        os.unlink(self.chunk)
        os.mkfifo(self.chunk)

    def client(self, server):
        return Client(server, token=f"root@pam!t:{self.secret}")

    def wait_for_reader(self):
        """Blocks (bounded) until the verify has opened the FIFO; returns a write end."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                fd = os.open(self.chunk, os.O_WRONLY | os.O_NONBLOCK)
                os.set_blocking(fd, True)
                return fd
            except OSError:
                time.sleep(0.02)
        raise AssertionError("the verify never read the chunk")

    def release(self, fd):
        os.write(fd, self.data)
        os.close(fd)

    def restore_chunk(self):
        os.unlink(self.chunk)
        with open(self.chunk, "wb") as f:
            f.write(self.data)


class JobControlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cairn-server-jobs-")
        self.store = BlockedVerify(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_abort_stops_a_running_verify(self):
        server = Server(self.store.cairn).start()
        try:
            client = self.store.client(server)
            upid = client.request("POST", "/admin/datastore/store1/verify", {}).data
            fd = self.store.wait_for_reader()
            path = "/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="")
            self.assertEqual(client.get(path + "/status").data["status"], "running")
            self.assertEqual(client.request("DELETE", path).status, 200)
            self.store.release(fd)
            status = wait_task(client, upid)
            self.assertIn("cancelled", status["exitstatus"])
            log = client.get(path + "/log", limit=0).data
            self.assertTrue(log[-1]["t"].endswith("TASK ERROR: verify cancelled"), log[-1])
        finally:
            server.stop()
        self.store.restore_chunk()
        self.store.cairn.run("verify", "--store", "store1")

    def test_sigterm_stops_running_tasks_and_leaves_nothing_locked(self):
        server = Server(self.store.cairn).start()
        client = self.store.client(server)
        upid = client.request("POST", "/admin/datastore/store1/verify", {}).data
        fd = self.store.wait_for_reader()
        server.proc.send_signal(signal.SIGTERM)
        # The server tells the task to stop (a line in its log), then waits for it: it ends at
        # its next check, once the blocked read returns.
        log = next(os.path.join(d, f) for d, _, files in
                   os.walk(os.path.join(self.store.cairn.state, "tasks")) for f in files
                   if f == upid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with open(log) as f:
                if "server shutting down" in f.read():
                    break
            time.sleep(0.02)
        self.store.release(fd)
        self.assertEqual(server.proc.wait(timeout=120), 0)
        server = Server(self.store.cairn).start()
        try:
            status = self.store.client(server).get(
                "/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") + "/status").data
            self.assertEqual(status["status"], "stopped")
            self.assertIn("cancelled", status["exitstatus"])  # finished, not "unknown"
        finally:
            self.assertEqual(server.stop(), 0)
        self.store.restore_chunk()
        # Nothing stayed locked: a local job that needs the store alone runs at once.
        self.store.cairn.run("datastore", "s3-refresh", "store1", check=False)
        self.store.cairn.run("gc", "--store", "store1")
        self.store.cairn.run("verify", "--store", "store1")


class EveryRouteTest(ServerFixture):
    """Every route of the table (cairn server routes): without valid credentials 401 unless it
    is open to the world; for a user without any ACL 403 where the route checks a privilege;
    and nothing changed by any of those refusals."""

    PATH_VALUES = {"store": "store1", "node": "localhost", "userid": "alice@pbs",
                   "token-name": "t9", "id": "ep9", "name": "store1",
                   "upid": "UPID:testnode:00000001:00000001:00000001:6B000000:verify:store1:"
                           "root@pam:"}
    VALUES = {"string": "x1", "integer": 1, "boolean": True, "array of strings": ["x1"]}

    def requests(self):
        routes = json.loads(self.cairn.run("--output-format", "json", "server", "routes").stdout)
        for route in routes:
            path, params = route["path"], {}
            for param in route["parameters"]:
                if "{" + param["name"] + "}" in path:
                    path = path.replace("{" + param["name"] + "}",
                                        urllib.parse.quote(self.PATH_VALUES[param["name"]],
                                                           safe=""))
                elif not param["optional"]:
                    params[param["name"]] = self.VALUES[param["type"]]
            yield route, path, params

    def test_every_route_refuses_missing_and_bad_credentials_and_users_without_acl(self):
        noacl = self.as_user("noacl@pbs")
        identities = {
            "anonymous": Client(self.server),
            "garbage-ticket": Client(self.server, ticket="PBS:root@pam:6B000000::AAAA"),
            "wrong-token": Client(self.server, token="admin@pbs!ro:00000000-0000-0000-0000-"
                                                     "000000000000"),
        }
        before = tree_state(self.tmp)
        jobs, failures = [], []
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            for route, path, params in self.requests():
                for name, client in identities.items():
                    if route["access-kind"] != "world":
                        jobs.append((route, name, 401, pool.submit(
                            client.request, route["method"], path, dict(params))))
                if route["access-kind"] == "privileges":
                    jobs.append((route, "noacl", 403, pool.submit(
                        noacl.request, route["method"], path, dict(params))))
        for route, name, expected, future in jobs:
            reply = future.result()
            if reply.status != expected:
                failures.append(f"{name}: {route['method']} {route['path']}: {reply.status} "
                                f"{reply.body[:80]}")
        self.assertEqual(failures, [])
        self.assertGreater(len(jobs), 150)
        self.assertEqual(before, tree_state(self.tmp))


class RoutesDocTest(unittest.TestCase):
    def test_docs_api_md_is_generated_from_the_route_table(self):
        tmp = tempfile.mkdtemp(prefix="cairn-routes-")
        try:
            generated = Cairn(tmp).run("server", "routes").stdout
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with open(os.path.join(SOURCE_DIR, "docs", "api.md")) as f:
            self.assertEqual(f.read(), generated,
                             "docs/api.md is stale: cairn server routes > docs/api.md")


class CrashTest(unittest.TestCase):
    def test_server_killed_mid_task_marks_it_unknown_and_the_store_stays_consistent(self):
        tmp = tempfile.mkdtemp(prefix="cairn-server-crash-")
        try:
            c = Cairn(tmp)
            c.run("datastore", "create", "store1", os.path.join(tmp, "store1"))
            data = os.path.join(tmp, "data")
            os.makedirs(data)
            with open(os.path.join(data, "f.bin"), "wb") as f:
                f.write(os.urandom(300000))
            c.run("backup", "--store", "store1", "--backup-id", "h", "--backup-time", str(T0),
                  "root.pxar:" + data)
            secret = c.json("token", "create", "root@pam", "t")["value"]
            c.run("acl", "update", "/", "Admin", "--auth-id", "root@pam!t")
            # The server dies (SIGKILL from the file fault seam) at GC's first chunk touch.
            server = Server(c, {"CAIRN_FILE_FAULTS": "kill@touch#1~.chunks"}).start()
            client = Client(server, token=f"root@pam!t:{secret}")
            reply = client.request("POST", "/admin/datastore/store1/gc", {})
            self.assertEqual(reply.status, 200, reply.body)
            upid = reply.data
            server.proc.wait(timeout=120)
            self.assertEqual(server.proc.returncode, -signal.SIGKILL)
            server = Server(c).start()
            client = Client(server, token=f"root@pam!t:{secret}")
            status = client.get("/nodes/localhost/tasks/" + urllib.parse.quote(upid, safe="") +
                                "/status").data
            self.assertEqual(status["status"], "stopped")
            self.assertEqual(status["exitstatus"], "unknown")
            listed = client.get("/nodes/localhost/tasks", statusfilter="unknown").data
            self.assertEqual([t["upid"] for t in listed], [upid])
            # A new GC over the API runs to the end, then the store verifies.
            again = wait_task(client, client.request("POST", "/admin/datastore/store1/gc",
                                                     {}).data)
            self.assertEqual(again["exitstatus"], "OK")
            self.assertEqual(server.stop(), 0)
            c.run("verify", "--store", "store1")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if not CAIRN:
        sys.exit("usage: server_test.py PATH/TO/cairn")
    unittest.main()

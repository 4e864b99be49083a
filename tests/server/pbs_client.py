"""A PBS backup/reader protocol client written from the protocol's description (spec 2, 3 and
8.4), independent of Cairn's C++ code: the conformance client of the protocol tests. It does
what proxmox-backup-client and Proxmox VE's QEMU library do on the wire: the HTTP/1.1 upgrade
byte for byte (`GET //api2/json/backup?...`, `connection: upgrade`), then HTTP/2 with prior
knowledge on the same TLS socket (python3-h2), DataBlob encoding (CRC32, zstd level 1), index
checksums and the manifest.

Needs Debian's python3-h2 and python3-zstandard: run it with /usr/bin/python3.
"""

import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import urllib.parse
import zlib

import h2.config
import h2.connection
import h2.events
import h2.settings
import zstandard

UNCOMPRESSED_MAGIC = bytes([66, 171, 56, 7, 190, 131, 112, 161])
COMPRESSED_MAGIC = bytes([49, 185, 88, 66, 111, 182, 163, 127])
ENCRYPTED_MAGIC = bytes([123, 103, 133, 190, 34, 45, 76, 240])
ENCRYPTED_COMPRESSED_MAGIC = bytes([230, 89, 27, 191, 11, 191, 216, 11])
BACKUP_PROTOCOL = "proxmox-backup-protocol-v1"
READER_PROTOCOL = "proxmox-backup-reader-protocol-v1"
FIXED_CHUNK_SIZE = 4 << 20


def encode_blob(data, compress=True):
    """An unencrypted DataBlob: zstd level 1 when that is smaller, as the real client does."""
    if compress:
        packed = zstandard.ZstdCompressor(level=1).compress(data)
        if len(packed) < len(data):
            return COMPRESSED_MAGIC + struct.pack("<I", zlib.crc32(packed)) + packed
    return UNCOMPRESSED_MAGIC + struct.pack("<I", zlib.crc32(data)) + data


class Crypt:
    """PBS's client-side encryption (pbs-tools crypt_config.rs): AES-256-GCM with a 16-byte IV,
    chunk digests SHA-256(plain || id_key), id_key = PBKDF2-HMAC-SHA256(key, "_id_key", 10),
    the manifest signed with HMAC-SHA256(id_key, canonical JSON)."""

    def __init__(self, key):
        self.key = key
        self.id_key = hashlib.pbkdf2_hmac("sha256", key, b"_id_key", 10, 32)

    def digest(self, data):
        return hashlib.sha256(data + self.id_key).hexdigest()

    def fingerprint(self):
        input_ = hashlib.sha256(b"Proxmox Backup Encryption Key Fingerprint").digest()
        raw = hashlib.sha256(input_ + self.id_key).digest()
        return ":".join(f"{b:02x}" for b in raw)

    def encode(self, data):
        """An encrypted DataBlob: zstd level 1 first when that is smaller."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        packed = zstandard.ZstdCompressor(level=1).compress(data)
        magic, payload = ((ENCRYPTED_COMPRESSED_MAGIC, packed) if len(packed) < len(data)
                          else (ENCRYPTED_MAGIC, data))
        iv = os.urandom(16)
        sealed = AESGCM(self.key).encrypt(iv, payload, None)  # ciphertext || tag
        # The CRC covers what follows the 44-byte header (magic, CRC, IV, tag): the ciphertext.
        return magic + struct.pack("<I", zlib.crc32(sealed[:-16])) + iv + sealed[-16:] + sealed[:-16]

    def sign(self, manifest):
        signed = {k: v for k, v in manifest.items() if k not in ("unprotected", "signature")}
        text = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self.id_key, text, hashlib.sha256).hexdigest()


def decode_blob(blob):
    magic, payload = blob[:8], blob[12:]
    if struct.unpack("<I", blob[8:12])[0] != zlib.crc32(payload):
        raise ValueError("blob CRC mismatch")
    if magic == COMPRESSED_MAGIC:
        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=64 << 20)
    if magic == UNCOMPRESSED_MAGIC:
        return payload
    raise ValueError("unknown or encrypted blob")


def fixed_csum(digests):
    h = hashlib.sha256()
    for d in digests:
        h.update(d)
    return h.hexdigest()


class UpgradeRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"upgrade refused: {status} {body!r}")
        self.status, self.body = status, body


class Session:
    """One upgraded connection. request() runs one request; send_all() many at once."""

    def __init__(self, port, fingerprint, auth_header, query, protocol, host="127.0.0.1",
                 speak_h2=True):
        """Upgrades a new connection. With speak_h2=False it stops after the 101: `sock` is
        the upgraded TLS socket and `rest` what came after the 101, for raw HTTP/2 bytes."""
        sock = socket.create_connection((host, port), timeout=120)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # spec 8.5
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(sock)  # no ALPN, as the real client
        der = self.sock.getpeercert(binary_form=True)
        seen = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        if seen != fingerprint:
            raise AssertionError(f"certificate fingerprint {seen} != {fingerprint}")
        path = "backup" if protocol == BACKUP_PROTOCOL else "reader"
        request = (f"GET //api2/json/{path}?{urllib.parse.urlencode(query)} HTTP/1.1\r\n"
                   f"host: localhost:{port}\r\n"
                   "user-agent: proxmox-backup-client/1.0\r\n"
                   "content-type: application/x-www-form-urlencoded\r\n"
                   f"{auth_header}\r\n"
                   "connection: upgrade\r\n"
                   f"upgrade: {protocol}\r\n\r\n")
        self.sock.sendall(request.encode())
        head, rest = self._read_head()
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                more = self.sock.recv(65536)
                if not more:
                    break
                rest += more
            self.sock.close()
            raise UpgradeRefused(status, rest.decode(errors="replace"))
        self.rest = rest
        if not speak_h2:
            return
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        window = (1 << 31) - 2  # PBS's client windows and frame size (spec 2.1)
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window,
                                   h2.settings.SettingCodes.MAX_FRAME_SIZE: 4 << 20})
        self.conn.increment_flow_control_window(window - 65535)
        self.sock.sendall(self.conn.data_to_send())
        self.results = {}
        self.closed = False
        if rest:
            self._feed(rest)

    def _read_head(self):
        data = b""
        while b"\r\n\r\n" not in data:
            more = self.sock.recv(4096)
            if not more:
                raise ConnectionError("connection closed during the upgrade")
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        return head, rest

    def _feed(self, data):
        for event in self.conn.receive_data(data):
            sid = getattr(event, "stream_id", None)
            if isinstance(event, h2.events.ResponseReceived):
                self.results.setdefault(sid, {})["status"] = int(dict(event.headers)[":status"])
            elif isinstance(event, h2.events.DataReceived):
                r = self.results.setdefault(sid, {})
                r["body"] = r.get("body", b"") + event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
            elif isinstance(event, h2.events.StreamEnded):
                self.results.setdefault(sid, {})["done"] = True
            elif isinstance(event, h2.events.StreamReset):
                self.results.setdefault(sid, {})["reset"] = event.error_code
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closed = True
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def _pump(self):
        data = self.sock.recv(1 << 20)
        if not data:
            self.closed = True
            raise ConnectionError("connection closed by the server")
        self._feed(data)

    def _start(self, method, path, body, content_type):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "https"), (":authority", "localhost:8007"),
                   (":path", "/" + path)]
        if content_type:
            headers.append(("content-type", content_type))
        self.conn.send_headers(sid, headers, end_stream=not body)
        self.sock.sendall(self.conn.data_to_send())
        return sid, memoryview(body or b"")

    def _send_body(self, pending):
        """Sends what flow control allows of each pending body; False when all are sent."""
        busy = False
        for sid, view in list(pending.items()):
            while view:
                n = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size,
                        len(view))
                if n <= 0:
                    break
                self.conn.send_data(sid, bytes(view[:n]), end_stream=n == len(view))
                view = view[n:]
            pending[sid] = view
            if view:
                busy = True
            else:
                del pending[sid]
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)
        return busy

    def send_all(self, requests, in_flight=64):
        """Runs [(method, path, body, content_type)], `in_flight` streams open at once (the
        server allows 128); returns [(status, body)] in order (status None for a reset
        stream)."""
        out = []
        for i in range(0, len(requests), in_flight):
            out += self._send_batch(requests[i:i + in_flight])
        return out

    def _send_batch(self, requests):
        sids, pending = [], {}
        for method, path, body, content_type in requests:
            sid, view = self._start(method, path, body, content_type)
            sids.append(sid)
            if view:
                pending[sid] = view
        while self._send_body(pending) or not all(
                self.results.get(s, {}).get("done") or "reset" in self.results.get(s, {})
                for s in sids):
            self._pump()
        out = []
        for sid in sids:
            r = self.results.pop(sid)
            out.append((None if "reset" in r else r.get("status"), r.get("body", b"")))
        return out

    def request(self, method, path, params=None, body=None, json_body=None):
        if params:
            path += "?" + urllib.parse.urlencode(params)
        content_type = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = "application/json"
        elif body is not None:
            content_type = "application/octet-stream"
        return self.send_all([(method, path, body, content_type)])[0]

    def call(self, method, path, params=None, body=None, json_body=None):
        """The `data` of a 2xx answer (None for an empty body); raises on an error status."""
        status, answer = self.request(method, path, params, body, json_body)
        if status is None or status // 100 != 2:
            raise ProtocolError(status, answer)
        return json.loads(answer)["data"] if answer else None

    def close(self):
        try:
            self.conn.close_connection()
            self.sock.sendall(self.conn.data_to_send())
        except OSError:
            pass
        self.sock.close()


class ProtocolError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status}: {body.decode(errors='replace') if body else ''}")
        self.status, self.body = status, body


class Backup:
    """A backup session as proxmox-backup-client runs it (spec 2.7)."""

    def __init__(self, session, backup_type, backup_id, backup_time):
        self.s = session
        self.type, self.id, self.time = backup_type, backup_id, backup_time
        self.files = []

    def upload_chunks(self, wid, chunks, fixed=False, crypt=None):
        """Uploads every chunk in parallel streams (encrypted with `crypt`, a Crypt); returns
        their digests."""
        requests, digests = [], []
        for data in chunks:
            digest = crypt.digest(data) if crypt else hashlib.sha256(data).hexdigest()
            blob = crypt.encode(data) if crypt else encode_blob(data)
            query = urllib.parse.urlencode({"wid": wid, "digest": digest, "size": len(data),
                                            "encoded-size": len(blob)})
            path = ("fixed_chunk" if fixed else "dynamic_chunk") + "?" + query
            requests.append(("POST", path, blob, "application/octet-stream"))
            digests.append(digest)
        for status, body in self.s.send_all(requests):
            if status != 200:
                raise ProtocolError(status, body)
        return digests

    def dynamic_archive(self, name, chunks, known=()):
        """A .didx archive of `chunks` (bytes); those whose digest is in `known` are appended
        without upload, the others uploaded first."""
        writer = DynamicWriter(self, name)
        writer.add(chunks, known)
        writer.close()

    def fixed_archive(self, name, image, reuse=None):
        """A .fidx image in 4 MiB chunks; with `reuse` (the previous index's csum) only the
        chunks given in reuse['changed'] (slot numbers) are uploaded and appended."""
        params = {"archive-name": name, "size": len(image)}
        if reuse:
            params["reuse-csum"] = reuse["csum"]
        wid = self.s.call("POST", "fixed_index", params)
        chunks = [image[i:i + FIXED_CHUNK_SIZE] for i in range(0, len(image), FIXED_CHUNK_SIZE)]
        slots = range(len(chunks)) if not reuse else reuse["changed"]
        # QEMU's library uploads the all-zero chunk once per drive first.
        zero = bytes(FIXED_CHUNK_SIZE)
        self.upload_chunks(wid, [zero], fixed=True)
        upload = {hashlib.sha256(chunks[i]).hexdigest(): chunks[i] for i in slots}
        upload.pop(hashlib.sha256(zero).hexdigest(), None)
        self.upload_chunks(wid, list(upload.values()), fixed=True)
        self.s.call("PUT", "fixed_index",
                    json_body={"wid": wid,
                               "digest-list": [hashlib.sha256(chunks[i]).hexdigest()
                                               for i in slots],
                               "offset-list": [i * FIXED_CHUNK_SIZE for i in slots]})
        csum = fixed_csum([hashlib.sha256(c).digest() for c in chunks])
        self.s.call("POST", "fixed_close", {"wid": wid, "chunk-count": len(slots),
                                            "size": len(image), "csum": csum})
        self.files.append({"filename": name, "crypt-mode": "none", "size": len(image),
                           "csum": csum})
        return csum

    def blob(self, name, data):
        blob = encode_blob(data)
        self.s.call("POST", "blob", {"file-name": name, "encoded-size": len(blob)}, body=blob)
        self.files.append({"filename": name, "crypt-mode": "none", "size": len(blob),
                           "csum": hashlib.sha256(blob).hexdigest()})

    def encrypted_image(self, name, image, crypt):
        """A .fidx image whose chunks are encrypted (crypt-mode encrypt): the server cannot
        check their digests, only their form."""
        wid = self.s.call("POST", "fixed_index", {"archive-name": name, "size": len(image)})
        chunks = [image[i:i + FIXED_CHUNK_SIZE] for i in range(0, len(image), FIXED_CHUNK_SIZE)]
        digests = self.upload_chunks(wid, chunks, fixed=True, crypt=crypt)
        self.s.call("PUT", "fixed_index",
                    json_body={"wid": wid, "digest-list": digests,
                               "offset-list": [i * FIXED_CHUNK_SIZE for i in range(len(chunks))]})
        csum = fixed_csum([bytes.fromhex(d) for d in digests])
        self.s.call("POST", "fixed_close", {"wid": wid, "chunk-count": len(chunks),
                                            "size": len(image), "csum": csum})
        self.files.append({"filename": name, "crypt-mode": "encrypt", "size": len(image),
                           "csum": csum})
        return digests

    def finish(self, crypt=None):
        manifest = {"backup-type": self.type, "backup-id": self.id, "backup-time": self.time,
                    "files": self.files, "unprotected": {}}
        if crypt:  # signed, and the key named, as the real client does with a key
            manifest["signature"] = crypt.sign(manifest)
            manifest["unprotected"]["key-fingerprint"] = crypt.fingerprint()
        blob = encode_blob(json.dumps(manifest, indent=2).encode())
        self.s.call("POST", "blob", {"file-name": "index.json.blob", "encoded-size": len(blob)},
                    body=blob)
        self.s.call("POST", "finish")


class DynamicWriter:
    """One .didx archive being written. Several may be open at once, as the real client writes
    an archive and its catalog side by side (legacy mode) or a split archive's two streams."""

    def __init__(self, backup, name):
        self.b, self.name = backup, name
        self.wid = backup.s.call("POST", "dynamic_index", {"archive-name": name})
        self.entries = []  # (end offset, digest bytes)

    def add(self, chunks, known=()):
        """Appends `chunks` (bytes) in order; those whose digest is in `known` (hex) are
        appended without upload, as the client does with what `previous` listed."""
        digests = [hashlib.sha256(c).hexdigest() for c in chunks]
        new = {d: c for c, d in zip(chunks, digests) if d not in known}
        self.b.upload_chunks(self.wid, list(new.values()))
        self.append(digests, [len(c) for c in chunks])

    def append(self, digests, sizes):
        """Appends chunks by digest only (uploaded before, or known from `previous`)."""
        offsets = []
        end = self.entries[-1][0] if self.entries else 0
        for digest, size in zip(digests, sizes):
            offsets.append(end)
            end += size
            self.entries.append((end, bytes.fromhex(digest)))
        for i in range(0, len(digests), 64):  # the client batches appends
            self.b.s.call("PUT", "dynamic_index",
                          json_body={"wid": self.wid, "digest-list": digests[i:i + 64],
                                     "offset-list": offsets[i:i + 64]})

    def close(self):
        h = hashlib.sha256()
        for end, digest in self.entries:
            h.update(struct.pack("<Q", end) + digest)
        size = self.entries[-1][0] if self.entries else 0
        self.b.s.call("POST", "dynamic_close", {"wid": self.wid,
                                                "chunk-count": len(self.entries),
                                                "size": size, "csum": h.hexdigest()})
        self.b.files.append({"filename": self.name, "crypt-mode": "none", "size": size,
                             "csum": h.hexdigest()})


class Reader:
    """A reader session as the real client's restore runs it (spec 3)."""

    def __init__(self, session):
        self.s = session

    def download(self, file_name):
        status, body = self.s.request("GET", "download", {"file-name": file_name})
        if status != 200:
            raise ProtocolError(status, body)
        return body

    def manifest(self):
        return json.loads(decode_blob(self.download("index.json.blob")))

    def chunks(self, digests):
        """The decoded chunks, fetched over parallel streams."""
        answers = self.s.send_all([("GET", "chunk?digest=" + d, None, None) for d in digests])
        out = []
        for (status, body), digest in zip(answers, digests):
            if status != 200:
                raise ProtocolError(status, body)
            data = decode_blob(body)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"chunk {digest} does not match its digest")
            out.append(data)
        return out

    def restore_dynamic(self, name):
        index = self.download(name)
        digests = [index[4096 + 40 * i + 8:4096 + 40 * i + 40].hex()
                   for i in range((len(index) - 4096) // 40)]
        return b"".join(self.chunks(digests))

    def restore_fixed(self, name, size):
        index = self.download(name)
        digests = [index[4096 + 32 * i:4096 + 32 * i + 32].hex()
                   for i in range((len(index) - 4096) // 32)]
        unique = list(dict.fromkeys(digests))
        by_digest = dict(zip(unique, self.chunks(unique)))
        return b"".join(by_digest[d] for d in digests)[:size]

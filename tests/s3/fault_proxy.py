#!/usr/bin/env python3
"""Fault-injecting HTTP/1.1 reverse proxy for Cairn's S3 tests.

Listens on 127.0.0.1:PORT and forwards every request unchanged (method, path and query, headers
including Host, body) to an upstream S3 server on 127.0.0.1:UPSTREAM_PORT, then relays the reply.
Keep-alive on both sides. With a seeded probability per request it injects a fault instead:
an S3 error reply, a connection reset, a truncated reply, a delay, or a lost reply (the request
reaches the upstream, the client never sees the answer).

Control endpoint, never forwarded (any Host):
  POST /__cairn_fault__  {"rate": 0.1, "kinds": [...], "seed": 1, "delay_ms": 200,
                          "methods": ["PUT", ...]}   sets the config, resets the counters
  GET  /__cairn_fault__  -> {"requests": N, "forwarded": N, "injected": {"500": n, ...},
                             "config": {...}}

Standard library only. See tests/s3/README.md.
"""

import argparse
import http.client
import http.server
import json
import logging
import random
import socket
import ssl
import struct
import sys
import threading
import time
import traceback

CONTROL_PATH = "/__cairn_fault__"
KINDS = ("500", "503", "slowdown", "reset", "truncate", "delay", "lost_reply")
# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business on each side; everything
# else is forwarded byte for byte, so SigV4 signatures stay valid.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "expect",
}

log = logging.getLogger("fault_proxy")


class FaultState:
    """Config, seeded RNG and counters, all under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.configure({})

    def configure(self, cfg):
        rate = float(cfg.get("rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        kinds = cfg.get("kinds", list(KINDS))
        if isinstance(kinds, str):
            kinds = [kinds]
        kinds = [str(k) for k in kinds]
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise ValueError(f"unknown fault kinds {bad}; known: {list(KINDS)}")
        if rate > 0 and not kinds:
            raise ValueError("rate > 0 needs at least one kind")
        seed = cfg.get("seed", 1)
        delay_ms = int(cfg.get("delay_ms", 200))
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        methods = cfg.get("methods")
        if methods is not None:
            if isinstance(methods, str):
                methods = [methods]
            methods = sorted({str(m).upper() for m in methods})
        with self.lock:
            self.rate = rate
            self.kinds = kinds
            self.seed = seed
            self.delay_ms = delay_ms
            self.methods = methods
            self.rng = random.Random(seed)
            self.requests = 0
            self.forwarded = 0
            self.injected = {k: 0 for k in KINDS}
        return self.config()

    def config(self):
        return {"rate": self.rate, "kinds": list(self.kinds), "seed": self.seed,
                "delay_ms": self.delay_ms, "methods": self.methods}

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "forwarded": self.forwarded,
                    "injected": dict(self.injected), "config": self.config()}

    def pick(self, method):
        """Counts a request and returns the fault kind to inject for it, or None."""
        with self.lock:
            self.requests += 1
            if self.rate <= 0 or not self.kinds:
                return None
            if self.methods is not None and method.upper() not in self.methods:
                return None
            if self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def count_forwarded(self):
        with self.lock:
            self.forwarded += 1


def s3_error_body(code, message):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>cairn-fault-proxy</RequestId></Error>"
    ).encode()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cairn-fault-proxy"
    # An idle keep-alive client connection is dropped after this many seconds.
    timeout = 300

    # One upstream connection per client connection (handler instances live per connection).
    upstream = None
    upstream_used = False

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)

    def log_error(self, fmt, *args):
        log.warning("%s %s", self.address_string(), fmt % args)

    # --- request plumbing -------------------------------------------------------------------

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # Trailer section up to the empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self._read_exact(size))
                self.rfile.readline(3)  # CRLF after each chunk
            return b"".join(chunks), True
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        return self._read_exact(int(length)), False

    def _read_exact(self, n):
        parts = []
        while n > 0:
            chunk = self.rfile.read(min(n, 1 << 20))
            if not chunk:
                raise ConnectionError("client closed before the whole body was sent")
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def _upstream_conn(self):
        if self.upstream is None:
            srv = self.server
            if srv.upstream_tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                self.upstream = http.client.HTTPSConnection(
                    srv.upstream_host, srv.upstream_port, timeout=120, context=ctx)
            else:
                self.upstream = http.client.HTTPConnection(
                    srv.upstream_host, srv.upstream_port, timeout=120)
            self.upstream_used = False
        return self.upstream

    def _drop_upstream(self):
        if self.upstream is not None:
            try:
                self.upstream.close()
            except Exception:
                pass
        self.upstream = None

    def _forward(self, body, chunked):
        """Sends the request upstream; returns (status, reason, [(name, value)], body)."""
        for attempt in (1, 2):
            conn = self._upstream_conn()
            reused = self.upstream_used
            try:
                conn.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() in HOP_BY_HOP:
                        continue
                    conn.putheader(name, value)
                if chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders(body if (body or chunked) else None, encode_chunked=chunked)
                resp = conn.getresponse()
                data = resp.read()
                headers = resp.getheaders()
                status, reason = resp.status, resp.reason
                if resp.will_close:
                    self._drop_upstream()
                else:
                    self.upstream_used = True
                self.server.state.count_forwarded()
                return status, reason, headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop_upstream()
                # The upstream may close an idle keep-alive connection just as we reuse it:
                # retry once on a fresh one, never on a fresh connection's failure.
                if attempt == 1 and reused:
                    continue
                raise
            except Exception:
                self._drop_upstream()
                raise
        raise AssertionError("unreachable")

    # --- replies ----------------------------------------------------------------------------

    def _send_plain(self, status, body, extra_headers=(), content_type="application/xml"):
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_head_of(self, status, reason, headers, body):
        """Writes status line and headers of an upstream reply; returns whether a body follows."""
        self.send_response_only(status, reason)
        has_length = False
        for name, value in headers:
            lname = name.lower()
            if lname in HOP_BY_HOP:
                continue
            if lname == "content-length":
                has_length = True
            self.send_header(name, value)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if not no_body and not has_length:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        return not no_body

    def _relay(self, status, reason, headers, body):
        if self._send_head_of(status, reason, headers, body):
            self.wfile.write(body)
        self.wfile.flush()

    def _reset(self):
        """Closes the client connection with a TCP RST (SO_LINGER 0)."""
        self.close_connection = True
        sock = self.connection
        try:
            self.wfile.flush()
        except OSError:
            pass
        # Let already written bytes leave the send queue first (bounded wait), so that a
        # truncated reply really reaches the client before the RST throws away the rest.
        self._wait_send_queue_empty(sock, 2.0)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a reference on the socket: the fd is only really closed (and the RST
        # only sent) once it is closed too.
        try:
            self.rfile.close()
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    @staticmethod
    def _wait_send_queue_empty(sock, limit):
        try:
            import fcntl
            import termios
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
                if struct.unpack("i", buf)[0] == 0:
                    return
                time.sleep(0.005)
        except Exception:
            pass

    # --- control endpoint -------------------------------------------------------------------

    def _control(self, body):
        state = self.server.state
        if self.command == "POST":
            try:
                cfg = json.loads(body.decode() or "{}")
                if not isinstance(cfg, dict):
                    raise ValueError("config must be a JSON object")
                reply = state.configure(cfg)
            except (ValueError, TypeError) as e:
                self._send_plain(400, json.dumps({"error": str(e)}).encode(),
                                 content_type="application/json")
                return
            log.info("fault config: %s", json.dumps(reply))
            self._send_plain(200, json.dumps(reply).encode(), content_type="application/json")
        elif self.command in ("GET", "HEAD"):
            self._send_plain(200, json.dumps(state.stats()).encode(),
                             content_type="application/json")
        else:
            self._send_plain(405, b'{"error": "use GET or POST"}',
                             content_type="application/json")

    # --- main entry -------------------------------------------------------------------------

    def _handle(self):
        try:
            body, chunked = self._read_body()
        except ValueError as e:  # a Content-Length or chunk size that is not a number
            log.warning("bad request framing from %s: %s", self.address_string(), e)
            self.close_connection = True
            self._send_plain(400, s3_error_body("BadRequest", "fault proxy: bad body framing"))
            return
        except (ConnectionError, OSError) as e:
            log.warning("bad request body from %s: %s", self.address_string(), e)
            self.close_connection = True
            return
        if self.path.split("?", 1)[0].startswith(CONTROL_PATH):
            self._control(body)
            return

        state = self.server.state
        kind = state.pick(self.command)
        if kind is not None:
            log.info("inject %s on %s %s", kind, self.command, self.path)
        if kind == "500":
            self._send_plain(500, s3_error_body("InternalError", "injected"))
            return
        if kind == "503":
            self._send_plain(503, s3_error_body("ServiceUnavailable", "injected"))
            return
        if kind == "slowdown":
            self._send_plain(503, s3_error_body("SlowDown", "injected"), [("Retry-After", "1")])
            return
        if kind == "reset":
            self._reset()
            return
        if kind == "delay":
            time.sleep(state.delay_ms / 1000.0)

        try:
            status, reason, headers, data = self._forward(body, chunked)
        except Exception as e:
            log.warning("upstream failed for %s %s: %r", self.command, self.path, e)
            self._send_plain(502, s3_error_body("BadGateway", f"fault proxy: upstream: {e!r}"))
            return

        if kind == "lost_reply":
            self._reset()
            return
        if kind == "truncate":
            has_body = not (self.command == "HEAD" or status in (204, 304)) and data
            if has_body:
                # Headers promise the full Content-Length; half the body follows, then a RST.
                self._send_head_of(status, reason, headers, data)
                self.wfile.write(data[: len(data) // 2])
            self._reset()
            return
        self._relay(status, reason, headers, data)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, socket.timeout) as e:
            log.debug("client connection %s: %r", self.address_string(), e)
            self.close_connection = True
        except OSError as e:
            log.debug("client connection %s: %r", self.address_string(), e)
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self._drop_upstream()

    def __getattr__(self, name):
        # do_GET, do_PUT, do_WHATEVER: every method is proxied.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, upstream_host, upstream_port, upstream_tls):
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.upstream_tls = upstream_tls
        self.state = FaultState()
        super().__init__(addr, ProxyHandler)

    def handle_error(self, request, client_address):
        # One bad connection never stops the server; the traceback goes to the log.
        log.error("error on connection from %s:\n%s", client_address, traceback.format_exc())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--upstream-tls", action="store_true",
                    help="talk HTTPS to the upstream (certificate not verified)")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    ap.add_argument("--max-seconds", type=float, default=1800,
                    help="exit after this long even if nobody stops the proxy (a crashed test)")
    args = ap.parse_args(argv)

    handler = logging.FileHandler(args.log) if args.log else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)

    server = ProxyServer((args.host, args.port), args.upstream_host, args.upstream_port,
                         args.upstream_tls)
    log.info("listening on %s:%d, upstream %s://%s:%d", args.host, server.server_address[1],
             "https" if args.upstream_tls else "http", args.upstream_host, args.upstream_port)
    watchdog = threading.Timer(args.max_seconds, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

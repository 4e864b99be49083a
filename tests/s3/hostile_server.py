#!/usr/bin/env python3
"""A deliberately broken S3 server for Cairn's tests (src/s3/hostile_test.cc).

Listens on 127.0.0.1 (a free port), prints "PORT PID" on stdout, and answers by key:
  HEAD /bkt/overflow       Content-Length of 30 digits
  GET  /bkt/range          206 with a Content-Range that is not the one asked for
  GET  /bkt/huge           a 17 MiB body for a listing (?list-type=2)
  PUT  /bkt/copy           200 whose body is an InternalError (a failed copy)
  GET  /bkt?list-type=2    a <Contents> without <Key>
Exits after --seconds (default 300) so a killed test cannot leave it behind.
"""
import argparse
import http.server
import sys
import threading

ERROR = b"<Error><Code>InternalError</Code><Message>copy failed</Message></Error>"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    def do_HEAD(self):
        if self.path.startswith("/bkt/overflow"):
            self.reply(200, headers=[("Content-Length", "9" * 30)])
        else:
            self.reply(200)

    def do_GET(self):
        if self.path.startswith("/bkt/range"):
            self.reply(206, b"x" * 10, [("Content-Range", "bytes 0-9/100")])
        elif self.path.startswith("/bkt?") and "list-type=2" in self.path and "prefix=huge" in self.path:
            self.reply(200, b"<" + b"x" * (17 << 20))
        elif self.path.startswith("/bkt?") and "list-type=2" in self.path:
            self.reply(200, b"<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
                            b"<Size>1</Size><LastModified>2025-01-01T00:00:00Z</LastModified>"
                            b"</Contents></ListBucketResult>")
        else:
            self.reply(404)

    def do_PUT(self):
        self.drain()
        if self.path.startswith("/bkt/copy"):
            self.reply(200, ERROR)
        else:
            self.reply(200)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    import os
    print(server.server_address[1], os.getpid(), flush=True)
    threading.Timer(args.seconds, server.shutdown).start()
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()

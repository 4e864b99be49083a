#!/usr/bin/env python3
"""boto3 side of bench/s3_bench.sh: the workload of `cairn s3 benchmark`, done with boto3.

  s3_boto3_bench.py --server DIR/KIND.json BUCKET --object-size BYTES --count N --threads N
  s3_boto3_bench.py --endpoint URL --access-key K --secret-key S BUCKET ...

As cairn does: CreateBucket (an existing bucket of ours is fine); THREADS workers (one
ThreadPoolExecutor, one shared client) PUT COUNT objects of OBJECT-SIZE bytes (one payload, the
same bytes as cairn's), each worker taking the next unclaimed object; then the same workers GET
them all back (each body read fully, its size checked); then the objects are deleted (not
timed). Keys are PREFIX/EPOCH-PID/I, cairn's scheme under another prefix. Prints
{"put": {...}, "get": {...}, "threads": N, "s3": {...}} like `cairn --output-format json s3
benchmark`. The client is boto3's default over http, path-style: SigV4 over the payload's
SHA-256 plus the default CRC32 checksum header; botocore's pool holds THREADS connections; at
most 3 attempts per request. Only the endpoint it is given is contacted.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import threading
import time

import boto3
import botocore.config
import botocore.exceptions

# botocore operation -> the request kinds cairn's S3 stats count.
KINDS = {"PutObject": "put", "CreateBucket": "put", "GetObject": "get", "HeadObject": "head",
         "HeadBucket": "head", "DeleteObject": "delete", "DeleteObjects": "delete",
         "ListObjectsV2": "list", "CopyObject": "copy"}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bucket")
    ap.add_argument("--server", help="KIND.json written by tests/s3/s3_server.py")
    ap.add_argument("--endpoint")
    ap.add_argument("--access-key")
    ap.add_argument("--secret-key")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--object-size", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--prefix", default="boto3-benchmark",
                    help="first key component (default boto3-benchmark)")
    ap.add_argument("--keep", action="store_true", help="do not delete the objects afterwards")
    args = ap.parse_args(argv)
    if args.server:
        with open(args.server) as f:
            rec = json.load(f)
        args.endpoint = args.endpoint or rec["endpoint"]
        args.access_key = args.access_key or rec["access_key"]
        args.secret_key = args.secret_key or rec["secret_key"]
        args.region = rec.get("region", args.region)
    if not (args.endpoint and args.access_key and args.secret_key):
        ap.error("need --server or --endpoint, --access-key and --secret-key")
    if args.object_size < 1 or args.count < 1 or args.threads < 1:
        ap.error("--object-size, --count and --threads must be >= 1")
    return args


def make_client(args):
    cfg = botocore.config.Config(
        region_name=args.region,
        max_pool_connections=args.threads,
        retries={"total_max_attempts": 3},
        s3={"addressing_style": "path"},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=args.endpoint, aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key, config=cfg)


class Counter:
    """Counts HTTP requests (every attempt) by kind, and API calls, through botocore's events:
    before-call fires once per call, before-send once per attempt; the difference is retries."""

    def __init__(self, client):
        self.lock = threading.Lock()
        self.requests = collections.Counter({k: 0 for k in set(KINDS.values())})
        self.calls = 0
        client.meta.events.register("before-call.s3", self._call)
        client.meta.events.register("before-send.s3", self._sent)

    def _call(self, **kwargs):
        with self.lock:
            self.calls += 1

    def _sent(self, event_name, **kwargs):
        op = event_name.rsplit(".", 1)[-1]  # before-send.s3.PutObject
        with self.lock:
            self.requests[KINDS.get(op, op)] += 1

    @property
    def retries(self):
        return sum(self.requests.values()) - self.calls


def ensure_bucket(client, bucket):
    try:
        client.create_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def payload(size):
    """cairn's benchmark payload: byte i is (i * 131 + 7) mod 256."""
    period = bytes((i * 131 + 7) & 0xFF for i in range(256))
    return (period * (size // 256 + 1))[:size]


def phase(pool, threads, count, op):
    """Runs op(i) for every i in [0, count) on `threads` workers, each taking the next
    unclaimed i; returns the wall seconds until all are done. Raises the first error."""
    lock = threading.Lock()
    state = {"next": 0}

    def work():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= count:
                return
            try:
                op(i)
            except BaseException:
                with lock:
                    state["next"] = count  # stop the others, as cairn does
                raise

    t0 = time.perf_counter()
    futures = [pool.submit(work) for _ in range(threads)]
    for f in futures:
        f.result()
    return time.perf_counter() - t0


def figures(objects, nbytes, seconds):
    secs = max(seconds, 1e-9)
    return {"objects": objects, "bytes": nbytes, "seconds": seconds,
            "objects-per-second": objects / secs, "mib-per-second": nbytes / 2**20 / secs}


def delete_all(client, bucket, keys, threads):
    """DeleteObjects in batches of 1000; DeleteObject per key where a batch fails (s3rver 3.7
    answers 500 to a batch that empties a key "directory": it races on removing it)."""
    left = []
    for j in range(0, len(keys), 1000):
        batch = keys[j:j + 1000]
        try:
            resp = client.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            left += [e["Key"] for e in resp.get("Errors", [])]
        except botocore.exceptions.ClientError:
            left += batch
    if left:
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda k: client.delete_object(Bucket=bucket, Key=k), left))


def main(argv=None):
    args = parse_args(argv)
    client = make_client(args)
    counter = Counter(client)
    ensure_bucket(client, args.bucket)
    n, size, threads = args.count, args.object_size, args.threads
    prefix = f"{args.prefix}/{int(time.time())}-{os.getpid()}/"
    keys = [f"{prefix}{i}" for i in range(n)]
    body = payload(size)

    def put(i):
        client.put_object(Bucket=args.bucket, Key=keys[i], Body=body)

    def get(i):
        got = len(client.get_object(Bucket=args.bucket, Key=keys[i])["Body"].read())
        if got != size:
            raise RuntimeError(f"{keys[i]}: read {got} bytes, wrote {size}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        put_s = phase(pool, threads, n, put)
        get_s = phase(pool, threads, n, get)
    if not args.keep:
        delete_all(client, args.bucket, keys, threads)
    print(json.dumps({
        "put": figures(n, n * size, put_s),
        "get": figures(n, n * size, get_s),
        "threads": threads,
        "s3": {"requests": dict(sorted(counter.requests.items())), "retries": counter.retries,
               "client": f"boto3 {boto3.__version__}"},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

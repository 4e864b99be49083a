#!/usr/bin/env python3
"""botocore as a SigV4 signing oracle for Cairn's S3 signer tests.

Reads one JSON document on stdin:

    {"requests": [{"method": "PUT",
                   "url": "http://bucket.localhost:9000/some%20key?x-id=1",
                   "headers": [["host", "bucket.localhost:9000"],
                               ["x-amz-date", "20251123T101500Z"],
                               ["x-amz-content-sha256", "<hex>"], ...],
                   "body_hex": "68656c6c6f",
                   "region": "us-east-1",
                   "access_key": "AK", "secret_key": "SK"}, ...]}

and writes, in the same order,

    {"results": [{"canonical_request": "...", "string_to_sign": "...",
                  "authorization": "...", "signature": "<hex>",
                  "signed_headers": "host;...", "payload_hash": "<hex>",
                  "content_sha256_header_matches_body": true|false|null}, ...]}

Signing is done by botocore.auth.S3SigV4Auth (the class boto3 uses for S3),
called the way botocore's own SigV4 test-suite calls it: canonical_request(),
string_to_sign(), signature(), then _inject_signature_to_request() for the
Authorization value.  add_auth() is deliberately not used, because it takes
the time from the clock and rewrites the request first (it replaces X-Amz-Date,
reformats a Date header and then drops X-Amz-Date, and re-adds a security
token).  So:

* The timestamp is the request's x-amz-date header (or "amz_date" if given);
  it is put into request.context['timestamp'], which is where every botocore
  signing step reads it from.
* Exactly the given headers are signed, minus botocore's fixed blacklist
  (botocore.auth.SIGNED_HEADERS_BLACKLIST: connection, expect, keep-alive,
  proxy-authenticate, proxy-authorization, te, trailer, transfer-encoding,
  upgrade, user-agent, x-amzn-trace-id) and minus any Authorization header
  (botocore removes that before signing).  The given host header value is the
  one signed; botocore only derives host from the URL when there is none.
  Repeated header names are kept and joined with ',' in the given order.
* The URL's path and query are taken as given: S3SigV4Auth neither normalises
  nor re-encodes the path, and the canonical query is built from the raw
  query text (split on '&', split at the first '=', sorted as (key, value)
  string pairs, joined back) without decoding or re-encoding anything.
* Payload signing is on: the payload hash is the real SHA-256 of the body
  (S3SigV4Auth.payload() with the client config's s3 payload_signing_enabled
  forced true, so even https URLs with Content-MD5 are body-signed).  Like
  S3SigV4Auth._modify_request_before_signing, that value replaces the value
  of an x-amz-content-sha256 header if the request has one (in place, so the
  header stays signed); content_sha256_header_matches_body tells whether the
  given value already was that hash (null when there is no such header).
  With "content_sha256": "as_given" in a request the given header value is
  kept and used as the payload line instead (e.g. UNSIGNED-PAYLOAD).

Optional per-request keys: "amz_date", "session_token" (adds an
X-Amz-Security-Token header when none is given, as botocore would),
"service" (default "s3"), "content_sha256" ("from_body" default, or
"as_given"), and "signer": "s3" (default, S3SigV4Auth) or "generic"
(botocore.auth.SigV4Auth: normalises the path and encodes it once more; only
for checking the generic AWS suite, never for S3 traffic).

Exit status 0 on success; on a malformed request it prints the request's
index and the error on stderr and exits 2.

"python3 botocore_sign.py --self-test" checks the oracle against AWS's
published examples in tests/testdata/sigv4/ and prints a summary.
"""

import hashlib
import hmac
import json
import os
import sys

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

_FORCE_PAYLOAD_SIGNING = Config(s3={'payload_signing_enabled': True})


def _header(headers, name):
    lname = name.lower()
    for n, v in headers:
        if n.lower() == lname:
            return v
    return None


def sign(r):
    method = r['method']
    url = r['url']
    headers = [(str(n), str(v)) for n, v in r.get('headers', [])]
    body = bytes.fromhex(r.get('body_hex', ''))
    timestamp = r.get('amz_date') or _header(headers, 'x-amz-date')
    if not timestamp:
        raise ValueError('no x-amz-date header and no "amz_date"')
    timestamp = timestamp.strip()

    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        if name.lower() == 'authorization':
            continue
        # HTTPHeaders.__setitem__ appends: duplicates and order are kept.
        request.headers[name] = value
    token = r.get('session_token')
    if token and 'X-Amz-Security-Token' not in request.headers:
        request.headers['X-Amz-Security-Token'] = token
    request.context['timestamp'] = timestamp
    request.context['payload_signing_enabled'] = True
    request.context['client_config'] = _FORCE_PAYLOAD_SIGNING

    cls = {'s3': S3SigV4Auth, 'generic': SigV4Auth}[r.get('signer', 's3')]
    auth = cls(
        Credentials(r['access_key'], r['secret_key'], token),
        r.get('service', 's3'),
        r['region'],
    )

    payload_hash = auth.payload(request)
    given = request.headers.get('X-Amz-Content-SHA256')
    matches = None if given is None else (given.strip() == payload_hash)
    mode = r.get('content_sha256', 'from_body')
    if mode == 'from_body':
        if given is not None:
            request.headers.replace_header('X-Amz-Content-SHA256',
                                           payload_hash)
    elif mode == 'as_given':
        if given is not None:
            payload_hash = given
    else:
        raise ValueError('content_sha256 must be "from_body" or "as_given"')

    canonical_request = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical_request)
    signature = auth.signature(string_to_sign, request)
    signed_headers = auth.signed_headers(auth.headers_to_sign(request))
    auth._inject_signature_to_request(request, signature)
    return {
        'canonical_request': canonical_request,
        'string_to_sign': string_to_sign,
        'authorization': request.headers['Authorization'],
        'signature': signature,
        'signed_headers': signed_headers,
        'payload_hash': payload_hash,
        'content_sha256_header_matches_body': matches,
    }


def main_stdin():
    doc = json.load(sys.stdin)
    results = []
    for i, r in enumerate(doc['requests']):
        try:
            results.append(sign(r))
        except Exception as e:  # report which request was bad
            print(f'botocore_sign.py: request {i}: {type(e).__name__}: {e}',
                  file=sys.stderr)
            sys.exit(2)
    json.dump({'results': results}, sys.stdout, ensure_ascii=False)
    sys.stdout.write('\n')


# --------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------

_UNRESERVED = set(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                  b'0123456789-._~')


def _enc(s, keep_slash):
    out = []
    for b in s.encode('utf-8'):
        if b in _UNRESERVED or (keep_slash and b == 0x2F):
            out.append(chr(b))
        else:
            out.append('%%%02X' % b)
    return ''.join(out)


def _enc_query(q):
    if not q:
        return ''
    parts = []
    for p in q.split('&'):
        k, eq, v = p.partition('=')
        parts.append(_enc(k, False) + eq + _enc(v, False))
    return '&'.join(parts)


def _check_chain(res, secret, date, region, service):
    """Recompute sts and signature from botocore's creq independently."""
    cr = res['canonical_request']
    sts = res['string_to_sign'].split('\n')
    assert sts[0] == 'AWS4-HMAC-SHA256'
    assert sts[3] == hashlib.sha256(cr.encode('utf-8')).hexdigest()
    k = ('AWS4' + secret).encode()
    for part in (date, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, res['string_to_sign'].encode('utf-8'),
                   hashlib.sha256).hexdigest()
    assert sig == res['signature'], 'signature chain mismatch'
    assert res['authorization'].endswith('Signature=' + sig)


def self_test():
    here = os.path.dirname(os.path.abspath(__file__))
    tdir = os.path.join(here, '..', 'testdata', 'sigv4')
    failures = []
    counts = {}

    def bump(k):
        counts[k] = counts.get(k, 0) + 1

    def norm_authz(a):
        return a.replace(', ', ',')

    # 1. AWS S3 documentation examples (single chunk, signed payload).
    p = os.path.join(tdir, 's3_examples.json')
    if os.path.exists(p):
        with open(p, encoding='utf-8') as f:
            doc = json.load(f)
        for c in doc['cases']:
            host = _header(c['headers'], 'host')
            url = 'https://' + host + c['wire_path']
            if c['wire_query']:
                url += '?' + c['wire_query']
            res = sign({
                'method': c['method'], 'url': url, 'headers': c['headers'],
                'body_hex': c['body'].encode('utf-8').hex(),
                'region': doc['region'], 'service': doc['service'],
                'access_key': doc['access_key'],
                'secret_key': doc['secret_key'],
            })
            ok = (res['canonical_request'] == c['creq']
                  and res['string_to_sign'] == c['sts']
                  and res['signature'] == c['signature']
                  and norm_authz(res['authorization']) == c['authz'])
            bump('s3_examples ok' if ok else 's3_examples FAILED')
            if not ok:
                failures.append(('s3_examples', c['name'], res))

    # 2. AWS SigV4 test suite (generic service "service").
    p = os.path.join(tdir, 'aws_suite.json')
    if os.path.exists(p):
        with open(p, encoding='utf-8') as f:
            doc = json.load(f)
        common = {'region': doc['region'], 'service': doc['service'],
                  'access_key': doc['access_key'],
                  'secret_key': doc['secret_key']}
        for c in doc['cases']:
            host = _header(c['headers'], 'host').strip()
            # (a) generic signer on the un-encoded path, as AWS intends.
            url = 'https://' + host + c['path']
            if c['query']:
                url += '?' + c['query']
            q_has_raw = any(ord(ch) > 127 for ch in c['query'])
            req = dict(common, method=c['method'], url=url,
                       headers=c['headers'],
                       body_hex=c['body'].encode('utf-8').hex(),
                       signer='generic',
                       session_token=c.get('session_token'))
            if q_has_raw:
                # botocore's generic signer does not encode a raw query
                # taken from the URL; feed it encoded like a client would.
                req['url'] = ('https://' + host + c['path'] + '?'
                              + _enc_query(c['query']))
            res = sign(req)
            ok = (res['canonical_request'] == c['creq']
                  and res['string_to_sign'] == c['sts']
                  and res['authorization'] == c['authz'])
            bump('aws_suite generic ok' if ok else 'aws_suite generic FAILED')
            if not ok:
                failures.append(('aws_suite generic', c['name'], res))
            # (b) S3 signer on the wire form (encoded once), skipping the
            #     cases that need path normalisation.
            if c['needs_path_normalization']:
                bump('aws_suite s3 skipped (normalisation)')
                continue
            url = 'https://' + host + _enc(c['path'], True)
            if c['query'] and '%' not in c['query']:
                url += '?' + _enc_query(c['query'])
            elif c['query']:
                url += '?' + c['query']  # already encoded
            res = sign(dict(common, method=c['method'], url=url,
                            headers=c['headers'],
                            body_hex=c['body'].encode('utf-8').hex(),
                            session_token=c.get('session_token')))
            ok = (res['canonical_request'] == c['creq']
                  and res['string_to_sign'] == c['sts']
                  and res['authorization'] == c['authz'])
            bump('aws_suite s3 ok' if ok else 'aws_suite s3 FAILED')
            if not ok:
                failures.append(('aws_suite s3', c['name'], res))

    # 3. Hand cases: canonical path/query as botocore's S3 signer makes them
    #    from the wire URL, plus an independent recomputation of the chain.
    empty = hashlib.sha256(b'').hexdigest()
    hand = [
        ('/b/key%20with%20space', '', '/b/key%20with%20space', ''),
        ('/b/a%2Bb%3Dc%26d', '', '/b/a%2Bb%3Dc%26d', ''),
        ('/b/' + _enc('caf\u00e9/\u65e5\u672c', True), '',
         '/b/caf%C3%A9/%E6%97%A5%E6%9C%AC', ''),
        ('/b', 'list-type=2&prefix=a%2Fb', '/b', 'list-type=2&prefix=a%2Fb'),
        ('/b', 'delete', '/b', 'delete='),
        ('/b', 'uploads', '/b', 'uploads='),
        ('/b', 'prefix=&list-type=2', '/b', 'list-type=2&prefix='),
        ('/b', 'list-type=2&continuation-token=' + _enc('1/a+b==', False)
         + '&max-keys=1000',
         '/b', 'continuation-token=1%2Fa%2Bb%3D%3D&list-type=2&max-keys=1000'),
        ('/b/k', 'partNumber=2&uploadId=' + _enc('x/y+z=', False),
         '/b/k', 'partNumber=2&uploadId=x%2Fy%2Bz%3D'),
        ('/b/k', 'x-id=PutObject', '/b/k', 'x-id=PutObject'),
        ('/b', 'a-b=1&a=2', '/b', 'a=2&a-b=1'),
        ('/b/double//slash/./dot/../', '',
         '/b/double//slash/./dot/../', ''),
    ]
    for path, query, want_path, want_query in hand:
        url = 'http://127.0.0.1:9000' + path + ('?' + query if query else '')
        headers = [['host', '127.0.0.1:9000'],
                   ['x-amz-date', '20251123T101500Z'],
                   ['x-amz-content-sha256', empty]]
        res = sign({'method': 'GET', 'url': url, 'headers': headers,
                    'body_hex': '', 'region': 'us-east-1',
                    'access_key': 'AK', 'secret_key': 'SK'})
        lines = res['canonical_request'].split('\n')
        ok = lines[1] == want_path and lines[2] == want_query
        try:
            _check_chain(res, 'SK', '20251123', 'us-east-1', 's3')
        except AssertionError:
            ok = False
        bump('hand ok' if ok else 'hand FAILED')
        if not ok:
            failures.append(('hand', url, res))

    for k in sorted(counts):
        print(f'{k}: {counts[k]}')
    for kind, name, res in failures:
        print(f'FAIL {kind} {name}:\n{json.dumps(res, indent=1)}')
    return 1 if failures else 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    if sys.argv[1:]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main_stdin()

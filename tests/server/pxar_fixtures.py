"""File-archive data for the conformance client's container/host backups, written from the
format description (spec pxar.md sections 11 and 14) and PBS's published fixtures
(tests/testdata/pxar), independent of Cairn's C++ code.

- The fixtures' tree: 10 directories of 10 files, each 1 MiB of zeros (testdata/pxar/README.md).
- `payload_stream()`: the .ppxar stream PBS's client writes for it; cut at the fixture index's
  chunk ends it gives exactly the fixture's chunk digests, so uploading those pieces is uploading
  what proxmox-backup-client uploads.
- `catalog()`: a pcat1 catalog file (legacy mode's `catalog.pcat1.didx` stream).
"""

import hashlib
import os
import struct

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "pxar")
PAYLOAD = 0x28147a1b0b7c1a25
PAYLOAD_START_MARKER = 0x834c68c2194a4ed2
PAYLOAD_TAIL_MARKER = 0x6c72b78b984c81b5
FILE_SIZE = 1 << 20
CATALOG_MAGIC = bytes([145, 253, 96, 249, 196, 103, 88, 213])


def fixture(name):
    with open(os.path.join(TESTDATA, name), "rb") as f:
        return f.read()


def header(kind, content_size=0):
    return struct.pack("<QQ", kind, 16 + content_size)


def payload_stream():
    """The fixture tree's payload stream: START marker, 100 PAYLOAD items, TAIL marker."""
    parts = [header(PAYLOAD_START_MARKER)]
    for _ in range(100):
        parts.append(header(PAYLOAD, FILE_SIZE) + bytes(FILE_SIZE))
    parts.append(header(PAYLOAD_TAIL_MARKER))
    return b"".join(parts)


def didx_entries(index):
    """[(end offset, digest bytes)] of a .didx file."""
    return [(struct.unpack_from("<Q", index, 4096 + 40 * i)[0],
             index[4096 + 40 * i + 8:4096 + 40 * i + 40])
            for i in range((len(index) - 4096) // 40)]


def cut(stream, ends):
    """`stream` cut into the chunks ending at `ends`."""
    out, start = [], 0
    for end in ends:
        out.append(stream[start:end])
        start = end
    if start != len(stream):
        raise ValueError(f"chunk ends stop at {start}, the stream is {len(stream)} bytes")
    return out


def fixture_payload_chunks():
    """The payload stream cut as PBS's client cut it; raises if a digest differs."""
    entries = didx_entries(fixture("backup-client-pxar-data.ppxar.didx"))
    chunks = cut(payload_stream(), [end for end, _ in entries])
    for i, (data, (_, digest)) in enumerate(zip(chunks, entries)):
        if hashlib.sha256(data).digest() != digest:
            raise ValueError(f"payload chunk {i} differs from the fixture's")
    return chunks


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7f
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Catalog:
    """A pcat1 catalog writer (spec pxar.md 14): directory blocks in post-order, the root block
    last, then its offset. `tree` is {name: size} for files and {name: {...}} for directories,
    listed in archive order."""

    def __init__(self):
        self.out = bytearray(CATALOG_MAGIC)

    def _block(self, entries):
        table = varint(len(entries)) + b"".join(entries)
        start = len(self.out)
        self.out += varint(len(table)) + table
        return start

    def _directory(self, tree, mtime):
        # Children's blocks come first; a 'd' entry holds the distance back to its child's block
        # from the start of this block, which is only known once the children are written.
        children = []
        for name, value in tree.items():
            if isinstance(value, dict):
                children.append((name, self._directory(value, mtime)))
            else:
                children.append((name, value))
        start = len(self.out)
        entries = []
        for name, value in children:
            encoded = name.encode()
            if isinstance(tree[name], dict):
                entries.append(b"d" + varint(len(encoded)) + encoded + varint(start - value))
            else:
                entries.append(b"f" + varint(len(encoded)) + encoded + varint(value) +
                               varint(mtime))
        return self._block(entries)

    def finish(self, archives, mtime=0):
        """`archives`: {archive file name (e.g. root.pxar.didx): tree}."""
        root = self._directory(archives, mtime)
        self.out += struct.pack("<Q", root)
        return bytes(self.out)


def fixture_tree():
    return {f"folder_{d}": {f"file_{f}": FILE_SIZE for f in range(10)} for d in range(10)}

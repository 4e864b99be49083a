#!/usr/bin/env python3
"""Generates the reproducible mixed directory tree of bench/compare.sh.

Usage: make_tree.py DIR SIZE_MIB [--modify PERCENT]

Content (all from fixed seeds; the same SIZE gives the same bytes):
  small/    10,000 small text-like files (0.5-16 KiB) in 100 directories
  docs/     text-like files of varied sizes (64 KiB - 8 MiB) filling half of SIZE
  blobs/    one large incompressible file of a quarter of SIZE
  (the rest of SIZE goes to more medium text-like files under docs/)
Text-like means words drawn from a fixed vocabulary in lines: it compresses about 3:1 and does
not repeat across files, so neither tool gets dedup it would not get on real data.

--modify PERCENT changes that share of the files (every 20th file for 5 %): a line is appended
to text files, 4 KiB are overwritten in the middle of the large file.
"""
import os
import random
import sys

VOCAB_RNG = random.Random(1)
WORDS = ["".join(VOCAB_RNG.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(VOCAB_RNG.randint(2, 10)))
         for _ in range(4000)]


def text(rng, size):
    out = []
    total = 0
    while total < size:
        line = " ".join(rng.choices(WORDS, k=rng.randint(4, 16))) + "\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()[:size]


def files(root, size_mib):
    """Yields (path, size, kind, seed) in a fixed order."""
    total = size_mib << 20
    rng = random.Random(2)
    used = 0
    for d in range(100):
        for f in range(100):
            size = rng.randint(512, 16 << 10)
            used += size
            yield os.path.join(root, "small", "d%03d" % d, "f%03d.txt" % f), size, "text", d * 100 + f
    big = total // 4
    yield os.path.join(root, "blobs", "large.bin"), big, "random", 7
    used += big
    n = 0
    while used < total:
        size = min(int(rng.lognormvariate(13.5, 1.2)), 8 << 20, total - used)
        size = max(size, 64 << 10) if total - used >= 64 << 10 else total - used
        used += size
        yield os.path.join(root, "docs", "g%02d" % (n % 50), "doc%05d.txt" % n), size, "text", 100000 + n
        n += 1


def create(root, size_mib):
    for path, size, kind, seed in files(root, size_mib):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        rng = random.Random(seed)
        with open(path, "wb") as f:
            if kind == "random":
                left = size
                while left:
                    n = min(left, 8 << 20)
                    f.write(rng.randbytes(n))
                    left -= n
            else:
                f.write(text(rng, size))


def modify(root, size_mib, percent):
    step = max(1, round(100 / percent))
    changed = 0
    for i, (path, size, kind, seed) in enumerate(files(root, size_mib)):
        if i % step:
            continue
        if kind == "random":
            with open(path, "r+b") as f:
                f.seek(size // 2)
                f.write(random.Random(seed + 1).randbytes(4096))
        else:
            with open(path, "ab") as f:
                f.write(b"a line appended by the modification step\n")
        changed += 1
    print(f"modified {changed} files")


if __name__ == "__main__":
    root, size = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[3] == "--modify":
        modify(root, size, float(sys.argv[4]))
    else:
        create(root, size)

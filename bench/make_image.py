#!/usr/bin/env python3
"""Writes a reproducible disk image for the benchmarks.

Usage: make_image.py PATH SIZE_MIB [random|mixed]
  random: every MiB random (incompressible, no duplicates);
  mixed:  per 4 MiB, one random MiB, one MiB of zeros and two of text-like words
          (compressible), the same bytes on every run.
"""
import random
import sys


def main():
    path, mib = sys.argv[1], int(sys.argv[2])
    kind = sys.argv[3] if len(sys.argv) > 3 else "random"
    if kind not in ("random", "mixed"):
        sys.exit("make_image.py: kind must be random or mixed")
    r = random.Random(7)
    words = [bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 9)))
             for _ in range(5000)]
    with open(path, "wb") as f:
        for i in range(mib):
            if kind == "random" or i % 4 == 0:
                f.write(r.randbytes(1 << 20))
            elif i % 4 == 1:
                f.write(bytes(1 << 20))
            else:
                buf = b" ".join(r.choice(words) for _ in range(200000))
                f.write(buf[: 1 << 20].ljust(1 << 20, b"\n"))


if __name__ == "__main__":
    main()

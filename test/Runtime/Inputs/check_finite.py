#!/usr/bin/env python3
"""check_finite.py FILE [--like OTHER --rtol R]

Reads a --dump-logits safetensors file (F32 "logits" [rows, vocab]) and checks
every value is finite and that the rows are not all one value. With --like,
also checks OTHER holds the same shape and values within R relative to the
largest magnitude (e.g. the same run with another thread count). Prints
"ok finite ROWSxVOCAB" (and "ok like")."""
import argparse
import array
import json
import math
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    t = json.loads(data[8:8 + n])["logits"]
    a = array.array("f")
    a.frombytes(data[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]])
    return t["shape"], a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--like")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    shape, v = load(a.file)
    bad = [i for i, x in enumerate(v) if not math.isfinite(x)]
    if bad:
        sys.exit("%s: %d non-finite logits, first at %d" % (a.file, len(bad), bad[0]))
    if max(v) == min(v):
        sys.exit("%s: every logit is %g" % (a.file, v[0]))
    print("ok finite %dx%d" % tuple(shape))
    if a.like:
        shape2, w = load(a.like)
        if shape2 != shape:
            sys.exit("shapes differ: %s vs %s" % (shape, shape2))
        scale = max(abs(x) for x in v)
        worst = max(abs(x - y) for x, y in zip(v, w))
        if worst > a.rtol * scale:
            sys.exit("%s vs %s: max difference %g > %g x %g" % (a.file, a.like, worst, a.rtol, scale))
        print("ok like")


if __name__ == "__main__":
    main()

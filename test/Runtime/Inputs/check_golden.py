#!/usr/bin/env python3
"""check_golden.py FIXTURE_DIR MODEL [--threads N] [--tol T]

Runs a model compiled by gemma4c from a test fixture and compares it with
the fixture's golden.safetensors: --dump-logits against logits_f32 (max abs
difference <= tol) and greedy --print-ids against greedy_ids. Prints one "ok"
line per check."""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile


def load(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        fmt = {"F32": "f", "I32": "i"}[v["dtype"]]
        out[k] = (v["shape"], struct.unpack("<%d%s" % ((b - a) // 4, fmt), data[a:b]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("model")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--tol", type=float, default=1e-3)
    a = ap.parse_args()
    g = load(os.path.join(a.fixture, "golden.safetensors"))
    ids = ",".join(map(str, g["input_ids"][1]))
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "logits.safetensors")
        subprocess.run([a.model, "--tokens", ids, "--dump-logits", out, "--threads", a.threads],
                       check=True)
        shape, got = load(out)["logits"]
    want_shape, want = g["logits_f32"]
    if shape != want_shape:
        sys.exit("logits shape %s != golden %s" % (shape, want_shape))
    diff = max(abs(x - y) for x, y in zip(got, want))
    if not diff <= a.tol:
        sys.exit("logits differ from golden by %g (> %g)" % (diff, a.tol))
    print("ok logits %dx%d" % tuple(shape))
    n = len(g["greedy_ids"][1])
    r = subprocess.run([a.model, "--tokens", ids, "--max-new-tokens", str(n), "--greedy",
                        "--print-ids", "--ignore-eos", "--threads", a.threads],
                       check=True, stdout=subprocess.PIPE, text=True)
    got_ids = [int(x) for x in r.stdout.split()]
    if got_ids != list(g["greedy_ids"][1]):
        sys.exit("greedy ids %s != golden %s" % (got_ids, list(g["greedy_ids"][1])))
    print("ok greedy %d" % n)


if __name__ == "__main__":
    main()

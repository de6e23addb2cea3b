#!/usr/bin/env python3
"""Runs two model binaries on the same tokens and compares every logit.

  same_logits.py <binary-a> <binary-b> --tokens 2,17,5 [--tol 1e-4] [--threads N]
                 [--decode N]

--decode N also generates N greedy tokens and compares the decode steps'
logits (--dump-decode-logits), which one-token code paths compute.

Prints the max abs difference over all positions; exits 1 above --tol.
Standard library only.
"""
import argparse, array, json, os, struct, subprocess, sys, tempfile


def logits(binary, tokens, threads, decode, tmp):
    out = os.path.join(tmp, os.path.basename(binary) + ".st")
    cmd = [binary, "--tokens", tokens, "--dump-logits", out]
    if threads:
        cmd += ["--threads", threads]
    if decode:
        cmd += ["--dump-decode-logits", "--max-new-tokens", str(decode), "--greedy", "--ignore-eos"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    with open(out, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    name = next(k for k in header if k != "__metadata__")
    b, e = header[name]["data_offsets"]
    a = array.array("f")
    a.frombytes(data[b:e])
    return header[name]["shape"], a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads")
    ap.add_argument("--decode", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sa, la = logits(args.a, args.tokens, args.threads, args.decode, tmp)
        sb, lb = logits(args.b, args.tokens, args.threads, args.decode, tmp)
    if sa != sb:
        sys.exit("FAIL: logits shapes differ: %s vs %s" % (sa, sb))
    d = max(abs(x - y) for x, y in zip(la, lb))
    print("max |a - b| = %.3g over %d positions (tolerance %g)" % (d, sa[0], args.tol))
    if not d <= args.tol:
        print("FAIL")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

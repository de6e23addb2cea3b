#!/usr/bin/env python3
"""Checks that a model binary's decode step computes what its prefill does.

  decode_vs_prefill.py <model-binary> --prompt-len P --new N [--tol 1e-4]
                       [--threads T] [--vocab V] [--runner CMD]

Run 1 prefills a deterministic P-token prompt and generates N greedy tokens
with --dump-logits --dump-decode-logits, which records the logits of each
decode step too (the
decode entry point: one token per call, attention split over the keys).
Run 2 prefills the prompt plus the generated tokens (the prefill entry
point: one attention row per query). The decode rows of run 1 must equal
the matching prefill rows of run 2 within --tol. Prints the max abs
difference; exits 1 above the tolerance. Standard library only.
"""
import argparse, array, json, os, struct, subprocess, sys, tempfile


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def read_logits(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    info = header["logits"]
    a = array.array("f")
    a.frombytes(data[info["data_offsets"][0]:info["data_offsets"][1]])
    return info["shape"], a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--prompt-len", type=int, required=True)
    ap.add_argument("--new", type=int, required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", default=None)
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--runner", default="")
    a = ap.parse_args()
    runner = a.runner.split() if a.runner else []
    extra = ["--threads", a.threads] if a.threads else []
    prompt = [3 + (i * 7919) % (a.vocab - 3) for i in range(a.prompt_len)]
    with tempfile.TemporaryDirectory() as tmp:
        dec, pre = os.path.join(tmp, "decode.st"), os.path.join(tmp, "prefill.st")
        out = run(runner + [a.binary, "--tokens", ",".join(map(str, prompt)), "--max-new-tokens",
                            str(a.new), "--greedy", "--ignore-eos", "--print-ids",
                            "--dump-logits", dec, "--dump-decode-logits"] + extra)
        gen = [int(t) for t in out.split()]
        if len(gen) != a.new:
            sys.exit("FAIL: expected %d generated ids, got %r" % (a.new, out))
        run(runner + [a.binary, "--tokens", ",".join(map(str, prompt + gen[:-1])),
                      "--dump-logits", pre] + extra)
        (rd, V), d = read_logits(dec)
        (rp, Vp), p = read_logits(pre)
    P, R = a.prompt_len, a.prompt_len + a.new - 1
    if rd != R or rp != R or V != Vp:
        sys.exit("FAIL: logits shapes [%d, %d] and [%d, %d], expected %d rows" % (rd, V, rp, Vp, R))
    diff = max(abs(x - y) for x, y in zip(d[P * V:], p[P * V:]))
    print("decode vs prefill: %d decode steps at positions %d..%d, max |logits diff| %.3g (tolerance %.3g)"
          % (a.new - 1, P, R - 1, diff, a.tol))
    if diff > a.tol:
        print("FAIL")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

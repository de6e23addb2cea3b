#!/usr/bin/env python3
"""Checks a compiled gemma4c model binary against transformers' goldens.

  golden.py <model-binary> <fixture-dir> [--tol 2e-3] [--mode prefill|decode|chunks]
            [--logits-key logits_f32] [--no-greedy] [--threads N]

prefill: the whole prompt in one block; decode: one token at a time
(--prefill-chunk-override 1 via the runtime's --max-prefill flag); chunks: a
small prefill chunk so the prompt spans several calls. Prints the max abs
difference and exits 1 when it exceeds the tolerance or when the greedy
continuation differs from golden greedy_ids. Standard library only.
"""
import argparse, array, json, os, struct, subprocess, sys, tempfile


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        code = {"F32": "f", "I32": "i", "I64": "q"}[info["dtype"]]
        a = array.array(code)
        a.frombytes(data[b:e])
        out[name] = (info["shape"], a)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("fixture")
    ap.add_argument("--tol", type=float, default=2e-3)
    ap.add_argument("--logits-key", default="logits_f32")
    ap.add_argument("--mode", default="prefill", choices=["prefill", "decode", "chunks"])
    ap.add_argument("--no-greedy", action="store_true")
    ap.add_argument("--threads", default=None)
    ap.add_argument("--runner", default="", help="e.g. qemu-aarch64 -L ...")
    args = ap.parse_args()

    g = read_safetensors(os.path.join(args.fixture, "golden.safetensors"))
    ids = list(g["input_ids"][1])
    (S, V), ref = g[args.logits_key]
    runner = args.runner.split() if args.runner else []
    extra = ["--threads", args.threads] if args.threads else []
    if args.mode == "decode":
        extra += ["--prefill-chunk", "1"]
    elif args.mode == "chunks":
        extra += ["--prefill-chunk", "7"]

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.safetensors")
        cmd = runner + [args.binary, "--tokens", ",".join(map(str, ids)), "--dump-logits", out] + extra
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
            return 1
        got_shape, got = read_safetensors(out)["logits"]
    if got_shape != [S, V]:
        print("FAIL: logits shape %s, expected %s" % (got_shape, [S, V]))
        return 1
    maxdiff = max(abs(a - b) for a, b in zip(got, ref))
    print("max |logits - %s| = %.3g over %d positions (tolerance %.3g)" % (args.logits_key, maxdiff, S, args.tol))
    ok = maxdiff <= args.tol
    if not args.no_greedy:
        want = list(g["greedy_ids"][1])
        cmd = runner + [args.binary, "--tokens", ",".join(map(str, ids)), "--max-new-tokens", str(len(want)),
                        "--greedy", "--print-ids", "--ignore-eos"] + extra
        r = subprocess.run(cmd, capture_output=True, text=True)
        got_ids = [int(t) for t in r.stdout.split()] if r.returncode == 0 else None
        if got_ids != want:
            print("FAIL: greedy ids %s, expected %s %s" % (got_ids, want, r.stderr.strip()))
            ok = False
        else:
            print("greedy continuation matches (%d tokens)" % len(want))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

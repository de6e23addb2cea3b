#!/usr/bin/env python3
"""Expected greedy output of fake_model.c (see its header comment).

fake_ref.py --tokens 2,17,93 --n 16 [--vocab 384] [--salt 5] [--eos 1]
prints the ids greedy decoding generates, space separated, stopping after an
eos id (which is printed) or n tokens.
"""
import argparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--salt", type=int, default=5)
    ap.add_argument("--eos", default="1")
    a = ap.parse_args()
    V = a.vocab
    eos = {int(x) for x in a.eos.split(",") if x != ""}
    seq = [int(x) for x in a.tokens.split(",")]
    s = 0
    for p, t in enumerate(seq):
        s = (s + t * (p + 1)) % V
    out = []
    while len(out) < a.n:
        p = len(seq) - 1
        t = (s + 3 * p + a.salt) % V
        out.append(t)
        if t in eos:
            break
        seq.append(t)
        s = (s + t * (p + 2)) % V
    print(" ".join(map(str, out)))


if __name__ == "__main__":
    main()

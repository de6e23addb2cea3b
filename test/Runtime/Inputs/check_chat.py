#!/usr/bin/env python3
"""Checks a piped `model --chat --print-ids --print-prompt-ids` session.

check_chat.py --stdout OUT --stderr ERR --stops 1,309 --eot 309 [--fake --n N]

OUT holds one line of generated ids per turn, ERR the lines
"prompt ids (position P): ids..." (one per turn). Checks that the KV cache is
kept across turns: turn 1 starts at position 0 and every later turn starts
right after what the cache holds (the previous prompts and every generated
token but each reply's last), and that a later turn begins with the previous
reply's last token when that was not a stop token (cut by --max-new-tokens),
else with the end-of-turn id. With --fake, each reply must also equal what
fake_model.c computes greedily for the whole conversation so far (so the
cached K/V really was reused). Prints "ok: T turns, positions ...".
"""
import argparse
import re
import sys


def fake_greedy(seq, n, stops, vocab, salt):
    s = 0
    for p, t in enumerate(seq):
        s = (s + t * (p + 1)) % vocab
    seq = list(seq)
    out = []
    while len(out) < n:
        p = len(seq) - 1
        t = (s + 3 * p + salt) % vocab
        out.append(t)
        if t in stops:
            break
        seq.append(t)
        s = (s + t * (p + 2)) % vocab
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stdout", required=True)
    ap.add_argument("--stderr", required=True)
    ap.add_argument("--stops", required=True)
    ap.add_argument("--eot", type=int, required=True)
    ap.add_argument("--fake", action="store_true")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--salt", type=int, default=5)
    a = ap.parse_args()
    stops = {int(x) for x in a.stops.split(",") if x}

    prompts = []
    for line in open(a.stderr):
        m = re.match(r"prompt ids \(position (\d+)\): ([0-9 ]+)$", line.rstrip("\n"))
        if m:
            prompts.append((int(m.group(1)), [int(x) for x in m.group(2).split()]))
    replies = [[int(x) for x in line.split()] for line in open(a.stdout)]

    def fail(msg):
        print("check_chat: FAIL: " + msg)
        sys.exit(1)

    if not prompts:
        fail("no prompt ids lines")
    if len(replies) != len(prompts):
        fail("%d replies for %d turns" % (len(replies), len(prompts)))
    cache = []
    positions = []
    for i, ((pos, ids), reply) in enumerate(zip(prompts, replies)):
        if pos != len(cache):
            fail("turn %d starts at position %d, the cache holds %d tokens" % (i + 1, pos, len(cache)))
        if i > 0:
            prev = replies[i - 1]
            want = [prev[-1], a.eot] if prev and prev[-1] not in stops else [a.eot]
            if ids[:len(want)] != want:
                fail("turn %d begins %s, expected %s" % (i + 1, ids[:len(want)], want))
        positions.append(pos)
        cache += ids
        if a.fake:
            want = fake_greedy(cache, a.n, stops, a.vocab, a.salt)
            if reply != want:
                fail("turn %d replied %s, fake_model computes %s" % (i + 1, reply, want))
        cache += reply[:-1]  # the last token is not run through the model
    print("ok: %d turns, positions %s" % (len(prompts), " ".join(map(str, positions))))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""check_logits.py FILE --tokens 2,17,93 [--generated IDS_FILE] [--vocab 384] [--salt 5]

Validates a --dump-logits file of fake_model.c: a well-formed safetensors file
holding exactly "logits", F32, [rows, vocab], each row the fake model's
logits for that position: the prompt's, then (--generated: the --print-ids
output of the same run) one per decode step, i.e. after each generated
token but the last. Prints "ok ROWSxVOCAB"."""
import argparse
import json
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--salt", type=int, default=5)
    ap.add_argument("--generated", default=None)
    a = ap.parse_args()
    V = a.vocab
    ids = [int(x) for x in a.tokens.split(",")]
    if a.generated:
        with open(a.generated) as f:
            ids += [int(x) for x in f.read().split()][:-1]
    with open(a.file, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    assert list(header) == ["logits"], header
    t = header["logits"]
    assert t["dtype"] == "F32", t
    assert t["shape"] == [len(ids), V], t
    begin, end = t["data_offsets"]
    body = data[8 + n:]
    assert begin == 0 and end == len(ids) * V * 4 == len(body), (t, len(body))
    vals = struct.unpack("<%df" % (len(ids) * V), body)
    s = 0
    for p, tok in enumerate(ids):
        s = (s + tok * (p + 1)) % V
        target = (s + 3 * p + a.salt) % V
        row = vals[p * V:(p + 1) * V]
        for v in range(V):
            want = 1.0 - ((v - target) % V) / V
            if abs(row[v] - want) > 1e-6:
                sys.exit("row %d col %d: %r != %r" % (p, v, row[v], want))
    print("ok %dx%d" % (len(ids), V))


if __name__ == "__main__":
    main()

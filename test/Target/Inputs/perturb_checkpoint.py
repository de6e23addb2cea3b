#!/usr/bin/env python3
"""Writes a copy of a single-file checkpoint with some tensors zeroed.

  perturb_checkpoint.py <src-dir> <dst-dir> --zero SUBSTRING [--zero ...]

A draft model close to its target (speculative decoding tests: some drafts
accepted, some rejected): the tensors whose names contain a SUBSTRING are
zero in the copy, everything else is the source's bytes. Standard library
only.
"""
import argparse, json, os, shutil, struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--zero", action="append", default=[])
    a = ap.parse_args()
    os.makedirs(a.dst, exist_ok=True)
    for f in os.listdir(a.src):
        if f.endswith(".json") and not f.startswith("golden"):
            shutil.copy(os.path.join(a.src, f), os.path.join(a.dst, f))
    with open(os.path.join(a.src, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = f.read(n)
        data = bytearray(f.read())
    header = json.loads(head)
    hit = 0
    for name, info in header.items():
        if name == "__metadata__" or not any(z in name for z in a.zero):
            continue
        b, e = info["data_offsets"]
        data[b:e] = bytes(e - b)
        hit += 1
    if hit == 0:
        raise SystemExit("no tensor matches %r" % a.zero)
    with open(os.path.join(a.dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", n))
        f.write(head)
        f.write(data)
    print("zeroed %d tensors" % hit)


if __name__ == "__main__":
    main()

"""Helpers for synth-zeros.test.

  sparse.py check FILE...     per file: 'sparse' when less than half of its
                              size is allocated on disk, 'holes' when at
                              least 128 KiB less than its size, else
                              'dense'; then 'zeros' when every byte after a
                              safetensors header (or of another file) is
                              zero, else 'nonzero'
  sparse.py half SRC DST      a copy of the safetensors file SRC with the
                              bytes in [0, 40%) and [50%, 90%) of its data
                              zeroed, off 2-byte and 64 KiB bounds (shapes
                              kept): zero and non-zero runs
  sparse.py payload EXE OUT   the weights embedded in a gemma4c executable
                              (its payload manifest's weights offset and
                              size) copied to OUT
"""
import json
import os
import struct
import sys


def data_start(path):
    with open(path, "rb") as f:
        head = f.read(8)
        if path.endswith(".safetensors") and len(head) == 8:
            return 8 + struct.unpack("<Q", head)[0]
    return 0


def check(path):
    st = os.stat(path)
    used = st.st_blocks * 512
    kind = "sparse" if used < st.st_size // 2 else "holes" if used + (128 << 10) <= st.st_size else "dense"
    zeros = True
    with open(path, "rb") as f:
        f.seek(data_start(path))
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            if b.count(0) != len(b):
                zeros = False
                break
    print("%s: %s %s" % (os.path.basename(path), kind, "zeros" if zeros else "nonzero"))


def half(src, dst):
    with open(src, "rb") as f:
        raw = bytearray(f.read())
    start = 8 + struct.unpack("<Q", raw[:8])[0]
    size = len(raw) - start
    for a, b in ((0, size * 4 // 10 + 3), (size // 2 + 5, size * 9 // 10 + 1)):
        raw[start + a:start + b] = bytes(b - a)
    with open(dst, "wb") as f:
        f.write(raw)


def payload(exe, out):
    with open(exe, "rb") as f:
        data = f.read()
    assert data[-32:-24] == b"GEMMA4PL", "no payload trailer"
    off, size = struct.unpack("<QQ", data[-24:-8])
    w = json.loads(data[off:off + size])["weights"]
    with open(out, "wb") as f:
        f.write(data[w["offset"]:w["offset"] + w["size"]])


if __name__ == "__main__":
    if sys.argv[1] == "check":
        for p in sys.argv[2:]:
            check(p)
    elif sys.argv[1] == "half":
        half(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "payload":
        payload(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: sparse.py check FILE... | half SRC DST | payload EXE OUT")

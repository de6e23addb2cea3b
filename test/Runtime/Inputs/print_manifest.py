#!/usr/bin/env python3
"""print_manifest.py EXE KEY...: prints manifest[KEY] of a compiled model, one
line each, as "KEY: <sorted JSON>" (see abi.h for the payload layout)."""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read()
assert data[-32:-24] == b"GEMMA4PL", "no payload trailer"
off, size, _ = struct.unpack("<QQQ", data[-24:])
manifest = json.loads(data[off:off + size])
for key in sys.argv[2:]:
    print("%s: %s" % (key, json.dumps(manifest.get(key), sort_keys=True)))

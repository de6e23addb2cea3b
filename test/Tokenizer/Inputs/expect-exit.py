#!/usr/bin/env python3
"""expect-exit.py CODE CMD ARGS...: runs CMD and fails unless it exits with CODE.

An argument written hex:HEX is passed as those raw bytes (to hand a command
invalid UTF-8). stdout/stderr pass through for FileCheck.
"""
import subprocess
import sys

want = int(sys.argv[1])
args = [bytes.fromhex(a[4:]) if a.startswith("hex:") else a.encode() for a in sys.argv[2:]]
sys.stdout.flush()
rc = subprocess.run(args).returncode
if rc != want:
    print("expect-exit: %s exited %d, expected %d" % (sys.argv[2], rc, want), file=sys.stderr)
    sys.exit(1)

#!/usr/bin/env python3
"""expect_exit.py CODE CMD ARGS...: runs CMD, passes its stdout/stderr through
and fails unless it exits with CODE (lit's internal shell has no $?)."""
import subprocess
import sys

want = int(sys.argv[1])
r = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sys.stdout.buffer.write(r.stdout)
sys.stderr.buffer.write(r.stderr)
sys.stdout.flush()
sys.stderr.flush()
if r.returncode != want:
    print("expect_exit: %s exited with %d, expected %d" % (sys.argv[2], r.returncode, want),
          file=sys.stderr)
    sys.exit(1)

#!/usr/bin/env python3
"""check_ldd.py EXE: fails unless `ldd EXE` lists only system C/C++ runtime
libraries (libc, libm, libstdc++, libgcc_s, pthread/dl/rt, the loader, vdso)."""
import re
import subprocess
import sys

ALLOWED = re.compile(r"^(linux-vdso|linux-gate|ld-linux[-\w.]*|libc|libm|libstdc\+\+|libgcc_s"
                     r"|libpthread|libdl|librt)(\.so[.\d]*)?$")
out = subprocess.run(["ldd", sys.argv[1]], stdout=subprocess.PIPE, text=True, check=True).stdout
bad = []
for line in out.splitlines():
    name = line.strip().split()[0] if line.strip() else ""
    base = name.rsplit("/", 1)[-1]
    if base and not ALLOWED.match(base):
        bad.append(name)
if bad:
    sys.exit("unexpected shared libraries: " + ", ".join(bad))
print("ok")

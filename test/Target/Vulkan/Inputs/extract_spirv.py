"""The SPIR-V binary of a module gemma4-serialize-spirv-kernels ran on: its
gemma4.spirv attribute (MLIR's escaped string: \\XX a byte, \\\\ a
backslash), from the printed module on stdin, to the file argv[1]."""
import re
import sys

text = sys.stdin.read()
m = re.search(r'gemma4\.spirv = "((?:[^"\\]|\\.)*)"', text)
if not m:
    sys.exit("extract_spirv.py: no gemma4.spirv attribute")
s, out, i = m.group(1), bytearray(), 0
while i < len(s):
    if s[i] != "\\":
        out += s[i].encode("latin-1")
        i += 1
    elif s[i + 1] == "\\":
        out.append(0x5C)
        i += 2
    else:
        out.append(int(s[i + 1:i + 3], 16))
        i += 3
open(sys.argv[1], "wb").write(bytes(out))

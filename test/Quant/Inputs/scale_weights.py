#!/usr/bin/env python3
"""Multiplies BF16 tensors of a safetensors file in place by powers of two.

  scale_weights.py <model.safetensors> SUBSTRING=EXP [SUBSTRING=EXP ...]

Every BF16 tensor whose name contains SUBSTRING is multiplied by 2**EXP
(exactly: EXP is added to each normal value's exponent; zeros stay zero).
Used to turn a `gemma4c synth` checkpoint (random weights, nearly flat logits)
into a better-conditioned one for the quantization quality tests: a larger
token embedding and smaller post-norm gains make each layer a small update of
the residual stream instead of overwriting it, so the logits are peaked and
quantization error is small next to the logit gaps. Standard library only.
"""
import array, json, struct, sys


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path = sys.argv[1]
    rules = []
    for arg in sys.argv[2:]:
        name, _, exp = arg.rpartition("=")
        rules.append((name, int(exp)))
    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        touched = 0
        for name, info in header.items():
            if name == "__metadata__" or info["dtype"] != "BF16":
                continue
            exp = sum(e for s, e in rules if s in name)
            if exp == 0:
                continue
            b, e = info["data_offsets"]
            f.seek(base + b)
            a = array.array("H")
            a.frombytes(f.read(e - b))
            for i, u in enumerate(a):
                ex = (u >> 7) & 0xFF
                if ex == 0 or ex == 0xFF:
                    continue  # zero/subnormal/inf/nan: leave as is
                ex = min(max(ex + exp, 1), 0xFE)
                a[i] = (u & 0x807F) | (ex << 7)
            f.seek(base + b)
            f.write(a.tobytes())
            touched += 1
    print("scaled %d tensors" % touched)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks speculative decoding against the model alone.

  speculative.py <binary> --prompt-len P --new N --draft-tokens K
                 [--ref BINARY] [--tol 1e-4] [--threads T] [--vocab V]
                 [--runner CMD] [--expect-acceptance full|partial]

Run 1 (the reference: --ref, else the same binary with --draft-tokens 0)
prefills a deterministic P-token prompt and generates N greedy tokens with
--dump-logits --dump-decode-logits. Run 2 generates with the draft model
(--draft-tokens K, K may be "auto") and dumps the logits that chose each
token (the verify call's rows). The ids must be identical, token for token,
and every logits row within --tol of the reference: a rejected draft whose
K/V stayed visible to later queries (not rolled back, or a sliding-window
ring row it overwrote that a later query still needs) changes those rows.
--expect-acceptance full: every drafted token was accepted (draft = the
model); partial: some but not all were. Prints one summary line; exits 1
on any difference. Standard library only.
"""
import argparse, array, json, os, re, struct, subprocess, sys, tempfile


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout, r.stderr


def read_logits(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    info = header["logits"]
    a = array.array("f")
    a.frombytes(data[info["data_offsets"][0]:info["data_offsets"][1]])
    return info["shape"], a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--ref", default=None)
    ap.add_argument("--prompt-len", type=int, required=True)
    ap.add_argument("--new", type=int, required=True)
    ap.add_argument("--draft-tokens", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", default=None)
    ap.add_argument("--vocab", type=int, default=384)
    ap.add_argument("--runner", default="")
    ap.add_argument("--expect-acceptance", choices=["full", "partial"], default=None)
    a = ap.parse_args()
    runner = a.runner.split() if a.runner else []
    extra = ["--threads", a.threads] if a.threads else []
    prompt = [3 + (i * 7919) % (a.vocab - 3) for i in range(a.prompt_len)]
    common = ["--tokens", ",".join(map(str, prompt)), "--max-new-tokens", str(a.new), "--greedy",
              "--ignore-eos", "--print-ids", "--dump-decode-logits"] + extra
    with tempfile.TemporaryDirectory() as tmp:
        ref_st, spec_st = os.path.join(tmp, "ref.st"), os.path.join(tmp, "spec.st")
        ref_cmd = [a.ref] if a.ref else [a.binary, "--draft-tokens", "0"]
        want, _ = run(runner + ref_cmd + common + ["--dump-logits", ref_st])
        got, err = run(runner + [a.binary, "--draft-tokens", a.draft_tokens, "--stats"] + common +
                       ["--dump-logits", spec_st])
        want_ids, got_ids = want.split(), got.split()
        if len(want_ids) != a.new:
            sys.exit("FAIL: expected %d reference ids, got %r" % (a.new, want))
        if got_ids != want_ids:
            first = next((i for i, (x, y) in enumerate(zip(want_ids, got_ids)) if x != y),
                         min(len(want_ids), len(got_ids)))
            sys.exit("FAIL: ids differ from token %d: want %s, got %s" %
                     (first, " ".join(want_ids), " ".join(got_ids)))
        (rr, V), ref = read_logits(ref_st)
        (rs, V2), spec = read_logits(spec_st)
        if (rr, V) != (rs, V2) or rr != a.prompt_len + a.new - 1:
            sys.exit("FAIL: logits shapes differ: %r vs %r" % ((rr, V), (rs, V2)))
        worst, where = 0.0, -1
        for i in range(len(ref)):
            d = abs(ref[i] - spec[i])
            if not d <= worst:  # NaN counts as worse
                worst, where = d if d == d else float("inf"), i // V
        m = re.search(r"acceptance (\d+)/(\d+)", err)
        if not m:
            sys.exit("FAIL: no acceptance in --stats: %s" % err.strip())
        acc, drafted = int(m.group(1)), int(m.group(2))
        print("speculative: %d tokens identical, max |logits diff| %.3g (tolerance %g), "
              "acceptance %d/%d" % (a.new, worst, a.tol, acc, drafted))
        if worst > a.tol:
            sys.exit("FAIL: logits row %d differs by %g" % (where, worst))
        if a.expect_acceptance == "full" and (drafted == 0 or acc != drafted):
            sys.exit("FAIL: expected every draft accepted, got %d/%d" % (acc, drafted))
        if a.expect_acceptance == "partial" and not (0 < acc < drafted):
            sys.exit("FAIL: expected some drafts rejected and some accepted, got %d/%d" %
                     (acc, drafted))
        print("PASS")


if __name__ == "__main__":
    main()

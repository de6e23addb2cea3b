#!/usr/bin/env python3
"""Checks the compiled demo model's chat path against transformers (issue 26).

  demo_chat.py <model-binary> <demo-model-dir> [--runner "qemu-aarch64 ..."]

For every question in DIR/golden.json "demo" (written by
scripts/train-demo-model.py): the binary's --chat prompt ids (its chat
template + tokenizer) must equal the ids transformers' script tokenized, and
its greedy reply ids must equal transformers' greedy ids (bf16) up to the
stop token. Prints one line per question, then PASS or FAIL (exit 1).
Standard library only.
"""
import argparse, json, os, re, subprocess, sys

STOP = (1, 106)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("model_dir")
    ap.add_argument("--runner", default="")
    a = ap.parse_args()
    with open(os.path.join(a.model_dir, "golden.json")) as f:
        demo = json.load(f).get("demo") or []
    if not demo:
        print("FAIL: %s/golden.json has no demo questions" % a.model_dir)
        return 1
    ok = True
    for d in demo:
        cmd = a.runner.split() + [a.binary, "--chat", d["question"], "--greedy", "--max-new-tokens", "12",
                                  "--print-prompt-ids", "--print-ids"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
            ok = False
            continue
        m = re.search(r"prompt ids \(position 0\):([ 0-9]*)", r.stderr)
        prompt = [int(t) for t in m.group(1).split()] if m else None
        gen = [int(t) for t in r.stdout.split()]
        want = d["greedy_ids_bf16"]
        cut = lambda ids: ids[:next((k for k, t in enumerate(ids) if t in STOP), len(ids))]
        if prompt != d["prompt_ids"]:
            print("FAIL: %r: prompt ids %s, transformers %s" % (d["question"], prompt, d["prompt_ids"]))
            ok = False
        elif cut(gen) != cut(want):
            print("FAIL: %r: reply ids %s, transformers %s (%r)" % (d["question"], gen, want, d["reply"]))
            ok = False
        else:
            print("ok: %r -> %r (%d prompt ids, %d reply ids)" % (d["question"], d["reply"], len(prompt),
                                                                   len(cut(gen))))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The GPU part of the test suite: every fixture's goldens on a CUDA GPU.

  gpu_suite.py build DIR [--gpu sm_90] [--gemma4c PATH] [--only NAME,...]
  gpu_suite.py run DIR [--only NAME,...]
  gpu_suite.py all DIR [--gpu sm_90] [--only NAME,...]
  (build, all: --target vulkan compiles --target=vulkan binaries instead,
  which run on any Vulkan GPU: NVIDIA's Vulkan driver, lavapipe)

build compiles every binary the cases need into DIR (gemma4c and LLVM live
where the compiler is built, not on a GPU machine); run runs the cases on the
GPU with the binaries in DIR and prints one PASS/FAIL line per case and a
last line 'N passed, M failed'; all does both (test/GPU/goldens.test, where
gemma4c and a GPU are on one machine). scripts/gpu-tests.sh drives build
here and run on the GPU machine. The checks are the CPU suite's own, with
the CPU's tolerances and bounds:
  f32        test/Target/Inputs/golden.py: prefill logits within 2e-3 of
             logits_f32 and the greedy continuation equal to greedy_ids
  chunk4     compiled with --prefill-chunk 4 (sliding ring buffers wrap)
  decode     test/Target/Inputs/decode_vs_prefill.py: every decode step's
             logits equal prefill's for the same tokens (1e-4), at contexts
             where the split-key decode attention has several chunks
  bf16       --compute=bf16 against logits_bf16 (test/Target/golden-bf16.test)
  speculative  compiled with --draft (another fixture, or itself):
             test/Target/Inputs/speculative.py: greedy with the draft equals
             the model alone and the verify rows match decode's (2e-3)
  quality    bench/quality --prebuilt with test/Quant/Inputs/<fixture>.quality
             (int8, int4, mixed quality bounds against the f32 reference)
Standard library only.
"""
import argparse, os, shlex, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
GOLDEN = os.path.join(ROOT, "test", "Target", "Inputs", "golden.py")
DECODE = os.path.join(ROOT, "test", "Target", "Inputs", "decode_vs_prefill.py")
SPECULATIVE = os.path.join(ROOT, "test", "Target", "Inputs", "speculative.py")
QUALITY = os.path.join(ROOT, "bench", "quality")
BF16_TOL = {"e2b-mini": 0.17, "dense-mini": 0.65, "moe-mini": 2.57}
DECODE_LENS = {"e2b-mini": [20, 300], "dense-mini": [700], "moe-mini": [500]}


def quality_args(fixture):
    """The scheme list and bounds of test/Quant/Inputs/<fixture>.quality."""
    path = os.path.join(ROOT, "test", "Quant", "Inputs", fixture + ".quality")
    words = []
    with open(path) as f:
        for line in f:
            words += shlex.split(line, comments=True)
    return words


def schemes_of(words):
    for i, w in enumerate(words):
        if w == "--schemes":
            return words[i + 1].split(",")
        if w.startswith("--schemes="):
            return w.split("=", 1)[1].split(",")
    return ["int8", "int4", "mixed"]


def cases():
    """(name, [(binary, compile flags)], [command with {dir} for the binary dir])."""
    py = sys.executable or "python3"
    out = []
    for fx in ("dense-mini", "e2b-mini", "moe-mini"):
        d = os.path.join(FIXTURES, fx)
        b = fx + "-f32"
        out.append((fx + "/f32", [(b, [])],
                    [[py, GOLDEN, "{dir}/" + b, d]]))
        out.append((fx + "/chunk4", [(fx + "-c4", ["--prefill-chunk", "4"])],
                    [[py, GOLDEN, "{dir}/" + fx + "-c4", d]]))
        out.append((fx + "/decode", [(b, [])],
                    [[py, DECODE, "{dir}/" + b, "--prompt-len", str(n), "--new", "6"]
                     for n in DECODE_LENS[fx]]))
        out.append((fx + "/bf16", [(fx + "-bf16", ["--compute=bf16"])],
                    [[py, GOLDEN, "{dir}/" + fx + "-bf16", d, "--logits-key", "logits_bf16",
                      "--no-greedy", "--tol", str(BF16_TOL[fx])]]))
        drafts = {"e2b-mini": "dense-mini", "dense-mini": "dense-mini", "moe-mini": "e2b-mini"}
        out.append((fx + "/speculative",
                    [(fx + "-draft", ["--draft", os.path.join(FIXTURES, drafts[fx])])],
                    [[py, SPECULATIVE, "{dir}/" + fx + "-draft", "--prompt-len", "60", "--new", "24",
                      "--draft-tokens", k, "--tol", "2e-3"] for k in ("1", "3")]))
        qw = quality_args(fx)
        qbins = [("quality-" + fx + "/model-" + s, ["--quant=" + s, "--weights=external"])
                 for s in ["bf16"] + schemes_of(qw)]
        out.append((fx + "/quality", qbins,
                    [[py, QUALITY, d, "--prebuilt", "{dir}/quality-" + fx] + qw]))
    # Decode products with several output rows a subgroup (laneDot,
    # --gpu-tune=decode-rows): float, int4 and int8 weights, as in
    # test/Target/GPU/emulated-goldens.test.
    out.append(("e2b-mini/rows", [("e2b-mini-dr3", ["--gpu-tune=decode-rows=3"]),
                                  ("e2b-mini-dr2q4", ["--quant=mixed", "--gpu-tune=decode-rows=2"])],
                [[py, GOLDEN, "{dir}/e2b-mini-dr3", os.path.join(FIXTURES, "e2b-mini")],
                 [py, DECODE, "{dir}/e2b-mini-dr3", "--prompt-len", "40", "--new", "6"],
                 [py, DECODE, "{dir}/e2b-mini-dr2q4", "--prompt-len", "40", "--new", "6"]]))
    out.append(("moe-mini/rows", [("moe-mini-dr4q8", ["--quant=int8", "--gpu-tune=decode-rows=4"])],
                [[py, DECODE, "{dir}/moe-mini-dr4q8", "--prompt-len", "40", "--new", "6"]]))
    return out


def build(dirpath, gpu, gemma4c, selected, target="cuda"):
    os.makedirs(dirpath, exist_ok=True)
    done, failed = set(), 0
    for name, bins, _ in selected:
        fx = name.split("/")[0]
        for b, flags in bins:
            if b in done:
                continue
            done.add(b)
            out = os.path.join(dirpath, b)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            tflags = ["--target=cuda", "--gpu=" + gpu] if target == "cuda" else ["--target=" + target]
            cmd = [gemma4c, "compile", os.path.join(FIXTURES, fx)] + tflags + ["-o", out] + flags
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                print("BUILD FAIL %s: %s" % (b, (r.stderr.strip().splitlines() or ["?"])[-1]))
    print("built %d binaries in %s%s" % (len(done) - failed, dirpath,
                                         (", %d failed" % failed) if failed else ""))
    return failed == 0


def run(dirpath, selected):
    passed = failed = 0
    for name, _, cmds in selected:
        ok, detail = True, ""
        for c in cmds:
            cmd = [a.replace("{dir}", dirpath) for a in c]
            r = subprocess.run(cmd, capture_output=True, text=True)
            lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
            summary = [l for l in lines if l.startswith(("max |", "decode vs prefill", "greedy",
                                                          "int", "mixed", "speculative", "FAIL"))]
            detail += "; ".join(summary[:6]) + " "
            if r.returncode != 0:
                ok = False
                if not summary:
                    detail += (lines[-1] if lines else "exit %d" % r.returncode) + " "
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail.strip()))
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["build", "run", "all"])
    ap.add_argument("dir")
    ap.add_argument("--gpu", default="sm_90")
    ap.add_argument("--target", default="cuda", choices=["cuda", "vulkan"],
                    help="vulkan: the same cases for --target=vulkan binaries")
    ap.add_argument("--gemma4c", default=None)
    ap.add_argument("--only", default="", help="comma-separated case name prefixes")
    a = ap.parse_args()
    selected = cases()
    if a.only:
        prefixes = [p for p in a.only.split(",") if p]
        selected = [c for c in selected if any(c[0].startswith(p) for p in prefixes)]
    gemma4c = a.gemma4c or shutil.which("gemma4c") or os.path.join(ROOT, "build", "bin", "gemma4c")
    ok = True
    if a.what in ("build", "all"):
        ok = build(os.path.abspath(a.dir), a.gpu, gemma4c, selected, a.target) and ok
    if a.what in ("run", "all"):
        ok = run(os.path.abspath(a.dir), selected) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

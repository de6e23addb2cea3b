#!/usr/bin/env bash
# The GPU part of the test suite (test/GPU/Inputs/gpu_suite.py) on a machine
# with an NVIDIA GPU but without gemma4c (LLVM/MLIR): build the binaries where
# gemma4c is built, carry one compressed file, run them there.
#
#   scripts/gpu-tests.sh build [--gpu sm_90] [--only CASES]   # here: .gpu-tests/suite.tar.xz
#   scripts/gpu-tests.sh run [--only CASES]                   # on the GPU machine
#
# .gpu-tests is ignored by git (carry it to the GPU machine with the
# repository). `run` prints a PASS/FAIL line per case and ends with
# 'N passed, M failed'; it exits 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  build|run) shift ;;
  *) echo "usage: scripts/gpu-tests.sh build|run [--gpu sm_90] [--only CASES]" >&2; exit 2 ;;
esac
if [ "$what" = build ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 test/GPU/Inputs/gpu_suite.py build "$work/bins" "$@"
  mkdir -p .gpu-tests
  tar -C "$work/bins" -cJf .gpu-tests/suite.tar.xz .
  ls -l .gpu-tests/suite.tar.xz
else
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tar -C "$work" -xJf .gpu-tests/suite.tar.xz
  python3 test/GPU/Inputs/gpu_suite.py run "$work" "$@"
fi

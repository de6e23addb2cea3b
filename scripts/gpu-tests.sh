#!/usr/bin/env bash
# The GPU part of the test suite (test/GPU/Inputs/gpu_suite.py) on a machine
# with an NVIDIA GPU but without gemma4c (LLVM/MLIR): build the binaries where
# gemma4c is built, carry one compressed file, run them there.
#
#   scripts/gpu-tests.sh build [--target vulkan] [--gpu sm_90] [--only CASES]
#       here: .gpu-tests/suite.tar.xz (CUDA) or .gpu-tests/suite-vulkan.tar.xz
#   scripts/gpu-tests.sh run [--target vulkan] [--only CASES]
#       on the GPU machine
#
# .gpu-tests is ignored by git (carry it to the GPU machine with the
# repository). `run` prints a PASS/FAIL line per case and ends with
# 'N passed, M failed'; it exits 1 on any failure. `run --target vulkan`
# runs the same goldens through the machine's Vulkan driver: NVIDIA's ICD
# when its manifest is in a usual place and VK_DRIVER_FILES is unset; with
# no Vulkan loader (libvulkan.so.1) it says SKIP and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  build|run) shift ;;
  *) echo "usage: scripts/gpu-tests.sh build|run [--target cuda|vulkan] [--gpu sm_90] [--only CASES]" >&2; exit 2 ;;
esac
target=cuda
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:-}; shift 2 ;;
    --target=*) target=${1#--target=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$target" in
  cuda) suite=.gpu-tests/suite.tar.xz ;;
  vulkan) suite=.gpu-tests/suite-vulkan.tar.xz ;;
  *) echo "scripts/gpu-tests.sh: --target must be cuda or vulkan, got '$target'" >&2; exit 2 ;;
esac
if [ "$what" = build ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 test/GPU/Inputs/gpu_suite.py build "$work/bins" --target "$target" ${args[@]+"${args[@]}"}
  mkdir -p .gpu-tests
  tar -C "$work/bins" -cJf "$suite" .
  ls -l "$suite"
else
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  if [ "$target" = vulkan ]; then
    if ! { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; } && [ -z "${LD_LIBRARY_PATH:-}" ]; then
      echo "SKIP: no Vulkan loader (libvulkan.so.1) on this machine: the Vulkan goldens did not run"
      exit 0
    fi
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
      for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
               /etc/vulkan/icd.d/nvidia_icd.json; do
        if [ -f "$f" ]; then export VK_DRIVER_FILES=$f; echo "Vulkan driver: $f"; break; fi
      done
    fi
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tar -C "$work" -xJf "$suite"
  python3 test/GPU/Inputs/gpu_suite.py run "$work" ${args[@]+"${args[@]}"}
fi

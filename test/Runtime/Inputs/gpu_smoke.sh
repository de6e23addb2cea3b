#!/usr/bin/env bash
# The runtime's CUDA device on a real GPU, with the stand-in model of
# fake_gpu_model.c (host code) + fake_gpu_kernels.c (kernels): greedy output
# equal to fake_ref.py through JIT-compiled PTX and through a cubin, dynamic
# shared memory beyond 48 KiB, --random-weights, --fake-context, --info,
# --stats, and every failure as one error line (kernel faults, bad launches,
# --device out of range, a GPU older than the arch, PTX that does not
# compile, a missing kernel, too little memory).
#
#   gpu_smoke.sh build DIR [--llvm-bin DIR] [--lib DIR]   # where clang and the runtime are
#   gpu_smoke.sh run DIR [--big]                          # on the GPU machine
#
# build needs clang with the NVPTX backend (default /usr/lib/llvm-22/bin), the
# runtime libraries (default <repo>/build/lib) and, for the cubin, ptxas
# (CUDA_PATH or /usr/local/cuda); run needs python3 and the repository (for
# make_payload.py and fake_ref.py). --big adds a 2 GiB weights upload and a
# 4 GiB --random-weights fill. run prints PASS/FAIL lines and a last line
# 'passed N failed M'; it exits 1 on any failure. test/Runtime/gpu_cuda.test
# runs both where lit and a GPU are on one machine.
set -uo pipefail
I=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$I/../../.." && pwd)
usage() { echo "usage: gpu_smoke.sh build|run DIR [--llvm-bin DIR] [--lib DIR] [--big]" >&2; exit 2; }
what=${1:-}
[ $# -gt 0 ] && shift
dir='' bin=/usr/lib/llvm-22/bin lib=$ROOT/build/lib big=0
while [ $# -gt 0 ]; do
  case "$1" in
    --llvm-bin) bin=$2; shift 2 ;;
    --lib) lib=$2; shift 2 ;;
    --big) big=1; shift ;;
    -*) usage ;;
    *) [ -z "$dir" ] || usage; dir=$1; shift ;;
  esac
done
[ -n "$dir" ] || usage

if [ "$what" = build ]; then
  set -e
  mkdir -p "$dir"
  "$bin/clang" -O2 -c -I"$ROOT/runtime/include" "$I/fake_gpu_model.c" -o "$dir/fake_gpu.o"
  "$bin/clang++" "$dir/fake_gpu.o" -L"$lib" -lgemma4rt_main -lgemma4rt -static-libstdc++ \
    -static-libgcc -lpthread -lm -o "$dir/model_base"
  for sm in 75 90; do
    "$bin/clang" --target=nvptx64-nvidia-cuda -march=sm_$sm -O2 -S -nostdinc \
      "$I/fake_gpu_kernels.c" -o "$dir/k$sm.ptx"
  done
  ptxas=${CUDA_PATH:-/usr/local/cuda}/bin/ptxas
  command -v "$ptxas" > /dev/null || ptxas=$(command -v ptxas || true)
  if [ -n "$ptxas" ]; then
    "$ptxas" -arch=sm_90 "$dir/k90.ptx" -o "$dir/k90.cubin"
  else
    echo "gpu_smoke.sh build: no ptxas, no cubin (the cubin cases are skipped)" >&2
  fi
  echo "built $dir"
  exit 0
fi
[ "$what" = run ] || usage

cd "$dir" || exit 2
MP="python3 $I/make_payload.py"
REF="python3 $I/fake_ref.py"
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
# check NAME REGEX FILE: FILE has a line matching REGEX (grep -E).
check() { if grep -qE -- "$2" "$3"; then ok "$1"; else bad "$1: want /$2/ in:"; cat "$3"; fi; }
# same NAME WANT GOT
same() { if cmp -s "$2" "$3"; then ok "$1"; else bad "$1: got"; cat "$3"; fi; }
# oneline NAME FILE: the error is one line (and the exit status line).
oneline() { [ "$(grep -vc '^rc=' "$2")" = 1 ] && ok "$1 is one line" || { bad "$1 is not one line:"; cat "$2"; }; }
# mk NAME make_payload-args: a GPU binary
mk() { local n=$1; shift; cp model_base "$n" && $MP "$n" "$@"; }
# runs OUT CMD...: stdout+stderr to OUT, then "rc=N"
runs() { local out=$1; shift; "$@" > "$out" 2>&1; echo "rc=$?" >> "$out"; }

K4=fake_store,fake_targets,fake_logits,fake_fault
P=2,17,93,4,5,6,7,8,9,10,11,12
mk jit --gpu-ptx k75.ptx --gpu-arch sm_75 --gpu-kernels $K4
$REF --tokens $P --n 24 > want
models=jit
if [ -f k90.cubin ]; then
  mk cub --gpu-ptx k90.ptx --gpu-cubin k90.cubin --gpu-arch sm_90 --gpu-kernels $K4
  models="jit cub"
fi
for m in $models; do
  ./$m --tokens $P --max-new-tokens 24 --greedy --print-ids > got.$m 2>&1
  same "$m: greedy output (prefill chunks, decode)" want got.$m
  ./$m --tokens 2,17,93 --max-new-tokens 4 --greedy --print-ids --stats > /dev/null 2> stats.$m
done
check "--stats: device (PTX JIT)" "^load: .*, weights uploaded, GPU .+ \(sm_[0-9]+, [0-9.]+ GiB, driver [0-9.]+, PTX JIT\)\)$" stats.jit
check "--stats: upload" "^weights: 10000 bytes uploaded to the GPU in" stats.jit
check "--stats: scratch" "^gpu scratch: 1 device allocations, 3 reused, peak 256 bytes$" stats.jit
[ -f k90.cubin ] && check "--stats: device (cubin)" "GPU .+ \(sm_90, [0-9.]+ GiB, driver [0-9.]+, cubin\)\)$" stats.cub
GEMMA4RT_GPU_SYNC=1 ./jit --tokens $P --max-new-tokens 24 --greedy --print-ids > got.sync 2>&1
same "GEMMA4RT_GPU_SYNC=1: greedy output" want got.sync
FAKE_GPU_SHARED=100000 ./jit --tokens $P --max-new-tokens 24 --greedy --print-ids > got.shared 2>&1
same "100000 bytes of dynamic shared memory" want got.shared

runs info ./jit --info
check "--info: gpu" "^gpu: cuda sm_75, 4 kernels, PTX [0-9]+ bytes, cubin none$" info
check "--info: driver" "^CUDA driver: [0-9]+\.[0-9]+, [0-9]+ GPUs?$" info
check "--info: GPU 0" "^CUDA GPU 0: .+ \(sm_[0-9]+, [0-9.]+ GiB\)$" info
check "--info: exit 0" "^rc=0$" info

# --random-weights: the pattern's byte 0 (the fake model's salt) is 0x3f.
$REF --tokens 2,17,93 --n 12 --salt 63 > want63
./jit --random-weights=5 --tokens 2,17,93 --max-new-tokens 12 --greedy --print-ids --stats > got.rw 2> stats.rw
same "--random-weights (salt 0x3f)" want63 got.rw
check "--random-weights --stats" "^random weights: 10000 bytes \(pattern 0x3c3d3e3f\) filled on the GPU in" stats.rw
runs fc ./jit --fake-context 100 --tokens 2,17 --max-new-tokens 3 --print-ids
check "--fake-context" "^rc=0$" fc

# Failures: one line, exit 1.
FAKE_GPU_FAULT=2 runs e.fault ./jit --tokens 2,17,93 --max-new-tokens 4 --greedy --ignore-eos
check "decode fault" "^jit: error: a GPU kernel failed on GPU 0 \(.+\): CUDA_ERROR_ILLEGAL_ADDRESS \(an illegal memory access was encountered\) \(GEMMA4RT_GPU_SYNC=1 names the kernel\)$" e.fault
check "decode fault: exit 1" "^rc=1$" e.fault
FAKE_GPU_FAULT=1 runs e.pfault ./jit --tokens $P --max-new-tokens 4 --greedy
check "prefill fault" "^jit: error: a GPU kernel failed on GPU 0 \(.+\): CUDA_ERROR_ILLEGAL_ADDRESS" e.pfault
FAKE_GPU_FAULT=1 GEMMA4RT_GPU_SYNC=1 runs e.sync ./jit --tokens 2,17,93 --max-new-tokens 4 --greedy
check "GEMMA4RT_GPU_SYNC=1 names the kernel" "^jit: error: GPU kernel fake_fault \(grid 1x1x1, block 32x1x1, 0 bytes shared\) failed: CUDA_ERROR_ILLEGAL_ADDRESS" e.sync
FAKE_GPU_SHARED=300000 runs e.shared ./jit --tokens $P --max-new-tokens 2
check "too much shared memory" "^jit: error: GPU kernel fake_logits \(grid 3x8x1, block 128x1x1, 300000 bytes shared\) cannot have its shared memory: CUDA_ERROR" e.shared
oneline "too much shared memory" e.shared
FAKE_GPU_KERNEL=7 runs e.kidx ./jit --tokens 2 --max-new-tokens 1
check "bad kernel index" "^jit: error: the generated code launched GPU kernel #7, the manifest lists 4$" e.kidx
runs e.dev ./jit --tokens 2 --device 1000
check "--device out of range" "^jit: error: --device 1000: this machine has [0-9]+ CUDA GPUs? \(--device 0" e.dev
mk new --gpu-ptx k75.ptx --gpu-arch sm_990 --gpu-kernels fake_store
runs e.arch ./new --tokens 2
check "GPU older than the arch" "^new: error: GPU 0 \(.+\) is sm_([0-9]+), this binary needs sm_990 or newer: recompile with --gpu=sm_[0-9]+$" e.arch
mk new2 --gpu-ptx k75.ptx --gpu-arch sm_75a --gpu-kernels fake_store
runs e.arch2 ./new2 --tokens 2
check "arch-specific PTX on another GPU" "this binary needs sm_75a \(compute capability exactly 7.5\): recompile with --gpu=sm_[0-9]+$" e.arch2
printf '.version 8.0\n.target sm_75\n.address_size 64\n.visible .entry broken( {\n  frobnicate;\n}\n' > bad.ptx
mk badptx --gpu-ptx bad.ptx --gpu-arch sm_75 --gpu-kernels broken
runs e.jit ./badptx --tokens 2
check "PTX that does not compile" "^badptx: error: cannot compile the GPU code \(PTX for sm_75\) for GPU 0 \(.+\), sm_[0-9]+: CUDA_ERROR_INVALID_PTX .*: ptxas" e.jit
oneline "PTX that does not compile" e.jit
mk nokernel --gpu-ptx k75.ptx --gpu-arch sm_75 --gpu-kernels fake_store,fake_nope
runs e.nok ./nokernel --tokens 2
check "missing kernel" "^nokernel: error: the GPU code has no kernel \"fake_nope\" \(gpu.kernels\[1\]; CUDA_ERROR_NOT_FOUND" e.nok
mk big --gpu-ptx k75.ptx --gpu-arch sm_75 --gpu-kernels $K4 --kv-per-context 1000000000 --default-context 4096
runs e.mem ./big --tokens 2
check "not enough memory" "^big: error: not enough GPU memory: the model needs [0-9.]+ GiB \(weights 10000 bytes, KV cache [0-9.]+ GiB for a context of 4096, activations and logits [0-9.]+ MiB\), GPU 0 \(.+\) has [0-9.]+ GiB free of [0-9.]+ GiB: a smaller --max-context shrinks the KV cache$" e.mem
for f in e.fault e.pfault e.sync e.kidx e.dev e.arch e.arch2 e.jit e.nok e.mem; do
  grep -q '^rc=1$' $f || bad "$f: exit status $(grep '^rc=' $f)"
done

# Speed (informational): the per-token cost of 3 launches, an ids upload
# and a logits download (+ sampling) at a short context, and with a
# 262144-token vocabulary (1 MiB of logits per token).
if [ -f k90.cubin ]; then
  mk v384 --gpu-ptx k90.ptx --gpu-cubin k90.cubin --gpu-arch sm_90 --gpu-kernels $K4
  ./v384 --tokens 2 --max-new-tokens 200 --greedy --ignore-eos --print-ids --stats > /dev/null 2> s.v384
  grep -h '^decode' s.v384 | sed 's/^/vocab 384, /'
  mk v262k --gpu-ptx k90.ptx --gpu-cubin k90.cubin --gpu-arch sm_90 --gpu-kernels $K4 --vocab 262144 --default-context 4096
  ./v262k --tokens 2,17,93 --max-new-tokens 300 --greedy --ignore-eos --print-ids --stats > got.v262k 2> s.v262k
  grep -h '^decode' s.v262k | sed 's/^/vocab 262144, /'
  $REF --tokens 2,17,93 --n 300 --eos '' --vocab 262144 > want.v262k
  same "vocab 262144, 300 tokens" want.v262k got.v262k
fi
if [ $big = 1 ]; then
  mk w2g --gpu-ptx k75.ptx --gpu-arch sm_75 --gpu-kernels $K4 --weights-size 2147483653
  ./w2g --tokens 2,17,93 --max-new-tokens 24 --greedy --print-ids --stats > got.w2g 2> s.w2g
  $REF --tokens 2,17,93 --n 24 > want.w2g
  same "2 GiB of weights" want.w2g got.w2g
  check "2 GiB upload" "^weights: 2147483653 bytes uploaded to the GPU in" s.w2g
  grep -h '^weights' s.w2g
  rm -f w2g
  mk r4g --gpu-ptx k75.ptx --gpu-arch sm_75 --gpu-kernels $K4 --external r4g.w --weights-size 4294967301
  rm -f r4g.w
  ./r4g --random-weights --tokens 2,17,93 --max-new-tokens 8 --greedy --print-ids --stats > got.r4g 2> s.r4g
  $REF --tokens 2,17,93 --n 8 --salt 63 > want.r4g
  same "4 GiB of --random-weights" want.r4g got.r4g
  grep -h '^random' s.r4g
fi
echo "passed $pass failed $fail"
[ $fail = 0 ]

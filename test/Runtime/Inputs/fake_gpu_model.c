/*===- fake_gpu_model.c - a stand-in for a GPU binary's generated host code ===*
 *
 * The model of fake_model.c (see there; fake_ref.py gives its greedy output)
 * computed on a CUDA GPU by the kernels of fake_gpu_kernels.c, launched the
 * way gemma4c's GPU host code does: gemma4rt_gpu_launch with an index into
 * the manifest's gpu.kernels (fake_store, fake_targets, fake_logits,
 * fake_fault) and scratch from _mlir_memref_to_llvm_alloc/_free. Every
 * pointer argument is a device pointer: only the scalars are checked here
 * (exit 3 on an ABI violation).
 *
 * $FAKE_GPU_SHARED=N: fake_logits gets N bytes of dynamic shared memory
 * (beyond 48 KiB the runtime must raise the kernel's limit).
 * $FAKE_GPU_FAULT=N: call N (from 1) also launches fake_fault (an illegal
 * address). $FAKE_GPU_KERNEL=K: launch kernel index K first (a bad index).
 *===----------------------------------------------------------------------===*/
#include "gemma4rt/abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define KV_FIXED 64
#define KV_PER_CONTEXT 4

static void fail(const char *what, long long a, long long b) {
  fprintf(stderr, "fake_gpu_model: ABI violation: %s (%lld vs %lld)\n", what, a, b);
  fflush(stderr);
  _exit(3);
}

static int64_t blocks(int64_t n, int64_t b) { return (n + b - 1) / b; }

static void run(int is_decode, int32_t *ids, int64_t ids_off, int64_t S, int64_t ids_stride,
                int64_t pos, uint8_t *kv, int64_t kv_off, int64_t kv_size, int64_t kv_stride,
                int64_t context, uint8_t *w, int64_t w_off, int64_t w_size, int64_t w_stride,
                float *logits, int64_t logits_off, int64_t rows, int64_t vocab,
                int64_t row_stride, int64_t col_stride) {
  static long long calls = 0;
  ++calls;
  if (ids_off || kv_off || w_off || logits_off) fail("offsets", ids_off | kv_off, 0);
  if (ids_stride != 1 || kv_stride != 1 || w_stride != 1 || col_stride != 1)
    fail("unit strides", ids_stride, 1);
  if (row_stride != vocab) fail("logits row stride", row_stride, vocab);
  if (rows < 1 || rows > S) fail("rows vs ids", rows, S);
  if (is_decode && S != 1) fail("decode with S != 1", S, 1);
  if (kv_size != KV_FIXED + KV_PER_CONTEXT * context) fail("kv arena size", kv_size, context);
  if (pos < 0 || pos + S > context) fail("pos + S > context", pos + S, context);
  if (w_size < 1) fail("weights size", w_size, 1);
  if (((uintptr_t)kv | (uintptr_t)logits | (uintptr_t)ids | (uintptr_t)w) & 255)
    fail("device pointers 256-byte aligned", (long long)(uintptr_t)kv, 256);

  if (getenv("FAKE_GPU_KERNEL")) {
    int64_t n = 1;
    void *args[] = {&n};
    gemma4rt_gpu_launch(atoi(getenv("FAKE_GPU_KERNEL")), 1, 1, 1, 1, 1, 1, 0, args);
  }
  int64_t shared = getenv("FAKE_GPU_SHARED") ? atoll(getenv("FAKE_GPU_SHARED")) : 0;
  int64_t *targets = (int64_t *)_mlir_memref_to_llvm_aligned_alloc(64, (uint64_t)S * 8);
  if (((uintptr_t)targets & 63) != 0) fail("scratch alignment", (long long)(uintptr_t)targets, 64);

  void *store[] = {&ids, &kv, &pos, &S};
  gemma4rt_gpu_launch(0, blocks(S, 64), 1, 1, 64, 1, 1, 0, store);
  void *tgt[] = {&kv, &w, &pos, &S, &vocab, &targets};
  gemma4rt_gpu_launch(1, blocks(S, 64), 1, 1, 64, 1, 1, 0, tgt);
  /* The last `rows` tokens' logits only. */
  int64_t *last = targets + (S - rows);
  void *lg[] = {&last, &logits, &vocab, &shared};
  gemma4rt_gpu_launch(2, blocks(vocab, 128), rows, 1, 128, 1, 1, (int32_t)shared, lg);
  if (getenv("FAKE_GPU_FAULT") && atoll(getenv("FAKE_GPU_FAULT")) == calls) {
    int32_t *null = 0;
    void *f[] = {&null};
    gemma4rt_gpu_launch(3, 1, 1, 1, 32, 1, 1, 0, f);
  }
  _mlir_memref_to_llvm_free(targets);
}

#define ENTRY(name, dec)                                                                   \
  void name(int32_t *ids_alloc, int32_t *ids, int64_t ids_off, int64_t ids_size,           \
            int64_t ids_stride, int64_t pos, uint8_t *kv_alloc, uint8_t *kv, int64_t kv_off, \
            int64_t kv_size, int64_t kv_stride, int64_t context, uint8_t *w_alloc,          \
            uint8_t *w, int64_t w_off, int64_t w_size, int64_t w_stride,                    \
            float *logits_alloc, float *logits, int64_t logits_off, int64_t rows,           \
            int64_t vocab, int64_t row_stride, int64_t col_stride) {                        \
    (void)ids_alloc; (void)kv_alloc; (void)w_alloc; (void)logits_alloc;                     \
    run(dec, ids, ids_off, ids_size, ids_stride, pos, kv, kv_off, kv_size, kv_stride,       \
        context, w, w_off, w_size, w_stride, logits, logits_off, rows, vocab, row_stride,   \
        col_stride);                                                                         \
  }

ENTRY(gemma4_prefill, 0)
ENTRY(gemma4_decode, 1)

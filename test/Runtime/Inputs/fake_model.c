/*===- fake_model.c - a stand-in for gemma4c's generated object (tests) ---===*
 *
 * Implements gemma4_prefill / gemma4_decode with the ABI of abi.h so the
 * runtime can be tested without the compiler. The "model":
 *
 *   KV arena: 64 fixed bytes (int64 calls, int64 next expected position),
 *             then one int32 per context position (the token seen there).
 *   weights:  byte 0 is a salt.
 *   logits of the token at position p (ids[0..p] seen so far):
 *     target = (sum_{j<=p} ids[j] * (j + 1) + 3 * p + salt) mod V
 *     logits[v] = 1 - ((v - target) mod V) / V
 *   so greedy decoding picks `target` (fake_ref.py computes the same), and it
 *   only comes out right if the runtime feeds positions and the KV arena
 *   correctly across prefill chunks and decode steps.
 *
 * It checks the ABI on every call and aborts (exit 3) on any violation:
 * strides, shapes, arena size (= 64 + 4 * context), alignment, zeroed arena,
 * contiguous positions, pos + S <= context, ids in range, S == 1 for decode,
 * S <= $FAKE_MAX_CHUNK. $FAKE_TRACE=1 prints each call (and its ids) to stderr.
 * $FAKE_SKIPPED=N lets the first call start at position N (--fake-context).
 * $FAKE_WEIGHTS_SUMMARY=1 prints, at the first call, the size, smallest and
 * largest byte and an FNV-1a hash of the weights (--random-weights tests).
 * $FAKE_DELAY_US=N makes every call sleep N microseconds (a slow model for
 * the server's tests: streams in flight, full queues, shutdown). Logits are
 * filled through gemma4rt_parallel_for, checking every index is covered once.
 * GPU-path hooks (a GPU binary run on the host test device, GEMMA4RT_DEVICE=host,
 * where "device" pointers are host memory): $FAKE_SCRATCH=1 makes every call
 * allocate, write and free scratch through _mlir_memref_to_llvm_alloc/_free;
 * $FAKE_LAUNCH=N makes call N (from 1) launch kernel 0 via gemma4rt_gpu_launch.
 *===----------------------------------------------------------------------===*/
#include "gemma4rt/abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KV_FIXED 64
#define KV_PER_CONTEXT 4

static void fail(const char *what, long long a, long long b) {
  fprintf(stderr, "fake_model: ABI violation: %s (%lld vs %lld)\n", what, a, b);
  fflush(stderr);
  _exit(3);
}

struct fill_ctx {
  float *row;
  int64_t vocab, target;
  int64_t covered;
  int64_t calls;
};

static void fill_body(void *p, int64_t begin, int64_t end) {
  struct fill_ctx *c = (struct fill_ctx *)p;
  if (begin < 0 || end > c->vocab || begin >= end)
    fail("parallel_for range", begin, end);
  for (int64_t v = begin; v < end; ++v) {
    int64_t d = ((v - c->target) % c->vocab + c->vocab) % c->vocab;
    c->row[v] = 1.0f - (float)d / (float)c->vocab;
  }
  __atomic_fetch_add(&c->covered, end - begin, __ATOMIC_RELAXED);
  __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
}

static void run(int is_decode, int32_t *ids, int64_t ids_off, int64_t S, int64_t ids_stride,
                int64_t pos, uint8_t *kv, int64_t kv_off, int64_t kv_size, int64_t kv_stride,
                int64_t context, uint8_t *w, int64_t w_off, int64_t w_size, int64_t w_stride,
                float *logits, int64_t logits_off, int64_t rows, int64_t vocab,
                int64_t row_stride, int64_t col_stride) {
  static int trace = -1;
  static long long max_chunk = -2;
  if (trace < 0)
    trace = getenv("FAKE_TRACE") != NULL;
  if (max_chunk == -2) {
    const char *s = getenv("FAKE_MAX_CHUNK");
    max_chunk = s ? atoll(s) : -1;
  }
  if (trace) {
    fprintf(stderr, "fake: %s pos=%lld n=%lld ids=", is_decode ? "decode" : "prefill",
            (long long)pos, (long long)S);
    for (int64_t r = 0; r < S && r < 64; ++r)
      fprintf(stderr, r ? ",%d" : "%d", ids[r]);
    fprintf(stderr, "\n");
  }
  if (ids_off != 0 || ids_stride != 1) fail("ids offset/stride", ids_off, ids_stride);
  if (kv_off != 0 || kv_stride != 1) fail("kv offset/stride", kv_off, kv_stride);
  if (w_off != 0 || w_stride != 1) fail("weights offset/stride", w_off, w_stride);
  if (logits_off != 0 || col_stride != 1) fail("logits offset/col stride", logits_off, col_stride);
  if (row_stride != vocab) fail("logits row stride", row_stride, vocab);
  if (rows < 1 || rows > S) fail("logits rows vs ids", rows, S);
  if (S < 1) fail("empty call", S, 1);
  if (is_decode && S != 1) fail("decode with S != 1", S, 1);
  if (max_chunk > 0 && S > max_chunk) fail("prefill chunk too large", S, max_chunk);
  if (kv_size != KV_FIXED + KV_PER_CONTEXT * context) fail("kv arena size", kv_size, KV_FIXED + KV_PER_CONTEXT * context);
  if (((uintptr_t)kv & 63) != 0) fail("kv alignment", (long long)(uintptr_t)kv, 64);
  if (((uintptr_t)logits & 63) != 0) fail("logits alignment", (long long)(uintptr_t)logits, 64);
  if (pos < 0 || pos + S > context) fail("pos + S > context", pos + S, context);
  if (w_size < 1) fail("weights size", w_size, 1);
  static long long delay_us = -1;
  if (delay_us < 0) {
    const char *d = getenv("FAKE_DELAY_US");
    delay_us = d ? atoll(d) : 0;
  }
  if (delay_us > 0)
    usleep((useconds_t)delay_us);
  static int summarized = 0;
  if (!summarized && getenv("FAKE_WEIGHTS_SUMMARY")) {
    summarized = 1;
    unsigned lo = 255, hi = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int64_t i = 0; i < w_size; ++i) {
      unsigned b = w[i];
      lo = b < lo ? b : lo;
      hi = b > hi ? b : hi;
      h = (h ^ b) * 0x100000001b3ull;
    }
    fprintf(stderr, "fake: weights %lld bytes in [0x%02x, 0x%02x] fnv %016llx\n",
            (long long)w_size, lo, hi, (unsigned long long)h);
  }

  static long long ncalls = 0;
  ++ncalls;
  if (getenv("FAKE_SCRATCH")) {
    float *scratch = (float *)_mlir_memref_to_llvm_alloc((uint64_t)(S * vocab) * sizeof(float));
    if (scratch)
      for (int64_t i = 0; i < S * vocab; ++i)
        scratch[i] = (float)i;
    _mlir_memref_to_llvm_free(scratch);
  }
  if (getenv("FAKE_LAUNCH") && atoll(getenv("FAKE_LAUNCH")) == ncalls)
    gemma4rt_gpu_launch(0, 2, 1, 1, 64, 1, 1, 0, NULL);

  int64_t *calls = (int64_t *)kv, *next_pos = (int64_t *)kv + 1;
  if (pos == 0 && *calls != 0) fail("KV arena not fresh at pos 0", *calls, 0);
  /* $FAKE_SKIPPED=N: the runtime's --fake-context N starts a fresh arena at N. */
  if (*calls == 0 && getenv("FAKE_SKIPPED")) *next_pos = atoll(getenv("FAKE_SKIPPED"));
  if (pos != *next_pos) fail("position not contiguous", pos, *next_pos);
  for (int i = 16; i < KV_FIXED; ++i)
    if (kv[i] != 0) fail("KV fixed part not zeroed", i, kv[i]);
  ++*calls;
  *next_pos = pos + S;

  int32_t *seen = (int32_t *)(kv + KV_FIXED);
  const int64_t salt = w[0];
  int64_t sum = 0;
  for (int64_t j = 0; j < pos; ++j)
    sum = (sum + (int64_t)seen[j] * (j + 1)) % vocab;
  for (int64_t r = 0; r < S; ++r) {
    int32_t id = ids[r];
    if (id < 0 || id >= vocab) fail("token id out of range", id, vocab);
    int64_t p = pos + r;
    seen[p] = id;
    sum = (sum + (int64_t)id * (p + 1)) % vocab;
    if (r < S - rows)
      continue; /* only the last `rows` tokens' logits are asked for */
    struct fill_ctx c = {logits + (r - (S - rows)) * row_stride, vocab, (sum + 3 * p + salt) % vocab, 0, 0};
    gemma4rt_parallel_for(fill_body, &c, vocab, 16);
    if (c.covered != vocab) fail("parallel_for coverage", c.covered, vocab);
  }
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

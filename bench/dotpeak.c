/* Peak rates of the dot-product instructions the prefill products can run
 * on, the yardsticks for int8/int4 and bf16 prefill (fmapeak.c is the f32
 * FMA one): each thread runs 12 independent accumulator chains from
 * registers only, and the best aggregate rate over --reps runs is reported
 * as JSON, in GOP/s (2 operations per multiply-add, as fmapeak's GFLOP/s):
 *   int8_dot_gop_s   vpdpbusd (u8 x s8, 4 multiply-adds per int32 lane):
 *                    512-bit with -mavx512vnni, else 256-bit with -mavxvnni
 *                    (AVX-VNNI), else absent
 *   bf16_dot_gop_s   vdpbf16ps (bf16 pairs into f32, 2 multiply-adds per
 *                    lane), 512-bit with -mavx512bf16, else absent
 * Build with the flags of the CPU it measures, e.g.
 *   cc -O2 -mavx512f -mavx512bw -mavx512vnni -mavx512bf16 dotpeak.c -lpthread
 *   dotpeak [--threads N] [--reps 5] */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHAINS = 12 };
static const long ITERS = 50L * 1000 * 1000;

typedef struct {
  int kind; /* 0: int8 dot, 1: bf16 dot */
  double out;
} Job;

#if defined(__AVX512VNNI__) && defined(__AVX512F__)
#define INT8_LANES 16
static double int8Chains(void) {
  __m512i acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = _mm512_set1_epi32(c);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long i = 0; i < ITERS; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]),
                     "+v"(acc[5]), "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]),
                     "+v"(acc[11]));
  }
  __m512i s = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    s = _mm512_add_epi32(s, acc[c]);
  return (double)_mm512_reduce_add_epi32(s);
}
#elif defined(__AVXVNNI__)
#define INT8_LANES 8
static double int8Chains(void) {
  __m256i acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = _mm256_set1_epi32(c);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
  for (long i = 0; i < ITERS; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = _mm256_dpbusd_avx_epi32(acc[c], a, b);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]),
                     "+v"(acc[5]), "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]),
                     "+v"(acc[11]));
  }
  __m256i s = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    s = _mm256_add_epi32(s, acc[c]);
  int t[8];
  _mm256_storeu_si256((__m256i *)t, s);
  return t[0];
}
#else
#define INT8_LANES 0
static double int8Chains(void) { return 0; }
#endif

#if defined(__AVX512BF16__) && defined(__AVX512F__)
#define BF16_LANES 16
static double bf16Chains(void) {
  __m512 acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = _mm512_set1_ps((float)c * 1e-3f);
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(-1e-3f));
  for (long i = 0; i < ITERS; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]),
                     "+v"(acc[5]), "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]),
                     "+v"(acc[11]));
  }
  __m512 s = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    s = _mm512_add_ps(s, acc[c]);
  return _mm512_reduce_add_ps(s);
}
#else
#define BF16_LANES 0
static double bf16Chains(void) { return 0; }
#endif

static void *worker(void *arg) {
  Job *j = (Job *)arg;
  j->out = j->kind == 0 ? int8Chains() : bf16Chains();
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best GOP/s over reps runs of `threads` threads of chains of `kind`, each
 * instruction `macs` multiply-adds. */
static double peak(int kind, int threads, int reps, double macs, double *check) {
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  Job *jobs = calloc((size_t)threads, sizeof *jobs);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    for (int t = 0; t < threads; ++t) {
      jobs[t].kind = kind;
      pthread_create(&tid[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < threads; ++t)
      pthread_join(tid[t], NULL);
    double secs = now() - t0;
    double gops = (double)threads * ITERS * CHAINS * macs * 2 / secs / 1e9;
    if (gops > best)
      best = gops;
    for (int t = 0; t < threads; ++t)
      *check += jobs[t].out;
  }
  free(tid);
  free(jobs);
  return best;
}

int main(int argc, char **argv) {
  int threads = 1, reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "dotpeak: error: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || threads > 1024 || reps < 1) {
    fprintf(stderr, "dotpeak: error: --threads must be 1..1024 and --reps >= 1\n");
    return 2;
  }
  double check = 0;
  printf("{\"threads\": %d", threads);
  if (INT8_LANES)
    printf(", \"int8_dot_gop_s\": %.3f, \"int8_dot_bits\": %d",
           peak(0, threads, reps, INT8_LANES * 4.0, &check), INT8_LANES * 32);
  if (BF16_LANES)
    printf(", \"bf16_dot_gop_s\": %.3f, \"bf16_dot_bits\": %d",
           peak(1, threads, reps, BF16_LANES * 2.0, &check), BF16_LANES * 32);
  printf(", \"checksum\": %d}\n", check != 0);
  return 0;
}

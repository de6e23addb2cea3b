/* Peak f32 FMA rate for the prefill roofline: each thread runs 12 independent
 * 256-bit FMA chains (enough to cover the FMA latency on current x86 cores;
 * 512-bit FMAs have the same f32 FLOP rate on the cores we measure, AMD Zen 4
 * double-pumps them) from registers only, and reports the best aggregate
 * GFLOP/s (2 FLOPs per lane per FMA) as JSON. Compile with -mavx2 -mfma.
 *   fmapeak [--threads N] [--reps 5] */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHAINS = 12 };
static const long ITERS = 50L * 1000 * 1000;

typedef struct { float out; } Job;

static void *worker(void *arg) {
  Job *j = (Job *)arg;
  __m256 acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = _mm256_set1_ps((float)c * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < ITERS; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]),
                     "+x"(acc[5]), "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]),
                     "+x"(acc[10]), "+x"(acc[11]));
  }
  __m256 s = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    s = _mm256_add_ps(s, acc[c]);
  float t[8];
  _mm256_storeu_ps(t, s);
  j->out = t[0];
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = 1, reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "fmapeak: error: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (threads < 1 || threads > 1024 || reps < 1) {
    fprintf(stderr, "fmapeak: error: --threads must be 1..1024 and --reps >= 1\n");
    return 2;
  }
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  Job *jobs = calloc((size_t)threads, sizeof *jobs);
  double best = 0, check = 0;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    for (int t = 0; t < threads; ++t)
      pthread_create(&tid[t], NULL, worker, &jobs[t]);
    for (int t = 0; t < threads; ++t)
      pthread_join(tid[t], NULL);
    double secs = now() - t0;
    double gflops = (double)threads * ITERS * CHAINS * 8 * 2 / secs / 1e9;
    if (gflops > best)
      best = gflops;
    for (int t = 0; t < threads; ++t)
      check += jobs[t].out;
  }
  printf("{\"threads\": %d, \"fma_gflop_s\": %.3f, \"checksum\": %d}\n", threads, best,
         check != 0);
  free(tid);
  free(jobs);
  return 0;
}

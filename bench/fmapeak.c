/* Peak f32 FMA rate for the prefill roofline: each thread runs 12 independent
 * FMA chains (enough to cover the FMA latency on current x86 cores) from
 * registers only, and reports the best aggregate GFLOP/s (2 FLOPs per lane
 * per FMA) as JSON. The vectors are as wide as the compile flags allow:
 * 512-bit with -mavx512f (Intel server cores with two 512-bit FMA units run
 * twice the 256-bit rate; AMD Zen 4 double-pumps them, same rate), else
 * 256-bit with -mavx2 -mfma.
 *   fmapeak [--threads N] [--reps 5] */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHAINS = 12 };
#ifdef __AVX512F__
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#endif
static const long ITERS = 50L * 1000 * 1000;

typedef struct { float out; } Job;

static void *worker(void *arg) {
  Job *j = (Job *)arg;
  vec acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = SET1((float)c * 1e-3f);
  const vec a = SET1(0.999999f), b = SET1(1e-7f);
  for (long i = 0; i < ITERS; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = FMA(acc[c], a, b);
  }
  vec s = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    s = ADD(s, acc[c]);
  float t[LANES];
  STORE(t, s);
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
    double gflops = (double)threads * ITERS * CHAINS * LANES * 2 / secs / 1e9;
    if (gflops > best)
      best = gflops;
    for (int t = 0; t < threads; ++t)
      check += jobs[t].out;
  }
  printf("{\"threads\": %d, \"fma_gflop_s\": %.3f, \"vector_bits\": %d, \"checksum\": %d}\n",
         threads, best, LANES * 32, check != 0);
  free(tid);
  free(jobs);
  return 0;
}

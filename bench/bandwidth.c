/* Memory-bandwidth probe for the decode roofline: streams a buffer much larger
 * than the caches with 1..N threads and reports the best read bandwidth
 * (GB/s) as JSON. Reading is what decode does (every weight once per token).
 * The buffer is advised for transparent huge pages, as the model binaries'
 * --random-weights memory is: with 4 KiB pages the TLB misses cost 10-20% of
 * the bandwidth in a VM, and the roofline would sit below what decode can
 * reach.
 * Each thread reads its part as 1 sequential stream and, in separate runs,
 * as 4 streams side by side (its part cut in 4, as a decode step reads 4
 * weight rows from 4 parts of a matrix; the parts skewed so that they are
 * not a power of two apart), and as 8 streams with a software
 * prefetch 2 KiB ahead of each, as the decode code gemma4c generates for
 * Intel CPUs reads (4 weight rows and their 4 scale rows,
 * --weight-prefetch); read_gb_s is the best of the three, so the roofline
 * is what the memory gives any of these access patterns. On Intel, one
 * core reads 4 streams faster than 1, and 16 threads read 8 prefetched
 * streams faster still (151 against 132 GB/s on a Cascade Lake host); a
 * Zen 4 core reads 1 stream fastest.
 *
 * --seconds S makes each measurement sustained: passes over the buffer repeat
 * until S seconds have gone by, and the measurement is the bytes read over
 * that whole time. A shared machine's bandwidth comes in bursts of a few
 * seconds (a 2-vCPU cloud guest reads 30-35 GB/s, and 50-65 GB/s when its
 * neighbours are quiet); a single pass (tens of ms) catches the peak of a
 * burst, which a decode run lasting as long as S cannot hold. burst_gb_s is
 * the best single pass either way.
 *   bandwidth [--mb 1024] [--threads N] [--reps 5] [--seconds 0] */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct { const float *p; size_t n; int streams; int prefetch; double sum; size_t read; } Job;

/* Streams after the first start kSkew floats (4160 bytes: a page and a
 * line) further apart than an equal split would put them. An equal split
 * of a power-of-two buffer puts them a power of two apart, so every step's
 * lines share their low address bits (cache sets, DRAM banks): on one Zen
 * 4 core this probe read 4 such streams at 15 GB/s and 22 skewed (8
 * prefetched: 19 and 26). The decode code's row parts are not that
 * regular. */
enum { kSkew = 1040 };

/* Reads `streams` sequential streams side by side from p[0..n), each 128
 * bytes per step; sets j->read to the bytes read. */
static void *reader(void *arg) {
  Job *j = (Job *)arg;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t skew = j->streams > 1 ? kSkew : 0;
  size_t len = (j->n - skew * (j->streams - 1)) / j->streams / 32 * 32;
  j->read = len * j->streams * sizeof(float);
  if (j->streams == 1) {
    for (size_t i = 0; i + 32 <= len; i += 32) {
      a0 = _mm256_add_ps(a0, _mm256_load_ps(j->p + i));
      a1 = _mm256_add_ps(a1, _mm256_load_ps(j->p + i + 8));
      a2 = _mm256_add_ps(a2, _mm256_load_ps(j->p + i + 16));
      a3 = _mm256_add_ps(a3, _mm256_load_ps(j->p + i + 24));
    }
  } else {
    for (size_t i = 0; i + 32 <= len; i += 32)
      for (int s = 0; s < j->streams; ++s) {
        const float *q = j->p + s * (len + skew) + i;
        if (j->prefetch) { /* 2 KiB ahead; past the end is harmless */
          _mm_prefetch((const char *)(q + 512), _MM_HINT_T0);
          _mm_prefetch((const char *)(q + 528), _MM_HINT_T0);
        }
        a0 = _mm256_add_ps(a0, _mm256_load_ps(q));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(q + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(q + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(q + 24));
      }
  }
  float t[8];
  _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  j->sum = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t mb = 1024;
  int threads = 1, reps = 5;
  double seconds = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = strtoul(argv[++i], 0, 10);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else { fprintf(stderr, "bandwidth: error: unknown argument '%s'\n", argv[i]); return 2; }
  }
  if (threads < 1 || threads > 256 || mb < 64 || reps < 1 || !(seconds >= 0 && seconds <= 600)) {
    fprintf(stderr, "bandwidth: error: bad --threads/--mb/--reps/--seconds\n");
    return 2;
  }
  size_t n = mb * (1 << 20) / sizeof(float);
  float *buf = mmap(NULL, n * sizeof(float), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) { fprintf(stderr, "bandwidth: error: cannot allocate %zu MB\n", mb); return 1; }
#ifdef MADV_HUGEPAGE
  madvise(buf, n * sizeof(float), MADV_HUGEPAGE);
#endif
  for (size_t i = 0; i < n; ++i) buf[i] = (float)(i & 1023);
  /* Best GB/s per pattern: index 0 one stream per thread, 1 four, 2 eight
   * with software prefetch; each measurement passes over the buffer for at
   * least `seconds`. */
  double best[3] = {0, 0, 0}, burst = 0, sink = 0;
  static const int kStreams[3] = {1, 4, 8}, kPrefetch[3] = {0, 0, 1};
  size_t per = n / threads / 256 * 256; /* 8 streams x 32 floats */
  for (int r = 0; r < reps; ++r)
    for (int pat = 0; pat < 3; ++pat) {
      double t0 = now(), bytes = 0, elapsed;
      do {
        pthread_t th[256];
        Job jobs[256];
        double t1 = now();
        for (int t = 0; t < threads; ++t) {
          jobs[t] = (Job){buf + t * per, per, kStreams[pat], kPrefetch[pat], 0, 0};
          pthread_create(&th[t], NULL, reader, &jobs[t]);
        }
        double passBytes = 0;
        for (int t = 0; t < threads; ++t) {
          pthread_join(th[t], NULL);
          sink += jobs[t].sum;
          passBytes += (double)jobs[t].read;
        }
        double pass = passBytes / (now() - t1) / 1e9;
        if (pass > burst) burst = pass;
        bytes += passBytes;
        elapsed = now() - t0;
      } while (elapsed < seconds);
      double gbs = bytes / elapsed / 1e9;
      if (gbs > best[pat]) best[pat] = gbs;
    }
  double top = 0;
  for (int pat = 0; pat < 3; ++pat)
    if (best[pat] > top) top = best[pat];
  printf("{\"threads\": %d, \"mb\": %zu, \"seconds\": %.3f, \"read_gb_s\": %.3f, "
         "\"read_gb_s_1_stream\": %.3f, \"read_gb_s_4_streams\": %.3f, "
         "\"read_gb_s_8_streams_prefetch\": %.3f, \"burst_gb_s\": %.3f, \"checksum\": %.0f}\n",
         threads, mb, seconds, top, best[0], best[1], best[2], burst, sink > 0 ? 1.0 : 0.0);
  munmap(buf, n * sizeof(float));
  return 0;
}

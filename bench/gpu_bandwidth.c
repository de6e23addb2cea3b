/* gpu_bandwidth.c - the GPU roofline probes of bench/run --target cuda.
 *
 *   cc -O2 -o gpu_bandwidth bench/gpu_bandwidth.c -ldl
 *   ./gpu_bandwidth [MiB (default 1024)] [device (default 0)]
 *   ./gpu_bandwidth --mma tcpeak.ptx [device (default 0)]
 *
 * Times device-to-device copies (cuMemcpyDtoD: the driver's copy, no kernel
 * of ours) of a MiB-sized buffer, best of 20 after a warm-up, and prints
 * the copy bandwidth (bytes read + bytes written per second) in GB/s as
 * JSON: {"copy_gb_s": X, "device": "NAME"}. A decode step that reads R
 * weight bytes at this rate would take R / (X * 1e9) seconds: the roofline.
 *
 * --mma PTX: the tensor-core peak instead. PTX is bench/tcpeak.mlir built by
 * MLIR (bench/run --build-only --target cuda writes tcpeak.ptx): a kernel
 * whose warps run 8 independent bf16 mma.sync.m16n8k16 a step from
 * registers. It runs on 8 blocks of 256 threads per multiprocessor, best of
 * 5 timed launches after a warm-up, and prints
 * {"mma_bf16_tflop_s": X, "device": "NAME", "sms": N}: dense bf16 FLOP/s
 * (2 * 16 * 8 * 16 per mma) of mma.sync, the instruction the prefill
 * products run on (Hopper's wgmma is faster still; not probed).
 * libcuda.so.1 is opened at run time (no CUDA toolkit needed to build). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef CUresult (*fn_init)(unsigned);
typedef CUresult (*fn_dev)(int *, int);
typedef CUresult (*fn_name)(char *, int, int);
typedef CUresult (*fn_ctx)(void **, int);
typedef CUresult (*fn_alloc)(CUdeviceptr *, size_t);
typedef CUresult (*fn_copy)(CUdeviceptr, CUdeviceptr, size_t);
typedef CUresult (*fn_sync)(void);
typedef CUresult (*fn_attr)(int *, int, int);
typedef CUresult (*fn_load)(void **, const void *);
typedef CUresult (*fn_getfn)(void **, void *, const char *);
typedef CUresult (*fn_launch)(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                              unsigned, void *, void **, void **);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static char *readAll(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc(n + 1);
  if (p && fread(p, 1, n, f) != (size_t)n) {
    free(p);
    p = 0;
  }
  if (p)
    p[n] = 0;
  fclose(f);
  return p;
}

int main(int argc, char **argv) {
  const char *ptxPath = 0;
  if (argc > 1 && !strcmp(argv[1], "--mma")) {
    if (argc < 3) {
      fprintf(stderr, "gpu_bandwidth: --mma needs the probe's PTX file (tcpeak.ptx)\n");
      return 2;
    }
    ptxPath = argv[2];
    argv += 2, argc -= 2;
  }
  size_t mib = argc > 1 && !ptxPath ? strtoul(argv[1], 0, 10) : 1024;
  int ordinal = argc > (ptxPath ? 1 : 2) ? atoi(argv[ptxPath ? 1 : 2]) : 0;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "gpu_bandwidth: no NVIDIA driver (libcuda.so.1): %s\n", dlerror());
    return 1;
  }
  fn_init cuInit = (fn_init)dlsym(lib, "cuInit");
  fn_dev cuDeviceGet = (fn_dev)dlsym(lib, "cuDeviceGet");
  fn_name cuDeviceGetName = (fn_name)dlsym(lib, "cuDeviceGetName");
  fn_ctx retain = (fn_ctx)dlsym(lib, "cuDevicePrimaryCtxRetain");
  CUresult (*setCurrent)(void *) = (CUresult(*)(void *))dlsym(lib, "cuCtxSetCurrent");
  fn_alloc cuMemAlloc = (fn_alloc)dlsym(lib, "cuMemAlloc_v2");
  fn_copy cuMemcpyDtoD = (fn_copy)dlsym(lib, "cuMemcpyDtoD_v2");
  fn_sync cuCtxSynchronize = (fn_sync)dlsym(lib, "cuCtxSynchronize");
  int dev = 0;
  void *ctx = 0;
  char name[256] = "?";
  CUdeviceptr a, b;
  size_t bytes = mib << 20;
  if (ptxPath) {
    char *ptx = readAll(ptxPath);
    if (!ptx) {
      fprintf(stderr, "gpu_bandwidth: cannot read '%s'\n", ptxPath);
      return 2;
    }
    fn_attr cuDeviceGetAttribute = (fn_attr)dlsym(lib, "cuDeviceGetAttribute");
    fn_load cuModuleLoadData = (fn_load)dlsym(lib, "cuModuleLoadData");
    fn_getfn cuModuleGetFunction = (fn_getfn)dlsym(lib, "cuModuleGetFunction");
    fn_launch cuLaunchKernel = (fn_launch)dlsym(lib, "cuLaunchKernel");
    void *mod = 0, *fn = 0;
    int sms = 0;
    CUdeviceptr out;
    if (!cuInit || cuInit(0) || cuDeviceGet(&dev, ordinal) || retain(&ctx, dev) || setCurrent(ctx) ||
        cuDeviceGetAttribute(&sms, 16 /* CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT */, dev) ||
        cuModuleLoadData(&mod, ptx) || cuModuleGetFunction(&fn, mod, "gemma4_tc_peak")) {
      fprintf(stderr, "gpu_bandwidth: cannot load '%s' (gemma4_tc_peak) on device %d\n", ptxPath, ordinal);
      return 1;
    }
    cuDeviceGetName(name, sizeof name, dev);
    unsigned blocks = 8u * sms, threads = 256;
    if (cuMemAlloc(&out, (size_t)blocks * threads * 4)) {
      fprintf(stderr, "gpu_bandwidth: cannot allocate the probe's output\n");
      return 1;
    }
    int iters = 1 << 14;
    void *params[] = {&out, &iters};
    double best = 1e30;
    for (int i = 0; i < 6; ++i) {
      double t0 = now();
      if (cuLaunchKernel(fn, blocks, 1, 1, threads, 1, 1, 0, 0, params, 0) || cuCtxSynchronize()) {
        fprintf(stderr, "gpu_bandwidth: the tensor-core probe failed to run\n");
        return 1;
      }
      double t = now() - t0;
      if (i >= 1 && t < best)
        best = t;
    }
    double flops = (double)blocks * (threads / 32) * 8.0 * iters * 4096.0;
    printf("{\"mma_bf16_tflop_s\": %.1f, \"device\": \"%s\", \"sms\": %d}\n", flops / best / 1e12, name, sms);
    return 0;
  }
  if (!cuInit || cuInit(0) || cuDeviceGet(&dev, ordinal) || retain(&ctx, dev) || setCurrent(ctx) ||
      cuMemAlloc(&a, bytes) || cuMemAlloc(&b, bytes)) {
    fprintf(stderr, "gpu_bandwidth: cannot set up device %d with two %zu MiB buffers\n", ordinal, mib);
    return 1;
  }
  cuDeviceGetName(name, sizeof name, dev);
  double best = 1e30;
  for (int i = 0; i < 23; ++i) {
    double t0 = now();
    if (cuMemcpyDtoD(b, a, bytes) || cuCtxSynchronize()) {
      fprintf(stderr, "gpu_bandwidth: copy failed\n");
      return 1;
    }
    double t = now() - t0;
    if (i >= 3 && t < best)
      best = t;
  }
  printf("{\"copy_gb_s\": %.1f, \"device\": \"%s\", \"mib\": %zu}\n", 2.0 * bytes / best / 1e9, name, mib);
  return 0;
}

/* gpu_bandwidth.c - the HBM roofline probe of bench/run --target cuda.
 *
 *   cc -O2 -o gpu_bandwidth bench/gpu_bandwidth.c -ldl
 *   ./gpu_bandwidth [MiB (default 1024)] [device (default 0)]
 *
 * Times device-to-device copies (cuMemcpyDtoD: the driver's copy, no kernel
 * of ours) of a MiB-sized buffer, best of 20 after a warm-up, and prints
 * the copy bandwidth (bytes read + bytes written per second) in GB/s as
 * JSON: {"copy_gb_s": X, "device": "NAME"}. A decode step that reads R
 * weight bytes at this rate would take R / (X * 1e9) seconds: the roofline.
 * libcuda.so.1 is opened at run time (no CUDA toolkit needed to build). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
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

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 1024;
  int ordinal = argc > 2 ? atoi(argv[2]) : 0;
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

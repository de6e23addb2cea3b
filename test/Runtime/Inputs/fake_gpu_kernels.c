/*===- fake_gpu_kernels.c - the GPU kernels of fake_gpu_model.c (tests) ---===*
 *
 * Compiled to PTX by clang (--target=nvptx64-nvidia-cuda -nostdinc): the
 * fake model of fake_model.c on a GPU. KV arena: 64 fixed bytes, then one
 * int32 per position (the token seen there). Kernel order = the manifest's
 * gpu.kernels: fake_store, fake_targets, fake_logits, fake_fault.
 *===----------------------------------------------------------------------===*/
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;

#define KERNEL __attribute__((nvptx_kernel))
#define THREAD ((int64_t)__nvvm_read_ptx_sreg_ctaid_x() * __nvvm_read_ptx_sreg_ntid_x() + \
                __nvvm_read_ptx_sreg_tid_x())

/* seen[pos + i] = ids[i] */
KERNEL void fake_store(const int32_t *ids, uint8_t *kv, int64_t pos, int64_t n) {
  int64_t i = THREAD;
  if (i < n)
    ((int32_t *)(kv + 64))[pos + i] = ids[i];
}

/* targets[r] = (sum_{j <= pos+r} seen[j] * (j + 1) + 3 (pos+r) + w[0]) mod V */
KERNEL void fake_targets(const uint8_t *kv, const uint8_t *w, int64_t pos, int64_t n,
                         int64_t vocab, int64_t *targets) {
  int64_t r = THREAD;
  if (r >= n)
    return;
  const int32_t *seen = (const int32_t *)(kv + 64);
  int64_t p = pos + r, sum = 0;
  for (int64_t j = 0; j <= p; ++j)
    sum = (sum + (int64_t)seen[j] * (j + 1)) % vocab;
  targets[r] = (sum + 3 * p + w[0]) % vocab;
}

/* Dynamic shared memory (the launch may ask for more than 48 KiB). */
extern __attribute__((address_space(3))) float fake_shared[];

/* logits[r][v] = 1 - ((v - targets[r]) mod V) / V; grid (V/block, rows). */
KERNEL void fake_logits(const int64_t *targets, float *logits, int64_t vocab, int64_t shared) {
  int64_t v = THREAD, r = __nvvm_read_ptx_sreg_ctaid_y();
  int64_t d = ((v - targets[r]) % vocab + vocab) % vocab;
  float x = 1.0f - (float)d / (float)vocab;
  int t = __nvvm_read_ptx_sreg_tid_x();
  if (shared >= 4 * (int64_t)__nvvm_read_ptx_sreg_ntid_x()) {
    /* Through the far end of the dynamic shared memory and back. */
    int64_t last = shared / 4 - 1 - t;
    fake_shared[last] = x;
    __nvvm_bar_sync(0);
    x = fake_shared[last];
  }
  if (v < vocab)
    logits[r * vocab + v] = x;
}

/* Writes through a null pointer: an illegal address (error tests). */
KERNEL void fake_fault(int32_t *p) { p[THREAD] = 1; }

//===- device.h - the GPU a compiled model runs on --------------*- C++ -*-===//
//
// A GPU binary (manifest "gpu", see abi.h) runs its entry points on a Device:
// the weights, the KV arena, the ids and the logits live in device memory, and
// the generated host code launches kernels and allocates scratch through the
// C functions of abi.h (gemma4rt_gpu_launch, _mlir_memref_to_llvm_alloc ...),
// which forward to the current device. Those never throw: the first error is
// recorded (recordDeviceError) and thrown as one Error line by the next
// synchronize() / download(), i.e. right after the entry point returns.
//
// Implementations: CudaDevice (runtime/cuda: the CUDA driver API through
// dlopen("libcuda.so.1"), no link-time dependency) and HostDevice (host memory
// standing in for device memory, for tests: GEMMA4RT_DEVICE=host makes a GPU
// binary run its entry points on it; any kernel launch fails).
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_DEVICE_H
#define GEMMA4RT_DEVICE_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gemma4rt {

class Payload;
struct Manifest;

/// A size-keyed cache of freed blocks over an allocate/free pair: the
/// generated code allocates and frees the same few scratch sizes every
/// token, and a device allocation per token would cost far too much.
/// Sizes are rounded up to 8 steps per power of two (at least 256 bytes); a
/// request takes a cached block of its rounded size, else the smallest cached
/// one of at most twice that size, else a new one. When the underlying
/// allocation fails, every cached block is released and it is tried once
/// more. Not thread-safe (calls come from the one thread running the model).
class ScratchCache {
public:
  /// Returns nullptr and sets `error` on failure; never throws.
  using AllocFn = std::function<void *(uint64_t bytes, std::string &error)>;
  using FreeFn = std::function<void(void *p)>;
  ScratchCache(AllocFn alloc, FreeFn free);
  ~ScratchCache(); ///< releaseAll()
  ScratchCache(const ScratchCache &) = delete;
  ScratchCache &operator=(const ScratchCache &) = delete;

  /// A block of at least `bytes` bytes (0 counts as 1); nullptr with `error`
  /// set when the underlying allocation fails even after trim().
  void *allocate(uint64_t bytes, std::string &error);
  /// Returns `p` to the cache; false when it is not a live block of this
  /// cache (nullptr is a no-op returning true).
  bool release(void *p);
  /// Frees every cached (not live) block through the FreeFn.
  void trim();
  /// Frees every block, live ones too (the device is going away).
  void releaseAll();

  /// The size a request of `bytes` is rounded up to.
  static uint64_t roundSize(uint64_t bytes);

  /// Between beginSequence(key) and endSequence(), the i-th request gets
  /// the block the i-th request of the previous sequence with the same key
  /// got, when it is cached and of the size asked for: a model entry point
  /// called again sees the same addresses (a recorded CUDA graph then needs
  /// no parameter updates), whatever order its blocks were released in.
  void beginSequence(const void *key);
  void endSequence();

  struct Stats {
    uint64_t liveBytes = 0;   ///< handed out, not yet released
    uint64_t cachedBytes = 0; ///< released, kept for reuse
    uint64_t peakBytes = 0;   ///< max of liveBytes + cachedBytes
    uint64_t allocations = 0; ///< calls of the AllocFn that succeeded
    uint64_t reuses = 0;      ///< requests served from the cache
  };
  const Stats &stats() const { return stats_; }

private:
  void *allocateAny(uint64_t size, std::string &error);
  AllocFn alloc_;
  FreeFn free_;
  std::multimap<uint64_t, void *> cached_;     ///< block size -> block
  std::unordered_map<void *, uint64_t> live_;  ///< block -> its size
  Stats stats_;
  std::unordered_map<const void *, std::vector<std::pair<void *, uint64_t>>> sequences_;
  std::vector<std::pair<void *, uint64_t>> *sequence_ = nullptr; ///< the one in progress
  size_t sequenceIndex_ = 0;
};

/// One GPU: memory, copies, the kernel table. Every method but the noexcept
/// ones throws Error (one line) on failure. Used from one thread.
class Device {
public:
  Device();
  virtual ~Device(); ///< clears currentDevice() when it is this one
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// E.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.2 GiB, driver 13.0, cubin)".
  virtual std::string description() const = 0;
  /// How messages name it, e.g. "GPU 0 (NVIDIA H100 80GB HBM3)".
  virtual std::string label() const = 0;

  struct MemoryInfo {
    uint64_t freeBytes = 0;
    uint64_t totalBytes = 0;
  };
  virtual MemoryInfo memoryInfo() = 0;

  /// Device memory, at least 256-byte aligned. `what` names it in the error.
  /// On failure the scratch cache is trimmed and it is tried once more.
  void *alloc(uint64_t bytes, const std::string &what);
  virtual void free(void *p) noexcept = 0;
  /// Host -> device. Returns once `src` may be reused.
  virtual void upload(void *dst, const void *src, uint64_t bytes) = 0;
  /// Device -> host, after every kernel queued before it; throws the first
  /// recorded error or kernel fault (as synchronize()).
  virtual void download(void *dst, const void *src, uint64_t bytes) = 0;
  /// Fills `bytes` bytes at `dst` (4-byte aligned) with the little-endian
  /// repetition of `pattern` (a ragged tail gets its first bytes).
  virtual void fill32(void *dst, uint32_t pattern, uint64_t bytes) = 0;
  /// Waits for every queued kernel; throws Error with the first recorded
  /// launch/allocation error (recordDeviceError) or asynchronous kernel fault.
  virtual void synchronize() = 0;

  /// Host memory for the logits that download() writes: page-locked where
  /// the device has it (faster copies); 64-byte aligned.
  virtual void *allocHost(uint64_t bytes, const std::string &what);
  virtual void freeHost(void *p) noexcept;

  /// Around one call of an entry point (Session::call): a device may record
  /// the call's launches and submit them as one unit (CUDA graphs) instead
  /// of one by one. `key` tells the entry points apart (a recording of the
  /// same entry point is updated in place, not rebuilt). endEntry() submits
  /// what was recorded; it returns false when nothing ran and the entry
  /// point must be called again, unrecorded (the recording failed).
  virtual void beginEntry(const void *key) noexcept { (void)key; }
  virtual bool endEntry() noexcept { return true; }
  /// Prepared calls: a device that can (canPrepare) records a call ahead
  /// of time -- the next decode step while this one runs -- with
  /// beginEntry, the entry point's host code and endEntryPrepared (true:
  /// kept, not submitted); launchPrepared(key) later submits it (false:
  /// nothing prepared for key: call the entry point as usual).
  virtual bool canPrepare() const { return false; }
  virtual bool endEntryPrepared() noexcept { return false; }
  virtual bool launchPrepared(const void *key) noexcept {
    (void)key;
    return false;
  }

  // ---- The generated code's services (abi.h); never throw -----------------
  /// gemma4rt_gpu_launch: kernel `kernel` of the manifest's gpu.kernels.
  virtual void launch(int32_t kernel, const int64_t grid[3], const int64_t block[3],
                      int32_t sharedBytes, void **args) noexcept = 0;
  /// _mlir_memref_to_llvm_alloc / _free: device scratch through the cache.
  void *scratchAlloc(uint64_t bytes) noexcept;
  void scratchFree(void *p) noexcept;
  /// gemma4rt_gpu_launch calls so far (what --stats reports per call).
  uint64_t launches() const { return launches_; }
  void countLaunch() noexcept { ++launches_; }
  const ScratchCache::Stats &scratchStats() const { return scratch_.stats(); }
  /// Around one call of an entry point (Session::call): its scratch blocks
  /// are the ones its previous call had (ScratchCache::beginSequence).
  void beginScratchSequence(const void *key) { scratch_.beginSequence(key); }
  void endScratchSequence() { scratch_.endSequence(); }
  /// Frees the cached scratch blocks (a failed allocation does it too).
  void trimScratch() { scratch_.trim(); }

  /// Expects about `bytes` of scratch at a time (planDeviceMemory's
  /// estimate): a device with a memory pool reserves it now, so the first
  /// call's allocations take no trip to the driver each.
  virtual void reserveScratch(uint64_t bytes) noexcept { (void)bytes; }

protected:
  /// Device memory without throwing: nullptr and `error` set on failure.
  virtual void *tryAlloc(uint64_t bytes, std::string &error) noexcept = 0;
  /// The scratch cache's own blocks (default: tryAlloc and free).
  virtual void *tryAllocScratch(uint64_t bytes, std::string &error) noexcept {
    return tryAlloc(bytes, error);
  }
  virtual void freeScratch(void *p) noexcept { free(p); }
  /// For destructors: frees the scratch blocks while the device still works.
  void releaseScratch();

private:
  ScratchCache scratch_;
  uint64_t launches_ = 0;
};

/// The device the C functions of abi.h use (null: none open).
Device *currentDevice();
void setCurrentDevice(Device *device);

/// Records `what` as the first device error unless one is pending; never
/// throws (called from the C ABI functions).
void recordDeviceError(const std::string &what) noexcept;
/// Whether an error is pending (cheap: Session checks it after every call).
bool deviceErrorPending() noexcept;
/// Throws Error with the pending error and clears it; does nothing if none.
void throwPendingDeviceError();

/// Device memory that frees itself.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(Device &device, uint64_t bytes, const std::string &what);
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer &&o) noexcept { *this = std::move(o); }
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  void reset() noexcept;
  void *data() const { return data_; }
  uint64_t size() const { return size_; }

private:
  Device *device_ = nullptr;
  void *data_ = nullptr;
  uint64_t size_ = 0;
};

/// The pattern --random-weights fills device weights with: bytes 0x3f 0x3e
/// 0x3d 0x3c, each in [0x3c, 0x3f] like fillRandomWeights (small, finite
/// values whatever the format).
constexpr uint32_t kDeviceRandomWeightsPattern = 0x3c3d3e3fu;

/// Opens ordinal `ordinal` of the API the manifest's "gpu" names and loads
/// its kernels (GEMMA4RT_DEVICE=host: a HostDevice instead). Throws Error.
std::unique_ptr<Device> openDevice(const Payload &payload, int ordinal);
/// CUDA (runtime/cuda/CudaDevice.cpp). Throws Error: no driver, no GPU,
/// ordinal out of range, a GPU older than gpu.arch, PTX that does not
/// compile, a missing kernel.
std::unique_ptr<Device> openCudaDevice(const Payload &payload, int ordinal);
/// Vulkan (runtime/vulkan/VulkanDevice.cpp). Throws Error: no Vulkan loader,
/// no device, ordinal out of range, a device without a feature the SPIR-V
/// needs (named), a pipeline that does not compile.
std::unique_ptr<Device> openVulkanDevice(const Payload &payload, int ordinal);
/// What --info prints about the machine's Vulkan devices (one line each:
/// name, API version, memory, and which of the needed features it lacks).
/// Never throws.
std::vector<std::string> listVulkanDevices(const Payload &payload, std::string &error);
/// Host memory for device memory; launch() records an error. For tests.
std::unique_ptr<Device> openHostDevice(const Payload &payload);

/// What --info says about the machine's CUDA GPUs. Never throws.
struct CudaListing {
  std::string error;     ///< why there are none ("" when the driver answered)
  int driverVersion = 0; ///< e.g. 13000
  struct Gpu {
    std::string name;
    int sm = 0; ///< compute capability x 10 + minor, e.g. 90
    uint64_t totalBytes = 0;
  };
  std::vector<Gpu> gpus;
};
CudaListing listCudaDevices();

/// Device memory a session needs besides scratch: weights + KV arena +
/// logits + ids, and the estimate of the generated code's scratch.
struct DeviceMemoryPlan {
  uint64_t weights = 0, kv = 0, io = 0, scratch = 0;
  uint64_t total() const; ///< saturating sum
};
DeviceMemoryPlan planDeviceMemory(const Manifest &m, int64_t context);
/// Throws Error("not enough GPU memory: the model needs X GiB (weights W, KV
/// cache K), GPU 0 (..) has F GiB free of T ...") when the plan does not fit
/// the free memory; `context` is named (--max-context) when the KV cache is
/// a large part of it.
void checkDeviceMemory(Device &device, const Manifest &m, int64_t context);

/// Copies the payload's weights into a new device buffer: uploadStaged with
/// 32 MiB slices and up to 8 threads.
DeviceBuffer uploadWeights(Device &device, const Payload &payload,
                           const std::function<void(uint64_t, uint64_t)> &progress = nullptr);
/// Copies `total` bytes of host memory `src` to device memory `dst` through
/// two staging halves of `threads` x `slice` bytes from device.allocHost
/// (page-locked where the device has it): the threads fill one half while
/// the device copies the other; progress(done, total) after each half (and
/// once at 0).
void uploadStaged(Device &device, void *dst, const uint8_t *src, uint64_t total, uint64_t slice,
                  int threads, const std::function<void(uint64_t, uint64_t)> &progress = nullptr);
/// A device buffer of `bytes` bytes filled with kDeviceRandomWeightsPattern.
DeviceBuffer randomDeviceWeights(Device &device, uint64_t bytes);

/// "4.80 GiB" (two decimals; "512.0 MiB" below 1 GiB).
std::string formatBytes(uint64_t bytes);

} // namespace gemma4rt

#endif

//===- Device.cpp - the device layer: scratch cache, errors, the GPU C ABI ===//
//
// What every Device shares (device.h): the scratch cache, the first-error
// slot, weights upload and the memory check, and the C functions of abi.h
// that generated GPU host code calls. They are defined in every runtime;
// CPU binaries never call them.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/device.h"
#include "gemma4rt/abi.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"
#include "gemma4rt/session.h"
#include "gemma4rt/threadpool.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace gemma4rt {

//===----------------------------------------------------------------------===//
// ScratchCache
//===----------------------------------------------------------------------===//

ScratchCache::ScratchCache(AllocFn alloc, FreeFn free)
    : alloc_(std::move(alloc)), free_(std::move(free)) {}

ScratchCache::~ScratchCache() { releaseAll(); }

uint64_t ScratchCache::roundSize(uint64_t bytes) {
  constexpr uint64_t kMin = 256;
  if (bytes <= kMin)
    return kMin;
  if (bytes > (uint64_t(1) << 62))
    return bytes; // no allocation this large succeeds anyway
  const uint64_t step = std::max(kMin, std::bit_floor(bytes) / 8);
  return (bytes + step - 1) / step * step;
}

void ScratchCache::beginSequence(const void *key) {
  sequence_ = &sequences_[key];
  sequenceIndex_ = 0;
}

void ScratchCache::endSequence() { sequence_ = nullptr; }

void *ScratchCache::allocate(uint64_t bytes, std::string &error) {
  const uint64_t size = roundSize(bytes);
  if (!sequence_)
    return allocateAny(size, error);
  // The block this request got last time, if it is free again.
  void *p = nullptr;
  if (sequenceIndex_ < sequence_->size() && (*sequence_)[sequenceIndex_].second >= size &&
      (*sequence_)[sequenceIndex_].second / 2 <= size) {
    const uint64_t blockSize = (*sequence_)[sequenceIndex_].second;
    auto [lo, hi] = cached_.equal_range(blockSize);
    for (auto it = lo; it != hi; ++it)
      if (it->second == (*sequence_)[sequenceIndex_].first) {
        p = it->second;
        live_.emplace(p, blockSize);
        stats_.cachedBytes -= blockSize;
        stats_.liveBytes += blockSize;
        ++stats_.reuses;
        cached_.erase(it);
        break;
      }
  }
  if (!p)
    p = allocateAny(size, error);
  if (p) {
    if (sequenceIndex_ < sequence_->size())
      (*sequence_)[sequenceIndex_] = {p, live_.at(p)};
    else
      sequence_->emplace_back(p, live_.at(p));
    ++sequenceIndex_;
  }
  return p;
}

void *ScratchCache::allocateAny(uint64_t size, std::string &error) {
  auto it = cached_.lower_bound(size);
  if (it != cached_.end() && it->first / 2 <= size) {
    void *p = it->second;
    live_.emplace(p, it->first);
    stats_.cachedBytes -= it->first;
    stats_.liveBytes += it->first;
    ++stats_.reuses;
    cached_.erase(it);
    return p;
  }
  void *p = alloc_(size, error);
  if (!p && !cached_.empty()) {
    trim();
    error.clear();
    p = alloc_(size, error);
  }
  if (!p)
    return nullptr;
  live_.emplace(p, size);
  stats_.liveBytes += size;
  ++stats_.allocations;
  stats_.peakBytes = std::max(stats_.peakBytes, stats_.liveBytes + stats_.cachedBytes);
  return p;
}

bool ScratchCache::release(void *p) {
  if (!p)
    return true;
  auto it = live_.find(p);
  if (it == live_.end())
    return false;
  cached_.emplace(it->second, p);
  stats_.liveBytes -= it->second;
  stats_.cachedBytes += it->second;
  live_.erase(it);
  return true;
}

void ScratchCache::trim() {
  // A freed block's address may come back for another request: the
  // sequences only hint, so they stay (a stale hint matches nothing cached).
  for (auto &[size, p] : cached_)
    free_(p);
  cached_.clear();
  stats_.cachedBytes = 0;
}

void ScratchCache::releaseAll() {
  trim();
  for (auto &[p, size] : live_)
    free_(p);
  live_.clear();
  stats_.liveBytes = 0;
}

//===----------------------------------------------------------------------===//
// The first device error and the current device
//===----------------------------------------------------------------------===//

namespace {

std::atomic<bool> gErrorPending{false};
std::mutex gErrorMutex;
std::string gError;
Device *gCurrent = nullptr;

} // namespace

void recordDeviceError(const std::string &what) noexcept {
  std::lock_guard<std::mutex> lock(gErrorMutex);
  if (gErrorPending.load(std::memory_order_relaxed))
    return;
  try {
    gError = what;
  } catch (...) {
    gError.clear(); // out of memory: throwPendingDeviceError says so
  }
  gErrorPending.store(true, std::memory_order_release);
}

bool deviceErrorPending() noexcept { return gErrorPending.load(std::memory_order_acquire); }

void throwPendingDeviceError() {
  if (!deviceErrorPending())
    return;
  std::string what;
  {
    std::lock_guard<std::mutex> lock(gErrorMutex);
    what.swap(gError);
    gErrorPending.store(false, std::memory_order_release);
  }
  throw Error(what.empty() ? "GPU error (out of host memory while recording it)" : what);
}

Device *currentDevice() { return gCurrent; }
void setCurrentDevice(Device *device) { gCurrent = device; }

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

Device::Device()
    : scratch_([this](uint64_t bytes, std::string &error) { return tryAllocScratch(bytes, error); },
               [this](void *p) { freeScratch(p); }) {}

Device::~Device() {
  if (gCurrent == this)
    gCurrent = nullptr;
}

void Device::releaseScratch() { scratch_.releaseAll(); }

std::string formatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(uint64_t(1) << 30));
  else if (bytes >= (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%" PRIu64 " bytes", bytes);
  return buf;
}

void *Device::alloc(uint64_t bytes, const std::string &what) {
  std::string error;
  void *p = tryAlloc(bytes, error);
  if (!p) {
    scratch_.trim();
    error.clear();
    p = tryAlloc(bytes, error);
  }
  if (!p)
    throw Error("cannot allocate " + what + " (" + formatBytes(bytes) + ") on " + label() +
                ": " + error);
  return p;
}

void *Device::allocHost(uint64_t bytes, const std::string &what) {
  uint64_t rounded = (std::max<uint64_t>(bytes, 1) + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw Error("cannot allocate " + what + " (" + formatBytes(bytes) + ")");
  return p;
}

void Device::freeHost(void *p) noexcept { std::free(p); }

void *Device::scratchAlloc(uint64_t bytes) noexcept {
  std::string error;
  void *p = nullptr;
  try {
    p = scratch_.allocate(bytes, error);
  } catch (...) {
    error = "out of host memory";
  }
  if (!p)
    recordDeviceError("cannot allocate " + formatBytes(bytes) + " of GPU scratch memory on " +
                      label() + ": " + error);
  return p;
}

void Device::scratchFree(void *p) noexcept {
  bool known = false;
  try {
    known = scratch_.release(p);
  } catch (...) {
    recordDeviceError("out of host memory freeing GPU scratch memory");
    return;
  }
  if (!known) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "the generated code freed %p, which is not GPU scratch memory it allocated", p);
    recordDeviceError(buf);
  }
}

//===----------------------------------------------------------------------===//
// DeviceBuffer, weights, the memory check
//===----------------------------------------------------------------------===//

DeviceBuffer::DeviceBuffer(Device &device, uint64_t bytes, const std::string &what)
    : device_(&device), data_(device.alloc(bytes, what)), size_(bytes) {}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    reset();
    device_ = o.device_;
    data_ = o.data_;
    size_ = o.size_;
    o.device_ = nullptr;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() noexcept {
  if (device_ && data_)
    device_->free(data_);
  device_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

void uploadStaged(Device &device, void *dst, const uint8_t *src, uint64_t total, uint64_t slice,
                  int threads, const std::function<void(uint64_t, uint64_t)> &progress) {
  if (progress)
    progress(0, total);
  // Two halves of page-locked host memory: `threads` threads copy (and so
  // read from the file, page faults included) their slices of one half
  // while the device copies the other, so start-up runs at the host's read
  // bandwidth instead of one thread's copying into the driver's staging
  // buffer. Without page-locked memory (allocHost falls back to pageable)
  // the copies are synchronous, still correct.
  threads = std::max(threads, 1);
  slice = std::max<uint64_t>(slice, 1);
  const uint64_t half = std::min<uint64_t>(slice * uint64_t(threads), std::max<uint64_t>(total, 1));
  struct Staging {
    Device &d;
    void *p;
    ~Staging() { d.freeHost(p); }
  };
  Staging stage[2] = {{device, device.allocHost(half, "the weights' upload staging")},
                      {device, device.allocHost(half, "the weights' upload staging")}};
  ThreadPool pool(threads);
  int cur = 0;
  for (uint64_t done = 0; done < total; cur ^= 1) {
    const uint64_t n = std::min(half, total - done);
    uint8_t *to = static_cast<uint8_t *>(stage[cur].p);
    const uint8_t *from = src + done;
    pool.parallelFor(int64_t((n + slice - 1) / slice), 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        uint64_t off = uint64_t(i) * slice;
        std::memcpy(to + off, from + off, std::min(slice, n - off));
      }
    });
    device.synchronize(); // the other half's copy is done: it may be refilled next
    device.upload(static_cast<uint8_t *>(dst) + done, to, n);
    done += n;
    if (progress)
      progress(done, total);
  }
  device.synchronize();
}

DeviceBuffer uploadWeights(Device &device, const Payload &payload,
                           const std::function<void(uint64_t, uint64_t)> &progress) {
  const uint64_t total = payload.weightsSize();
  DeviceBuffer buf(device, std::max<uint64_t>(total, 1), "the weights");
  const uint8_t *src = payload.weights();
  if (!src && total > 0)
    throw Error("the weights are not mapped (internal error)");
  uploadStaged(device, buf.data(), src, total, uint64_t(32) << 20,
               std::clamp(defaultThreadCount(), 1, 8), progress);
  return buf;
}

DeviceBuffer randomDeviceWeights(Device &device, uint64_t bytes) {
  DeviceBuffer buf(device, std::max<uint64_t>(bytes, 1), "the random weights");
  device.fill32(buf.data(), kDeviceRandomWeightsPattern, bytes);
  device.synchronize();
  return buf;
}

uint64_t DeviceMemoryPlan::total() const {
  uint64_t t = 0;
  for (uint64_t x : {weights, kv, io, scratch})
    t = x > UINT64_MAX - t ? UINT64_MAX : t + x;
  return t;
}

DeviceMemoryPlan planDeviceMemory(const Manifest &m, int64_t context) {
  DeviceMemoryPlan p;
  p.weights = m.weightsSize;
  p.kv = KvArena::bytesFor(m, context);
  const uint64_t chunk = uint64_t(m.prefillChunk), vocab = uint64_t(m.model.vocabSize);
  p.io = chunk * vocab * sizeof(float) + chunk * sizeof(int32_t);
  // The generated code's activations are not in the manifest: a prefill
  // chunk's worth of hidden-sized rows (x32 covers the MLP's and attention's
  // temporaries) and a second logits-sized buffer, plus headroom for the
  // allocator's rounding and the kernels' own (module, stack) memory.
  const uint64_t hidden = uint64_t(std::max<int64_t>(m.model.hiddenSize, 1));
  p.scratch = (uint64_t(256) << 20) + chunk * hidden * sizeof(float) * 32 +
              chunk * vocab * sizeof(float);
  return p;
}

void checkDeviceMemory(Device &device, const Manifest &m, int64_t context) {
  const DeviceMemoryPlan plan = planDeviceMemory(m, context);
  const Device::MemoryInfo mem = device.memoryInfo();
  if (plan.total() <= mem.freeBytes)
    return;
  std::string msg = "not enough GPU memory: the model needs " + formatBytes(plan.total()) +
                    " (weights " + formatBytes(plan.weights) + ", KV cache " +
                    formatBytes(plan.kv) + " for a context of " + std::to_string(context) +
                    ", activations and logits " + formatBytes(plan.io + plan.scratch) + "), " +
                    device.label() + " has " + formatBytes(mem.freeBytes) + " free of " +
                    formatBytes(mem.totalBytes);
  if (plan.kv >= (uint64_t(1) << 30) && plan.kv >= plan.total() / 4)
    msg += ": a smaller --max-context shrinks the KV cache";
  throw Error(msg);
}

//===----------------------------------------------------------------------===//
// Opening
//===----------------------------------------------------------------------===//

std::unique_ptr<Device> openDevice(const Payload &payload, int ordinal) {
  const char *env = std::getenv("GEMMA4RT_DEVICE");
  if (env && std::strcmp(env, "host") == 0)
    return openHostDevice(payload);
  if (env && *env)
    throw Error(std::string("GEMMA4RT_DEVICE=") + env +
                ": unknown device (unset it, or \"host\" for the test device)");
  const Manifest &m = payload.manifest();
  if (m.gpu && m.gpu->api == "vulkan")
    return openVulkanDevice(payload, ordinal);
  return openCudaDevice(payload, ordinal);
}

} // namespace gemma4rt

//===----------------------------------------------------------------------===//
// The C ABI of abi.h (never throws)
//===----------------------------------------------------------------------===//

using gemma4rt::currentDevice;
using gemma4rt::recordDeviceError;

namespace {

void noDevice(const char *fn) {
  recordDeviceError(std::string("the generated code called ") + fn +
                    ", but no GPU is open (the manifest has no \"gpu\" entry)");
}

} // namespace

extern "C" void gemma4rt_gpu_launch(int32_t kernel, int64_t gx, int64_t gy, int64_t gz,
                                    int64_t bx, int64_t by, int64_t bz, int32_t shared_bytes,
                                    void **args) {
  gemma4rt::Device *d = currentDevice();
  if (!d)
    return noDevice("gemma4rt_gpu_launch");
  if (gemma4rt::deviceErrorPending())
    return; // the call fails anyway: launch nothing more
  const int64_t grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  d->countLaunch();
  d->launch(kernel, grid, block, shared_bytes, args);
}

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  gemma4rt::Device *d = currentDevice();
  if (!d) {
    noDevice("_mlir_memref_to_llvm_alloc");
    return nullptr;
  }
  return d->scratchAlloc(size);
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t size) {
  gemma4rt::Device *d = currentDevice();
  if (!d) {
    noDevice("_mlir_memref_to_llvm_aligned_alloc");
    return nullptr;
  }
  if (alignment == 0 || alignment > 256 || (alignment & (alignment - 1)) != 0) {
    recordDeviceError("the generated code asked for GPU scratch memory aligned to " +
                      std::to_string(alignment) + " bytes (at most 256 is supported)");
    return nullptr;
  }
  return d->scratchAlloc(size); // device allocations are 256-byte aligned
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  gemma4rt::Device *d = currentDevice();
  if (!d) {
    if (ptr)
      noDevice("_mlir_memref_to_llvm_free");
    return;
  }
  d->scratchFree(ptr);
}

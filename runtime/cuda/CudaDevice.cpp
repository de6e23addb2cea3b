//===- CudaDevice.cpp - the CUDA device: driver API through dlopen -------===//
//
// A Device on an NVIDIA GPU through the CUDA driver API, loaded at run time
// with dlopen("libcuda.so.1") (cuda.h gives the types only): binaries need
// no CUDA library to link or to start, and a machine without the driver
// gets one error line. One primary context, one non-blocking stream: ids
// uploads, kernels and logits downloads are ordered on it, so scratch blocks
// can be reused as soon as the generated code frees them.
//
// Kernels: the payload's cubin when the GPU's compute capability is exactly
// gpu.arch, else its PTX compiled by the driver's JIT (cached by the driver
// in ~/.nv/ComputeCache). GEMMA4RT_GPU_SYNC=1 waits after every launch, so a
// faulting kernel is named (slow; for debugging generated code).
// GEMMA4RT_GPU_PROFILE=1 also waits after every launch and, at exit, prints
// per kernel its calls, the time from launch to completion and its last
// launch shape, the largest first (where a decode step's time goes).
//
// Built without cuda.h (GEMMA4RT_HAVE_CUDA undefined), openCudaDevice and
// listCudaDevices only say so.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/device.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"

#ifdef GEMMA4RT_HAVE_CUDA

#include <cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <vector>

namespace gemma4rt {

namespace {

// The driver entry points used, by their versioned names (the unversioned
// ones in cuda.h are macros for these).
#define GEMMA4RT_CUDA_FUNCTIONS(X)                                                                 \
  X(cuGetErrorName)                                                                                \
  X(cuGetErrorString)                                                                              \
  X(cuInit)                                                                                        \
  X(cuDriverGetVersion)                                                                            \
  X(cuDeviceGetCount)                                                                              \
  X(cuDeviceGet)                                                                                   \
  X(cuDeviceGetName)                                                                               \
  X(cuDeviceGetAttribute)                                                                          \
  X(cuDeviceTotalMem_v2)                                                                           \
  X(cuDevicePrimaryCtxRetain)                                                                      \
  X(cuDevicePrimaryCtxRelease_v2)                                                                  \
  X(cuCtxSetCurrent)                                                                               \
  X(cuMemGetInfo_v2)                                                                               \
  X(cuMemAlloc_v2)                                                                                 \
  X(cuMemFree_v2)                                                                                  \
  X(cuMemAllocHost_v2)                                                                             \
  X(cuMemFreeHost)                                                                                 \
  X(cuMemcpyHtoDAsync_v2)                                                                          \
  X(cuMemcpyDtoHAsync_v2)                                                                          \
  X(cuMemsetD32Async)                                                                              \
  X(cuMemsetD8Async)                                                                               \
  X(cuStreamCreate)                                                                                \
  X(cuStreamDestroy_v2)                                                                            \
  X(cuStreamSynchronize)                                                                           \
  X(cuModuleLoadData)                                                                              \
  X(cuModuleLoadDataEx)                                                                            \
  X(cuModuleUnload)                                                                                \
  X(cuModuleGetFunction)                                                                           \
  X(cuFuncSetAttribute)                                                                            \
  X(cuLaunchKernel)                                                                                \
  X(cuStreamBeginCapture_v2)                                                                       \
  X(cuStreamEndCapture)                                                                            \
  X(cuGraphInstantiateWithFlags)                                                                   \
  X(cuGraphExecUpdate_v2)                                                                          \
  X(cuGraphLaunch)                                                                                 \
  X(cuGraphExecDestroy)                                                                            \
  X(cuGraphDestroy)

// Newer entry points, used when the driver has them: recorded graphs
// (CudaDevice::endEntry) need a kernel's parameter layout (CUDA 12.4); the
// scratch pool, stream-ordered allocation (CUDA 11.2).
#define GEMMA4RT_CUDA_OPTIONAL_FUNCTIONS(X)                                                        \
  X(cuFuncGetParamInfo)                                                                            \
  X(cuGraphCreate)                                                                                 \
  X(cuGraphAddKernelNode_v2)                                                                       \
  X(cuGraphExecKernelNodeSetParams_v2)                                                             \
  X(cuGraphAddDependencies_v2)                                                                     \
  X(cuMemPoolCreate)                                                                               \
  X(cuMemPoolDestroy)                                                                              \
  X(cuMemPoolSetAttribute)                                                                         \
  X(cuMemPoolTrimTo)                                                                               \
  X(cuMemAllocFromPoolAsync)                                                                       \
  X(cuMemFreeAsync)

/// libcuda.so.1's functions; `error` says why they are not there.
struct CudaApi {
#define GEMMA4RT_DECLARE(name) decltype(&::name) name = nullptr;
  GEMMA4RT_CUDA_FUNCTIONS(GEMMA4RT_DECLARE)
  GEMMA4RT_CUDA_OPTIONAL_FUNCTIONS(GEMMA4RT_DECLARE)
#undef GEMMA4RT_DECLARE
  std::string error;
  bool noGpu = false; ///< no driver or no GPU (rather than a broken driver)

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string text(CUresult r) const {
    const char *name = nullptr, *what = nullptr;
    if (cuGetErrorName)
      cuGetErrorName(r, &name);
    if (cuGetErrorString)
      cuGetErrorString(r, &what);
    std::string s = name ? name : "CUDA error " + std::to_string(int(r));
    if (what)
      s += std::string(" (") + what + ")";
    return s;
  }
};

/// Loads the driver once (never unloaded) and initialises it.
const CudaApi &cudaApi() {
  static const CudaApi api = [] {
    CudaApi a;
    void *lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char *why = ::dlerror();
      a.error = std::string("no NVIDIA driver found (cannot load libcuda.so.1: ") +
                (why ? why : "not found") + ")";
      a.noGpu = true;
      return a;
    }
#define GEMMA4RT_LOAD(name)                                                                        \
  a.name = reinterpret_cast<decltype(a.name)>(::dlsym(lib, #name));                                \
  if (!a.name) {                                                                                   \
    a.error = "the NVIDIA driver's libcuda.so.1 lacks " #name " (the driver is too old)";         \
    return a;                                                                                      \
  }
    GEMMA4RT_CUDA_FUNCTIONS(GEMMA4RT_LOAD)
#undef GEMMA4RT_LOAD
#define GEMMA4RT_LOAD_OPTIONAL(name) a.name = reinterpret_cast<decltype(a.name)>(::dlsym(lib, #name));
    GEMMA4RT_CUDA_OPTIONAL_FUNCTIONS(GEMMA4RT_LOAD_OPTIONAL)
#undef GEMMA4RT_LOAD_OPTIONAL
    if (CUresult r = a.cuInit(0); r != CUDA_SUCCESS) {
      a.noGpu = r == CUDA_ERROR_NO_DEVICE;
      a.error = a.noGpu ? "no NVIDIA GPU found (cuInit: " + a.text(r) + ")"
                        : "cannot initialise the NVIDIA driver (cuInit: " + a.text(r) + ")";
    }
    return a;
  }();
  return api;
}

std::string smName(int sm) { return "sm_" + std::to_string(sm); }

std::string gib1(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(uint64_t(1) << 30));
  return buf;
}

/// Name, compute capability (x 10 + minor) and memory of a device.
struct GpuProps {
  std::string name;
  int sm = 0;
  uint64_t totalBytes = 0;
};

GpuProps gpuProps(const CudaApi &cu, CUdevice dev) {
  GpuProps p;
  char name[256] = {};
  if (cu.cuDeviceGetName(name, sizeof name - 1, dev) == CUDA_SUCCESS)
    p.name = name;
  if (p.name.empty())
    p.name = "unnamed GPU";
  int major = 0, minor = 0;
  cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  p.sm = major * 10 + minor;
  size_t total = 0;
  if (cu.cuDeviceTotalMem_v2(&total, dev) == CUDA_SUCCESS)
    p.totalBytes = total;
  return p;
}

CUdeviceptr dptr(const void *p) { return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p)); }

class CudaDevice final : public Device {
public:
  CudaDevice(const CudaApi &cu, const Payload &payload, int ordinal, CUdevice dev)
      : cu_(cu), ordinal_(ordinal), dev_(dev) {
    try {
      open(payload);
    } catch (...) {
      close();
      throw;
    }
  }
  ~CudaDevice() override {
    printProfile();
    releaseScratch();
    close();
  }

  std::string description() const override {
    return props_.name + " (" + smName(props_.sm) + ", " + gib1(props_.totalBytes) +
           ", driver " + driverText() + ", " + (fromCubin_ ? "cubin" : "PTX JIT") + ")";
  }
  std::string label() const override {
    return "GPU " + std::to_string(ordinal_) + " (" + props_.name + ")";
  }

  MemoryInfo memoryInfo() override {
    size_t freeB = 0, totalB = 0;
    check(cu_.cuMemGetInfo_v2(&freeB, &totalB), "cuMemGetInfo");
    return {freeB, totalB};
  }

  void free(void *p) noexcept override {
    if (p)
      cu_.cuMemFree_v2(dptr(p));
  }

  void upload(void *dst, const void *src, uint64_t bytes) override {
    // From pageable memory the call returns once `src` is staged.
    if (bytes)
      check(cu_.cuMemcpyHtoDAsync_v2(dptr(dst), src, bytes, stream_), "copying to the GPU");
  }

  void download(void *dst, const void *src, uint64_t bytes) override {
    auto t0 = graphStats_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    CUresult r = CUDA_SUCCESS;
    if (bytes)
      r = cu_.cuMemcpyDtoHAsync_v2(dst, dptr(src), bytes, stream_);
    synchronize();
    check(r, "copying from the GPU");
    if (graphStats_) {
      stats_.lastDone = std::chrono::steady_clock::now();
      stats_.waitNs += ns(t0, stats_.lastDone);
    }
  }

  void fill32(void *dst, uint32_t pattern, uint64_t bytes) override {
    if (reinterpret_cast<uintptr_t>(dst) % 4 != 0)
      throw Error("fill32: unaligned device address (internal error)");
    const uint64_t words = bytes / 4;
    if (words)
      check(cu_.cuMemsetD32Async(dptr(dst), pattern, words, stream_), "filling GPU memory");
    for (uint64_t i = words * 4; i < bytes; ++i)
      check(cu_.cuMemsetD8Async(dptr(dst) + i, uint8_t(pattern >> (8 * (i % 4))), 1, stream_),
            "filling GPU memory");
  }

  void synchronize() override {
    CUresult r = cu_.cuStreamSynchronize(stream_);
    throwPendingDeviceError(); // the cause comes first: a failed launch or allocation
    if (r != CUDA_SUCCESS)
      throw Error("a GPU kernel failed on " + label() + ": " + cu_.text(r) +
                  (syncEachLaunch_ ? "" : " (GEMMA4RT_GPU_SYNC=1 names the kernel)"));
  }

  void *allocHost(uint64_t bytes, const std::string &what) override {
    void *p = nullptr;
    if (cu_.cuMemAllocHost_v2(&p, std::max<uint64_t>(bytes, 1)) != CUDA_SUCCESS || !p)
      return Device::allocHost(bytes, what); // page-locked memory is an optimisation
    pinned_.push_back(p);
    return p;
  }
  void freeHost(void *p) noexcept override {
    auto it = std::find(pinned_.begin(), pinned_.end(), p);
    if (it == pinned_.end())
      return Device::freeHost(p);
    pinned_.erase(it);
    cu_.cuMemFreeHost(p);
  }

  /// CUDA graphs: an entry point's launches run as one graph submitted with
  /// one cuGraphLaunch, so the GPU runs a decode step's hundreds of small
  /// kernels back to back instead of each waiting for its launch.
  ///
  /// Recorded graphs (drivers with cuFuncGetParamInfo, CUDA 12.4): launch()
  /// only records the kernel, its shape and its parameter bytes. The first
  /// call of an entry point builds a graph of one kernel node per launch,
  /// in order; a later call with the same kernels in the same order updates
  /// only the nodes whose shape or parameters changed (a decode step: the
  /// position, the attention grid) and launches the kept executable graph.
  /// The host work of a step is then a few microseconds, not a capture and
  /// a graph update of every node while the GPU waits.
  /// Older drivers: the stream is captured into a graph, which updates the
  /// kept executable graph in place.
  /// An entry point's first call runs launch by launch (a one-shot prefill
  /// gains nothing from a graph); GEMMA4RT_CUDA_GRAPH=first builds one at
  /// once. GEMMA4RT_CUDA_GRAPH=0 launches one by one (as do GEMMA4RT_GPU_SYNC
  /// and GEMMA4RT_GPU_PROFILE, which wait for each kernel);
  /// GEMMA4RT_CUDA_GRAPH_STATS=1 prints at exit how often graphs were built,
  /// how many nodes were updated and where a call's host time went.
  void beginEntry(const void *key) noexcept override {
    if (graphStats_) {
      auto now = std::chrono::steady_clock::now();
      if (stats_.calls++)
        stats_.hostNs += ns(stats_.lastDone, now); // sampling, printing: the caller's
      stats_.entryStart = now;
    }
    capturing_ = false;
    recording_ = false;
    if (!useGraphs_ || deviceErrorPending())
      return;
    graphKey_ = key;
    if (recordedGraphs_) {
      recording_ = true;
      pending_.clear();
      pendingBytes_.clear();
      return;
    }
    if (cu_.cuStreamBeginCapture_v2(stream_, CU_STREAM_CAPTURE_MODE_RELAXED) != CUDA_SUCCESS) {
      useGraphs_ = false;
      return;
    }
    capturing_ = true;
  }

  bool canPrepare() const override { return useGraphs_ && recordedGraphs_; }

  bool endEntryPrepared() noexcept override {
    if (!recording_)
      return false;
    recording_ = false;
    if (deviceErrorPending() || pending_.empty() || !submitRecording(/*launch=*/false))
      return false;
    auto it = recordings_.find(graphKey_);
    return it != recordings_.end() && it->second.prepared;
  }

  bool launchPrepared(const void *key) noexcept override {
    auto it = recordings_.find(key);
    if (!useGraphs_ || deviceErrorPending() || it == recordings_.end() || !it->second.prepared ||
        !it->second.exec)
      return false;
    it->second.prepared = false;
    ++stats_.launches;
    ++stats_.prepared;
    launchGraph(it->second.exec);
    return true;
  }

  bool endEntry() noexcept override {
    if (graphStats_) {
      auto now = std::chrono::steady_clock::now();
      stats_.recordNs += ns(stats_.entryStart, now);
      stats_.submitStart = now;
    }
    if (recording_) {
      recording_ = false;
      bool ok = submitRecording();
      if (graphStats_)
        stats_.submitNs += ns(stats_.submitStart, std::chrono::steady_clock::now());
      return ok;
    }
    if (!capturing_)
      return true;
    capturing_ = false;
    CUgraph graph = nullptr;
    CUresult r = cu_.cuStreamEndCapture(stream_, &graph);
    if (r != CUDA_SUCCESS || !graph) {
      // Something in the call could not be captured: from now on, launch
      // one by one; the caller runs the call again.
      useGraphs_ = false;
      if (graph)
        cu_.cuGraphDestroy(graph);
      return deviceErrorPending(); // a recorded error is reported, not retried
    }
    CUgraphExec &exec = graphs_[graphKey_];
    bool ok = false;
    if (exec) {
      CUgraphExecUpdateResultInfo info{};
      ok = cu_.cuGraphExecUpdate_v2(exec, graph, &info) == CUDA_SUCCESS;
      if (!ok) {
        cu_.cuGraphExecDestroy(exec);
        exec = nullptr;
      }
    }
    if (!ok)
      r = cu_.cuGraphInstantiateWithFlags(&exec, graph, 0);
    cu_.cuGraphDestroy(graph);
    if (!ok && r != CUDA_SUCCESS) {
      exec = nullptr;
      useGraphs_ = false;
      return false;
    }
    ++stats_.builds;
    ++stats_.launches;
    launchGraph(exec);
    return true;
  }

  void launch(int32_t kernel, const int64_t grid[3], const int64_t block[3], int32_t sharedBytes,
              void **args) noexcept override {
    if (kernel < 0 || size_t(kernel) >= functions_.size()) {
      recordDeviceError("the generated code launched GPU kernel #" + std::to_string(kernel) +
                        ", the manifest lists " + std::to_string(functions_.size()));
      return;
    }
    unsigned g[3], b[3];
    for (int i = 0; i < 3; ++i) {
      if (grid[i] == 0)
        return; // an empty grid: nothing to run
      if (grid[i] < 0 || grid[i] > INT32_MAX || block[i] < 1 || block[i] > 1024 ||
          sharedBytes < 0) {
        recordDeviceError(launchText("has an invalid launch shape", kernel, grid, block,
                                     sharedBytes));
        return;
      }
      g[i] = unsigned(grid[i]);
      b[i] = unsigned(block[i]);
    }
    CUfunction f = functions_[size_t(kernel)];
    constexpr int32_t kDefaultShared = 48 << 10;
    if (sharedBytes > kDefaultShared && sharedBytes > sharedLimit_[size_t(kernel)]) {
      CUresult r = cu_.cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                          sharedBytes);
      if (r != CUDA_SUCCESS) {
        recordDeviceError(launchText("cannot have its shared memory", kernel, grid, block,
                                     sharedBytes) + ": " + cu_.text(r));
        return;
      }
      sharedLimit_[size_t(kernel)] = sharedBytes;
    }
    if (recording_) {
      record(kernel, g, b, sharedBytes, args);
      return;
    }
    std::chrono::steady_clock::time_point t0;
    if (profile_) {
      cu_.cuStreamSynchronize(stream_);
      t0 = std::chrono::steady_clock::now();
    }
    CUresult r = cu_.cuLaunchKernel(f, g[0], g[1], g[2], b[0], b[1], b[2], unsigned(sharedBytes),
                                    stream_, args, nullptr);
    if (profile_ && r == CUDA_SUCCESS) {
      cu_.cuStreamSynchronize(stream_);
      ProfileEntry &e = profile_entries_[size_t(kernel)];
      e.calls += 1;
      e.ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
      e.grid = g[0] * uint64_t(g[1]) * g[2];
      e.block = b[0] * b[1] * b[2];
    }
    if (r != CUDA_SUCCESS) {
      recordDeviceError(launchText("failed to launch", kernel, grid, block, sharedBytes) + ": " +
                        cu_.text(r));
      return;
    }
    if (syncEachLaunch_) {
      r = cu_.cuStreamSynchronize(stream_);
      if (r != CUDA_SUCCESS)
        recordDeviceError(launchText("failed", kernel, grid, block, sharedBytes) + ": " +
                          cu_.text(r));
    }
  }

protected:
  void *tryAlloc(uint64_t bytes, std::string &error) noexcept override {
    CUdeviceptr p = 0;
    CUresult r = cu_.cuMemAlloc_v2(&p, std::max<uint64_t>(bytes, 1));
    if (r == CUDA_ERROR_OUT_OF_MEMORY && pool_) {
      // The pool keeps what the scratch cache gave back: hand it to the
      // driver and try once more.
      cu_.cuStreamSynchronize(stream_);
      cu_.cuMemPoolTrimTo(pool_, 0);
      r = cu_.cuMemAlloc_v2(&p, std::max<uint64_t>(bytes, 1));
    }
    if (r != CUDA_SUCCESS) {
      error = cu_.text(r);
      return nullptr;
    }
    return reinterpret_cast<void *>(static_cast<uintptr_t>(p));
  }

  /// Scratch comes from a memory pool of ours (stream-ordered allocation
  /// on the one stream everything runs on) that keeps what is freed to it:
  /// a prefill call's few hundred buffers are carved from memory the pool
  /// already holds instead of a cuMemAlloc each, which cost a first
  /// 512-token E2B call ~30 ms of its ~85. GEMMA4RT_CUDA_POOL=0: cuMemAlloc.
  void *tryAllocScratch(uint64_t bytes, std::string &error) noexcept override {
    if (!pool_)
      return tryAlloc(bytes, error);
    CUdeviceptr p = 0;
    CUresult r = cu_.cuMemAllocFromPoolAsync(&p, std::max<uint64_t>(bytes, 1), pool_, stream_);
    if (r != CUDA_SUCCESS) {
      error = cu_.text(r);
      return nullptr;
    }
    return reinterpret_cast<void *>(static_cast<uintptr_t>(p));
  }
  void freeScratch(void *p) noexcept override {
    if (!pool_)
      return free(p);
    if (p)
      cu_.cuMemFreeAsync(dptr(p), stream_);
  }

public:
  void reserveScratch(uint64_t bytes) noexcept override {
    if (!pool_ || !bytes)
      return;
    CUdeviceptr p = 0;
    if (cu_.cuMemAllocFromPoolAsync(&p, bytes, pool_, stream_) == CUDA_SUCCESS) {
      cu_.cuMemFreeAsync(p, stream_);
      cu_.cuStreamSynchronize(stream_);
    }
  }

protected:

private:
  /// Submits an executable graph; a failure is recorded for the caller.
  void launchGraph(CUgraphExec exec) noexcept {
    CUresult r = cu_.cuGraphLaunch(exec, stream_);
    if (r != CUDA_SUCCESS)
      recordDeviceError("running the GPU kernels of a step (a CUDA graph) failed on " + label() +
                        ": " + cu_.text(r) + " (GEMMA4RT_CUDA_GRAPH=0 launches them one by one)");
  }

  /// One recorded launch: the kernel, its shape and its parameter bytes
  /// (at the kernel's parameter offsets) in pendingBytes_[at, at + size).
  struct Launch {
    int32_t kernel;
    unsigned grid[3], block[3];
    int32_t sharedBytes;
    size_t at, size;
  };
  /// An entry point's graph: the executable graph, its kernel nodes in
  /// launch order and the launches they were last set to.
  struct Recording {
    CUgraph graph = nullptr; ///< kept: the nodes are its nodes
    CUgraphExec exec = nullptr;
    std::vector<CUgraphNode> nodes;
    std::vector<Launch> launches;
    std::vector<uint8_t> bytes;
    bool prepared = false; ///< updated for a call not yet launched
    bool ranOnce = false;  ///< its first call ran launch by launch
  };

  /// A kernel's parameters: (offset, size) each, from the driver.
  const std::vector<std::pair<size_t, size_t>> &paramLayout(int32_t kernel) {
    auto &layout = paramLayouts_[size_t(kernel)];
    if (!layoutKnown_[size_t(kernel)]) {
      layoutKnown_[size_t(kernel)] = true;
      for (size_t i = 0;; ++i) {
        size_t off = 0, size = 0;
        CUresult r = cu_.cuFuncGetParamInfo(functions_[size_t(kernel)], i, &off, &size);
        if (r == CUDA_ERROR_INVALID_VALUE)
          break; // past the last parameter
        if (r != CUDA_SUCCESS) {
          layoutFailed_ = true; // the driver cannot say: launch one by one
          break;
        }
        layout.emplace_back(off, size);
      }
    }
    return layout;
  }

  void record(int32_t kernel, const unsigned g[3], const unsigned b[3], int32_t sharedBytes,
              void **args) noexcept {
    const auto &layout = paramLayout(kernel);
    size_t size = 0;
    for (auto [off, n] : layout)
      size = std::max(size, off + n);
    Launch l{kernel, {g[0], g[1], g[2]}, {b[0], b[1], b[2]}, sharedBytes, pendingBytes_.size(),
             size};
    pendingBytes_.resize(l.at + size);
    for (size_t i = 0; i < layout.size(); ++i)
      std::memcpy(pendingBytes_.data() + l.at + layout[i].first, args[i], layout[i].second);
    pending_.push_back(l);
  }

  /// The node parameters of launch `l` of a recording whose bytes are
  /// `bytes`; `ptrs` receives the parameter pointers.
  CUDA_KERNEL_NODE_PARAMS nodeParams(const Launch &l, uint8_t *bytes, std::vector<void *> &ptrs) {
    const auto &layout = paramLayout(l.kernel);
    ptrs.resize(layout.size());
    for (size_t i = 0; i < layout.size(); ++i)
      ptrs[i] = bytes + l.at + layout[i].first;
    CUDA_KERNEL_NODE_PARAMS p{};
    p.func = functions_[size_t(l.kernel)];
    p.gridDimX = l.grid[0], p.gridDimY = l.grid[1], p.gridDimZ = l.grid[2];
    p.blockDimX = l.block[0], p.blockDimY = l.block[1], p.blockDimZ = l.block[2];
    p.sharedMemBytes = unsigned(l.sharedBytes);
    p.kernelParams = ptrs.data();
    return p;
  }

  void dropGraph(Recording &rec) noexcept {
    if (rec.exec)
      cu_.cuGraphExecDestroy(rec.exec);
    if (rec.graph)
      cu_.cuGraphDestroy(rec.graph);
    rec.exec = nullptr;
    rec.graph = nullptr;
  }

  static bool sameShape(const Launch &a, const Launch &b) {
    return a.kernel == b.kernel && a.size == b.size;
  }

  /// endEntry of a recorded call: updates the kept graph (or builds one)
  /// and launches it. False (nothing ran) if no graph could be built.
  /// launch false: only update (a call prepared ahead: launchPrepared).
  bool submitRecording(bool launch = true) noexcept {
    if (deviceErrorPending())
      return true; // reported by the caller's download
    if (pending_.empty())
      return true;
    if (layoutFailed_) { // a kernel's parameter layout is unknown
      useGraphs_ = false;
      return false;
    }
    Recording &rec = recordings_[graphKey_];
    rec.prepared = false;
    std::vector<void *> ptrs;
    bool reuse = rec.exec && rec.launches.size() == pending_.size();
    for (size_t i = 0; reuse && i < pending_.size(); ++i)
      reuse = sameShape(rec.launches[i], pending_[i]);
    if (reuse) {
      for (size_t i = 0; i < pending_.size() && reuse; ++i) {
        const Launch &a = rec.launches[i], &b = pending_[i];
        if (std::memcmp(a.grid, b.grid, sizeof a.grid) == 0 &&
            std::memcmp(a.block, b.block, sizeof a.block) == 0 &&
            a.sharedBytes == b.sharedBytes &&
            std::memcmp(rec.bytes.data() + a.at, pendingBytes_.data() + b.at, a.size) == 0)
          continue;
        CUDA_KERNEL_NODE_PARAMS p = nodeParams(b, pendingBytes_.data(), ptrs);
        reuse = cu_.cuGraphExecKernelNodeSetParams_v2(rec.exec, rec.nodes[i], &p) == CUDA_SUCCESS;
        ++stats_.nodeUpdates;
      }
      if (!reuse) // the driver refused an update: build anew
        dropGraph(rec);
    } else {
      dropGraph(rec);
    }
    // An entry point's first call runs launch by launch: building and
    // instantiating a graph of a prefill call's ~600 kernels costs more
    // than it saves once, and a one-prompt run calls prefill once. The
    // second call builds the graph (GEMMA4RT_CUDA_GRAPH=first: at once).
    if (!rec.exec && launch && !rec.ranOnce && !graphFirst_) {
      rec.ranOnce = true;
      for (const Launch &l : pending_) {
        CUDA_KERNEL_NODE_PARAMS p = nodeParams(l, pendingBytes_.data(), ptrs);
        CUresult r = cu_.cuLaunchKernel(p.func, p.gridDimX, p.gridDimY, p.gridDimZ, p.blockDimX,
                                        p.blockDimY, p.blockDimZ, p.sharedMemBytes, stream_,
                                        p.kernelParams, nullptr);
        if (r != CUDA_SUCCESS) {
          recordDeviceError("GPU kernel " + names_[size_t(l.kernel)] + " failed to launch: " +
                            cu_.text(r));
          break;
        }
      }
      rec.launches.swap(pending_);
      rec.bytes.swap(pendingBytes_);
      ++stats_.direct;
      return true;
    }
    if (!rec.exec) {
      CUgraph graph = nullptr;
      bool ok = cu_.cuGraphCreate(&graph, 0) == CUDA_SUCCESS;
      std::vector<CUgraphNode> nodes(pending_.size());
      for (size_t i = 0; ok && i < pending_.size(); ++i) {
        CUDA_KERNEL_NODE_PARAMS p = nodeParams(pending_[i], pendingBytes_.data(), ptrs);
        bool chain = i && !pdl_;
        ok = cu_.cuGraphAddKernelNode_v2(&nodes[i], graph, chain ? &nodes[i - 1] : nullptr,
                                         chain ? 1 : 0, &p) == CUDA_SUCCESS;
        // Programmatic edges: the kernel may be scheduled once every block
        // of the one before has started; it waits for that grid's end and
        // writes itself (griddepcontrol.wait, manifest gpu.pdl).
        if (ok && i && pdl_) {
          CUgraphEdgeData e{};
          e.from_port = CU_GRAPH_KERNEL_NODE_PORT_PROGRAMMATIC;
          e.type = CU_GRAPH_DEPENDENCY_TYPE_PROGRAMMATIC;
          ok = cu_.cuGraphAddDependencies_v2(graph, &nodes[i - 1], &nodes[i], &e, 1) ==
               CUDA_SUCCESS;
        }
      }
      if (ok)
        ok = cu_.cuGraphInstantiateWithFlags(&rec.exec, graph, 0) == CUDA_SUCCESS;
      rec.graph = graph;
      if (!ok) {
        dropGraph(rec);
        recordings_.erase(graphKey_);
        useGraphs_ = false; // from now on one by one; the caller runs the call again
        return false;
      }
      rec.nodes = std::move(nodes);
      ++stats_.builds;
    }
    rec.launches.swap(pending_);
    rec.bytes.swap(pendingBytes_);
    if (!launch) {
      rec.prepared = true;
      return true;
    }
    ++stats_.launches;
    launchGraph(rec.exec);
    return true;
  }

  /// The CUDA version the driver implements, e.g. "13.0".
  std::string driverText() const {
    return std::to_string(driverVersion_ / 1000) + "." + std::to_string(driverVersion_ % 1000 / 10);
  }

  void check(CUresult r, const char *what) {
    if (r == CUDA_SUCCESS)
      return;
    throwPendingDeviceError();
    throw Error(std::string(what) + " failed on " + label() + ": " + cu_.text(r));
  }

  std::string launchText(const char *what, int32_t kernel, const int64_t grid[3],
                         const int64_t block[3], int32_t sharedBytes) const {
    char shape[160];
    std::snprintf(shape, sizeof shape, " (grid %lldx%lldx%lld, block %lldx%lldx%lld, %d bytes shared)",
                  (long long)grid[0], (long long)grid[1], (long long)grid[2], (long long)block[0],
                  (long long)block[1], (long long)block[2], int(sharedBytes));
    return "GPU kernel " + names_[size_t(kernel)] + shape + " " + what;
  }

  void open(const Payload &payload) {
    const GpuManifest &g = *payload.manifest().gpu;
    props_ = gpuProps(cu_, dev_);
    cu_.cuDriverGetVersion(&driverVersion_);
    if (!g.ptxRunsOn(props_.sm)) {
      std::string needs = g.archSuffix == 'a'   ? g.arch + " (compute capability exactly " +
                                                      std::to_string(g.sm / 10) + "." +
                                                      std::to_string(g.sm % 10) + ")"
                          : g.archSuffix == 'f' ? g.arch + " (compute capability " +
                                                      std::to_string(g.sm / 10) + ".x, at least " +
                                                      std::to_string(g.sm / 10) + "." +
                                                      std::to_string(g.sm % 10) + ")"
                                                : smName(g.sm) + " or newer";
      throw Error(label() + " is " + smName(props_.sm) + ", this binary needs " + needs +
                  ": recompile with --gpu=" + smName(props_.sm));
    }
    check(cu_.cuDevicePrimaryCtxRetain(&ctx_, dev_), "creating a CUDA context");
    check(cu_.cuCtxSetCurrent(ctx_), "making the CUDA context current");
    check(cu_.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "creating a CUDA stream");
    if (const char *pool = std::getenv("GEMMA4RT_CUDA_POOL");
        cu_.cuMemPoolCreate && cu_.cuMemAllocFromPoolAsync && cu_.cuMemFreeAsync &&
        cu_.cuMemPoolSetAttribute && cu_.cuMemPoolTrimTo && cu_.cuMemPoolDestroy &&
        !(pool && std::strcmp(pool, "0") == 0)) {
      CUmemPoolProps props{};
      props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
      props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
      props.location.id = int(dev_);
      if (cu_.cuMemPoolCreate(&pool_, &props) != CUDA_SUCCESS)
        pool_ = nullptr;
      cuuint64_t keep = ~cuuint64_t(0); // what is freed stays in the pool
      if (pool_ && cu_.cuMemPoolSetAttribute(pool_, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep) !=
                       CUDA_SUCCESS) {
        cu_.cuMemPoolDestroy(pool_);
        pool_ = nullptr;
      }
    }

    // A cubin the driver rejects falls back to the PTX.
    std::string_view cubin = payload.gpuCubin();
    if (CUmodule m = nullptr; !cubin.empty() && props_.sm == g.sm &&
                              cu_.cuModuleLoadData(&m, cubin.data()) == CUDA_SUCCESS) {
      module_ = m;
      fromCubin_ = true;
    }
    if (!module_) {
      char log[8192] = {};
      CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
      void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof log - 1))};
      std::string_view ptx = payload.gpuPtx();
      CUresult r = cu_.cuModuleLoadDataEx(&module_, ptx.data(), 2, opts, values);
      if (r != CUDA_SUCCESS) {
        std::string first(log, strnlen(log, sizeof log));
        first = first.substr(0, first.find('\n'));
        if (r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
          first = "the NVIDIA driver (" + driverText() +
                  ") is older than the CUDA toolkit gemma4c used: update the driver" +
                  (first.empty() ? "" : " (" + first + ")");
        throw Error("cannot compile the GPU code (PTX for " + g.arch + ") for " + label() + ", " +
                    smName(props_.sm) + ": " + cu_.text(r) + (first.empty() ? "" : ": " + first));
      }
    }
    for (size_t i = 0; i < g.kernels.size(); ++i) {
      CUfunction f = nullptr;
      CUresult r = cu_.cuModuleGetFunction(&f, module_, g.kernels[i].c_str());
      if (r != CUDA_SUCCESS)
        throw Error("the GPU code has no kernel \"" + g.kernels[i] + "\" (gpu.kernels[" +
                    std::to_string(i) + "]; " + cu_.text(r) + ")");
      functions_.push_back(f);
    }
    names_ = g.kernels;
    sharedLimit_.assign(functions_.size(), 0);
    const char *sync = std::getenv("GEMMA4RT_GPU_SYNC");
    syncEachLaunch_ = sync && *sync && std::strcmp(sync, "0") != 0;
    const char *prof = std::getenv("GEMMA4RT_GPU_PROFILE");
    profile_ = prof && *prof && std::strcmp(prof, "0") != 0;
    profile_entries_.assign(functions_.size(), ProfileEntry{});
    const char *graphs = std::getenv("GEMMA4RT_CUDA_GRAPH");
    useGraphs_ = !syncEachLaunch_ && !profile_ && !(graphs && std::strcmp(graphs, "0") == 0);
    graphFirst_ = graphs && std::strcmp(graphs, "first") == 0;
    // GEMMA4RT_CUDA_GRAPH=capture: stream capture even where recording works.
    recordedGraphs_ = useGraphs_ && cu_.cuFuncGetParamInfo && cu_.cuGraphCreate &&
                      cu_.cuGraphAddKernelNode_v2 && cu_.cuGraphExecKernelNodeSetParams_v2 &&
                      !(graphs && std::strcmp(graphs, "capture") == 0);
    // Programmatic dependent launch (sm_90 and newer, kernels that wait for
    // their predecessor themselves), GEMMA4RT_CUDA_PDL=1 only: on an H100
    // it changed E2B bf16 decode by nothing (229 vs 230 tok/s) and slowed
    // int4 (168 vs 192), so plain edges are the default.
    const char *pdl = std::getenv("GEMMA4RT_CUDA_PDL");
    pdl_ = recordedGraphs_ && g.pdl && props_.sm >= 90 && cu_.cuGraphAddDependencies_v2 &&
           pdl && std::strcmp(pdl, "1") == 0;
    paramLayouts_.assign(functions_.size(), {});
    layoutKnown_.assign(functions_.size(), false);
    const char *gstats = std::getenv("GEMMA4RT_CUDA_GRAPH_STATS");
    graphStats_ = gstats && *gstats && std::strcmp(gstats, "0") != 0;
  }

  void close() noexcept {
    if (graphStats_) {
      double calls = double(std::max<uint64_t>(stats_.calls, 1));
      std::fprintf(stderr,
                   "cuda graphs (%s%s): %llu launched (%llu prepared ahead), %llu built, %llu "
                   "kernel nodes updated, %llu first calls launch by launch; "
                   "per call: host code %.1f us, graph update + launch %.1f us, waiting for "
                   "the GPU + logits %.1f us, caller between calls %.1f us\n",
                   recordedGraphs_ ? "recorded" : useGraphs_ ? "captured" : "off",
                   pdl_ ? ", programmatic" : "", (unsigned long long)stats_.launches,
                   (unsigned long long)stats_.prepared,
                   (unsigned long long)stats_.builds,
                   (unsigned long long)stats_.nodeUpdates, (unsigned long long)stats_.direct,
                   stats_.recordNs / calls / 1e3,
                   stats_.submitNs / calls / 1e3, stats_.waitNs / calls / 1e3,
                   stats_.hostNs / std::max(calls - 1, 1.0) / 1e3);
    }
    graphStats_ = false;
    for (auto &[key, rec] : recordings_)
      dropGraph(rec);
    recordings_.clear();
    for (auto &[key, exec] : graphs_)
      if (exec)
        cu_.cuGraphExecDestroy(exec);
    graphs_.clear();
    if (module_)
      cu_.cuModuleUnload(module_);
    if (pool_) {
      cu_.cuStreamSynchronize(stream_);
      cu_.cuMemPoolDestroy(pool_);
      pool_ = nullptr;
    }
    if (stream_)
      cu_.cuStreamDestroy_v2(stream_);
    if (ctx_)
      cu_.cuDevicePrimaryCtxRelease_v2(dev_);
    module_ = nullptr;
    stream_ = nullptr;
    ctx_ = nullptr;
  }

  /// GEMMA4RT_GPU_PROFILE: the kernels by time, largest first (stderr).
  void printProfile() const noexcept {
    if (!profile_)
      return;
    std::vector<size_t> order;
    uint64_t calls = 0, ns = 0;
    for (size_t i = 0; i < profile_entries_.size(); ++i)
      if (profile_entries_[i].calls) {
        order.push_back(i);
        calls += profile_entries_[i].calls;
        ns += profile_entries_[i].ns;
      }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return profile_entries_[a].ns > profile_entries_[b].ns;
    });
    std::fprintf(stderr, "gpu profile: %llu launches, %.3f ms from launch to completion (each "
                         "launch waited for)\n",
                 (unsigned long long)calls, double(ns) / 1e6);
    for (size_t i : order) {
      const ProfileEntry &e = profile_entries_[i];
      std::fprintf(stderr, "  %-28s %8llu calls %10.1f us/call %6.1f%%  grid %llu x block %llu\n",
                   names_[i].c_str(), (unsigned long long)e.calls,
                   double(e.ns) / 1e3 / double(e.calls), ns ? 100.0 * double(e.ns) / double(ns) : 0,
                   (unsigned long long)e.grid, (unsigned long long)e.block);
    }
  }
  struct ProfileEntry {
    uint64_t calls = 0, ns = 0, grid = 0, block = 0;
  };
  bool profile_ = false;
  std::vector<ProfileEntry> profile_entries_;

  const CudaApi &cu_;
  int ordinal_;
  CUdevice dev_;
  GpuProps props_;
  int driverVersion_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  CUmodule module_ = nullptr;
  CUmemoryPool pool_ = nullptr; ///< scratch (null: cuMemAlloc)
  bool fromCubin_ = false;
  bool syncEachLaunch_ = false;
  bool useGraphs_ = false;  ///< capture entry points into CUDA graphs
  bool capturing_ = false;  ///< between beginEntry and endEntry (stream capture)
  bool recordedGraphs_ = false; ///< record launches, not capture (the driver has the API)
  bool recording_ = false;      ///< between beginEntry and endEntry (recorded graphs)
  bool pdl_ = false;            ///< graph edges are programmatic (manifest gpu.pdl)
  bool graphFirst_ = false;     ///< a graph from an entry point's first call on
  std::vector<Launch> pending_; ///< the call's launches so far
  std::vector<uint8_t> pendingBytes_;
  std::map<const void *, Recording> recordings_; ///< entry point -> its graph
  std::vector<std::vector<std::pair<size_t, size_t>>> paramLayouts_;
  std::vector<bool> layoutKnown_;
  bool layoutFailed_ = false; ///< cuFuncGetParamInfo failed: no recorded graphs
  struct GraphStats {
    uint64_t launches = 0, builds = 0, nodeUpdates = 0, calls = 0, prepared = 0, direct = 0;
    double recordNs = 0, submitNs = 0, waitNs = 0, hostNs = 0;
    std::chrono::steady_clock::time_point entryStart, submitStart, lastDone;
  } stats_;
  static double ns(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
  }
  bool graphStats_ = false;
  const void *graphKey_ = nullptr;
  std::map<const void *, CUgraphExec> graphs_; ///< entry point -> its executable graph
  std::vector<CUfunction> functions_;
  std::vector<std::string> names_;
  std::vector<int32_t> sharedLimit_; ///< dynamic shared memory allowed beyond 48 KiB
  std::vector<void *> pinned_;       ///< allocHost blocks that are page-locked
};

} // namespace

std::unique_ptr<Device> openCudaDevice(const Payload &payload, int ordinal) {
  if (!payload.manifest().gpu)
    throw Error("this binary has no GPU code (its manifest has no \"gpu\" entry)");
  const CudaApi &cu = cudaApi();
  if (!cu.error.empty())
    throw Error(cu.error + (cu.noGpu ? "; this binary runs the model on a CUDA GPU" : ""));
  int count = 0;
  if (CUresult r = cu.cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    throw Error("cannot count the CUDA GPUs (cuDeviceGetCount: " + cu.text(r) + ")");
  if (count <= 0)
    throw Error("no NVIDIA GPU found (the driver reports none); this binary runs the model on a "
                "CUDA GPU");
  if (ordinal < 0 || ordinal >= count)
    throw Error("--device " + std::to_string(ordinal) + ": this machine has " +
                std::to_string(count) + " CUDA GPU" + (count == 1 ? " (--device 0)" :
                "s (--device 0 to " + std::to_string(count - 1) + ")"));
  CUdevice dev = 0;
  if (CUresult r = cu.cuDeviceGet(&dev, ordinal); r != CUDA_SUCCESS)
    throw Error("cannot open CUDA GPU " + std::to_string(ordinal) + " (cuDeviceGet: " +
                cu.text(r) + ")");
  return std::make_unique<CudaDevice>(cu, payload, ordinal, dev);
}

CudaListing listCudaDevices() {
  CudaListing l;
  const CudaApi &cu = cudaApi();
  if (!cu.error.empty()) {
    l.error = cu.error;
    return l;
  }
  cu.cuDriverGetVersion(&l.driverVersion);
  int count = 0;
  if (CUresult r = cu.cuDeviceGetCount(&count); r != CUDA_SUCCESS) {
    l.error = "cuDeviceGetCount: " + cu.text(r);
    return l;
  }
  for (int i = 0; i < count; ++i) {
    CUdevice dev = 0;
    if (cu.cuDeviceGet(&dev, i) != CUDA_SUCCESS)
      continue;
    GpuProps p = gpuProps(cu, dev);
    l.gpus.push_back({p.name, p.sm, p.totalBytes});
  }
  return l;
}

} // namespace gemma4rt

#else // !GEMMA4RT_HAVE_CUDA

namespace gemma4rt {

namespace {
const char *kNoCuda = "this runtime was built without CUDA support (no cuda.h at build time)";
}

std::unique_ptr<Device> openCudaDevice(const Payload &, int) { throw Error(kNoCuda); }

CudaListing listCudaDevices() {
  CudaListing l;
  l.error = kNoCuda;
  return l;
}

} // namespace gemma4rt

#endif

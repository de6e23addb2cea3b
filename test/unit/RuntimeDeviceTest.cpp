//===- RuntimeDeviceTest.cpp - manifest "gpu", the device layer, GPU sessions ===//
//
// Everything of the GPU path that runs without a GPU: the manifest's "gpu"
// object, the payload's PTX/cubin, the scratch cache, the C ABI's error
// recording, the no-driver error, and Session on the host test device
// (host memory standing in for device memory).
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/abi.h"
#include "gemma4rt/cli.h"
#include "gemma4rt/device.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"
#include "gemma4rt/session.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <vector>

using namespace gemma4rt;

namespace {

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}

/// The pending device error ("" if none), cleared.
std::string pendingError() {
  if (!deviceErrorPending())
    return "";
  return errorOf([] { throwPendingDeviceError(); });
}

const char *kGpu = R"({"api": "cuda", "arch": "sm_90", "kernels": ["k0", "k1"],
                       "ptx": {"offset": 100, "size": 20}, "cubin": {"offset": 200, "size": 30}})";

std::string manifestWith(const std::string &gpu, const std::string &weights = "") {
  std::string m = R"({"abi": 1, "model": {"name": "t", "vocab_size": 10,
    "max_position_embeddings": 100, "hidden_size": 4}, "prefill_chunk": 4,
    "default_context": 32, "kv_bytes_fixed": 16, "kv_bytes_per_context": 8,
    "weights": )" + (weights.empty() ? std::string(R"({"offset": 0, "size": 1})") : weights);
  if (!gpu.empty())
    m += R"(, "gpu": )" + gpu;
  return m + "}";
}

std::string gpuError(const std::string &gpu) {
  return errorOf([&] { parseManifest(manifestWith(gpu), "f"); });
}

void putLe64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s.push_back(char(v >> (8 * i)));
}

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/gemma4rt-device-test-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

/// A GPU binary: [junk][pad][weights][ptx][cubin][manifest][trailer]; `edit`
/// may change the "gpu" object's text before it is written.
std::string writeGpuBinary(const std::string &dir, const std::string &weights,
                           const std::string &ptx, const std::string &cubin,
                           const std::function<void(std::string &)> &edit = nullptr) {
  std::string f = "\x7f"
                  "ELF pretend executable";
  f.resize(4096, '\0');
  const uint64_t wOff = f.size();
  f += weights;
  const uint64_t pOff = f.size();
  f += ptx;
  const uint64_t cOff = f.size();
  f += cubin;
  std::string gpu = R"({"api": "cuda", "arch": "sm_90", "kernels": ["k0", "k1"], "ptx": {"offset": )" +
                    std::to_string(pOff) + R"(, "size": )" + std::to_string(ptx.size()) +
                    R"(}, "cubin": )" +
                    (cubin.empty() ? std::string("null")
                                   : R"({"offset": )" + std::to_string(cOff) + R"(, "size": )" +
                                         std::to_string(cubin.size()) + "}") +
                    "}";
  if (edit)
    edit(gpu);
  std::string m = manifestWith(gpu, R"({"offset": )" + std::to_string(wOff) + R"(, "size": )" +
                                        std::to_string(weights.size()) + "}");
  const uint64_t mOff = f.size();
  f += m;
  f += "GEMMA4PL";
  putLe64(f, mOff);
  putLe64(f, m.size());
  putLe64(f, 1);
  std::string path = dir + "/model";
  std::ofstream(path, std::ios::binary) << f;
  return path;
}

const std::string kPtx = std::string(".version 8.0\n.target sm_90\n") + '\0';

} // namespace

//===----------------------------------------------------------------------===//
// The manifest's "gpu" object
//===----------------------------------------------------------------------===//

TEST(RuntimeGpuManifest, ParsesTheGpuObject) {
  Manifest m = parseManifest(manifestWith(kGpu), "f");
  ASSERT_TRUE(m.gpu.has_value());
  EXPECT_EQ(m.gpu->api, "cuda");
  EXPECT_EQ(m.gpu->arch, "sm_90");
  EXPECT_EQ(m.gpu->sm, 90);
  EXPECT_EQ(m.gpu->archSuffix, 0);
  EXPECT_EQ(m.gpu->kernels, (std::vector<std::string>{"k0", "k1"}));
  EXPECT_EQ(m.gpu->ptxOffset, 100u);
  EXPECT_EQ(m.gpu->ptxSize, 20u);
  EXPECT_TRUE(m.gpu->hasCubin);
  EXPECT_EQ(m.gpu->cubinOffset, 200u);
  EXPECT_EQ(m.gpu->cubinSize, 30u);

  // cubin null or absent; a CPU binary has no "gpu".
  std::string noCubin = kGpu;
  noCubin.replace(noCubin.find(R"({"offset": 200, "size": 30})"), 27, "null");
  Manifest n = parseManifest(manifestWith(noCubin), "f");
  ASSERT_TRUE(n.gpu.has_value());
  EXPECT_FALSE(n.gpu->hasCubin);
  Manifest a = parseManifest(
      manifestWith(R"({"api": "cuda", "arch": "sm_100a", "kernels": [], "ptx": {"offset": 0, "size": 1}})"),
      "f");
  ASSERT_TRUE(a.gpu.has_value());
  EXPECT_FALSE(a.gpu->hasCubin);
  EXPECT_EQ(a.gpu->sm, 100);
  EXPECT_EQ(a.gpu->archSuffix, 'a');
  EXPECT_FALSE(parseManifest(manifestWith(""), "f").gpu.has_value());
  EXPECT_FALSE(parseManifest(manifestWith("null"), "f").gpu.has_value());
}

TEST(RuntimeGpuManifest, ArchCompatibility) {
  auto gpu = [](const char *arch) {
    return *parseManifest(manifestWith(std::string(R"({"api": "cuda", "arch": ")") + arch +
                                       R"(", "kernels": [], "ptx": {"offset": 0, "size": 1}})"),
                          "f")
                .gpu;
  };
  GpuManifest plain = gpu("sm_90"), a = gpu("sm_90a"), f = gpu("sm_100f");
  EXPECT_FALSE(plain.ptxRunsOn(89));
  EXPECT_TRUE(plain.ptxRunsOn(90));
  EXPECT_TRUE(plain.ptxRunsOn(120));
  EXPECT_FALSE(a.ptxRunsOn(89));
  EXPECT_TRUE(a.ptxRunsOn(90));
  EXPECT_FALSE(a.ptxRunsOn(100));
  EXPECT_FALSE(f.ptxRunsOn(90));
  EXPECT_TRUE(f.ptxRunsOn(100));
  EXPECT_TRUE(f.ptxRunsOn(103));
  EXPECT_FALSE(f.ptxRunsOn(120));
}

TEST(RuntimeGpuManifest, RejectsBadGpuFields) {
  const std::string p = "corrupt model payload in f: ";
  EXPECT_EQ(gpuError("[]"), p + "manifest \"gpu\" is not an object");
  EXPECT_EQ(gpuError(R"({"arch": "sm_90"})"), p + "manifest lacks \"gpu.api\"");
  EXPECT_EQ(gpuError(R"({"api": 1})"), p + "manifest \"gpu.api\" is not a string");
  EXPECT_EQ(gpuError(R"({"api": "hip"})"),
            p + "manifest \"gpu.api\" is \"hip\": this runtime supports \"cuda\" and \"vulkan\"");
  EXPECT_EQ(gpuError(R"({"api": "vulkan"})"), p + "manifest lacks \"gpu.kernels\"");
  EXPECT_EQ(gpuError(R"({"api": "vulkan", "kernels": ["k"], "spirv": {"offset": 0, "size": 8}})"),
            p + "manifest lacks \"gpu.kernel_info\"");
  EXPECT_EQ(gpuError(R"({"api": "vulkan", "kernels": ["k"], "spirv": {"offset": 0, "size": 8},
                          "kernel_info": []})"),
            p + "manifest \"gpu.kernel_info\" is not one entry per kernel");
  EXPECT_EQ(gpuError(R"({"api": "vulkan", "kernels": ["k"], "spirv": {"offset": 0, "size": 8},
                          "kernel_info": [{"params": 8, "workgroup": [0, 1, 1]}]})"),
            p + "manifest \"gpu.kernel_info.workgroup\" is not [x, y, z] in 1..1024");
  EXPECT_EQ(gpuError(R"({"api": "vulkan", "kernels": ["k"], "spirv": {"offset": 0, "size": 8},
                          "kernel_info": [{"params": 8, "workgroup": [64, 1, 1], "shared": -1}]})"),
            p + "manifest \"gpu.kernel_info.shared\" = -1 is out of range");
  EXPECT_EQ(gpuError(R"({"api": "vulkan", "kernels": ["k"], "spirv": {"offset": 0, "size": 8},
                          "kernel_info": [{"params": 8, "workgroup": [64, 1, 1], "shared": "a"}]})"),
            p + "manifest \"gpu.kernel_info.shared\" is not an integer");
  EXPECT_EQ(gpuError(R"({"api": "cuda"})"), p + "manifest lacks \"gpu.arch\"");
  for (const char *arch : {"sm90", "sm_", "sm_9", "sm_09", "sm_9x", "sm_1000", "compute_90", "sm_90b"})
    EXPECT_EQ(gpuError(std::string(R"({"api": "cuda", "arch": ")") + arch + "\"}"),
              p + "manifest \"gpu.arch\" = \"" + arch + "\" is not a CUDA architecture (sm_XY)")
        << arch;
  const std::string head = R"({"api": "cuda", "arch": "sm_90", )";
  EXPECT_EQ(gpuError(head + R"("ptx": {"offset": 0, "size": 1}})"),
            p + "manifest lacks \"gpu.kernels\"");
  EXPECT_EQ(gpuError(head + R"("kernels": "k0"})"),
            p + "manifest \"gpu.kernels\" is not a list of kernel names");
  EXPECT_EQ(gpuError(head + R"("kernels": ["k0", 3]})"),
            p + "manifest \"gpu.kernels\" holds something other than a kernel name");
  EXPECT_EQ(gpuError(head + R"("kernels": [""]})"),
            p + "manifest \"gpu.kernels\" holds something other than a kernel name");
  EXPECT_EQ(gpuError(head + R"("kernels": []})"), p + "manifest lacks \"gpu.ptx\"");
  EXPECT_EQ(gpuError(head + R"("kernels": [], "ptx": 5})"),
            p + "manifest \"gpu.ptx\" is not an object");
  EXPECT_EQ(gpuError(head + R"("kernels": [], "ptx": {"size": 5}})"),
            p + "manifest lacks \"gpu.ptx.offset\"");
  EXPECT_EQ(gpuError(head + R"("kernels": [], "ptx": {"offset": -1, "size": 5}})"),
            p + "manifest \"gpu.ptx.offset\" = -1 is out of range");
  EXPECT_EQ(gpuError(head + R"("kernels": [], "ptx": {"offset": 0, "size": 0}})"),
            p + "manifest \"gpu.ptx.size\" = 0 is out of range");
  EXPECT_EQ(gpuError(head + R"("kernels": [], "ptx": {"offset": 0, "size": "9"}})"),
            p + "manifest \"gpu.ptx.size\" is not an integer");
  const std::string ptx = R"("kernels": [], "ptx": {"offset": 0, "size": 1}, )";
  EXPECT_EQ(gpuError(head + ptx + R"("cubin": "x"})"),
            p + "manifest \"gpu.cubin\" is neither an object nor null");
  EXPECT_EQ(gpuError(head + ptx + R"("cubin": {"offset": 4}})"),
            p + "manifest lacks \"gpu.cubin.size\"");
  EXPECT_EQ(gpuError(head + ptx + R"("cubin": null, "pdl": 1})"),
            p + "manifest \"gpu.pdl\" is not true or false");
}

//===----------------------------------------------------------------------===//
// The payload's PTX and cubin
//===----------------------------------------------------------------------===//

TEST(RuntimeGpuPayload, ReadsPtxAndCubin) {
  TempDir d;
  auto p = Payload::open(writeGpuBinary(d.path, "WEIGHTS", kPtx, "CUBIN-BYTES"));
  ASSERT_TRUE(p->manifest().gpu.has_value());
  EXPECT_EQ(p->gpuPtx(), kPtx);
  EXPECT_EQ(p->gpuPtx().back(), '\0');
  EXPECT_STREQ(p->gpuPtx().data(), ".version 8.0\n.target sm_90\n");
  EXPECT_EQ(p->gpuCubin(), "CUBIN-BYTES");
  auto q = Payload::open(writeGpuBinary(d.path, "WEIGHTS", kPtx, ""));
  EXPECT_TRUE(q->gpuCubin().empty());
  EXPECT_FALSE(q->manifest().gpu->hasCubin);
  // --info opens the payload without the weights; PTX and cubin are read.
  auto info = Payload::open(writeGpuBinary(d.path, "WEIGHTS", kPtx, "C"), /*mapWeights=*/false);
  EXPECT_EQ(info->gpuCubin(), "C");
  // After an upload the host copy of the weights can go.
  EXPECT_NE(p->weights(), nullptr);
  p->releaseWeights();
  EXPECT_EQ(p->weights(), nullptr);
}

TEST(RuntimeGpuPayload, RangesOutsideTheFileAndBadPtx) {
  TempDir d;
  auto openWith = [&](const std::string &ptx, const std::string &cubin,
                      const std::function<void(std::string &)> &edit) {
    return errorOf([&] { Payload::open(writeGpuBinary(d.path, "W", ptx, cubin, edit)); });
  };
  auto replace = [](const std::string &from, const std::string &to) {
    return [=](std::string &gpu) { gpu.replace(gpu.find(from), from.size(), to); };
  };
  std::string e = openWith(kPtx, "CUBIN", replace("\"ptx\": {\"offset\": ", "\"ptx\": {\"offset\": 9999999"));
  EXPECT_NE(e.find("corrupt model payload in "), std::string::npos) << e;
  EXPECT_NE(e.find(": gpu.ptx [9999999"), std::string::npos) << e;
  EXPECT_NE(e.find(") lies outside the payload (truncated?)"), std::string::npos) << e;
  e = openWith(kPtx, "CUBIN", replace("\"size\": 5}", "\"size\": 5000000}"));
  EXPECT_NE(e.find(": gpu.cubin ["), std::string::npos) << e;
  EXPECT_NE(e.find(", +5000000) lies outside the payload (truncated?)"), std::string::npos) << e;
  e = openWith(".version 8.0 no NUL", "", nullptr);
  EXPECT_NE(e.find(": gpu.ptx is not one NUL-terminated text"), std::string::npos) << e;
  e = openWith(std::string("a\0b", 3) + '\0', "", nullptr);
  EXPECT_NE(e.find(": gpu.ptx is not one NUL-terminated text"), std::string::npos) << e;
}

//===----------------------------------------------------------------------===//
// ScratchCache
//===----------------------------------------------------------------------===//

namespace {
/// An allocate/free pair over malloc that records what happens.
struct FakeHeap {
  std::vector<uint64_t> allocs; ///< sizes asked of the AllocFn
  int frees = 0;
  uint64_t failAbove = UINT64_MAX; ///< allocations of more fail
  uint64_t budget = UINT64_MAX;    ///< bytes that may be outstanding
  uint64_t outstanding = 0;
  std::unordered_map<void *, uint64_t> sizes;
  ScratchCache::AllocFn alloc() {
    return [this](uint64_t bytes, std::string &error) -> void * {
      allocs.push_back(bytes);
      if (bytes > failAbove || outstanding + bytes > budget) {
        error = "fake out of memory";
        return nullptr;
      }
      void *p = std::malloc(bytes);
      sizes[p] = bytes;
      outstanding += bytes;
      return p;
    };
  }
  ScratchCache::FreeFn free() {
    return [this](void *p) {
      ++frees;
      outstanding -= sizes.at(p);
      sizes.erase(p);
      std::free(p);
    };
  }
};
} // namespace

TEST(RuntimeScratchCache, RoundsSizes) {
  EXPECT_EQ(ScratchCache::roundSize(0), 256u);
  EXPECT_EQ(ScratchCache::roundSize(1), 256u);
  EXPECT_EQ(ScratchCache::roundSize(256), 256u);
  EXPECT_EQ(ScratchCache::roundSize(257), 512u);
  EXPECT_EQ(ScratchCache::roundSize(4096), 4096u);
  EXPECT_EQ(ScratchCache::roundSize(4097), 4096u + 512u); // 8 steps per power of two
  EXPECT_EQ(ScratchCache::roundSize(1 << 20), uint64_t(1) << 20);
  EXPECT_EQ(ScratchCache::roundSize((1 << 20) + 1), (uint64_t(1) << 20) + (1 << 17));
  for (uint64_t n : {300ull, 5000ull, 123456ull, 99999999ull, 1ull << 40}) {
    uint64_t r = ScratchCache::roundSize(n);
    EXPECT_GE(r, n);
    EXPECT_LE(r, n + n / 8 + 256) << n;
    EXPECT_EQ(r % 256, 0u);
  }
}

TEST(RuntimeScratchCache, SequencesGetTheSameBlocksEveryCall) {
  FakeHeap heap;
  ScratchCache c(heap.alloc(), heap.free());
  std::string err;
  int key = 0, other = 0;
  void *first[2] = {};
  for (int call = 0; call < 6; ++call) {
    c.beginSequence(&key);
    void *a = c.allocate(1000, err), *b = c.allocate(1000, err);
    ASSERT_TRUE(a && b);
    if (call == 0) {
      first[0] = a, first[1] = b;
    } else {
      EXPECT_EQ(a, first[0]) << call; // without sequences they would swap each call
      EXPECT_EQ(b, first[1]) << call;
    }
    // Released in the other order than allocated.
    EXPECT_TRUE(c.release(b));
    EXPECT_TRUE(c.release(a));
    c.endSequence();
    if (call == 3) { // another entry point in between takes whatever is free
      c.beginSequence(&other);
      void *o = c.allocate(1000, err);
      EXPECT_TRUE(c.release(o));
      c.endSequence();
    }
  }
  EXPECT_EQ(c.stats().allocations, 2u);
  // A hint whose block is taken falls back to any block.
  void *held = c.allocate(1000, err);
  c.beginSequence(&key);
  void *a = c.allocate(1000, err), *b = c.allocate(1000, err);
  EXPECT_TRUE(a && b && a != held && b != held && a != b);
  c.endSequence();
}

TEST(RuntimeScratchCache, ReusesFreedBlocksBySize) {
  FakeHeap heap;
  {
    ScratchCache c(heap.alloc(), heap.free());
    std::string err;
    // A "decode step": the same sizes every token, allocated once.
    for (int token = 0; token < 10; ++token) {
      void *a = c.allocate(1000, err);
      void *b = c.allocate(1000, err);
      void *x = c.allocate(70000, err);
      ASSERT_TRUE(a && b && x);
      EXPECT_NE(a, b);
      EXPECT_TRUE(c.release(a));
      EXPECT_TRUE(c.release(x));
      EXPECT_TRUE(c.release(b));
    }
    EXPECT_EQ(heap.allocs.size(), 3u);
    EXPECT_EQ(c.stats().allocations, 3u);
    EXPECT_EQ(c.stats().reuses, 27u);
    EXPECT_EQ(c.stats().liveBytes, 0u);
    EXPECT_EQ(c.stats().cachedBytes, 2 * 1024u + ScratchCache::roundSize(70000));
    EXPECT_EQ(heap.frees, 0);

    // A smaller request takes a cached block of at most twice its size ...
    void *small = c.allocate(600, err); // rounds to 768; the 1024 blocks fit
    EXPECT_EQ(heap.allocs.size(), 3u);
    // ... not a larger one: 200 rounds to 256, 1024 > 2 x 256.
    void *tiny = c.allocate(200, err);
    EXPECT_EQ(heap.allocs.size(), 4u);
    EXPECT_EQ(heap.allocs.back(), 256u);
    EXPECT_TRUE(c.release(small));
    EXPECT_TRUE(c.release(tiny));

    // Unknown pointers are refused; nullptr is fine.
    int local = 0;
    EXPECT_FALSE(c.release(&local));
    EXPECT_TRUE(c.release(nullptr));
    EXPECT_FALSE(c.release(tiny)); // released twice

    c.trim();
    EXPECT_EQ(heap.frees, 4);
    EXPECT_EQ(c.stats().cachedBytes, 0u);
    void *live = c.allocate(1, err);
    ASSERT_NE(live, nullptr);
  }
  EXPECT_EQ(heap.frees, 5); // the destructor frees live blocks too
  EXPECT_EQ(heap.outstanding, 0u);
}

TEST(RuntimeScratchCache, TrimsAndRetriesWhenAllocationFails) {
  FakeHeap heap;
  heap.budget = 4000;
  ScratchCache c(heap.alloc(), heap.free());
  std::string err;
  void *a = c.allocate(3000, err); // 3072
  ASSERT_NE(a, nullptr);
  c.release(a);
  // 1024 does not fit next to the cached 3072 and cannot reuse it (> 2x):
  // the cache is trimmed and the allocation retried.
  void *b = c.allocate(1000, err);
  ASSERT_NE(b, nullptr) << err;
  EXPECT_EQ(heap.frees, 1);
  EXPECT_EQ(c.stats().cachedBytes, 0u);
  // Beyond the budget even after trimming: nullptr and the error.
  EXPECT_EQ(c.allocate(8000, err), nullptr);
  EXPECT_EQ(err, "fake out of memory");
  c.release(b);
}

//===----------------------------------------------------------------------===//
// The C ABI and the host test device
//===----------------------------------------------------------------------===//

TEST(RuntimeDeviceAbi, WithoutADeviceCallsRecordAnError) {
  ASSERT_EQ(currentDevice(), nullptr);
  EXPECT_EQ(pendingError(), "");
  EXPECT_EQ(_mlir_memref_to_llvm_alloc(64), nullptr);
  EXPECT_EQ(pendingError(), "the generated code called _mlir_memref_to_llvm_alloc, but no GPU is "
                            "open (the manifest has no \"gpu\" entry)");
  gemma4rt_gpu_launch(0, 1, 1, 1, 1, 1, 1, 0, nullptr);
  _mlir_memref_to_llvm_free(reinterpret_cast<void *>(0x1000));
  // The first error wins.
  EXPECT_EQ(pendingError(), "the generated code called gemma4rt_gpu_launch, but no GPU is open "
                            "(the manifest has no \"gpu\" entry)");
  EXPECT_FALSE(deviceErrorPending());
  _mlir_memref_to_llvm_free(nullptr); // a no-op
  EXPECT_FALSE(deviceErrorPending());
}

TEST(RuntimeDeviceAbi, ScratchAndLaunchOnTheHostDevice) {
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, "W", kPtx, ""));
  {
    auto dev = openHostDevice(*payload);
    setCurrentDevice(dev.get());
    void *a = _mlir_memref_to_llvm_alloc(1000);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 256, 0u);
    std::memset(a, 1, 1000); // host memory here
    _mlir_memref_to_llvm_free(a);
    void *b = _mlir_memref_to_llvm_aligned_alloc(128, 900);
    EXPECT_EQ(a, b); // the same rounded size: the cached block
    _mlir_memref_to_llvm_free(b);
    EXPECT_EQ(dev->scratchStats().allocations, 1u);
    EXPECT_FALSE(deviceErrorPending());

    EXPECT_EQ(_mlir_memref_to_llvm_aligned_alloc(512, 64), nullptr);
    EXPECT_EQ(pendingError(), "the generated code asked for GPU scratch memory aligned to 512 "
                              "bytes (at most 256 is supported)");
    int local = 0;
    _mlir_memref_to_llvm_free(&local);
    EXPECT_NE(pendingError().find("which is not GPU scratch memory it allocated"),
              std::string::npos);

    gemma4rt_gpu_launch(1, 1, 1, 1, 32, 1, 1, 0, nullptr);
    EXPECT_EQ(pendingError(), "GPU kernel k1 launched on the host test device "
                              "(GEMMA4RT_DEVICE=host runs no GPU code)");
    // synchronize() and download() throw what was recorded.
    gemma4rt_gpu_launch(0, 1, 1, 1, 32, 1, 1, 0, nullptr);
    EXPECT_EQ(dev->launches(), 2u); // counted for --stats
    gemma4rt_gpu_launch(0, 1, 1, 1, 32, 1, 1, 0, nullptr); // an error is pending: not run
    EXPECT_EQ(dev->launches(), 2u);
    EXPECT_THROW(dev->synchronize(), Error);
    EXPECT_NO_THROW(dev->synchronize());
    EXPECT_EQ(currentDevice(), dev.get());
  }
  EXPECT_EQ(currentDevice(), nullptr); // cleared by the device's destructor
}

TEST(RuntimeDeviceAbi, NoDriverIsOneLine) {
  if (void *lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(lib);
    GTEST_SKIP() << "an NVIDIA driver is installed";
  }
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, "W", kPtx, ""));
  std::string e = errorOf([&] { openCudaDevice(*payload, 0); });
#ifdef GEMMA4RT_HAVE_CUDA
  EXPECT_EQ(e.rfind("no NVIDIA driver found (cannot load libcuda.so.1: ", 0), 0u) << e;
  EXPECT_TRUE(e.ends_with("); this binary runs the model on a CUDA GPU")) << e;
#else
  EXPECT_EQ(e, "this runtime was built without CUDA support (no cuda.h at build time)");
#endif
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  CudaListing l = listCudaDevices();
  EXPECT_FALSE(l.error.empty());
  EXPECT_TRUE(l.gpus.empty());
  // openDevice: GEMMA4RT_DEVICE picks the host test device, else CUDA.
  ::unsetenv("GEMMA4RT_DEVICE");
  EXPECT_EQ(errorOf([&] { openDevice(*payload, 0); }), e);
  ::setenv("GEMMA4RT_DEVICE", "host", 1);
  EXPECT_NE(openDevice(*payload, 0), nullptr);
  ::setenv("GEMMA4RT_DEVICE", "tpu", 1);
  EXPECT_EQ(errorOf([&] { openDevice(*payload, 0); }),
            "GEMMA4RT_DEVICE=tpu: unknown device (unset it, or \"host\" for the test device)");
  ::unsetenv("GEMMA4RT_DEVICE");
}

//===----------------------------------------------------------------------===//
// Sessions on a device
//===----------------------------------------------------------------------===//

namespace {
struct GpuCall {
  bool decode;
  int64_t pos, n;
  const int32_t *ids;
  const uint8_t *kv, *w;
  const float *logits;
  std::vector<int32_t> idValues;
  int64_t kvSize, wSize;
};
std::vector<GpuCall> gGpuCalls;
bool gLaunchInCall = false;

/// Reads ids and writes logits through the "device" pointers (host memory on
/// the host test device), like fakeEntry in RuntimePayloadTest.
template <bool Decode>
void gpuEntry(int32_t *, int32_t *ids, int64_t, int64_t n, int64_t, int64_t pos, uint8_t *,
              uint8_t *kv, int64_t, int64_t kvSize, int64_t, int64_t, uint8_t *, uint8_t *w,
              int64_t, int64_t wSize, int64_t, float *, float *logits, int64_t, int64_t rows,
              int64_t vocab, int64_t, int64_t) {
  gGpuCalls.push_back({Decode, pos, n, ids, kv, w, logits, std::vector<int32_t>(ids, ids + n),
                       kvSize, wSize});
  void *scratch = _mlir_memref_to_llvm_alloc(uint64_t(vocab) * 4);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < vocab; ++v)
      logits[r * vocab + v] = float(pos + r) * 100 + float(v) + float(w[0]);
  _mlir_memref_to_llvm_free(scratch);
  if (gLaunchInCall)
    gemma4rt_gpu_launch(0, 4, 1, 1, 128, 1, 1, 0, nullptr);
}
} // namespace

TEST(RuntimeDevice, UploadStagedCopiesEveryByteThroughTwoHalves) {
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, std::string("\x07WEIGHTS", 8), kPtx, ""));
  auto dev = openHostDevice(*payload);
  // 1000 bytes in slices of 7 by 3 threads: halves of 21 bytes, 48 of them
  // (the last one short), each slice's last piece short too.
  std::vector<uint8_t> src(1000);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = uint8_t(i * 131 + 7);
  DeviceBuffer out(*dev, src.size(), "test");
  std::vector<uint64_t> seen;
  uploadStaged(*dev, out.data(), src.data(), src.size(), 7, 3, [&](uint64_t done, uint64_t total) {
    EXPECT_EQ(total, 1000u);
    seen.push_back(done);
  });
  EXPECT_EQ(std::memcmp(out.data(), src.data(), src.size()), 0);
  ASSERT_EQ(seen.size(), 49u);
  EXPECT_EQ(seen.front(), 0u);
  EXPECT_EQ(seen[1], 21u);
  EXPECT_EQ(seen.back(), 1000u);
  // Nothing to copy: only the first progress call.
  seen.clear();
  uploadStaged(*dev, out.data(), src.data(), 0, 7, 3, [&](uint64_t done, uint64_t) { seen.push_back(done); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{0}));
}

TEST(RuntimeDeviceSession, UploadsIdsAndDownloadsLogits) {
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, std::string("\x07WEIGHTS", 8), kPtx, ""));
  auto dev = openHostDevice(*payload);
  setCurrentDevice(dev.get());
  DeviceBuffer w = uploadWeights(*dev, *payload);
  ASSERT_EQ(w.size(), 8u);
  EXPECT_EQ(std::memcmp(w.data(), "\x07WEIGHTS", 8), 0);
  EXPECT_NE(w.data(), payload->weights()); // a copy
  gGpuCalls.clear();
  {
    Session s(*payload, {&gpuEntry<false>, &gpuEntry<true>}, 20, dev.get(), w.data());
    EXPECT_EQ(s.arena().size(), 16u + 8u * 20u);
    std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6};
    std::vector<int64_t> starts;
    const float *last = s.prefill(ids, [&](int64_t first, int64_t, const float *l) {
      starts.push_back(first);
      EXPECT_EQ(l[0], float(first) * 100 + 7);
    });
    EXPECT_EQ(starts, (std::vector<int64_t>{0, 4}));
    EXPECT_EQ(last[1], 500.0f + 1 + 7); // position 5
    ASSERT_EQ(gGpuCalls.size(), 2u);
    for (const GpuCall &c : gGpuCalls) {
      EXPECT_NE(c.ids, ids.data() + c.pos); // the device copy of the ids
      EXPECT_EQ(c.kv, s.arena().data());
      EXPECT_EQ(c.w, w.data());
      EXPECT_NE(c.logits, last);            // the device logits, downloaded
      EXPECT_EQ(c.kvSize, 176);
      EXPECT_EQ(c.wSize, 8);
    }
    EXPECT_EQ(gGpuCalls[1].idValues, (std::vector<int32_t>{5, 6}));
    const float *l = s.decode(9);
    EXPECT_EQ(l[2], 600.0f + 2 + 7);
    EXPECT_TRUE(gGpuCalls.back().decode);
    EXPECT_EQ(gGpuCalls.back().idValues, (std::vector<int32_t>{9}));
    // The scratch block was reused by every call.
    EXPECT_EQ(dev->scratchStats().allocations, 1u);
    EXPECT_EQ(dev->scratchStats().liveBytes, 0u);

    // A launch error recorded during a call is thrown after it, once.
    gLaunchInCall = true;
    std::string e = errorOf([&] { s.decode(3); });
    gLaunchInCall = false;
    EXPECT_EQ(e, "GPU kernel k0 launched on the host test device (GEMMA4RT_DEVICE=host runs no "
                 "GPU code)");
    EXPECT_FALSE(deviceErrorPending());
  }
}

TEST(RuntimeDeviceSession, KvArenaIsZeroedDeviceMemory) {
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, "W", kPtx, ""));
  auto dev = openHostDevice(*payload);
  {
    KvArena a(1001, dev.get());
    EXPECT_EQ(a.size(), 1001u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
    for (uint64_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(a.data()[i], 0);
    std::memset(a.data(), 9, 1001);
    a.zero();
    for (uint64_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(a.data()[i], 0) << i;
  }
  // --random-weights on a GPU: every byte in [0x3c, 0x3f], a ragged tail too.
  DeviceBuffer w = randomDeviceWeights(*dev, 11);
  const auto *b = static_cast<const uint8_t *>(w.data());
  for (int i = 0; i < 11; ++i)
    EXPECT_EQ(b[i], 0x3f - (i % 4)) << i;
}

TEST(RuntimeDeviceSession, NotEnoughMemoryIsOneLine) {
  TempDir d;
  auto payload = Payload::open(writeGpuBinary(d.path, "W", kPtx, ""));
  auto dev = openHostDevice(*payload);
  Manifest m = payload->manifest();
  m.weightsSize = uint64_t(3) << 30;
  m.kvBytesPerContext = uint64_t(1) << 20; // 32 GiB at 32768
  ::setenv("GEMMA4RT_HOST_DEVICE_MEMORY", std::to_string(uint64_t(8) << 30).c_str(), 1);
  std::string e = errorOf([&] { checkDeviceMemory(*dev, m, 32768); });
  EXPECT_EQ(e.rfind("not enough GPU memory: the model needs 35.", 0), 0u) << e;
  EXPECT_NE(e.find("(weights 3.00 GiB, KV cache 32.00 GiB for a context of 32768, "),
            std::string::npos) << e;
  EXPECT_TRUE(e.ends_with("the host test device has 8.00 GiB free of 8.00 GiB: a smaller "
                          "--max-context shrinks the KV cache"))
      << e;
  EXPECT_NO_THROW(checkDeviceMemory(*dev, m, 1024)); // 4 GiB fits
  m.weightsSize = uint64_t(9) << 30;                 // the weights alone do not
  e = errorOf([&] { checkDeviceMemory(*dev, m, 1024); });
  EXPECT_TRUE(e.ends_with("has 8.00 GiB free of 8.00 GiB")) << e;
  ::unsetenv("GEMMA4RT_HOST_DEVICE_MEMORY");
  // An allocation that fails names what it was for.
  e = errorOf([&] { dev->alloc(UINT64_MAX / 2, "the KV cache"); });
  EXPECT_EQ(e.rfind("cannot allocate the KV cache (", 0), 0u) << e;
  EXPECT_TRUE(e.ends_with(") on the host test device: out of host memory")) << e;
}

TEST(RuntimeCli, DeviceFlag) {
  const char *ok[] = {"model", "--device", "3"};
  EXPECT_EQ(parseArgs(3, ok).device, 3);
  const char *none[] = {"model"};
  EXPECT_EQ(parseArgs(1, none).device, 0);
  auto err = [](const char *v) {
    const char *argv[] = {"model", "--device", v};
    try {
      parseArgs(3, argv);
    } catch (const UsageError &e) {
      return std::string(e.what());
    }
    return std::string("<no usage error>");
  };
  EXPECT_EQ(err("-1"), "--device: -1 is out of range [0, 1023]");
  EXPECT_EQ(err("gpu0"), "--device: expected an integer, got 'gpu0'");
  EXPECT_EQ(err("5000"), "--device: 5000 is out of range [0, 1023]");
}

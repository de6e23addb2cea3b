//===- VulkanDevice.cpp - the Vulkan device: loader through dlopen --------===//
//
// A Device on any Vulkan 1.2 GPU, through the loader opened at run time with
// dlopen("libvulkan.so.1") (vulkan_core.h gives the types only): binaries
// need no Vulkan library to link or to start, and a machine without one
// gets one error line.
//
// Memory: every device buffer (weights, KV arena, ids, logits, scratch) is
// a VkBuffer with its own memory, used by the kernels through its buffer
// device address, which is also the "device pointer" the generated host
// code computes with (as with CUDA): no descriptor sets, no range limits.
// Copies go through a host-visible staging buffer; upload/download/fill
// find the buffer an address lies in.
//
// Kernels: one compute pipeline per kernel of the payload's SPIR-V module,
// all created at start-up (with a pipeline cache). A launch copies the
// kernel's parameter block (the operands gemma4-lower-gpu-launches stored)
// into a host-visible ring, pushes its address as the push constant and
// records a dispatch and a barrier into the current command buffer; the
// command buffer is submitted when the host needs a result (download,
// synchronize) or memory is freed, so an entry point's kernels go to the
// GPU as one submission. That command buffer is kept per entry point and
// resubmitted as it is when the next call launches the same kernels with
// the same grids (a decode step's shape): only the parameter blocks in the
// ring are rewritten (GEMMA4RT_VULKAN_REUSE=0 records every call anew;
// GEMMA4RT_VULKAN_STATS=1 says at exit how many calls were resubmitted).
// Every wait has a time limit
// (GEMMA4RT_VULKAN_TIMEOUT seconds, default 600): a stuck GPU is an error,
// never a hang. GEMMA4RT_GPU_CHECK=1 waits after every launch and prints
// what the buffers it addresses hold (non-finite words, sum): the first
// kernel to write NaN is named, and two drivers' traces diff.
//
// Without libvulkan.so.1, a driver whose ICD manifest is in the standard
// places (/etc/vulkan/icd.d, /usr/share/vulkan/icd.d) is used directly.
//
// Tests: GEMMA4RT_VULKAN_LOADER names another loader library (a missing
// one: "no Vulkan loader"); GEMMA4RT_VULKAN_HIDE=<feature> makes the device
// report that feature missing; GEMMA4RT_VULKAN_MEMORY=<bytes> makes it a
// device with that much memory (allocations beyond it fail as out of
// device memory).
//
// Built without vulkan_core.h (GEMMA4RT_HAVE_VULKAN undefined), opening
// and listing only say so.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/device.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"

#ifdef GEMMA4RT_HAVE_VULKAN

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan_core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma4rt {

namespace {

#define GEMMA4RT_VK_INSTANCE_FUNCTIONS(X)                                                          \
  X(vkDestroyInstance)                                                                             \
  X(vkEnumeratePhysicalDevices)                                                                    \
  X(vkGetPhysicalDeviceProperties)                                                                 \
  X(vkGetPhysicalDeviceProperties2)                                                                \
  X(vkGetPhysicalDeviceFeatures2)                                                                  \
  X(vkGetPhysicalDeviceMemoryProperties)                                                           \
  X(vkGetPhysicalDeviceQueueFamilyProperties)                                                      \
  X(vkCreateDevice)                                                                                \
  X(vkGetDeviceProcAddr)

#define GEMMA4RT_VK_DEVICE_FUNCTIONS(X)                                                            \
  X(vkDestroyDevice)                                                                               \
  X(vkGetDeviceQueue)                                                                              \
  X(vkCreateBuffer)                                                                                \
  X(vkDestroyBuffer)                                                                               \
  X(vkGetBufferMemoryRequirements)                                                                 \
  X(vkAllocateMemory)                                                                              \
  X(vkFreeMemory)                                                                                  \
  X(vkBindBufferMemory)                                                                            \
  X(vkMapMemory)                                                                                   \
  X(vkGetBufferDeviceAddress)                                                                      \
  X(vkCreateShaderModule)                                                                          \
  X(vkDestroyShaderModule)                                                                         \
  X(vkCreatePipelineCache)                                                                         \
  X(vkDestroyPipelineCache)                                                                        \
  X(vkCreatePipelineLayout)                                                                        \
  X(vkDestroyPipelineLayout)                                                                       \
  X(vkCreateComputePipelines)                                                                      \
  X(vkDestroyPipeline)                                                                             \
  X(vkCreateCommandPool)                                                                           \
  X(vkDestroyCommandPool)                                                                          \
  X(vkAllocateCommandBuffers)                                                                      \
  X(vkResetCommandBuffer)                                                                          \
  X(vkBeginCommandBuffer)                                                                          \
  X(vkEndCommandBuffer)                                                                            \
  X(vkCmdBindPipeline)                                                                             \
  X(vkCmdPushConstants)                                                                            \
  X(vkCmdDispatch)                                                                                 \
  X(vkCmdPipelineBarrier)                                                                          \
  X(vkCmdCopyBuffer)                                                                               \
  X(vkCmdFillBuffer)                                                                               \
  X(vkCreateFence)                                                                                 \
  X(vkDestroyFence)                                                                                \
  X(vkResetFences)                                                                                 \
  X(vkWaitForFences)                                                                               \
  X(vkQueueSubmit)                                                                                 \
  X(vkDeviceWaitIdle)

/// The loader and the instance (one per process, never unloaded).
struct VulkanApi {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;
#define GEMMA4RT_DECLARE(name) PFN_##name name = nullptr;
  GEMMA4RT_VK_INSTANCE_FUNCTIONS(GEMMA4RT_DECLARE)
#undef GEMMA4RT_DECLARE
  VkInstance instance = VK_NULL_HANDLE;
  std::string error;
};

std::string vkText(VkResult r) {
  switch (r) {
  case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
  case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
  case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
  case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
  case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
  case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
  case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
  case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
  case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
  case VK_TIMEOUT: return "VK_TIMEOUT";
  default: return "VkResult " + std::to_string(int(r));
  }
}

/// Creates the instance through `gipa` (the loader's vkGetInstanceProcAddr,
/// or a driver's when there is no loader) and loads the instance functions.
bool initInstance(VulkanApi &a, PFN_vkGetInstanceProcAddr gipa, bool direct,
                  const std::string &what) {
  a.vkGetInstanceProcAddr = gipa;
  a.vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(gipa(VK_NULL_HANDLE, "vkCreateInstance"));
  a.vkEnumerateInstanceVersion = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      gipa(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  uint32_t version = VK_API_VERSION_1_0;
  if (a.vkEnumerateInstanceVersion)
    a.vkEnumerateInstanceVersion(&version);
  if (!a.vkCreateInstance) {
    a.error = what + " lacks vkCreateInstance";
    return false;
  }
  // A driver used directly may not say; its devices' versions are checked.
  if (!direct && version < VK_API_VERSION_1_2) {
    a.error = what + " is version " + std::to_string(VK_API_VERSION_MAJOR(version)) + "." +
              std::to_string(VK_API_VERSION_MINOR(version)) + ", this binary needs 1.2";
    return false;
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "gemma4c model";
  app.pEngineName = "gemma4rt";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  VkResult r = a.vkCreateInstance(&ci, nullptr, &a.instance);
  if (r != VK_SUCCESS) {
    a.error = r == VK_ERROR_INCOMPATIBLE_DRIVER
                  ? "no Vulkan driver found (vkCreateInstance: " + vkText(r) + ")"
                  : "cannot create a Vulkan instance (" + vkText(r) + ")";
    return false;
  }
#define GEMMA4RT_LOAD(fn)                                                                          \
  a.fn = reinterpret_cast<PFN_##fn>(gipa(a.instance, #fn));                                        \
  if (!a.fn) {                                                                                     \
    a.error = what + " lacks " #fn;                                                                \
    return false;                                                                                  \
  }
  GEMMA4RT_VK_INSTANCE_FUNCTIONS(GEMMA4RT_LOAD)
#undef GEMMA4RT_LOAD
  return true;
}

/// A driver used without the loader: `path` is its ICD manifest (JSON,
/// "ICD": {"library_path": ...}) or its library.
bool initFromIcd(VulkanApi &a, const std::string &path) {
  std::string lib = path;
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    std::ifstream in(path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("ICD") || !j["ICD"].is_object() ||
        !j["ICD"].contains("library_path") || !j["ICD"]["library_path"].is_string()) {
      a.error = "the Vulkan driver manifest " + path + " names no library";
      return false;
    }
    lib = j["ICD"]["library_path"].get<std::string>();
    if (lib.find('/') != std::string::npos && lib.front() != '/')
      lib = path.substr(0, path.rfind('/') + 1) + lib;
  }
  void *h = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    a.error = "cannot load the Vulkan driver " + lib;
    return false;
  }
  using Negotiate = VkResult (*)(uint32_t *);
  if (auto neg = reinterpret_cast<Negotiate>(
          ::dlsym(h, "vk_icdNegotiateLoaderICDInterfaceVersion"))) {
    uint32_t v = 5; // what this "loader" supports: instances of any version
    if (neg(&v) != VK_SUCCESS) {
      a.error = "the Vulkan driver " + lib + " refuses to be used without the loader";
      return false;
    }
  }
  auto gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(::dlsym(h, "vk_icdGetInstanceProcAddr"));
  if (!gipa)
    gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(::dlsym(h, "vkGetInstanceProcAddr"));
  if (!gipa) {
    a.error = lib + " is no Vulkan driver";
    return false;
  }
  return initInstance(a, gipa, true, "the Vulkan driver " + lib);
}

std::vector<VkPhysicalDevice> physicalDevices(const VulkanApi &vk);

/// The loader (libvulkan.so.1, or GEMMA4RT_VULKAN_LOADER) and its instance.
/// Without a loader, each driver whose ICD manifest is in the standard
/// places is tried directly (a GPU machine with the NVIDIA driver's Vulkan
/// ICD but no libvulkan1); GEMMA4RT_VULKAN_ICD=<manifest or library> uses
/// that driver directly. Loaded once, never unloaded.
const VulkanApi &vulkanApi() {
  static const VulkanApi api = [] {
    VulkanApi a;
    if (const char *icd = std::getenv("GEMMA4RT_VULKAN_ICD"); icd && *icd) {
      initFromIcd(a, icd);
      return a;
    }
    const char *forced = std::getenv("GEMMA4RT_VULKAN_LOADER");
    const char *name = forced && *forced ? forced : "libvulkan.so.1";
    if (void *lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) {
      auto gipa =
          reinterpret_cast<PFN_vkGetInstanceProcAddr>(::dlsym(lib, "vkGetInstanceProcAddr"));
      if (!gipa)
        a.error = std::string(name) + " is no Vulkan loader (it lacks vkGetInstanceProcAddr)";
      else
        initInstance(a, gipa, false, std::string("the Vulkan loader ") + name);
      return a;
    }
    std::string noLoader = std::string("no Vulkan loader found (cannot load ") + name +
                           "; install the Vulkan loader, e.g. Debian's libvulkan1, and a driver)";
    if (!(forced && *forced)) {
      std::vector<std::string> manifests;
      for (const char *dir : {"/etc/vulkan/icd.d", "/usr/share/vulkan/icd.d",
                              "/usr/local/share/vulkan/icd.d"}) {
        std::error_code ec;
        for (const auto &e : std::filesystem::directory_iterator(dir, ec))
          if (e.path().extension() == ".json")
            manifests.push_back(e.path().string());
      }
      std::sort(manifests.begin(), manifests.end());
      for (const std::string &m : manifests) {
        VulkanApi b;
        if (initFromIcd(b, m) && !physicalDevices(b).empty())
          return b;
        if (b.instance && b.vkDestroyInstance)
          b.vkDestroyInstance(b.instance, nullptr);
      }
    }
    a.error = noLoader;
    return a;
  }();
  return api;
}

std::vector<VkPhysicalDevice> physicalDevices(const VulkanApi &vk) {
  uint32_t n = 0;
  if (vk.vkEnumeratePhysicalDevices(vk.instance, &n, nullptr) != VK_SUCCESS)
    return {};
  std::vector<VkPhysicalDevice> d(n);
  if (n && vk.vkEnumeratePhysicalDevices(vk.instance, &n, d.data()) != VK_SUCCESS)
    return {};
  d.resize(n);
  return d;
}

/// What the device offers of what the kernels need.
struct DeviceInfo {
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  uint64_t deviceLocalBytes = 0;
  uint64_t maxAllocation = 0;
  std::vector<std::string> missing; ///< needed features it lacks, by their Vulkan names

  std::string name() const { return props.deviceName[0] ? props.deviceName : "unnamed device"; }
  std::string version() const {
    return std::to_string(VK_API_VERSION_MAJOR(props.apiVersion)) + "." +
           std::to_string(VK_API_VERSION_MINOR(props.apiVersion)) + "." +
           std::to_string(VK_API_VERSION_PATCH(props.apiVersion));
  }
};

DeviceInfo deviceInfo(const VulkanApi &vk, VkPhysicalDevice pd, int64_t subgroupLanes) {
  DeviceInfo d;
  vk.vkGetPhysicalDeviceProperties(pd, &d.props);
  VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  d.subgroup.pNext = &m3;
  VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  p2.pNext = &d.subgroup;
  auto &missing = d.missing;
  if (d.props.apiVersion < VK_API_VERSION_1_2) {
    missing.push_back("Vulkan 1.2 (the device offers " + d.version() + ")");
    return d;
  }
  vk.vkGetPhysicalDeviceProperties2(pd, &p2);
  d.maxAllocation = m3.maxMemoryAllocationSize;
  d.f.pNext = &d.f11;
  d.f11.pNext = &d.f12;
  vk.vkGetPhysicalDeviceFeatures2(pd, &d.f);
  VkPhysicalDeviceMemoryProperties mem{};
  vk.vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i)
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.deviceLocalBytes = std::max<uint64_t>(d.deviceLocalBytes, mem.memoryHeaps[i].size);

  const char *hide = std::getenv("GEMMA4RT_VULKAN_HIDE");
  auto need = [&](bool have, const char *name) {
    if (hide && std::strcmp(hide, name) == 0)
      have = false;
    if (!have)
      missing.push_back(name);
  };
  need(d.f12.bufferDeviceAddress, "bufferDeviceAddress");
  need(d.f.features.shaderInt64, "shaderInt64");
  need(d.f.features.shaderInt16, "shaderInt16");
  need(d.f12.shaderInt8, "shaderInt8");
  need(d.f11.storageBuffer16BitAccess, "storageBuffer16BitAccess");
  need(d.f12.storageBuffer8BitAccess, "storageBuffer8BitAccess");
  need(d.subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT, "subgroup operations in compute");
  need(d.subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "subgroup shuffle");
  uint32_t sg = d.subgroup.subgroupSize;
  bool sgOk = subgroupLanes <= 0 || (sg >= subgroupLanes && sg % subgroupLanes == 0);
  if (hide && std::strcmp(hide, "subgroupSize") == 0)
    sgOk = false;
  if (!sgOk)
    missing.push_back("subgroups of a multiple of " + std::to_string(subgroupLanes) +
                      " lanes (it has " + std::to_string(sg) + ")");
  return d;
}

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(uint64_t(1) << 30));
  return buf;
}

std::string joined(const std::vector<std::string> &v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + v[i];
  return s;
}

class VulkanDevice final : public Device {
public:
  VulkanDevice(const VulkanApi &vk, const Payload &payload, int ordinal, VkPhysicalDevice pd,
               DeviceInfo info)
      : vk_(vk), ordinal_(ordinal), pd_(pd), info_(std::move(info)) {
    try {
      open(payload);
    } catch (...) {
      close();
      throw;
    }
  }
  ~VulkanDevice() override {
    try {
      flush();
    } catch (...) {
    }
    if (const char *s = std::getenv("GEMMA4RT_VULKAN_STATS"); s && std::strcmp(s, "1") == 0)
      std::fprintf(stderr, "vulkan: %llu calls, %llu resubmitted a kept command buffer\n",
                   (unsigned long long)entryCalls_, (unsigned long long)resubmitted_);
    releaseScratch();
    close();
  }

  std::string description() const override {
    return info_.name() + " (Vulkan " + info_.version() + ", " + gib(info_.deviceLocalBytes) +
           ", subgroups of " + std::to_string(info_.subgroup.subgroupSize) + ")";
  }
  std::string label() const override {
    return "Vulkan device " + std::to_string(ordinal_) + " (" + info_.name() + ")";
  }

  MemoryInfo memoryInfo() override {
    uint64_t total = memoryLimit_ ? memoryLimit_ : info_.deviceLocalBytes;
    return {total > allocated_ ? total - allocated_ : 0, total};
  }

  void free(void *p) noexcept override {
    auto it = blocks_.find(addr(p));
    if (it == blocks_.end())
      return;
    // Work queued may still use it.
    try {
      flush();
    } catch (...) {
    }
    allocated_ -= it->second.size;
    destroy(it->second);
    blocks_.erase(it);
  }

  void upload(void *dst, const void *src, uint64_t bytes) override {
    if (!bytes)
      return;
    auto [b, off] = locate(dst, bytes, "copying to the GPU");
    const char *s = static_cast<const char *>(src);
    flush();
    for (uint64_t done = 0; done < bytes;) {
      uint64_t n = std::min<uint64_t>(bytes - done, kStagingBytes);
      std::memcpy(staging_.mapped, s + done, n);
      begin();
      VkBufferCopy c{0, off + done, n};
      vk_.d.vkCmdCopyBuffer(cmd_, staging_.buffer, b->buffer, 1, &c);
      barrier();
      flush();
      done += n;
    }
  }

  void download(void *dst, const void *src, uint64_t bytes) override {
    flush();
    throwPendingDeviceError();
    if (!bytes)
      return;
    auto [b, off] = locate(src, bytes, "copying from the GPU");
    char *d = static_cast<char *>(dst);
    for (uint64_t done = 0; done < bytes;) {
      uint64_t n = std::min<uint64_t>(bytes - done, kStagingBytes);
      begin();
      VkBufferCopy c{off + done, 0, n};
      vk_.d.vkCmdCopyBuffer(cmd_, b->buffer, staging_.buffer, 1, &c);
      flush();
      std::memcpy(d + done, staging_.mapped, n);
      done += n;
    }
  }

  void fill32(void *dst, uint32_t pattern, uint64_t bytes) override {
    if (addr(dst) % 4 != 0)
      throw Error("fill32: unaligned device address (internal error)");
    if (!bytes)
      return;
    auto [b, off] = locate(dst, bytes, "filling GPU memory");
    uint64_t words = bytes / 4 * 4;
    if (words) {
      begin();
      vk_.d.vkCmdFillBuffer(cmd_, b->buffer, off, words, pattern);
      barrier();
    }
    if (uint64_t tail = bytes - words) {
      uint32_t p = pattern;
      upload(reinterpret_cast<void *>(addr(dst) + words), &p, tail);
    }
  }

  void synchronize() override {
    flush();
    throwPendingDeviceError();
  }

  void beginEntry(const void *key) noexcept override {
    inEntry_ = false;
    if (!reuse_ || syncEachLaunch_ || check_ || deviceErrorPending())
      return;
    try {
      flush(); // the entry's launches alone in the command buffer, the ring from 0
    } catch (const Error &e) {
      recordDeviceError(e.what());
      return;
    }
    inEntry_ = true;
    entryBroken_ = diverged_ = false;
    entryKey_ = key;
    entryDispatches_.clear();
    auto it = recordings_.find(key);
    replay_ = it == recordings_.end() ? nullptr : &it->second;
    replayPos_ = 0;
  }

  bool endEntry() noexcept override {
    if (!inEntry_)
      return true;
    inEntry_ = false;
    try {
      ++entryCalls_;
      if (replay_ && !diverged_ && !entryBroken_ && replayPos_ == replay_->dispatches.size()) {
        ++resubmitted_;
        submit(replay_->cmd); // the same launches: the kept command buffer
        return true;
      }
      if (entryBroken_ || !recording_) {
        flush();
        return true;
      }
      // A new shape: keep this recording for the next call.
      VkCommandBuffer done = cmd_;
      recording_ = false;
      check(vk_.d.vkEndCommandBuffer(done), "vkEndCommandBuffer");
      Recording &r = recordings_[entryKey_];
      VkCommandBuffer old = r.cmd;
      r.cmd = done;
      r.dispatches = std::move(entryDispatches_);
      cmd_ = old ? old : newCommandBuffer();
      submit(done);
    } catch (const Error &e) {
      recordDeviceError(e.what());
    }
    return true;
  }

  void launch(int32_t kernel, const int64_t grid[3], const int64_t block[3], int32_t sharedBytes,
              void **args) noexcept override {
    if (kernel < 0 || size_t(kernel) >= pipelines_.size()) {
      recordDeviceError("the generated code launched GPU kernel #" + std::to_string(kernel) +
                        ", the manifest lists " + std::to_string(pipelines_.size()));
      return;
    }
    const GpuManifest::VulkanKernel &k = kernels_[size_t(kernel)];
    for (int i = 0; i < 3; ++i) {
      if (grid[i] == 0)
        return;
      if (block[i] != int64_t(k.workgroup[i]) || grid[i] < 0 ||
          grid[i] > int64_t(info_.props.limits.maxComputeWorkGroupCount[i]) || sharedBytes != 0) {
        char shape[200];
        std::snprintf(shape, sizeof shape,
                      " (grid %lldx%lldx%lld, block %lldx%lldx%lld, %d bytes shared; the "
                      "shader's workgroup is %ux%ux%u, the device's largest grid %ux%ux%u)",
                      (long long)grid[0], (long long)grid[1], (long long)grid[2],
                      (long long)block[0], (long long)block[1], (long long)block[2],
                      int(sharedBytes), k.workgroup[0], k.workgroup[1], k.workgroup[2],
                      info_.props.limits.maxComputeWorkGroupCount[0],
                      info_.props.limits.maxComputeWorkGroupCount[1],
                      info_.props.limits.maxComputeWorkGroupCount[2]);
        recordDeviceError("GPU kernel " + names_[size_t(kernel)] + shape +
                          " cannot be launched on " + label());
        return;
      }
    }
    try {
      uint64_t bytes = std::max<uint64_t>(k.paramBytes, 8);
      if (ringUsed_ + bytes > kRingBytes)
        flush();
      Dispatch d{kernel, {uint32_t(grid[0]), uint32_t(grid[1]), uint32_t(grid[2])}, ringUsed_};
      ringUsed_ = (ringUsed_ + bytes + 15) / 16 * 16;
      if (k.paramBytes)
        std::memcpy(static_cast<char *>(ring_.mapped) + d.ringAt, args[0], k.paramBytes);
      if (inEntry_) {
        // The kept recording has this launch next: nothing to record.
        if (replay_ && !diverged_ && replayPos_ < replay_->dispatches.size() &&
            replay_->dispatches[replayPos_] == d) {
          ++replayPos_;
          entryDispatches_.push_back(d);
          return;
        }
        materialize();
        entryDispatches_.push_back(d);
      }
      record(d);
      if (syncEachLaunch_ || check_)
        flush();
      if (check_)
        checkLaunch(kernel, args[0], k.paramBytes);
    } catch (const Error &e) {
      recordDeviceError("GPU kernel " + names_[size_t(kernel)] + ": " + e.what());
    }
  }

protected:
  void *tryAlloc(uint64_t bytes, std::string &error) noexcept override {
    Block b;
    if (memoryLimit_ && (bytes > memoryLimit_ || allocated_ > memoryLimit_ - bytes)) {
      error = "out of device memory (GEMMA4RT_VULKAN_MEMORY=" + std::to_string(memoryLimit_) + ")";
      return nullptr;
    }
    // Device memory is 256-byte aligned (Device::alloc's promise, as
    // cuMemAlloc's): the address handed out is the buffer's first aligned one.
    if (!create(std::max<uint64_t>(bytes, 4) + 255, false, b, error))
      return nullptr;
    allocated_ += b.size;
    b.requested = bytes;
    uint64_t start = (b.address + 255) / 256 * 256;
    blocks_[start] = b;
    // GEMMA4RT_GPU_CHECK=1 sums whole buffers: zeroed, the words no kernel
    // writes read the same on every driver, so two drivers' traces differ
    // only where the kernels' results do.
    if (check_ && bytes >= 4) {
      try {
        fill32(reinterpret_cast<void *>(static_cast<uintptr_t>(start)), 0, bytes);
      } catch (const std::exception &e) {
        error = std::string("zeroing GPU memory for GEMMA4RT_GPU_CHECK: ") + e.what();
        return nullptr;
      }
    }
    return reinterpret_cast<void *>(static_cast<uintptr_t>(start));
  }

private:
  static constexpr uint64_t kStagingBytes = 64ull << 20;
  static constexpr uint64_t kRingBytes = 4ull << 20;

  /// One recorded launch: the kernel, its grid, its parameter block's
  /// offset in the ring.
  struct Dispatch {
    int32_t kernel = 0;
    uint32_t grid[3] = {0, 0, 0};
    uint64_t ringAt = 0;
    bool operator==(const Dispatch &o) const {
      return kernel == o.kernel && grid[0] == o.grid[0] && grid[1] == o.grid[1] &&
             grid[2] == o.grid[2] && ringAt == o.ringAt;
    }
  };
  struct Recording {
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    std::vector<Dispatch> dispatches;
  };

  void record(const Dispatch &d) {
    begin();
    uint64_t paramAddr = ring_.address + d.ringAt;
    vk_.d.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_[size_t(d.kernel)]);
    vk_.d.vkCmdPushConstants(cmd_, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, 8, &paramAddr);
    vk_.d.vkCmdDispatch(cmd_, d.grid[0], d.grid[1], d.grid[2]);
    barrier();
  }

  /// GEMMA4RT_GPU_CHECK=1: after each launch (waited for), one stderr line
  /// per device buffer its parameter block addresses: the count of words
  /// that are not finite as f32 and the sum of those that are. The first
  /// launch whose buffers gain non-finite words names the kernel at fault;
  /// two drivers' traces of one binary diff line by line.
  void checkLaunch(int32_t kernel, const void *params, uint32_t paramBytes) {
    ++checkedLaunches_;
    std::set<uint64_t> seen;
    const char *pb = static_cast<const char *>(params);
    std::string line = "gpu-check: #" + std::to_string(checkedLaunches_) + " " +
                       names_[size_t(kernel)];
    for (uint32_t at = 0; at + 8 <= paramBytes; at += 8) {
      uint64_t a;
      std::memcpy(&a, pb + at, 8);
      auto it = handedOutBefore(a);
      if (a == 0 || it == blocks_.end())
        continue;
      const Block &b = it->second;
      if (a < it->first || a - it->first >= b.requested || !seen.insert(it->first).second)
        continue;
      uint64_t bytes = b.requested;
      char text[160];
      if (bytes > kCheckBytes) {
        std::snprintf(text, sizeof text, " | @%llx %llu bytes (not read)",
                      (unsigned long long)it->first, (unsigned long long)bytes);
        line += text;
        continue;
      }
      std::vector<float> v(bytes / 4);
      download(v.data(), reinterpret_cast<void *>(static_cast<uintptr_t>(it->first)),
               v.size() * 4);
      uint64_t bad = 0;
      double sum = 0;
      for (float x : v)
        std::isfinite(x) ? void(sum += double(x)) : void(++bad);
      std::snprintf(text, sizeof text, " | @%llx %llu bytes nonfinite %llu sum %.6g",
                    (unsigned long long)it->first, (unsigned long long)bytes,
                    (unsigned long long)bad, sum);
      line += text;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  /// Leaves replaying: records the launches matched so far into cmd_.
  void materialize() {
    if (!replay_ || diverged_)
      return;
    diverged_ = true;
    for (const Dispatch &d : entryDispatches_)
      record(d);
  }

  VkCommandBuffer newCommandBuffer() {
    VkCommandBufferAllocateInfo ci{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ci.commandPool = pool_;
    ci.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ci.commandBufferCount = 1;
    VkCommandBuffer c = VK_NULL_HANDLE;
    check(vk_.d.vkAllocateCommandBuffers(device_, &ci, &c), "vkAllocateCommandBuffers");
    return c;
  }

  struct Block {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    uint64_t address = 0, size = 0;
    uint64_t requested = 0; ///< what tryAlloc was asked for, from the address handed out
    void *mapped = nullptr;
  };

  static uint64_t addr(const void *p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

  void check(VkResult r, const std::string &what) {
    if (r == VK_SUCCESS)
      return;
    throw Error(what + " failed on " + label() + ": " + vkText(r));
  }

  /// The buffer [p, p + bytes) lies in and the offset of p in it.
  std::pair<Block *, uint64_t> locate(const void *p, uint64_t bytes, const char *what) {
    uint64_t a = addr(p);
    if (auto it = handedOutBefore(a); it != blocks_.end()) {
      Block &b = it->second; // handed out at it->first, from b.address on
      if (a >= it->first && a - b.address <= b.size && bytes <= b.size - (a - b.address))
        return {&b, a - b.address};
    }
    throw Error(std::string(what) + ": address range is no device buffer (internal error)");
  }
  /// The buffer handed out last at or before address a (end() if none).
  std::map<uint64_t, Block>::iterator handedOutBefore(uint64_t a) {
    auto it = blocks_.upper_bound(a);
    return it == blocks_.begin() ? blocks_.end() : std::prev(it);
  }

  int32_t memoryType(uint32_t bits, VkMemoryPropertyFlags want) const {
    for (uint32_t i = 0; i < memProps_.memoryTypeCount; ++i)
      if ((bits & (1u << i)) && (memProps_.memoryTypes[i].propertyFlags & want) == want)
        return int32_t(i);
    return -1;
  }

  bool create(uint64_t bytes, bool hostVisible, Block &b, std::string &error) noexcept {
    // Beyond maxMemoryAllocationSize an allocation may still succeed (the
    // limit is advisory on several drivers): try, and name it on failure.
    std::string beyond;
    if (info_.maxAllocation && bytes > info_.maxAllocation)
      beyond = "; " + formatBytes(bytes) + " is more than the device's largest allocation, " +
               formatBytes(info_.maxAllocation);
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = bytes;
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkResult r = vk_.d.vkCreateBuffer(device_, &bi, nullptr, &b.buffer);
    if (r != VK_SUCCESS) {
      error = (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                   ? "out of device memory (vkCreateBuffer: " + vkText(r) + ")"
                   : "vkCreateBuffer: " + vkText(r)) + beyond;
      return false;
    }
    VkMemoryRequirements req{};
    vk_.d.vkGetBufferMemoryRequirements(device_, b.buffer, &req);
    VkMemoryPropertyFlags want = hostVisible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                                             : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    int32_t type = memoryType(req.memoryTypeBits, want);
    if (type < 0 && !hostVisible)
      type = memoryType(req.memoryTypeBits, 0);
    if (type < 0) {
      vk_.d.vkDestroyBuffer(device_, b.buffer, nullptr);
      error = "no suitable memory type";
      return false;
    }
    VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
    flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.pNext = &flags;
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = uint32_t(type);
    r = vk_.d.vkAllocateMemory(device_, &ai, nullptr, &b.memory);
    if (r != VK_SUCCESS) {
      vk_.d.vkDestroyBuffer(device_, b.buffer, nullptr);
      error = (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                   ? "out of device memory (" + vkText(r) + ")"
                   : "vkAllocateMemory: " + vkText(r)) + beyond;
      return false;
    }
    r = vk_.d.vkBindBufferMemory(device_, b.buffer, b.memory, 0);
    if (r == VK_SUCCESS && hostVisible)
      r = vk_.d.vkMapMemory(device_, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped);
    if (r != VK_SUCCESS) {
      destroy(b);
      error = "binding device memory: " + vkText(r);
      return false;
    }
    VkBufferDeviceAddressInfo di{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
    di.buffer = b.buffer;
    b.address = vk_.d.vkGetBufferDeviceAddress(device_, &di);
    b.size = bytes;
    return true;
  }

  void destroy(Block &b) noexcept {
    if (b.buffer)
      vk_.d.vkDestroyBuffer(device_, b.buffer, nullptr);
    if (b.memory)
      vk_.d.vkFreeMemory(device_, b.memory, nullptr);
    b = Block{};
  }

  /// Starts recording into the command buffer unless it is.
  void begin() {
    if (recording_)
      return;
    check(vk_.d.vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    check(vk_.d.vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    recording_ = true;
  }

  /// Orders what was recorded before every later kernel and copy.
  void barrier() {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                       VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    vk_.d.vkCmdPipelineBarrier(cmd_,
                               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                               0, 1, &mb, 0, nullptr, 0, nullptr);
  }

  /// Submits what was recorded and waits for it (with a time limit).
  void flush() {
    if (inEntry_ && !entryBroken_) {
      // Mid-entry (the ring is full, memory is freed): submit what the
      // entry launched so far; this call's recording is not kept.
      materialize();
      entryBroken_ = true;
    }
    if (!recording_)
      return;
    recording_ = false;
    check(vk_.d.vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    submit(cmd_);
  }

  /// Submits `cmd` and waits for it (with a time limit); the ring is free
  /// again after it.
  void submit(VkCommandBuffer cmd) {
    check(vk_.d.vkResetFences(device_, 1, &fence_), "vkResetFences");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    check(vk_.d.vkQueueSubmit(queue_, 1, &si, fence_), "submitting GPU work");
    ringUsed_ = 0;
    VkResult r = vk_.d.vkWaitForFences(device_, 1, &fence_, VK_TRUE, timeoutNs_);
    if (r == VK_TIMEOUT)
      throw Error("the GPU work did not finish within " + std::to_string(timeoutNs_ / 1000000000) +
                  " s on " + label() + " (GEMMA4RT_VULKAN_TIMEOUT sets the limit in seconds)");
    if (r != VK_SUCCESS)
      throw Error("the GPU work failed on " + label() + ": " + vkText(r));
  }

  void open(const Payload &payload) {
    const GpuManifest &g = *payload.manifest().gpu;
    vk_.vkGetPhysicalDeviceMemoryProperties(pd_, &memProps_);
    uint32_t nq = 0;
    vk_.vkGetPhysicalDeviceQueueFamilyProperties(pd_, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qf(nq);
    vk_.vkGetPhysicalDeviceQueueFamilyProperties(pd_, &nq, qf.data());
    int32_t family = -1;
    for (uint32_t i = 0; i < nq && family < 0; ++i)
      if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
        family = int32_t(i);
    if (family < 0)
      throw Error(label() + " has no compute queue");

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = uint32_t(family);
    qi.queueCount = 1;
    qi.pQueuePriorities = &prio;
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    f12.bufferDeviceAddress = VK_TRUE;
    f12.shaderInt8 = VK_TRUE;
    f12.storageBuffer8BitAccess = VK_TRUE;
    VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    f11.storageBuffer16BitAccess = VK_TRUE;
    f11.pNext = &f12;
    VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f.features.shaderInt64 = VK_TRUE;
    f.features.shaderInt16 = VK_TRUE;
    f.pNext = &f11;
    VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.pNext = &f;
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    check(vk_.vkCreateDevice(pd_, &di, nullptr, &device_), "creating the Vulkan device");
#define GEMMA4RT_LOAD(fn)                                                                          \
  vk_.d.fn = reinterpret_cast<PFN_##fn>(vk_.vkGetDeviceProcAddr(device_, #fn));                    \
  if (!vk_.d.fn)                                                                                   \
    throw Error("the Vulkan driver of " + label() + " lacks " #fn);
    GEMMA4RT_VK_DEVICE_FUNCTIONS(GEMMA4RT_LOAD)
#undef GEMMA4RT_LOAD
    vk_.d.vkGetDeviceQueue(device_, uint32_t(family), 0, &queue_);

    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = uint32_t(family);
    check(vk_.d.vkCreateCommandPool(device_, &pi, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ci{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ci.commandPool = pool_;
    ci.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ci.commandBufferCount = 1;
    check(vk_.d.vkAllocateCommandBuffers(device_, &ci, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vk_.d.vkCreateFence(device_, &fi, nullptr, &fence_), "vkCreateFence");

    std::string err;
    if (!create(kStagingBytes, true, staging_, err) || !create(kRingBytes, true, ring_, err))
      throw Error("cannot allocate host-visible memory on " + label() + ": " + err);

    // The kernels: one module, one pipeline per entry point.
    std::string_view spirv = payload.gpuSpirv();
    VkShaderModuleCreateInfo si{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    si.codeSize = spirv.size();
    si.pCode = reinterpret_cast<const uint32_t *>(spirv.data());
    check(vk_.d.vkCreateShaderModule(device_, &si, nullptr, &shader_),
          "loading the SPIR-V kernels");
    VkPipelineCacheCreateInfo cci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    check(vk_.d.vkCreatePipelineCache(device_, &cci, nullptr, &cache_), "vkCreatePipelineCache");
    VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, 8};
    VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    li.pushConstantRangeCount = 1;
    li.pPushConstantRanges = &pc;
    check(vk_.d.vkCreatePipelineLayout(device_, &li, nullptr, &layout_), "vkCreatePipelineLayout");
    names_ = g.kernels;
    kernels_ = g.vulkanKernels;
    for (size_t i = 0; i < kernels_.size() && i < names_.size(); ++i)
      if (kernels_[i].sharedBytes > info_.props.limits.maxComputeSharedMemorySize)
        throw Error("kernel " + names_[i] + " needs " + std::to_string(kernels_[i].sharedBytes) +
                    " bytes of workgroup memory; " + label() + " has " +
                    std::to_string(info_.props.limits.maxComputeSharedMemorySize) +
                    " (maxComputeSharedMemorySize): compile with a smaller --gpu-tune=tile");
    std::vector<VkComputePipelineCreateInfo> infos(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) {
      VkComputePipelineCreateInfo &p = infos[i];
      p.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
      p.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
      p.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
      p.stage.module = shader_;
      p.stage.pName = names_[i].c_str();
      p.layout = layout_;
    }
    pipelines_.assign(names_.size(), VK_NULL_HANDLE);
    if (!infos.empty())
      check(vk_.d.vkCreateComputePipelines(device_, cache_, uint32_t(infos.size()), infos.data(),
                                           nullptr, pipelines_.data()),
            "compiling the SPIR-V kernels");

    uint64_t timeoutS = 600;
    if (const char *t = std::getenv("GEMMA4RT_VULKAN_TIMEOUT"); t && std::atoll(t) > 0)
      timeoutS = uint64_t(std::atoll(t));
    timeoutNs_ = timeoutS * 1000000000ull;
    if (const char *m = std::getenv("GEMMA4RT_VULKAN_MEMORY"); m && std::atoll(m) > 0)
      memoryLimit_ = uint64_t(std::atoll(m));
    const char *sync = std::getenv("GEMMA4RT_GPU_SYNC");
    syncEachLaunch_ = sync && *sync && std::strcmp(sync, "0") != 0;
    const char *chk = std::getenv("GEMMA4RT_GPU_CHECK");
    check_ = chk && *chk && std::strcmp(chk, "0") != 0;
    const char *reuse = std::getenv("GEMMA4RT_VULKAN_REUSE");
    reuse_ = !(reuse && std::strcmp(reuse, "0") == 0);
  }

  void close() noexcept {
    if (!device_)
      return;
    vk_.d.vkDeviceWaitIdle(device_);
    for (auto &[a, b] : blocks_)
      destroy(b);
    blocks_.clear();
    destroy(staging_);
    destroy(ring_);
    for (VkPipeline p : pipelines_)
      if (p)
        vk_.d.vkDestroyPipeline(device_, p, nullptr);
    if (layout_)
      vk_.d.vkDestroyPipelineLayout(device_, layout_, nullptr);
    if (cache_)
      vk_.d.vkDestroyPipelineCache(device_, cache_, nullptr);
    if (shader_)
      vk_.d.vkDestroyShaderModule(device_, shader_, nullptr);
    if (fence_)
      vk_.d.vkDestroyFence(device_, fence_, nullptr);
    if (pool_)
      vk_.d.vkDestroyCommandPool(device_, pool_, nullptr);
    vk_.d.vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
  }

  struct DeviceFns {
#define GEMMA4RT_DECLARE(name) PFN_##name name = nullptr;
    GEMMA4RT_VK_DEVICE_FUNCTIONS(GEMMA4RT_DECLARE)
#undef GEMMA4RT_DECLARE
  };
  struct Api {
    const VulkanApi &i;
    DeviceFns d;
    PFN_vkCreateDevice vkCreateDevice;
    PFN_vkGetDeviceProcAddr vkGetDeviceProcAddr;
    PFN_vkGetPhysicalDeviceMemoryProperties vkGetPhysicalDeviceMemoryProperties;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties vkGetPhysicalDeviceQueueFamilyProperties;
    Api(const VulkanApi &a)
        : i(a), vkCreateDevice(a.vkCreateDevice), vkGetDeviceProcAddr(a.vkGetDeviceProcAddr),
          vkGetPhysicalDeviceMemoryProperties(a.vkGetPhysicalDeviceMemoryProperties),
          vkGetPhysicalDeviceQueueFamilyProperties(a.vkGetPhysicalDeviceQueueFamilyProperties) {}
  };
  Api vk_;
  int ordinal_;
  VkPhysicalDevice pd_;
  DeviceInfo info_;
  VkPhysicalDeviceMemoryProperties memProps_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkShaderModule shader_ = VK_NULL_HANDLE;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  std::vector<VkPipeline> pipelines_;
  std::vector<std::string> names_;
  std::vector<GpuManifest::VulkanKernel> kernels_;
  Block staging_, ring_;
  uint64_t ringUsed_ = 0;
  bool recording_ = false;
  // Command buffers kept per entry point (beginEntry/endEntry).
  bool reuse_ = true;
  bool inEntry_ = false, entryBroken_ = false, diverged_ = false;
  const void *entryKey_ = nullptr;
  std::map<const void *, Recording> recordings_;
  Recording *replay_ = nullptr; ///< the kept recording being matched
  size_t replayPos_ = 0;
  uint64_t entryCalls_ = 0, resubmitted_ = 0; ///< GEMMA4RT_VULKAN_STATS=1 prints them
  std::vector<Dispatch> entryDispatches_;
  bool syncEachLaunch_ = false;
  bool check_ = false; ///< GEMMA4RT_GPU_CHECK
  uint64_t checkedLaunches_ = 0;
  static constexpr uint64_t kCheckBytes = 256ull << 20;
  uint64_t timeoutNs_ = 0;
  uint64_t allocated_ = 0;
  uint64_t memoryLimit_ = 0; ///< GEMMA4RT_VULKAN_MEMORY (0: the device's)
  std::map<uint64_t, Block> blocks_; ///< address handed out -> its buffer
};

} // namespace

std::unique_ptr<Device> openVulkanDevice(const Payload &payload, int ordinal) {
  if (!payload.manifest().gpu)
    throw Error("this binary has no GPU code (its manifest has no \"gpu\" entry)");
  const GpuManifest &g = *payload.manifest().gpu;
  const VulkanApi &vk = vulkanApi();
  if (!vk.error.empty())
    throw Error(vk.error + "; this binary runs the model on a Vulkan GPU");
  std::vector<VkPhysicalDevice> devices = physicalDevices(vk);
  if (devices.empty())
    throw Error("no Vulkan device found (the loader reports none); this binary runs the model "
                "on a Vulkan GPU");
  int count = int(devices.size());
  if (ordinal < 0 || ordinal >= count)
    throw Error("--device " + std::to_string(ordinal) + ": this machine has " +
                std::to_string(count) + " Vulkan device" +
                (count == 1 ? " (--device 0)"
                            : "s (--device 0 to " + std::to_string(count - 1) + ")"));
  DeviceInfo info = deviceInfo(vk, devices[size_t(ordinal)], g.subgroupSize);
  if (!info.missing.empty())
    throw Error("Vulkan device " + std::to_string(ordinal) + " (" + info.name() + ") lacks " +
                joined(info.missing) + ", which this binary's kernels need");
  return std::make_unique<VulkanDevice>(vk, payload, ordinal, devices[size_t(ordinal)],
                                        std::move(info));
}

std::vector<std::string> listVulkanDevices(const Payload &payload, std::string &error) {
  const VulkanApi &vk = vulkanApi();
  if (!vk.error.empty()) {
    error = vk.error;
    return {};
  }
  int64_t lanes = payload.manifest().gpu ? payload.manifest().gpu->subgroupSize : 0;
  std::vector<std::string> out;
  std::vector<VkPhysicalDevice> devices = physicalDevices(vk);
  if (devices.empty())
    error = "the Vulkan loader reports no device";
  for (size_t i = 0; i < devices.size(); ++i) {
    DeviceInfo d = deviceInfo(vk, devices[i], lanes);
    out.push_back("Vulkan device " + std::to_string(i) + ": " + d.name() + " (Vulkan " +
                  d.version() + ", " + gib(d.deviceLocalBytes) + ", subgroups of " +
                  std::to_string(d.subgroup.subgroupSize) + ")" +
                  (d.missing.empty() ? ", has every feature used"
                                     : ", lacks " + joined(d.missing)));
  }
  return out;
}

} // namespace gemma4rt

#else // !GEMMA4RT_HAVE_VULKAN

namespace gemma4rt {

namespace {
const char *kNoVulkan =
    "this runtime was built without Vulkan support (no vulkan_core.h at build time)";
}

std::unique_ptr<Device> openVulkanDevice(const Payload &, int) { throw Error(kNoVulkan); }

std::vector<std::string> listVulkanDevices(const Payload &, std::string &error) {
  error = kNoVulkan;
  return {};
}

} // namespace gemma4rt

#endif

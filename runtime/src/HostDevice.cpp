//===- HostDevice.cpp - host memory standing in for a GPU (tests) --------===//
//
// GEMMA4RT_DEVICE=host makes a GPU binary run its entry points with "device"
// memory in host RAM: the runtime's whole GPU path (weights upload, the KV
// arena, ids and logits buffers, scratch, error reporting) runs on a machine
// without a GPU, against a stand-in model that only touches memory (tests of
// the runtime; test/Runtime/gpu_host_device.test). Any kernel launch is an
// error. GEMMA4RT_HOST_DEVICE_MEMORY=BYTES sets the memory it reports (the
// "not enough GPU memory" test).
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/device.h"
#include "gemma4rt/error.h"
#include "gemma4rt/payload.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace gemma4rt {

namespace {

class HostDevice final : public Device {
public:
  explicit HostDevice(const Payload &payload) {
    if (payload.manifest().gpu)
      kernels_ = payload.manifest().gpu->kernels;
  }
  ~HostDevice() override { releaseScratch(); }

  std::string description() const override {
    return "host memory standing in for a GPU (GEMMA4RT_DEVICE=host)";
  }
  std::string label() const override { return "the host test device"; }

  MemoryInfo memoryInfo() override {
    MemoryInfo m;
    if (const char *env = std::getenv("GEMMA4RT_HOST_DEVICE_MEMORY")) {
      m.freeBytes = m.totalBytes = std::strtoull(env, nullptr, 10);
      return m;
    }
    const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
    m.totalBytes = uint64_t(::sysconf(_SC_PHYS_PAGES)) * page;
    m.freeBytes = uint64_t(::sysconf(_SC_AVPHYS_PAGES)) * page;
    return m;
  }

  void free(void *p) noexcept override { std::free(p); }
  void upload(void *dst, const void *src, uint64_t bytes) override {
    std::memcpy(dst, src, size_t(bytes));
  }
  void download(void *dst, const void *src, uint64_t bytes) override {
    synchronize();
    std::memcpy(dst, src, size_t(bytes));
  }
  void fill32(void *dst, uint32_t pattern, uint64_t bytes) override {
    auto *p = static_cast<uint8_t *>(dst);
    for (uint64_t i = 0; i < bytes; ++i)
      p[i] = uint8_t(pattern >> (8 * (i % 4)));
  }
  void synchronize() override { throwPendingDeviceError(); }

  void launch(int32_t kernel, const int64_t *, const int64_t *, int32_t, void **) noexcept override {
    std::string name = kernel >= 0 && size_t(kernel) < kernels_.size()
                           ? kernels_[size_t(kernel)]
                           : "#" + std::to_string(kernel);
    recordDeviceError("GPU kernel " + name +
                      " launched on the host test device (GEMMA4RT_DEVICE=host runs no GPU code)");
  }

protected:
  void *tryAlloc(uint64_t bytes, std::string &error) noexcept override {
    const uint64_t rounded = (std::max<uint64_t>(bytes, 1) + 255) / 256 * 256;
    void *p = rounded < bytes ? nullptr : std::aligned_alloc(256, size_t(rounded));
    if (!p)
      error = "out of host memory";
    return p;
  }

private:
  std::vector<std::string> kernels_;
};

} // namespace

std::unique_ptr<Device> openHostDevice(const Payload &payload) {
  return std::make_unique<HostDevice>(payload);
}

} // namespace gemma4rt

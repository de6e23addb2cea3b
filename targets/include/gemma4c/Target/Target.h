//===- Target.h - what gemma4c compile asks of a backend --------*- C++ -*-===//
//
// One interface between the driver (tools/gemma4c/Compile.cpp) and each
// backend folder (targets/cpu, targets/cuda): the driver imports the
// checkpoint, asks the target for its pipelines, emits and links the host
// object, and appends the payload with whatever the target adds to it. Every
// target-specific choice (CPU vendors' row tiles and prefetch, integer dot
// products, GPU architectures, PTX and cubins) lives behind it.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_TARGET_H
#define GEMMA4C_TARGET_TARGET_H

#include "gemma4c/Target/CPU/ObjectEmitter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gemma4c {

/// What the user asked of code generation: gemma4c compile's flags, as given
/// (-1 = auto where a target picks a default).
struct CodegenRequest {
  std::string target;   ///< --target: a triple, "cuda", or empty (the host)
  std::string cpu;      ///< --cpu
  std::string gpu;      ///< --gpu (cuda)
  std::string host;     ///< --host (vulkan): the host code's triple, empty = this machine's
  std::string quant = "bf16";
  std::string actQuant = "auto";
  int64_t weightPrefetch = -1, decodeRowTile = 4, kPanel = 3072, rowTile = -1;
  bool bf16Dot = false; ///< --bf16-dot=on: vdpbf16ps for --compute=bf16 where the CPU has it
  bool serial = false, bf16 = false, fuseAttention = true;
  int optLevel = 3;
  /// --gpu-tune: "key=value,..." overrides of the GPU kernels' tuning
  /// (applyGPUTune); empty: the target's defaults.
  std::string gpuTune;
  /// CPU strategy flags the user gave explicitly (a GPU target refuses them).
  std::vector<std::string> cpuOnlyFlags;
};

/// A piece of the executable's payload a target adds (device code).
struct TargetBlob {
  std::string key;   ///< its name in describe()'s offsets
  std::string bytes;
  uint64_t align = 64;
};

class Target {
public:
  virtual ~Target() = default;
  /// The CPU that runs the executable: the whole model on a CPU target, the
  /// host side (launches, sampling, I/O) on a GPU target.
  const CPUTarget &host() const { return host_; }
  /// Whether a cross-compiled executable links the device's glibc
  /// dynamically (GPU binaries dlopen the driver) rather than statically.
  virtual bool dynamicLibc() const { return false; }
  /// Registers what this target's passes need in the context.
  virtual void prepareContext(mlir::MLIRContext &) {}
  /// The target-neutral graph rewrites, with this target's weight layouts.
  virtual void buildGraphPipeline(mlir::OpPassManager &pm) const = 0;
  /// The graph to LLVM-dialect host code (and device code, if any).
  virtual void buildLoweringPipeline(mlir::OpPassManager &pm) const = 0;
  /// After lowering: takes the device code out of the module (and, for an
  /// executable (`emit` "exe") on NVIDIA, assembles a cubin). False with a
  /// one-line error.
  virtual bool finish(mlir::ModuleOp, const std::string &emit, std::string &error) {
    return true;
  }
  /// --emit kinds only this target has (cuda: "ptx"): the text, or nullopt.
  virtual std::optional<std::string> emitDeviceCode(const std::string &kind) const {
    return std::nullopt;
  }
  /// Payload blobs, in order, and the manifest entries describing the
  /// target (its "compiler" object, a GPU's "gpu" object with the blobs'
  /// {offset, size} from `placed`).
  virtual std::vector<TargetBlob> blobs() const { return {}; }
  virtual void describe(nlohmann::json &manifest,
                        const std::map<std::string, std::pair<uint64_t, uint64_t>> &placed) const = 0;

protected:
  /// The manifest's "compiler" entries of the code the host CPU runs.
  void describeHost(nlohmann::json &compiler) const {
    compiler["triple"] = resolvedTriple(host_);
    compiler["cpu"] = resolvedCPU(host_);
    compiler["x86_features"] = requiredX86Features(host_);
    compiler["aarch64_features"] = requiredAArch64Features(host_);
  }

  CPUTarget host_;
};

/// The backends: a CPU triple (targets/cpu), "cuda" (targets/cuda), "vulkan". Null
/// with a one-line `error` for a target or flags they cannot take.
std::unique_ptr<Target> makeCPUTarget(const CodegenRequest &req, std::string &error);
std::unique_ptr<Target> makeCUDATarget(const CodegenRequest &req, std::string &error);
/// "vulkan" (targets/vulkan): SPIR-V kernels for any Vulkan 1.2 GPU.
std::unique_ptr<Target> makeVulkanTarget(const CodegenRequest &req, std::string &error);
/// Tests only: the GPU mapping run as CPU loops (targets/gpu).
std::unique_ptr<Target> makeGPUEmulatorTarget(const CodegenRequest &req, std::string &error);

} // namespace gemma4c

#endif

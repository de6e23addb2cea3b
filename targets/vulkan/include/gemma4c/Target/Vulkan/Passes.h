//===- Passes.h - Vulkan (SPIR-V) backend ----------------------*- C++ -*-===//
#ifndef GEMMA4C_TARGET_VULKAN_PASSES_H
#define GEMMA4C_TARGET_VULKAN_PASSES_H

#include "gemma4c/Target/GPU/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <string>

namespace mlir::gemma4 {

#define GEN_PASS_DECL
#include "gemma4c/Target/Vulkan/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "gemma4c/Target/Vulkan/Passes.h.inc"

/// The lanes a subgroup reduction spans on Vulkan: 8, so that every device
/// whose subgroups are a multiple of 8 wide (NVIDIA 32, AMD 32/64, Intel
/// 8-32, lavapipe 8 with AVX2) runs the same kernels; the runtime checks it.
constexpr int64_t kVulkanSubgroupSize = 8;

/// What the kernels need of the device, as SPIR-V capabilities (the
/// runtime checks the Vulkan features behind them at start-up).
std::string vulkanTargetEnv(int64_t subgroupSize = kVulkanSubgroupSize);

struct VulkanPipelineOptions {
  GPULoweringOptions gpu = [] {
    GPULoweringOptions g;
    g.subgroupSize = kVulkanSubgroupSize;
    return g;
  }();
};

/// After the graph pipeline: the GPU kernel pipeline, the kernels to one
/// serialized SPIR-V module (module attributes gemma4.spirv and
/// gemma4.spirv_kernels), the host functions to the LLVM dialect with their
/// launches as gemma4rt_gpu_launch calls (the same host code as CUDA's).
void buildVulkanLoweringPipeline(OpPassManager &pm, const VulkanPipelineOptions &opts = {});

/// What a context running buildVulkanLoweringPipeline needs registered.
void registerVulkanCompilerInterfaces(DialectRegistry &registry);

/// Registers gemma4-vulkan-pipeline with gemma4c-opt.
void registerVulkanPipeline();

} // namespace mlir::gemma4

#endif

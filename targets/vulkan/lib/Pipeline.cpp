//===- Pipeline.cpp - gemma4 -> SPIR-V kernels + LLVM host code -----------===//
#include "gemma4c/Target/Vulkan/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/SPIRV/Target.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::gemma4::buildVulkanLoweringPipeline(OpPassManager &pm,
                                               const VulkanPipelineOptions &opts) {
  buildGPUKernelPipeline(pm, opts.gpu);

  // Kernels: a Vulkan clone of the gpu.module, to SPIR-V.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createCanonicalizerPass());
  Gemma4PrepareSPIRVKernelsOptions prep;
  prep.subgroupSize = opts.gpu.subgroupSize;
  pm.addPass(createGemma4PrepareSPIRVKernels(prep));
  OpPassManager &spirvKernels = pm.nest<gpu::GPUModuleOp>();
  spirvKernels.addPass(createCanonicalizerPass());
  spirvKernels.addPass(createCSEPass());
  pm.addPass(createGemma4SerializeSPIRVKernels());

  // Host: as every GPU target's (targets/gpu).
  buildGPUHostPipeline(pm);
}

void mlir::gemma4::registerVulkanCompilerInterfaces(DialectRegistry &registry) {
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  spirv::registerSPIRVTargetInterfaceExternalModels(registry);
}

void mlir::gemma4::registerVulkanPipeline() {
  PassPipelineRegistration<>("gemma4-vulkan-pipeline",
                             "lower a gemma4 module (after the graph passes) to one SPIR-V "
                             "module of kernels and LLVM-dialect host code",
                             [](OpPassManager &pm) { buildVulkanLoweringPipeline(pm); });
}

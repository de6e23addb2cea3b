//===- Pipeline.cpp - gemma4 loops -> gpu-dialect kernels (any GPU) -------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::gemma4::buildGPUKernelPipeline(OpPassManager &pm, const GPULoweringOptions &opts) {
  buildGPUMappingPipeline(pm, opts);
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createGemma4GatherGPUKernels());
  pm.addPass(createCanonicalizerPass());
}

void mlir::gemma4::buildGPUMappingPipeline(OpPassManager &pm, const GPULoweringOptions &opts) {
  // What each op computes (compiler/lib/Conversion), as the loops a GPU
  // kernel is made of (the gpu strategy, lib/Strategy).
  registerGPULoweringStrategy();
  Gemma4ToLoopsOptions loopOpts;
  loopOpts.bf16Activations = opts.bf16Activations;
  loopOpts.strategy = "gpu";
  loopOpts.foldUnroll = opts.foldUnroll;
  pm.addPass(createGemma4ToLoops(loopOpts));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  pm.addPass(createGemma4PlanBuffers());
  // How a GPU runs them: kernels, outlined into one gpu.module.
  Gemma4MapToGPUOptions mapOpts;
  mapOpts.blockSize = opts.blockSize;
  mapOpts.subgroupSize = opts.subgroupSize;
  pm.addPass(createGemma4MapToGPU(mapOpts));
  if (opts.allocAlignment > 0) {
    Gemma4AlignVectorAccessOptions alignOpts;
    alignOpts.allocAlignment = opts.allocAlignment;
    pm.addPass(createGemma4AlignVectorAccess(alignOpts));
  }
}

void mlir::gemma4::buildGPUHostPipeline(OpPassManager &pm) {
  // Index math, views and device scratch (MLIR's generic allocation
  // functions, which the runtime's device layer implements), then the
  // launches as gemma4rt_gpu_launch calls.
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  FinalizeMemRefToLLVMConversionPassOptions mem;
  mem.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(mem));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGemma4LowerGPULaunches());
  pm.addPass(createCanonicalizerPass());
}

void mlir::gemma4::registerGPUPipeline() {
  PassPipelineRegistration<>("gemma4-gpu-kernel-pipeline",
                             "lower a gemma4 module (after the graph passes) to gpu-dialect "
                             "kernels and their launches",
                             [](OpPassManager &pm) { buildGPUKernelPipeline(pm); });
}

//===- Pipeline.cpp - gemma4 loops -> gpu-dialect kernels (any GPU) -------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "gemma4c/Target/GPU/GPUStrategy.h"

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
  loopOpts.strategy = opts.strategy;
  loopOpts.mma = opts.mma;
  loopOpts.foldUnroll = opts.foldUnroll;
  loopOpts.keyChunk = opts.keyChunk;
  loopOpts.decodeRows = opts.decodeRows;
  loopOpts.blockTile = opts.blockTile;
  loopOpts.attnTile = opts.attnTile;
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
  if (opts.mergeLaunches > 1) {
    Gemma4MergeGPULaunchesOptions mergeOpts;
    mergeOpts.maxKernels = opts.mergeLaunches;
    pm.addPass(createGemma4MergeGPULaunches(mergeOpts));
  }
  if (opts.unrollLaneLoops > 1) {
    Gemma4UnrollLaneLoopsOptions unrollOpts;
    unrollOpts.maxFactor = opts.unrollLaneLoops;
    pm.addPass(createGemma4UnrollLaneLoops(unrollOpts));
  }
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

bool mlir::gemma4::applyGPUTune(llvm::StringRef spec, GPULoweringOptions &o,
                                std::string &error) {
  struct Knob {
    const char *name;
    int64_t *value;
    int64_t lo, hi, multiple;
  };
  const Knob knobs[] = {{"key-chunk", &o.keyChunk, 8, 1024, 8},
                        {"fold-unroll", &o.foldUnroll, 1, 64, 1},
                        {"decode-rows", &o.decodeRows, 0, 8, 1},
                        {"unroll", &o.unrollLaneLoops, 1, 16, 1},
                        {"block-size", &o.blockSize, 32, 1024, 32},
                        {"merge", &o.mergeLaunches, 1, 16, 1}};
  SmallVector<llvm::StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    auto [key, value] = item.split('=');
    if (key == "mma") { // the cuda strategy's (the other targets refuse it)
      if (value != "auto" && value != "on" && value != "off") {
        error = "--gpu-tune: invalid value '" + value.str() + "' for mma (expected auto, on or off)";
        return false;
      }
      o.mma = value.str();
      continue;
    }
    if (key == "tile") {
      mlir::gemma4::gpu::GPUStrategy::BlockTile t;
      std::string why;
      if (!mlir::gemma4::gpu::GPUStrategy::parseBlockTile(value, t, why)) {
        error = "--gpu-tune: invalid value '" + value.str() + "' for " + why.substr(0, why.find(", got"));
        return false;
      }
      o.blockTile = value.str();
      continue;
    }
    if (key == "attn-tile") {
      mlir::gemma4::gpu::GPUStrategy::AttnTile t;
      std::string why;
      if (!mlir::gemma4::gpu::GPUStrategy::parseAttnTile(value, t, why, o.maxWorkgroupBytes)) {
        error = "--gpu-tune: invalid value '" + value.str() + "' for " + why.substr(0, why.find(", got"));
        return false;
      }
      o.attnTile = value.str();
      continue;
    }
    const Knob *k = nullptr;
    for (const Knob &c : knobs)
      if (key == c.name)
        k = &c;
    if (!k) {
      error = "--gpu-tune: unknown key '" + key.str() +
              "' (expected key-chunk, fold-unroll, decode-rows, unroll, block-size, merge, tile, attn-tile or mma)";
      return false;
    }
    int64_t v = 0;
    if (value.getAsInteger(10, v) || v < k->lo || v > k->hi || v % k->multiple != 0) {
      error = "--gpu-tune: invalid value '" + value.str() + "' for " + key.str() + " (expected " +
              (k->multiple > 1 ? "a multiple of " + std::to_string(k->multiple) + " " : "") +
              "from " + std::to_string(k->lo) + " to " + std::to_string(k->hi) + ")";
      return false;
    }
    *k->value = v;
  }
  return true;
}

void mlir::gemma4::registerGPUPipeline() {
  PassPipelineRegistration<>("gemma4-gpu-kernel-pipeline",
                             "lower a gemma4 module (after the graph passes) to gpu-dialect "
                             "kernels and their launches",
                             [](OpPassManager &pm) { buildGPUKernelPipeline(pm); });
}

//===- Pipeline.cpp - gemma4 -> LLVM dialect for CPU targets --------------===//
//
// The CPU's lowering after the target-neutral graph pipeline (compiler/lib
// /Transforms/Pipelines.cpp): the loops in the cpu strategy (lib/Strategy),
// buffer planning, thread-pool outlining and the LLVM dialect.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/CPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::gemma4::buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &opts) {
  buildGraphPipeline(pm, opts);
  buildCPULoweringPipeline(pm, opts);
}

void mlir::gemma4::buildCPULoweringPipeline(OpPassManager &pm, const CPUPipelineOptions &opts) {
  // Buffers and loops.
  registerCPULoweringStrategy();
  Gemma4ToLoopsOptions loopOpts;
  loopOpts.bf16Activations = opts.bf16Activations;
  loopOpts.strategy = "cpu";
  loopOpts.intDot = opts.intDot;
  loopOpts.bf16Dot = opts.bf16Dot;
  loopOpts.weightPrefetch = opts.weightPrefetch;
  loopOpts.decodeRowTile = opts.decodeRowTile;
  pm.addPass(createGemma4ToLoops(loopOpts));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  pm.addPass(createGemma4PlanBuffers());
  buildCPUToLLVMPipeline(pm, opts);
}

void mlir::gemma4::buildCPUToLLVMPipeline(OpPassManager &pm, const CPUPipelineOptions &opts) {
  if (opts.threads)
    pm.addPass(createGemma4OutlineParallelLoops());
  pm.addPass(createGemma4ApproximateMath());
  // To the LLVM dialect.
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass()); // a view's dynamic offset (gemma4.output_rows)
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (opts.threads)
    pm.addPass(createGemma4LaunchParallelLoops());
  pm.addPass(createCanonicalizerPass());
}

void mlir::gemma4::registerCPUPipeline() {
  PassPipelineRegistration<>(
      "gemma4-cpu-pipeline",
      "lower a gemma4 module to the LLVM dialect for a CPU (threads on)",
      [](OpPassManager &pm) { buildCPUPipeline(pm); });
  PassPipelineRegistration<>(
      "gemma4-cpu-pipeline-serial",
      "lower a gemma4 module to the LLVM dialect for a CPU, single-threaded",
      [](OpPassManager &pm) {
        CPUPipelineOptions o;
        o.threads = false;
        buildCPUPipeline(pm, o);
      });
}

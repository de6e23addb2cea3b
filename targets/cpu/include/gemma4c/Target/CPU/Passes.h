//===- Passes.h - CPU backend passes and pipeline ---------------*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CPU_PASSES_H
#define GEMMA4C_TARGET_CPU_PASSES_H

#include "gemma4c/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <string>

namespace mlir::gemma4 {

#define GEN_PASS_DECL
#include "gemma4c/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "gemma4c/Target/CPU/Passes.h.inc"

/// The graph pipeline's options (compiler/: the weight layouts the CPU's
/// kernels read) and the CPU lowering's.
struct CPUPipelineOptions : GraphPipelineOptions {
  bool threads = true; ///< run parallel loops on the runtime thread pool
  bool bf16Activations = false; ///< emulate a bf16 model (round between ops)
  std::string intDot = "none";  ///< cpu strategy int-dot (none, x86-vnni, x86-vnni-512, arm-dotprod)
  std::string bf16Dot = "none"; ///< cpu strategy bf16-dot (none, x86-avx512bf16)
  int64_t weightPrefetch = 0;   ///< cpu strategy weight-prefetch (bytes ahead, 0 = off)
  int64_t decodeRowTile = 4;    ///< cpu strategy decode-row-tile (rows per decode step)
};

/// gemma4 graph -> LLVM dialect, for a CPU target: the graph pipeline
/// (buildGraphPipeline, compiler/) then the CPU lowering.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &opts = {});
/// The loops (convert-gemma4-to-loops with the cpu strategy, lib/Strategy),
/// buffer planning, then buildCPUToLLVMPipeline.
void buildCPULoweringPipeline(OpPassManager &pm, const CPUPipelineOptions &opts = {});
/// The loops (after gemma4-plan-buffers) to the LLVM dialect: thread-pool
/// outlining, math approximations, the standard conversions.
void buildCPUToLLVMPipeline(OpPassManager &pm, const CPUPipelineOptions &opts = {});
/// Registers gemma4-cpu-pipeline with gemma4c-opt.
void registerCPUPipeline();
/// Registers the CPU's LoweringStrategy as "cpu" for convert-gemma4-to-loops
/// (lib/Strategy; the CPU pipelines register it themselves).
void registerCPULoweringStrategy();

} // namespace mlir::gemma4

#endif

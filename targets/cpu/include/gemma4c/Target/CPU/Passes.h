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

struct CPUPipelineOptions {
  bool fuseAttention = true;
  bool threads = true; ///< run parallel loops on the runtime thread pool
  bool bf16Activations = false; ///< emulate a bf16 model (round between ops)
  std::string quant = "bf16";   ///< --quant scheme (gemma4c/Quant/Scheme.h)
  std::string intDot = "none";  ///< convert-gemma4-to-loops int-dot (none, x86-vnni, arm-dotprod)
  int64_t weightPrefetch = 0;   ///< convert-gemma4-to-loops weight-prefetch (bytes ahead, 0 = off)
  int64_t decodeRowTile = 4;    ///< convert-gemma4-to-loops decode-row-tile (rows per decode step)
  int64_t kPanel = 3072;        ///< gemma4-quantize-weights k-panel (0 = no K panels)
  int64_t rowTile = 4;          ///< gemma4-quantize-weights row-tile (0 = no row tiles)
};

/// gemma4 graph -> LLVM dialect, for a CPU target: the graph pipeline
/// (MoE dispatch, attention fusion, weight layout) then the CPU lowering.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &opts = {});
void buildGraphPipeline(OpPassManager &pm, const CPUPipelineOptions &opts = {});
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

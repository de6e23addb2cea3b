//===- Passes.h - gemma4 passes --------------------------------*- C++ -*-===//
#ifndef GEMMA4C_TRANSFORMS_PASSES_H
#define GEMMA4C_TRANSFORMS_PASSES_H

#include "gemma4/IR/Gemma4Dialect.h"
#include "gemma4/IR/Gemma4Ops.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace mlir::gemma4 {

/// Discardable i64 attribute on the scf.parallel loops convert-gemma4-to-loops
/// makes, carried by gemma4-outline-parallel-loops to the outlined body: the
/// fewest iterations per chunk gemma4-launch-parallel-loops passes to
/// gemma4rt_parallel_for as its grain (absent: 1).
inline constexpr llvm::StringLiteral kGrainAttr = "gemma4.grain";
/// A batched decode entry's KV regions (gemma4.batch_sequence) start at
/// multiples of this many bytes (runtime/include/gemma4rt/abi.h).
inline constexpr int64_t kBatchSlotAlign = 65536;

/// Discardable unit attribute on an scf.for with loop-invariant bounds and
/// no results that, with side-effect-free ops, makes up the body of an
/// scf.parallel: gemma4-outline-parallel-loops runs it outside the loop
/// over each chunk's iterations rather than inside it. Each parallel
/// iteration still runs the for's iterations in order and the parallel
/// iterations are independent, so the result is the same; the decode
/// matrix-vector products over K panels use it to stream one panel of all
/// of a chunk's rows at a time.
inline constexpr llvm::StringLiteral kRangeOuterAttr = "gemma4.range_outer";

/// Discardable string attribute on an scf.for that convert-gemma4-to-loops
/// knows more of than its IR says, for targets that run one loop on many
/// lanes (gemma4-map-to-gpu): "reduce" = its iterations only add terms to
/// the carried values, so any partition of the steps summed gives the
/// result; "map" = its iterations touch disjoint memory, so they may run
/// in any order or at once. CPU lowering ignores it.
inline constexpr llvm::StringLiteral kLanesAttr = "gemma4.lanes";

#define GEN_PASS_DECL
#include "gemma4c/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "gemma4c/Transforms/Passes.h.inc"

/// What the graph pipeline takes from the target: whether to fuse
/// attention, the --quant scheme and the weight layouts the target's
/// kernels read (gemma4-quantize-weights k-panel and row-tile; 0 = none).
struct GraphPipelineOptions {
  bool fuseAttention = true;
  std::string quant = "bf16"; ///< --quant scheme (gemma4c/Quant/Scheme.h)
  int64_t kPanel = 3072;      ///< gemma4-quantize-weights k-panel (0 = no K panels)
  int64_t rowTile = 4;        ///< gemma4-quantize-weights row-tile (0 = no row tiles)
  bool int4Interleave = true; ///< gemma4-quantize-weights int4-interleave (false: plain int4 blocks)
};

/// The target-neutral graph rewrites every target runs first: MoE dispatch,
/// attention fusion, weight quantization (in the target's layouts) and the
/// weight blob's layout. A target's lowering pipeline follows.
void buildGraphPipeline(OpPassManager &pm, const GraphPipelineOptions &opts = {});

/// Registers the named target-neutral pipelines (gemma4-graph-pipeline)
/// with the global pass registry for gemma4c-opt; each target registers
/// its own (gemma4-cpu-pipeline, ...).
void registerGemma4Pipelines();

} // namespace mlir::gemma4

#endif

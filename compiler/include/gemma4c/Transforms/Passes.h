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

namespace mlir::gemma4 {

/// Discardable i64 attribute on the scf.parallel loops convert-gemma4-to-loops
/// makes, carried by gemma4-outline-parallel-loops to the outlined body: the
/// fewest iterations per chunk gemma4-launch-parallel-loops passes to
/// gemma4rt_parallel_for as its grain (absent: 1).
inline constexpr llvm::StringLiteral kGrainAttr = "gemma4.grain";

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

/// Registers the named pipelines (gemma4-cpu-pipeline, ...) with the
/// global pass registry for gemma4c-opt.
void registerGemma4Pipelines();

} // namespace mlir::gemma4

#endif

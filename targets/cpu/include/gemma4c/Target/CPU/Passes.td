//===- Passes.td - CPU backend passes ----------------------*- tablegen -*-===//
#ifndef GEMMA4C_TARGET_CPU_PASSES
#define GEMMA4C_TARGET_CPU_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4OutlineParallelLoops : Pass<"gemma4-outline-parallel-loops", "ModuleOp"> {
  let summary = "outline each top-level scf.parallel into a range function";
  let description = [{
    Every scf.parallel directly in an entry function becomes a private
    function `<fn>__par<N>(%begin: index, %end: index, captures...)` that
    runs the linearised iterations [begin, end), and a call
    `<fn>__par<N>(0, total, captures...)`. After lowering to LLVM,
    gemma4-launch-parallel-loops turns that call into a
    gemma4rt_parallel_for launch on the runtime's thread pool.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def Gemma4LaunchParallelLoops : Pass<"gemma4-launch-parallel-loops", "ModuleOp"> {
  let summary = "launch outlined range functions through gemma4rt_parallel_for";
  let description = [{
    Runs on the LLVM dialect. For each `__par<N>` range function it emits a
    trampoline `(ptr ctx, i64 begin, i64 end)` that unpacks the captures from
    an 8-byte-slot context array, and rewrites each direct call into: store
    captures into a stack array, call gemma4rt_parallel_for(trampoline, ctx,
    total, grain).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif

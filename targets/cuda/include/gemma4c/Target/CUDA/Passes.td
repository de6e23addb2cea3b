//===- Passes.td - NVIDIA (NVVM / PTX) backend passes -------*- tablegen -*-===//
#ifndef GEMMA4C_TARGET_CUDA_PASSES
#define GEMMA4C_TARGET_CUDA_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4PrepareNVVMKernels : Pass<"gemma4-prepare-nvvm-kernels", "::mlir::gpu::GPUModuleOp"> {
  let summary = "kernel math NVVM can take without libdevice";
  let description = [{
    Before convert-gpu-to-nvvm, which would turn math ops into calls to
    libdevice (a CUDA toolkit file the binary cannot count on): tanh, exp,
    log, sin, cos, erf and powf become MLIR's polynomial approximations (as
    on the CPU), sqrt/rsqrt/abs/fma/rounding LLVM intrinsics (exact on
    NVPTX), and gpu.subgroup_reduce a butterfly of gpu.shuffle xor over 32
    lanes. A math op left over is an error.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif

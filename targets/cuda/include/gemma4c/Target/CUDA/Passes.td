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

def Gemma4CUDAGridDependency : Pass<"gemma4-cuda-grid-dependency", "::mlir::gpu::GPUModuleOp"> {
  let summary = "let each kernel start while the one before it finishes (sm_90)";
  let description = [{
    A decode step is hundreds of small kernels, each on the GPU for a few
    microseconds, and between two of them the GPU drains one grid and
    launches the next. Hopper's programmatic dependent launch overlaps the
    two: every kernel begins with `griddepcontrol.launch_dependents` (its
    successor may be scheduled as soon as all of this grid's blocks have
    started) and `griddepcontrol.wait` (it touches no memory before the
    grid it depends on has finished and its writes are visible). Both are
    no-ops unless the runtime launches the kernels with programmatic
    dependencies (runtime/cuda: the graphs' edges, GEMMA4RT_CUDA_PDL=1;
    off by default: no gain measured on an H100), so the kernels stay
    correct under any launch.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

#endif

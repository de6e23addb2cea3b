//===- Passes.h - NVIDIA (NVVM / PTX) backend ------------------*- C++ -*-===//
#ifndef GEMMA4C_TARGET_CUDA_PASSES_H
#define GEMMA4C_TARGET_CUDA_PASSES_H

#include "gemma4c/Target/GPU/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <string>

namespace mlir::gemma4 {

#define GEN_PASS_DECL
#include "gemma4c/Target/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "gemma4c/Target/CUDA/Passes.h.inc"

struct CUDAPipelineOptions {
  /// allocAlignment: cuMemAlloc's blocks, which hold every device buffer
  /// (weights, KV arena, ids, logits, the runtime's scratch), are 256-byte
  /// aligned, so gemma4-align-vector-access gives the kernels 16-byte
  /// vector loads (without it NVPTX splits every vector access into one
  /// load per element: E2B bf16 decode 82 -> 153 tok/s on an H100).
  GPULoweringOptions gpu = [] {
    GPULoweringOptions g;
    g.allocAlignment = 256;
    g.strategy = "cuda"; // the gpu strategy + tensor-core prefill (lib/Strategy)
    return g;
  }();
  std::string chip = "sm_90";  ///< sm_NN
  std::string features = "";   ///< PTX ISA, e.g. +ptx78 (empty: the chip's default)
  int optLevel = 3;
  /// Kernels begin with griddepcontrol (gemma4-cuda-grid-dependency): sm_90
  /// and newer, where the runtime launches them with programmatic
  /// dependencies (manifest gpu.pdl).
  bool gridDependency = false;
};

/// The PTX ISA version gemma4c asks LLVM for on `chip` (the oldest one that
/// has it, so older drivers can JIT it): "+ptx78" for sm_90, ...
std::string defaultPTXFeatures(llvm::StringRef chip);

/// After the graph pipeline: the GPU kernel pipeline, the kernels to NVVM
/// and PTX (a gpu.binary), the host functions to the LLVM dialect with
/// their launches as gemma4rt_gpu_launch calls. The PTX ends up in the
/// module attribute gemma4.gpu_objects ("assembly" entry).
void buildCUDALoweringPipeline(OpPassManager &pm, const CUDAPipelineOptions &opts = {});

/// What a context running buildCUDALoweringPipeline needs registered: the
/// to-LLVM conversion interfaces convert-gpu-to-nvvm and gpu-to-llvm
/// collect patterns from, the LLVM IR translations and the NVVM target.
void registerCUDACompilerInterfaces(DialectRegistry &registry);

/// Registers gemma4-cuda-pipeline with gemma4c-opt.
void registerCUDAPipeline();

/// Registers the "cuda" LoweringStrategy (lib/Strategy: the gpu strategy
/// with tensor-core prefill products); buildCUDALoweringPipeline calls it.
void registerCUDALoweringStrategy();

} // namespace mlir::gemma4

#endif

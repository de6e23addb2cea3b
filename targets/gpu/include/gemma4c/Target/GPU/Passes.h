//===- Passes.h - the GPU lowering every GPU target shares ------*- C++ -*-===//
#ifndef GEMMA4C_TARGET_GPU_PASSES_H
#define GEMMA4C_TARGET_GPU_PASSES_H

#include "gemma4c/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::gemma4 {

/// Discardable i64 attribute T on an scf.parallel the GPU strategy makes
/// whose last dimension (0 to T, step 1) is the threads of one block and
/// whose other dimensions are the blocks (gemma4-map-to-gpu maps them so):
/// its body is one thread's code, which may share `memref.alloca`s of
/// #gpu.address_space<workgroup> (one buffer per block) and synchronise
/// the block with gpu.barrier, reached by every thread alike.
inline constexpr llvm::StringLiteral kBlockThreadsAttr = "gemma4.block_threads";

/// Bytes a GPU target aligns every workgroup buffer to (what
/// gemma4-align-vector-access assumes of them).
inline constexpr int64_t kWorkgroupAlignment = 16;

#define GEN_PASS_DECL
#include "gemma4c/Target/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "gemma4c/Target/GPU/Passes.h.inc"

struct GPULoweringOptions {
  bool bf16Activations = false;
  int64_t blockSize = 256;
  int64_t subgroupSize = 32;
  /// Bytes every device buffer (entry argument, allocation) is aligned to,
  /// from which gemma4-align-vector-access proves vector accesses aligned;
  /// 0: leave them at their element's alignment (the CPU emulator).
  int64_t allocAlignment = 0;
  /// Keys a step of the attention's serial folds (convert-gemma4-to-loops
  /// fold-unroll): their loads are issued together.
  int64_t foldUnroll = 8;
  /// Keys per chunk of the decode attention in sliding-window layers (full
  /// attention: twice as many; convert-gemma4-to-loops key-chunk).
  int64_t keyChunk = 16;
  /// Output rows a subgroup computes in a decode matrix-vector product
  /// (convert-gemma4-to-loops decode-rows; -1: the strategy's choice).
  int64_t decodeRows = -1;
  /// Largest factor gemma4-unroll-lane-loops unrolls a kernel's constant
  /// loops by (1: not at all).
  int64_t unrollLaneLoops = 4;
  /// Most independent kernels gemma4-merge-gpu-launches runs as one launch
  /// (1: none).
  int64_t mergeLaunches = 4;
  /// The prefill products' block tiles in workgroup memory,
  /// "TOKENSxROWSxK" or "0" (convert-gemma4-to-loops block-tile).
  std::string blockTile = "64x64x32";
  /// The prefill attention's tiles, "QUERIESxKEYS[xSLICE]" or "0"
  /// (convert-gemma4-to-loops attn-tile).
  std::string attnTile = "32x64x32";
  /// The most workgroup memory the attention's tiles may take (--gpu-tune's
  /// check; a Vulkan device may have less than CUDA's 48 KiB).
  int64_t maxWorkgroupBytes = 48 * 1024;
  /// The LoweringStrategy (convert-gemma4-to-loops strategy): "gpu", or a
  /// target's own that extends it ("cuda": tensor cores).
  std::string strategy = "gpu";
  /// When the cuda strategy's prefill products use the tensor cores:
  /// auto (bf16 activations), on, off (convert-gemma4-to-loops mma).
  std::string mma = "auto";
};

/// Applies --gpu-tune's "key=value,..." (key-chunk, fold-unroll, unroll,
/// block-size, merge, tile, attn-tile) to `o`; false with `error` naming the
/// bad entry.
bool applyGPUTune(llvm::StringRef spec, GPULoweringOptions &o, std::string &error);

/// The loops of every entry function (convert-gemma4-to-loops with the GPU
/// strategy) and their kernels: gpu.launch ops outlined into one
/// gpu.module @gemma4_kernels. What a GPU target converts from here is its
/// own (targets/cuda: NVVM and PTX).
void buildGPUKernelPipeline(OpPassManager &pm, const GPULoweringOptions &opts = {});

/// The host functions of a module whose kernels a GPU target has converted
/// (after buildGPUKernelPipeline): to the LLVM dialect, device scratch
/// through MLIR's generic allocation functions, launches as
/// gemma4rt_gpu_launch calls. Shared by targets/cuda and targets/vulkan.
void buildGPUHostPipeline(OpPassManager &pm);

/// The loops and their gpu.launch kernels (buildGPUKernelPipeline without
/// the outlining).
void buildGPUMappingPipeline(OpPassManager &pm, const GPULoweringOptions &opts = {});

/// Registers gemma4-gpu-kernel-pipeline with gemma4c-opt.
void registerGPUPipeline();
/// Registers the GPU's LoweringStrategy as "gpu" for convert-gemma4-to-loops
/// (lib/Strategy; buildGPUMappingPipeline registers it itself).
void registerGPULoweringStrategy();

} // namespace mlir::gemma4

#endif

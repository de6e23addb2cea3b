//===- CUDAStrategy.h - the GPU strategy with NVIDIA's tensor cores -*- C++ -*-===//
//
// The "cuda" LoweringStrategy: the shared GPU strategy (targets/gpu,
// GPUStrategy.h) whose prefill products run on the tensor cores
// (Matmul.cpp here: warp-level mma.sync on bf16 tiles in workgroup memory).
// Only NVIDIA GPUs from sm_80 run it, so it lives behind the NVPTX step:
// every other loop is the gpu strategy's.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_CUDA_STRATEGY_CUDASTRATEGY_H
#define GEMMA4C_TARGET_CUDA_STRATEGY_CUDASTRATEGY_H

#include "gemma4c/Target/GPU/GPUStrategy.h"

namespace mlir::gemma4::cuda {

class CUDAStrategy : public gpu::GPUStrategy {
public:
  StringRef name() const override { return "cuda"; }
  /// When the prefill products take the tensor cores: Auto with bf16
  /// activations (--compute=bf16: rounding the tiles to bf16 changes
  /// nothing), On also with f32 ones (activations rounded to bf16: opt-in).
  enum class Mma { Off, Auto, On } mma = Mma::Auto;
  void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) override;
  void mlpGateUp(LoopEmitter &e, const MLPArgs &m) override;

  /// A block of WM x WN warps computes `tokens` x `rows` outputs of each
  /// weight, k elements of K a step staged as bf16 in workgroup memory;
  /// each warp a (tokens / WM) x (rows / WN) part of m16n8k16 tiles.
  struct MmaTile {
    int64_t tokens = 64, rows = 64, k = 32, warpsM = 2, warpsN = 2;
    int64_t threads() const { return warpsM * warpsN * 32; }
  };
  MmaTile mmaTile;
  /// Whether the tensor cores run this product: on for its activations,
  /// float weights [N, K] with K a multiple of k, N of 8.
  bool canMma(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
              const MmaTile &t) const;
  /// out[s, n] = sum_k x[s, k] W[n, k] for each weight of `ws`:
  /// store(s, n, sums) for every s < S, n < N (as GPUStrategy::blockTiled).
  void mmaTiled(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K, const MmaTile &t,
                function_ref<void(Value s, Value n, ArrayRef<Value> sums)> store);
};

} // namespace mlir::gemma4::cuda

#endif

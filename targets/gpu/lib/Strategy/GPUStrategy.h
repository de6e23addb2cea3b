//===- GPUStrategy.h - the loops a GPU's kernels are made of ----*- C++ -*-===//
//
// The "gpu" LoweringStrategy: loops for gemma4-map-to-gpu, which turns each
// top-level scf.parallel into a gpu.launch and shares the loops marked
// gemma4.lanes ("reduce": sums; "map": disjoint elements) among a
// subgroup's 32 lanes. So each parallel iteration is the work of one
// thread or one subgroup: an output row's K reduction (its lanes stride
// over K, then a subgroup sum), a tile of a prefill's outputs, a chunk of
// keys of the decode attention. No CPU machinery: no thread-pool grains,
// no integer dot products, no software prefetch, no row sets; every dot
// product is the LoopEmitter's f32 kernel of its weight encoding, with one
// accumulator per output (the lanes share the K steps instead).
//   Matmul.cpp     the matmul
//   MLP.cpp        the MLP's gate and up
//   Attention.cpp  the decode attention's split
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_GPU_STRATEGY_GPUSTRATEGY_H
#define GEMMA4C_TARGET_GPU_STRATEGY_GPUSTRATEGY_H

#include "gemma4c/Conversion/LoopEmitter.h"
#include "gemma4c/Conversion/LoweringStrategy.h"

namespace mlir::gemma4::gpu {

class GPUStrategy : public LoweringStrategy {
public:
  StringRef name() const override { return "gpu"; }
  /// Every op's loops are a kernel launch: fold elementwise consumers in.
  bool fusesElementwise() const override { return true; }
  void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) override;
  void mlpGateUp(LoopEmitter &e, const MLPArgs &m) override;
  void attendDecode(LoopEmitter &e, const AttentionArgs &a) override;

  /// Prefill outputs per parallel iteration: kRowTile weight rows (float
  /// weights whose rows divide) x kTokenTile tokens, whose loads each feed
  /// several FMAs (the CPU's register tiles, not tuned for a GPU yet).
  static constexpr int64_t kRowTile = 4, kTokenTile = 4;
  /// Whether `w` (N rows of K) takes kRowTile x kTokenTile tiles.
  static bool rowTiled(LoopEmitter &e, Value w, int64_t N, int64_t K) {
    return !e.quantView(w) && K % LoopEmitter::VL == 0 && N % kRowTile == 0;
  }
};

} // namespace mlir::gemma4::gpu

#endif

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
//   Attention.cpp  flash-decoding attention (decode and prefill)
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
  /// Keys (or chunks) a step of the attention's serial folds (fold-unroll).
  int64_t foldUnroll = 8;
  /// Keys per chunk of the flash-decoding attention (key-chunk) in a
  /// sliding-window layer; full-attention layers take twice as many.
  int64_t keyChunk = 16;
  int64_t decodeKeyChunk(const AttentionArgs &a) const;
  /// Every op's loops are a kernel launch: fold elementwise consumers in.
  bool fusesElementwise() const override { return true; }
  void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) override;
  void mlpGateUp(LoopEmitter &e, const MLPArgs &m) override;
  void attendDecode(LoopEmitter &e, const AttentionArgs &a) override;
  void attendDecodeFused(LoopEmitter &e, const AttentionArgs &a, QueryRowFn queryRow) override;
  void attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                     std::function<void(ValueRange iv)> prologue) override;

  /// Prefill tiles (Matmul.cpp): kPrefillRows weight rows (float weights
  /// whose rows divide, else 1) x kPrefillTokens tokens per subgroup; the
  /// lanes share K, kLaneK elements a lane a step.
  static constexpr int64_t kPrefillRows = 4, kPrefillTokens = 8, kLaneK = 4;
  /// The MLP's gate and up rows per prefill tile (two weights' accumulators).
  static constexpr int64_t kPrefillMLPRows = 2;
  /// sum_k x_t[k] * w[n, k] for every float weight w of `ws`, row n of
  /// `rows` and token row x_t (result (w * rows + n) * T + t): a K loop the
  /// lanes share, kLaneK elements a lane a step.
  static SmallVector<Value> prefillDot(LoopEmitter &e, ArrayRef<Value> ws, ArrayRef<Value> rows,
                                       int64_t K, ArrayRef<XRow> xs);
  /// One parallel iteration per tile of R of the N rows x kPrefillTokens
  /// tokens: body(rows, tokens, the tokens clamped to the last (as XRows
  /// without their buffer), ifToken(t, f): f() when token t exists).
  static void prefillTiles(LoopEmitter &e, int64_t N, int64_t R,
                           function_ref<void(ArrayRef<Value>, ArrayRef<Value>, ArrayRef<XRow>,
                                             function_ref<void(Value, function_ref<void()>)>)>
                               body);
};

} // namespace mlir::gemma4::gpu

#endif

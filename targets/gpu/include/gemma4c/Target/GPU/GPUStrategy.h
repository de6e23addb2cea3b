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
//   Attention.cpp  flash-decoding attention (decode), block-tiled flash
//                  attention (prefill)
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
  /// Reads the options it knows (fold-unroll, key-chunk, decode-rows,
  /// block-tile, attn-tile);
  /// false with a one-line `error` for a bad value.
  bool configure(const StrategyOptions &opts, std::string &error);
  /// Keys (or chunks) a step of the attention's serial folds (fold-unroll).
  int64_t foldUnroll = 8;
  /// Keys per chunk of the flash-decoding attention (key-chunk) in a
  /// sliding-window layer; full-attention layers take twice as many.
  int64_t keyChunk = 16;
  int64_t decodeKeyChunk(const AttentionArgs &a) const;
  /// Output rows of each weight a subgroup computes in a decode matrix-
  /// vector product (decode-rows; Matmul.cpp laneDot); 0: one row a
  /// subgroup through the encoding's dot kernel; -1 (auto): kDecodeRows.
  /// Measured on an H100 (E2B decode, bench/results/e2b-h100-decode-rows-
  /// s9.txt): int4 225 / 312 / 269 tok/s with 0 / 2 / 4 rows, bf16 267 /
  /// 273 with 0 / 2.
  int64_t decodeRows = -1;
  static constexpr int64_t kDecodeRows = 2;
  /// The rows a subgroup takes for a decode product of weights `ws` with N
  /// rows of K (auto: kDecodeRows, fewer while the product would have
  /// fewer than kMinDecodeSubgroups subgroups; a set decode-rows: the
  /// largest divisor of N up to it), or 0 when laneDot cannot run them.
  int64_t decodeRowsFor(LoopEmitter &e, ArrayRef<Value> ws, int64_t N, int64_t K) const;
  /// sum_k x[k] * w[n, k] for each weight w of `ws` and row n of `rows`
  /// (result w * rows + n): one K loop the lanes share, kLaneK elements of
  /// float and int8 weights (4 bytes of int8, 8 of bf16) or 8 of int4
  /// weights (4 bytes) a lane a step, every row's load of a step issued
  /// before its multiplies, the activations loaded once for all rows.
  SmallVector<Value> laneDot(LoopEmitter &e, ArrayRef<Value> ws, ArrayRef<Value> rows, int64_t K,
                             const XRow &x);
  static constexpr int64_t kMinDecodeSubgroups = 512;
  /// Every op's loops are a kernel launch: fold elementwise consumers in.
  bool fusesElementwise() const override { return true; }
  void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) override;
  void mlpGateUp(LoopEmitter &e, const MLPArgs &m) override;
  void attendDecode(LoopEmitter &e, const AttentionArgs &a) override;
  void attendDecodeFused(LoopEmitter &e, const AttentionArgs &a, QueryRowFn queryRow) override;
  void attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                     std::function<void(ValueRange iv)> prologue) override;

  /// The prefill attention's tiles (Attention.cpp): a block of kAttnThreads
  /// threads takes `queries` query rows (tokens x the query heads of one KV
  /// head) and loops over the visible keys `keys` at a time; the head dim
  /// is staged in slices of `slice` elements (Q and K) and 2 x slice (V),
  /// each at most the largest power of two dividing D. queries = 0: off
  /// (the flash-decoding kernels per token).
  struct AttnTile {
    int64_t queries = 32, keys = 64, slice = 32;
  };
  AttnTile attnTile;
  static constexpr int64_t kAttnThreads = 256;
  /// Workgroup bytes of tile t for head dim D (the largest D slices when
  /// D = 0).
  static int64_t attnTileBytes(const AttnTile &t, int64_t D = 0);
  /// "QUERIESxKEYS[xSLICE]" or "0" into t; false with `error` saying what
  /// fits (at most `maxBytes` of workgroup memory).
  static bool parseAttnTile(llvm::StringRef spec, AttnTile &t, std::string &error,
                            int64_t maxBytes = 48 * 1024);
  /// Whether the tiles run attention a (on, a head dim of whole vectors, a
  /// whole number of KV groups a tile, float buffers).
  bool canAttnTile(const AttentionArgs &a, const AttnTile &t) const;
  /// a.out for every query token of the call, by tiles (AttnTile).
  void tiledAttention(LoopEmitter &e, const AttentionArgs &a, const AttnTile &t);

  /// kLaneK consecutive elements m[idx..] as f32 (an f32, bf16 or f16 m).
  static Value loadLaneK(LoopEmitter &e, Value m, ValueRange idx);

  /// The prefill products' tiles in workgroup memory (Matmul.cpp): a block
  /// computes `tokens` x `rows` outputs of each of its weights, staging
  /// `k` elements of K at a time of the activations and weights in
  /// workgroup memory; each thread `threadTokens` x `threadRows` of them
  /// (per weight) in registers. rows = 0: off (the subgroup tiles below).
  struct BlockTile {
    int64_t tokens = 64, rows = 64, k = 32, threadTokens = 8, threadRows = 8;
    int64_t threads() const { return (tokens / threadTokens) * (rows / threadRows); }
  };
  BlockTile blockTile;
  /// A product's block tiles have fewer rows (down to 2 x threadRows)
  /// while it would have fewer row tiles than this.
  static constexpr int64_t kMinRowTiles = 48;
  /// "TOKENSxROWSxK" (threadTokens x threadRows outputs a thread) or "0"
  /// (rows = 0: off) into t; false with `error` saying what fits.
  static bool parseBlockTile(llvm::StringRef spec, BlockTile &t, std::string &error);
  /// The MLP's gate and up share a tile: half the rows a thread per weight.
  BlockTile mlpTile() const {
    BlockTile t = blockTile;
    t.rows /= 2;
    t.threadRows /= 2;
    return t;
  }
  /// Whether the block tiles run a prefill product of weights `ws` ([N, K]
  /// each) against x: on, K a multiple of k, the tile's shapes consistent.
  bool canBlockTile(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                    const BlockTile &t) const;
  /// out[s, n] = sum_k x[s, k] * W[n, k] for every weight W of `ws` by
  /// block tiles: `store(s, n, sums)` (one per weight) for each output of a
  /// token s < S and row n < N.
  void blockTiled(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                  const BlockTile &t,
                  function_ref<void(Value s, Value n, ArrayRef<Value> sums)> store);

  /// The grid of block tiles (Matmul.cpp): an scf.parallel marked
  /// kBlockThreadsAttr over (row tiles of `rows` of N when more than one,
  /// token tiles of `tokens`, the block's `threads`); leaves the builder in
  /// its body (hold an InsertionGuard) and gives a thread its index, its
  /// tile's first token s0 and first row n0.
  struct BlockGrid {
    Value tid, s0, n0;
  };
  static BlockGrid blockGrid(LoopEmitter &e, int64_t N, int64_t rows, int64_t tokens, int64_t threads);
  /// A workgroup buffer [rows, cols] of et (a block's tile).
  static Value workgroupTile(LoopEmitter &e, int64_t rows, int64_t cols, Type et);
  /// then() under scf.if i < n.
  static void ifBelow(LoopEmitter &e, Value i, Value n, function_ref<void()> then);
  /// One kLaneK step of a thread's register tile over workgroup tiles:
  /// acc[(w * MT + i) * NT + j] += sum over k in [k0, k0 + kLaneK) of
  /// a[ty + GA i][k] * bs[w][tx + GB j][k] (4-wide loads, f32 FMAs);
  /// returns the new accumulators.
  static SmallVector<Value> outerProductStep(LoopEmitter &e, Value a, Value ty, int64_t GA,
                                             int64_t MT, ArrayRef<Value> bs, Value tx,
                                             int64_t GB, int64_t NT, Value k0, ValueRange acc);

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

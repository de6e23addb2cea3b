//===- CPUStrategy.h - how a CPU runs the gemma4 loops ----------*- C++ -*-===//
//
// The "cpu" LoweringStrategy: parallel loops become work for the runtime's
// thread pool (grains sized so a chunk is worth a fork-join), dot products
// are register tiles of weight rows x tokens with several accumulators,
// decode streams several weight rows per step (from equal parts of the
// matrix, or one row tile of QuantLayout.h) with software prefetch, and on
// CPUs with integer dot products quantized weights meet int8 activations
// in vpdpbusd / sdot. One class, one file per part:
//   Matmul.cpp      the matmul (decode row sets, prefill tiles, dot tiles)
//   IntegerDot.cpp  int8 activations and the VNNI / NEON dot kernels
//   MLP.cpp         the MLP's gate and up
//   Attention.cpp   the decode attention's split over threads
//   CPUStrategy.cpp its options and registration
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_CPU_STRATEGY_CPUSTRATEGY_H
#define GEMMA4C_TARGET_CPU_STRATEGY_CPUSTRATEGY_H

#include "gemma4c/Conversion/LoopEmitter.h"
#include "gemma4c/Conversion/LoweringStrategy.h"

namespace mlir::gemma4::cpu {

class CPUStrategy : public LoweringStrategy {
public:
  /// X86Vnni512: as X86Vnni, with interleaved int4 rows read 64 bytes per
  /// load and dotted with 512-bit vpdpbusd (half the instructions per byte).
  enum class IntDot { None, X86Vnni, X86Vnni512, ArmDotprod };
  struct Options {
    IntDot intDot = IntDot::None;
    /// bf16 weights x bf16 activations (--compute=bf16) with vdpbf16ps.
    bool bf16Dot = false;
    /// Bytes a decode step prefetches its weights ahead (0: none).
    int64_t weightPrefetch = 0;
    /// Weight rows per decode matrix-vector step (decodeRows).
    int64_t decodeRowTile = 4;
    /// Vector accumulators a dot product with few rows x tokens spreads over.
    int64_t accumulators = 4;
  };
  explicit CPUStrategy(const Options &o) : intDot(o.intDot), bf16Dot(o.bf16Dot), weightPrefetch(o.weightPrefetch),
                                           decodeRowTile(o.decodeRowTile), accumulators(o.accumulators) {}

  StringRef name() const override { return "cpu"; }
  /// Elements of an elementwise op worth a fork-join: a decode step's
  /// vectors (a few thousand elements, about a microsecond on one core)
  /// stay on the caller; prefill's and the logits' are split.
  int64_t elementGrain() const override { return 16384; }
  void beginOp(LoopEmitter &) override { actQuant.clear(); }
  bool prepareActs(LoopEmitter &e, Value x, const QuantView &qv, int64_t K, const ActSource &src) override;
  bool quantizesActs(LoopEmitter &e, Value w, int64_t K) override;
  SmallVector<Value> dotTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                             ArrayRef<XRow> xs) override;
  void matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) override;
  void mlpGateUp(LoopEmitter &e, const MLPArgs &m) override;
  void attendDecode(LoopEmitter &e, const AttentionArgs &a) override;

private:
  IntDot intDot;
  bool bf16Dot;
  int64_t weightPrefetch, decodeRowTile, accumulators;

  // ---- Matmul.cpp ------------------------------------------------------------
  /// Whether bf16DotTile runs plain weight w: bf16Dot, bf16 weights, bf16
  /// activations (the LoopEmitter's bf16), K a multiple of 32.
  bool bf16Dottable(LoopEmitter &e, Value w, int64_t K) const;
  /// dotTile for bf16Dottable weights: per step of 32 elements of K, each
  /// activation row's 32 values (bf16 values stored as f32) packed to bf16
  /// once (vcvtne2ps2bf16) and each weight row's 32 loaded as they are,
  /// one vdpbf16ps per (row, token) into 16 f32 lanes.
  SmallVector<Value> bf16DotTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                 ArrayRef<XRow> xs);
  /// Tokens per prefill register tile. 8 measured no faster than 4 for bf16
  /// weights on E2B (the x rows of 8 tokens outgrow L1; that needs K/N cache
  /// blocking, not a taller tile), and the integer paths keep several
  /// accumulators per row.
  static constexpr int64_t kPrefillTile = 4;
  /// Weight rows per prefill register tile of a plain (float) weight:
  /// kRowTile rows x kPrefillTile tokens of accumulators, so each k step
  /// loads kRowTile weight and kPrefillTile activation vectors for their
  /// product's FMAs (a GEMM microkernel; one row per tile would load one
  /// activation vector per FMA).
  static constexpr int64_t kRowTile = 4;
  /// Prefill register tile of a quantized weight on the integer dot path:
  /// intRowTile() weight rows x intTokTile() tokens of int32 accumulators,
  /// so each step's weight bytes (and their nibble split) feed
  /// intTokTile() dot products and each activation load intRowTile() rows.
  /// 4 x 3 with 512-bit vpdpbusd (12 int32 and 12 f32 zmm accumulators and
  /// 8 nibble vectors of the 32 registers: a 4 x 4 tile spilled its f32
  /// accumulators every super-block, ~10% slower), 2 x 4 with 256-bit
  /// (8-lane accumulators), 1 x 4 on NEON (an 8-lane accumulator is two of
  /// its 32 registers).
  int64_t intRowTile() const {
    return intDot == IntDot::X86Vnni512 ? 4 : intDot == IntDot::X86Vnni ? 2 : 1;
  }
  int64_t intTokTile() const { return intDot == IntDot::X86Vnni512 ? 3 : 4; }
  /// Activation bytes a prefill token block keeps in L2 while a thread
  /// streams the weight rows past it (prefillTiles), and the most token
  /// tiles a block holds.
  static constexpr int64_t kPrefillBlockBytes = 512 * 1024, kMaxBlockTiles = 32;
  /// The least weight bytes a decode chunk streams (decodeGrain).
  static constexpr int64_t kDecodeChunkBytes = 16384;
  void prefetchWeights(LoopEmitter &e, Value data, ValueRange wPre, Value at, int64_t n);
  bool rowTileable(LoopEmitter &e, Value w, int64_t K, ArrayRef<XRow> xs);
  bool panelDotReady(LoopEmitter &e, Value w, ArrayRef<XRow> xs);
  SmallVector<Value> panelTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres, Value pc,
                               ArrayRef<XRow> xs);
  bool rowTiled(LoopEmitter &e, Value w, int64_t N, int64_t K);
  SmallVector<Value> rowsTile(LoopEmitter &e, Value w, ArrayRef<Value> ns, int64_t K, ArrayRef<XRow> xs);
  bool intTiled(LoopEmitter &e, Value w, Value x, int64_t N, int64_t K);
  void prefillTiles(LoopEmitter &e, int64_t N, int64_t actRowBytes, int64_t R, int64_t T,
                    function_ref<void(ArrayRef<Value>, ArrayRef<Value>)> body);
  int64_t decodeRows(LoopEmitter &e, ArrayRef<Value> ws, int64_t N, int64_t K, Value x);
  int64_t decodeGrain(LoopEmitter &e, ArrayRef<Value> ws, int64_t R, int64_t K);
  int64_t commonTile(LoopEmitter &e, ArrayRef<Value> ws);
  SmallVector<SmallVector<Value>> decodeRowSet(LoopEmitter &e, ArrayRef<Value> ws, Value i, int64_t N,
                                               int64_t R);

  // ---- IntegerDot.cpp ----------------------------------------------------------
  /// An activation buffer quantized per 32-element block along its last dim:
  /// q = round(x / d) in int8 with d = max|x| / 127, and cs = d * sum(q).
  /// q is in natural order, or permuted to the interleaved int4 order
  /// (QuantLayout.h activationSlot) for interleaved weights.
  struct QuantAct {
    Value q, d, cs;
    /// Interleaved (int4) consumers only: -8 * sum(q) per block as i32, the
    /// symmetric int4 offset (u - 8) folded into the integer dot product
    /// (the initial value of the block's int32 lane). With wideDot(), 16
    /// lanes per super-block, lanes j and j + 8 holding -4 * sum(q) of
    /// block j each.
    Value negSum8;
  };
  /// Keyed by (buffer, interleaved); valid within one op's lowering.
  llvm::DenseMap<std::pair<Value, unsigned>, QuantAct> actQuant;
  /// Whether interleaved int4 rows are read 64 bytes per load (X86Vnni512):
  /// the int8 activation order (storeInterleaved) and the reader
  /// (interleavedIntRows) must agree.
  bool wideDot() const { return intDot == IntDot::X86Vnni512; }
  SmallVector<QuantAct> quantActsFor(LoopEmitter &e, const QuantView &qv, ArrayRef<XRow> xs);
  QuantAct quantizeActs(LoopEmitter &e, Value x, int64_t K, bool interleaved, const ActSource &src = {});
  Value dot4(LoopEmitter &e, Value acc, Value w, Value x);
  SmallVector<Value> interleavedIntRows(LoopEmitter &e, const QuantView &qv,
                                        ArrayRef<SmallVector<Value>> wPres, int64_t K, ArrayRef<XRow> xs,
                                        ArrayRef<QuantAct> qas, Value sb0 = {},
                                        ArrayRef<const QuantView *> rowViews = {});
  SmallVector<Value> intDotRows(LoopEmitter &e, const QuantView &qv, ArrayRef<SmallVector<Value>> wPres,
                                int64_t K, ArrayRef<XRow> xs, ArrayRef<QuantAct> qas);

  // ---- MLP.cpp -----------------------------------------------------------------
  bool jointGateUp(LoopEmitter &e, Value wg, Value wu, ArrayRef<SmallVector<Value>> rows, int64_t K,
                   ArrayRef<XRow> xs, SmallVector<Value> &gates, SmallVector<Value> &ups);
};

} // namespace mlir::gemma4::cpu

#endif

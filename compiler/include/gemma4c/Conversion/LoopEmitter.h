//===- LoopEmitter.h - what each gemma4 op computes, as loops ---*- C++ -*-===//
//
// The target-neutral half of convert-gemma4-to-loops (see
// compiler/lib/Conversion/README.md): one LoopEmitter lowers one entry
// function from tensor form to memref buffers and scf/arith/math/vector
// loops. It holds
//   * the small builders every loop is made of (load/store, loop, parallel,
//     reduce, sum, 16-lane vector helpers);
//   * the buffers (allocation, in-place reuse, the logits out-parameter);
//   * the arithmetic every target shares, written once: dequantisation of
//     #gemma4.quant weights, the f32 dot products of every weight encoding,
//     RMS norm rows, RoPE tables and rows, GELU (tanh), bf16 rounding,
//     online-softmax attention rows and the split-key decode attention;
//   * what each op computes (Ops.cpp).
// Where targets run an op differently (matmul, the MLP's gate/up, decode
// attention) it calls its LoweringStrategy (LoweringStrategy.h).
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_CONVERSION_LOOPEMITTER_H
#define GEMMA4C_CONVERSION_LOOPEMITTER_H

#include "gemma4c/Conversion/LoweringStrategy.h"
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <functional>
#include <tuple>

namespace mlir::gemma4 {

/// An activation row: x[pre.., 0..K).
struct XRow {
  Value mem;
  SmallVector<Value> pre;
};

/// The views of a quantized weight: packed data (rows.. x K or K/2 bytes),
/// scales and (asymmetric) mins (rows.. x groups).
struct QuantView {
  QuantAttr attr;
  Value data, scales, mins;
  int64_t group = 0;
  bool interleaved = false; ///< int4 super-block layout (QuantLayout.h)
  /// K panels (QuantLayout.h): data and scales are viewed as
  /// [panels, rows.., panelK / 2] and [panels, rows.., panelK / group],
  /// so a row's indices gain the panel first. panels == 1: no panels.
  int64_t panels = 1, panelK = 0;
  /// Row tiles (QuantLayout.h): `data` is the whole stream, viewed as
  /// [rows / tile, K / 256 * tile super-block bytes] bytes; scales and
  /// mins live in it. tile == 1: none.
  int64_t tile = 1;
};

class LoopEmitter {
public:
  LoopEmitter(func::FuncOp fn, bool bf16, LoweringStrategy &strategy)
      : strategy(strategy), fn(fn), b(fn.getContext()), loc(fn.getLoc()), fnLoc(fn.getLoc()),
        bf16(bf16) {}
  /// Lowers the function (replacing it by its memref form).
  LogicalResult run();

  LoweringStrategy &strategy;

  // ---- small builders ------------------------------------------------------
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value cf(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value i8c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(static_cast<int8_t>(v)));
  }
  arith::FastMathFlagsAttr fm() {
    return arith::FastMathFlagsAttr::get(
        b.getContext(), arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y, fm()); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y, fm()); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y, fm()); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value imul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value isub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value irem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value idiv(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  /// m[idx] as f32: quantized weights dequantised, other floats extended.
  Value load(Value m, ValueRange idx) {
    if (auto it = quantViews.find(m); it != quantViews.end())
      return dequantLoad(it->second, idx);
    Value v = memref::LoadOp::create(b, loc, m, idx);
    if (!v.getType().isF32())
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return v;
  }
  void store(Value v, Value m, ValueRange idx) { memref::StoreOp::create(b, loc, v, m, idx); }
  Value dim(Value m, int64_t i) {
    auto t = cast<MemRefType>(m.getType());
    if (!t.isDynamicDim(i))
      return c(t.getDimSize(i));
    return memref::DimOp::create(b, loc, m, i);
  }
  /// idx = pre.., last
  static SmallVector<Value> rowIdx(ValueRange pre, Value last) {
    SmallVector<Value> idx(pre.begin(), pre.end());
    idx.push_back(last);
    return idx;
  }

  template <typename F> void loop(Value lb, Value ub, F body) {
    auto f = scf::ForOp::create(b, loc, lb, ub, c(1));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(f.getBody()->getTerminator());
    body(f.getInductionVar());
  }
  template <typename F> void loop(Value ub, F body) { loop(c(0), ub, body); }
  /// A parallel loop nest. `grain`: the fewest iterations worth handing to
  /// another thread (the outlined body's `gemma4.grain`); cheap bodies, e.g.
  /// one element of an elementwise op, set it so a decode step's small
  /// vectors run on the caller instead of paying a fork-join.
  /// Dimensions of extent 1 (a decode step's token) are dropped here, not
  /// left to the canonicalizer, which rebuilds the loop without its
  /// attributes.
  template <typename F> void parallel(ArrayRef<Value> ubs, F body, int64_t grain = 1) {
    SmallVector<Value> kept;
    SmallVector<bool> unit;
    for (Value ub : ubs) {
      std::optional<int64_t> n = getConstantIntValue(ub);
      unit.push_back(n && *n == 1);
      if (!unit.back())
        kept.push_back(ub);
    }
    SmallVector<Value> ivs(ubs.size(), Value());
    auto fill = [&](ValueRange loopIvs) {
      for (size_t i = 0, k = 0; i < ubs.size(); ++i)
        ivs[i] = unit[i] ? c(0) : loopIvs[k++];
    };
    if (kept.empty()) {
      fill({});
      body(ValueRange(ivs));
      return;
    }
    SmallVector<Value> lbs(kept.size(), c(0)), steps(kept.size(), c(1));
    auto p = scf::ParallelOp::create(b, loc, lbs, kept, steps);
    if (grain > 1)
      p->setAttr(kGrainAttr, b.getI64IntegerAttr(grain));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(p.getBody()->getTerminator());
    fill(p.getInductionVars());
    body(ValueRange(ivs));
  }
  /// The grain of an elementwise loop (LoweringStrategy::elementGrain), and
  /// of a loop whose iterations each touch a row of `n` elements with
  /// elementwise work (norms, RoPE, copies).
  int64_t elementGrain() const { return std::max<int64_t>(1, strategy.elementGrain()); }
  int64_t rowGrain(int64_t n) const {
    return std::max<int64_t>(1, elementGrain() / std::max<int64_t>(n, 1));
  }
  /// Sequential reduction carrying `inits`; body returns the new values.
  /// Loops with carried values are marked kLanesAttr "reduce": a target
  /// that shares one loop among lanes checks that they are plain sums.
  template <typename F>
  SmallVector<Value> reduceStep(Value lb, Value ub, Value step, ValueRange inits, F body) {
    auto f = scf::ForOp::create(
        b, loc, lb, ub, step, inits,
        [&](OpBuilder &, Location, Value iv, ValueRange acc) {
          SmallVector<Value> next = body(iv, acc);
          scf::YieldOp::create(b, loc, next);
        });
    if (!inits.empty())
      f->setAttr(kLanesAttr, b.getStringAttr("reduce"));
    lastLoop = f;
    return SmallVector<Value>(f.getResults());
  }
  /// The scf.for the last reduceStep made (to mark it kLanesAttr "map").
  scf::ForOp lastLoop;
  void markMap(scf::ForOp f) { f->setAttr(kLanesAttr, b.getStringAttr("map")); }
  template <typename F> SmallVector<Value> reduce(Value lb, Value ub, ValueRange inits, F body) {
    return reduceStep(lb, ub, c(1), inits, body);
  }
  Value sum(Value ub, function_ref<Value(Value)> term) {
    return reduce(c(0), ub, {cf(0.0)}, [&](Value i, ValueRange acc) {
             return SmallVector<Value>{add(acc[0], term(i))};
           })[0];
  }

  // ---- vectors ---------------------------------------------------------------
  static constexpr int64_t VL = 16; ///< lanes per vector op
  VectorType vf32() { return VectorType::get({VL}, b.getF32Type()); }
  Value vzero() { return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vf32(), 0.0f)); }
  Value vsplat(Value scalar) { return vector::BroadcastOp::create(b, loc, vf32(), scalar); }
  Value vfma(Value a, Value x, Value acc) { return vector::FMAOp::create(b, loc, a, x, acc); }
  Value vload(Value m, ValueRange pre, Value k, Type elem) {
    return vector::LoadOp::create(b, loc, VectorType::get({VL}, elem), m, rowIdx(pre, k));
  }
  /// 16 weights at (pre.., k) widened to f32 (plain float weights).
  Value vloadWeight(Value w, ValueRange pre, Value k);
  Value vreduce(Value v) {
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v,
                                       arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  }
  /// 8 consecutive elements m[pre.., at..at+8) as f32 (scales, activation
  /// block scales and sums).
  Value load8(Value m, ValueRange pre, Value at);
  Value loadScaleF32(Value m, ValueRange idx);

  // ---- quantized weights (WeightDot.cpp) -------------------------------------
  llvm::DenseMap<Value, QuantView> quantViews; // keyed by the data view
  const QuantView *quantView(Value w) const {
    auto it = quantViews.find(w);
    return it == quantViews.end() ? nullptr : &it->second;
  }
  /// Scalar dequantisation of element idx (rows.., k) of a quantized weight.
  Value dequantLoad(const QuantView &qv, ValueRange idx);
  enum class TilePart { Data, Scales, Mins };
  /// The index into a tiled weight's stream of byte `off` of part `part` of
  /// row wPre (a 2-D weight's row n) in super-block sb.
  SmallVector<Value> tiledIdx(const QuantView &qv, ValueRange wPre, Value sb, TilePart part, Value off);
  /// Row n's tile n / T and row within it n % T; a row iT + r (a decode
  /// step's tile of rows) gives i and r without a division.
  std::pair<Value, Value> tileOfRow(Value n, int64_t T);
  /// `n` scale-typed values of a tiled weight at idx, as f32 (a vector of n,
  /// or a scalar for n == 1).
  Value tiledScalesF32(const QuantView &qv, ArrayRef<Value> idx, int64_t n);
  /// The 8 block scales (or mins) of super-block sb of an interleaved int4
  /// row, as f32.
  Value superScales8(const QuantView &qv, ValueRange wPre, Value sb, bool mins = false);
  /// Load l of super-block sb of an interleaved int4 row, `bytes` (32 or
  /// 64) bytes at offset l * bytes, split into low and high nibbles; 4-byte
  /// lane j of each 32 holds elements of block j only (QuantLayout.h
  /// int4Interleaved).
  std::pair<Value, Value> interleavedNibbles(const QuantView &qv, ValueRange wPre, Value sb, int64_t l,
                                             int64_t bytes = 32);

  // ---- activations for the dot products (WeightDot.cpp) ----------------------
  /// A buffer shaped like x with last dim `last` and element type et.
  Value allocLike(Value x, int64_t last, Type et);
  /// Runs body(pre, block) for every 32-element block of every row of x.
  void forEachBlock(Value x, int64_t K, function_ref<void(ValueRange, Value)> body);
  /// Stores v, elements e0..e0+15 of block bi of row `pre`, at their
  /// interleaved slots: runs of 4 at sb*256 + 32c + 4j (QuantLayout.h).
  /// With `wide` (int8 rows read 64 bytes at a time), chunks 1 and 2 of
  /// every 4 trade places, so the low-nibble partners of one 64-byte weight
  /// load (chunks 4R, 4R+2) are contiguous, then the high (4R+1, 4R+3).
  void storeInterleaved(Value v, Value dst, ValueRange pre, Value bi, int64_t e0, bool wide = false);
  /// Before the loops of an op that reads activation buffer x (last dim K)
  /// against weight w: the strategy's preparation (LoweringStrategy::
  /// prepareActs), else, for an interleaved int4 weight, x permuted for the
  /// f32 dot products.
  void prepareActs(Value x, Value w, int64_t K, const ActSource &src = {});
  /// f32 activation copies in interleaved order; valid within one op.
  llvm::DenseMap<Value, Value> permutedF32;
  /// The permuted f32 copies of rows xs (fewer than xs when some were not
  /// prepared).
  SmallVector<Value> permutedActsFor(ArrayRef<XRow> xs);

  // ---- f32 dot products of every weight encoding (WeightDot.cpp) ------------
  /// sum_k x_t[k] * W[wPre.., k] for every row x_t, through the strategy
  /// (LoweringStrategy::dotTile).
  SmallVector<Value> dotRows(Value w, ValueRange wPre, int64_t K, ArrayRef<XRow> xs);
  Value dot(Value w, ValueRange wPre, int64_t K, Value x, ValueRange xPre) {
    return dotRows(w, wPre, K, {XRow{x, SmallVector<Value>(xPre.begin(), xPre.end())}})[0];
  }
  /// The f32 dot tile of any weight (LoweringStrategy::dotTile's default):
  /// several weight rows share activation loads for plain float weights,
  /// quantized ones run a row at a time (dotQuantF32, sumPanels).
  SmallVector<Value> dotF32(Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K, ArrayRef<XRow> xs);
  /// One scalar multiply-add per element (any K, any encoding).
  SmallVector<Value> dotScalar(Value w, ValueRange wPre, int64_t K, ArrayRef<XRow> xs);
  /// Plain float weights, K a multiple of 16: a register tile of the weight
  /// rows wPres and the activation rows xs (result r * T + t) whose weight
  /// loads feed every activation row and activation loads every weight
  /// row, each step 16 elements of K per accumulator; with U =
  /// accumulators / (rows x tokens) > 1, U independent accumulators per
  /// pair cover U consecutive steps. `beforeStep(k0, n)`, if given, runs
  /// at the start of each step of n elements from k0.
  SmallVector<Value> dotPlain(Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                              ArrayRef<XRow> xs, int64_t accumulators = 1,
                              function_ref<void(Value k0, int64_t n)> beforeStep = {});
  /// A quantized weight without K panels, f32 activations: int8 rows
  /// widened in registers and scaled once per row; int4 rows per group,
  /// scaled once per group; interleaved int4 rows against the permuted
  /// activations (prepareActs), by super-block. Falls back to dotScalar.
  SmallVector<Value> dotQuantF32(const QuantView &qv, ValueRange wPre, int64_t K, ArrayRef<XRow> xs);
  /// f32 dot products with an interleaved int4 weight (QuantLayout.h): per
  /// super-block of 8 blocks, each 32-byte load holds 4 + 4 elements of
  /// each block, so the products accumulate unscaled in two 16-lane vectors
  /// (blocks 0-3, 4-7) against the permuted activations `xps` and are
  /// scaled once per super-block by lane-expanded block scales. Activation
  /// super-blocks start at sb0 (K panels).
  SmallVector<Value> interleavedF32Rows(const QuantView &qv, ValueRange wPre, int64_t K, ArrayRef<XRow> xs,
                                        ArrayRef<Value> xps, Value sb0 = {});
  /// interleavedF32Rows for the weight rows `pres` of one K panel (panelRows)
  /// whose activations start at super-block sb0 (result r * T + t).
  SmallVector<Value> interleavedF32Panel(const QuantView &qv, ArrayRef<SmallVector<Value>> pres,
                                         ArrayRef<XRow> xs, Value sb0);
  /// Weight rows wPres of K panel `pc` (the panel index first).
  static SmallVector<SmallVector<Value>> panelRows(ArrayRef<SmallVector<Value>> wPres, Value pc);
  /// A K-panelled weight's dot products: `panel(pc)` for every panel,
  /// summed in registers (result r * T + t).
  SmallVector<Value> sumPanels(const QuantView &qv, size_t n,
                               function_ref<SmallVector<Value>(Value pc)> panel);

  // ---- loop shapes (LoopEmitter.cpp) ------------------------------------------
  /// Prefill over (n < N, tiles of T tokens), in parallel: a full tile runs
  /// tile(n, its T token indices), the last partial tile single(n, s) per
  /// token.
  void tokenTiles(int64_t N, Value S, int64_t T, function_ref<void(Value, ArrayRef<Value>)> tile,
                  function_ref<void(Value, Value)> single);
  /// Prefill over (tiles of R rows of N, tiles of T tokens), in parallel:
  /// body(rows, tokens) for full token tiles and each leftover token.
  void rowTokenTiles(int64_t N, Value S, int64_t R, int64_t T,
                     function_ref<void(ArrayRef<Value>, ArrayRef<Value>)> body);
  /// Rows x[t, ..] for the tokens t.
  static SmallVector<XRow> rowsOf(Value x, ArrayRef<Value> toks);

  // ---- shared arithmetic (Math.cpp) ------------------------------------------
  /// dst[prefix.., :] = rmsnorm(src[prefix.., :]) (* w) over the last dim;
  /// with `epilogue`, dst holds epilogue(y, d) instead of each (rounded)
  /// result y at element d (y a 16-lane vector of elements d.., or a
  /// scalar).
  void rmsNormRow(Value src, ValueRange srcPre, Value dst, ValueRange dstPre, int64_t D, Value w,
                  float eps, function_ref<Value(Value y, Value d)> epilogue = {});
  /// cos and sin of RoPE angle i at position pos + t, [tokens, rotary dims]
  /// each, computed once per function for every (rope, position, head
  /// dim) and shared by all the layers and heads that rotate with it.
  struct RopeTable {
    Value cos, sin;
  };
  /// The table of `rope` for head dim D at positions pos + [0, tokens).
  /// Call at the top level of the function (it is built at the first call
  /// and must dominate every later use).
  RopeTable ropeTable(RopeAttr rope, Value pos, int64_t D);
  /// In-place RoPE (rotate-half pairing) of buf[prefix.., :] for token t of
  /// table `tab` (ropeTable).
  void ropeRow(Value m, ValueRange pre, int64_t D, RopeAttr rope, const RopeTable &tab, Value t);
  /// In bf16 emulation, rounds an intermediate (f32 or a vector of f32) the
  /// way a bf16 tensor would be.
  Value rnd(Value v);
  /// f32 constant v shaped like `like` (a scalar or a vector splat).
  Value cfLike(double v, Value like);
  /// GELU (tanh approximation) of a scalar or a vector, elementwise alike.
  Value geluTanh(Value g);
  /// The MLP's activation of a gate and an up product (scalars or vectors):
  /// gelu(gate) * up, each rounded as bf16 tensors would be.
  Value geluGate(Value gate, Value up) { return rnd(mul(rnd(geluTanh(rnd(gate))), rnd(up))); }
  /// bf16 emulation: round every element of an activation buffer.
  void roundToBF16(Value m);

  // ---- fusion (Fusion.cpp) -----------------------------------------------------
  /// Set while a matmul whose outputs an elementwise op consumes is lowered
  /// (LoweringStrategy::fusesElementwise): the value to store for output
  /// acc at out[idx..] instead of acc.
  std::function<Value(Value acc, ValueRange idx)> matmulEpilogue;
  /// acc through matmulEpilogue when one is set.
  Value epilogue(Value acc, ValueRange idx) { return matmulEpilogue ? matmulEpilogue(acc, idx) : acc; }

  // ---- attention (Attention.cpp) ----------------------------------------------
  /// The first key position a query at position p sees: 0, or with a
  /// sliding window, max(0, p - window + 1) (keys j > p - window).
  Value firstVisibleKey(Value p, int64_t window);
  /// Online-softmax attention for query row (s, h) of a.q; accumulates into
  /// a.out[s, h, :].
  void attendRow(const AttentionArgs &a, Value s, Value h);
  /// Whether splitKVDecode handles this attention: one query token, a head
  /// dim of whole vectors, static head counts (the capacity may be dynamic:
  /// global layers' caches are sized by the run's context).
  bool canAttendDecode(Value query, Value kc, int64_t D);
  /// How splitKVDecode splits the work and keeps it in registers.
  struct SplitKVPlan {
    /// Chunks per KV head, at most, each of at least minKeyChunk keys.
    int64_t maxKeyChunks = 32, minKeyChunk = 64;
    /// Query heads of one KV group whose dot products share a pass over K.
    int64_t headTile = 8;
    /// V vectors of D per pass over the keys (when D allows).
    int64_t valueVectors = 2;
    /// Prefetch each V row while reading the K row at the same place.
    bool prefetchValues = false;
  };
  /// Decode attention (one query token), flash-decoding style (see
  /// Attention.cpp).
  void splitKVDecode(const AttentionArgs &a, const SplitKVPlan &plan);

  // ---- buffers (LoopEmitter.cpp) ----------------------------------------------
  /// A buffer for a tensor of type tensorTy whose dynamic dimensions are
  /// the token count: static when the function takes one token (decode),
  /// so the ops reading it see a one-token operand and take their
  /// matrix-vector paths.
  Value alloc(Type tensorTy);
  /// A 64-byte aligned f32 scratch buffer freed at the function's end.
  Value scratch(ArrayRef<int64_t> shape, ValueRange dyn);
  /// The result buffer of `op`: the function's out-parameter for the
  /// returned value, else a fresh allocation.
  Value resultBuffer(Value result);
  /// For elementwise ops: reuse `in`'s buffer when `in` dies here.
  Value inPlaceOr(Value in, Value result);
  Value get(Value v) {
    auto it = buf.find(v);
    assert(it != buf.end() && "operand lowered before use");
    return it->second;
  }
  void set(Value tensor, Value memref, bool owns = true) {
    buf[tensor] = memref;
    if (owns)
      ownsBuffer.insert(tensor);
  }
  /// Whether buffer x holds one token (the function decodes).
  static bool isOneToken(Value x) {
    auto t = cast<MemRefType>(x.getType());
    return !t.isDynamicDim(0) && t.getDimSize(0) == 1;
  }

  func::FuncOp fn;
  OpBuilder b;
  Location loc, fnLoc;
  /// The function's token count (an index; constant 1 when it decodes).
  Value tokens;
  Value weightsArg, outArg, returned;
  llvm::DenseMap<Value, Value> buf;
  llvm::DenseSet<Value> ownsBuffer;
  SmallVector<Value> allocs;
  bool bf16 = false;

private:
  /// What `op` computes (Ops.cpp).
  LogicalResult lower(Operation *op);
  /// Lowers `op` together with the elementwise ops that consume it
  /// (Fusion.cpp); false when it has no such fusion (nothing emitted).
  bool lowerFused(Operation *op);
  bool fuseNormChain(RMSNormOp n);
  bool fuseMatmulGelu(LinearOp l);
  /// Makes v's buffer available early: lowers its gemma4.weight op now
  /// (skipped when reached); false for any other op not lowered yet.
  bool ensureLowered(Value v);
  /// Ops lowered ahead of their turn (folded into another op's loops).
  llvm::DenseSet<Operation *> lowered;
  /// The location of the loops lowering `op`: named after the op and its
  /// first weight ("linear:layers.0.self_attn.q_proj.weight"), so outlined
  /// parallel bodies, profiles and debuggers say what they compute.
  Location opLocation(Operation &op, Location base);
  llvm::DenseMap<std::tuple<Attribute, Value, int64_t>, RopeTable> ropeTables;
};

} // namespace mlir::gemma4

#endif

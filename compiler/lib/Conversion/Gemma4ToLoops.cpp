//===- Gemma4ToLoops.cpp - lower gemma4 ops to buffers and loops ----------===//
//
// Lowers each entry function of a gemma4 module from tensor form to memref
// form and every gemma4 op to scf/arith/math/memref loop nests:
//   * tensor arguments become memrefs, the logits result an out-parameter
//     (the runtime ABI in runtime/include/gemma4rt/abi.h);
//   * gemma4.weight becomes a typed memref.view into the weights argument at
//     its assigned offset (gemma4-layout-weights must run first);
//   * gemma4.kv_cache_view becomes a memref.view into the KV arena;
//   * activations get heap buffers freed before the function returns;
//     elementwise ops reuse their input's buffer when it has no other use;
//   * outer loops over independent outputs are scf.parallel (the CPU
//     backend runs them on the runtime's thread pool), reductions scf.for
//     with reassociation allowed so LLVM vectorises them.
// All arithmetic is f32; weights of other float types are extended on load.
// Matmul reductions over K are emitted in the vector dialect (16 lanes):
// plain weights are loaded as vectors and widened; quantized weights
// (#gemma4.quant) are loaded packed (16 int8 or 32 int4 per load),
// unpacked and converted in registers, multiplied with the activations and
// scaled once per group, so no dequantised copy of a weight ever exists.
// With int-dot=x86-vnni or arm-dotprod, the activation rows a quantized
// matmul reads are first quantized to int8 per 32-element block (q =
// round(x/d), d = max|x|/127, once per op, not per output), and each block
// is one 4-byte-group integer dot product (dot4) of the weight bytes with
// those int8 activations: vpdpbusd (unsigned x signed bytes: int4 nibbles
// 0..15, int8 + 128) or two NEON sdot (signed x signed: int4 nibbles
// 0..15, int8 as is); the per-block sums of q correct for the offset (see
// intDotRows).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <tuple>

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4TOLOOPS
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {

/// Elements of an elementwise op worth a fork-join: a decode step's vectors
/// (a few thousand elements, about a microsecond on one core) stay on the
/// caller; prefill's and the logits' are split.
constexpr int64_t kElementGrain = 16384;
/// The grain of a loop whose iterations each touch a row of `n` elements
/// with elementwise work (norms, RoPE, copies).
constexpr int64_t rowGrain(int64_t n) { return std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1)); }

class FunctionLowering {
public:
  /// X86Vnni512: as X86Vnni, with interleaved int4 rows read 64 bytes per
  /// load and dotted with 512-bit vpdpbusd (half the instructions per byte).
  enum class IntDot { None, X86Vnni, X86Vnni512, ArmDotprod };
  FunctionLowering(func::FuncOp fn, bool bf16, IntDot intDot, int64_t weightPrefetch,
                   int64_t decodeRowTile, int64_t accumulators)
      : fn(fn), b(fn.getContext()), loc(fn.getLoc()), fnLoc(fn.getLoc()), bf16(bf16), intDot(intDot),
        weightPrefetch(weightPrefetch), decodeRowTile(decodeRowTile),
        accumulators(accumulators) {}
  LogicalResult run();

private:
  // ---- small builders ------------------------------------------------------
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value cf(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(static_cast<float>(v)));
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
  Value load(Value m, ValueRange idx) {
    if (auto it = quantViews.find(m); it != quantViews.end())
      return dequantLoad(it->second, idx);
    Value v = memref::LoadOp::create(b, loc, m, idx);
    if (!v.getType().isF32())
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return v;
  }
  void store(Value v, Value m, ValueRange idx) {
    memref::StoreOp::create(b, loc, v, m, idx);
  }
  Value dim(Value m, int64_t i) {
    auto t = cast<MemRefType>(m.getType());
    if (!t.isDynamicDim(i))
      return c(t.getDimSize(i));
    return memref::DimOp::create(b, loc, m, i);
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
  template <typename F>
  SmallVector<Value> reduce(Value lb, Value ub, ValueRange inits, F body) {
    return reduceStep(lb, ub, c(1), inits, body);
  }
  Value sum(Value ub, function_ref<Value(Value)> term) {
    return reduce(c(0), ub, {cf(0.0)}, [&](Value i, ValueRange acc) {
             return SmallVector<Value>{add(acc[0], term(i))};
           })[0];
  }


  // ---- quantized weights -----------------------------------------------------
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
  enum class TilePart { Data, Scales, Mins };
  /// The index into a tiled weight's stream of byte `off` of part `part` of
  /// row wPre (a 2-D weight's row n) in super-block sb.
  SmallVector<Value> tiledIdx(const QuantView &qv, ValueRange wPre, Value sb, TilePart part,
                              Value off) {
    ::gemma4::quant::Spec spec = qv.attr.getSpec();
    auto [t, r] = tileOfRow(wPre.back(), qv.tile);
    auto partAt = [&](int64_t row) {
      return part == TilePart::Data     ? ::gemma4::quant::tileDataAt(spec, row)
             : part == TilePart::Scales ? ::gemma4::quant::tileScaleAt(spec, row)
                                        : ::gemma4::quant::tileMinAt(spec, row);
    };
    int64_t base = partAt(0), stride = partAt(1) - base;
    Value at = iadd(imul(sb, c(static_cast<int64_t>(::gemma4::quant::tileSuperBytes(spec)))),
                    iadd(c(base), iadd(imul(r, c(stride)), off)));
    return {t, at};
  }
  /// Row n's tile n / T and row within it n % T; a row iT + r made by
  /// decodeRowSet gives i and r without a division.
  std::pair<Value, Value> tileOfRow(Value n, int64_t T) {
    auto isConst = [](Value v, int64_t x) {
      std::optional<int64_t> k = getConstantIntValue(v);
      return k && *k == x;
    };
    Value prod = n;
    int64_t r = 0;
    if (auto add = n.getDefiningOp<arith::AddIOp>())
      if (std::optional<int64_t> k = getConstantIntValue(add.getRhs()); k && *k >= 0 && *k < T) {
        prod = add.getLhs();
        r = *k;
      }
    if (auto mul = prod.getDefiningOp<arith::MulIOp>(); mul && isConst(mul.getRhs(), T))
      return {mul.getLhs(), c(r)};
    return {arith::DivUIOp::create(b, loc, n, c(T)), arith::RemUIOp::create(b, loc, n, c(T))};
  }
  /// `n` scale-typed values of a tiled weight at idx, as f32 (a vector of n,
  /// or a scalar for n == 1).
  Value tiledScalesF32(const QuantView &qv, ArrayRef<Value> idx, int64_t n) {
    Type st = qv.attr.getScaleType();
    int64_t sb = st.getIntOrFloatBitWidth() / 8;
    Value bytes = vector::LoadOp::create(b, loc, VectorType::get({n * sb}, b.getI8Type()), qv.data, idx);
    Value v = vector::BitCastOp::create(b, loc, VectorType::get({n}, st), bytes);
    if (n == 1)
      v = vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
    if (st.isF32())
      return v;
    Type f = n == 1 ? Type(b.getF32Type()) : Type(VectorType::get({n}, b.getF32Type()));
    return arith::ExtFOp::create(b, loc, f, v);
  }
  /// The 8 block scales (or mins) of super-block sb of an interleaved int4
  /// row, as f32.
  Value superScales8(const QuantView &qv, ValueRange wPre, Value sb, bool mins = false) {
    if (qv.tile > 1)
      return tiledScalesF32(qv, tiledIdx(qv, wPre, sb, mins ? TilePart::Mins : TilePart::Scales, c(0)), 8);
    return load8(mins ? qv.mins : qv.scales, wPre, imul(sb, c(8)));
  }
  llvm::DenseMap<Value, QuantView> quantViews; // keyed by the data view

  Value i8c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(static_cast<int8_t>(v)));
  }
  /// Scalar dequantisation of element idx (rows.., k) of a quantized weight.
  Value dequantLoad(const QuantView &qv, ValueRange idx) {
    SmallVector<Value> pre(idx.drop_back());
    Value k = idx.back();
    if (qv.panels > 1) { // panel k / panelK, element k % panelK of its row
      pre.insert(pre.begin(), idiv(k, c(qv.panelK)));
      k = irem(k, c(qv.panelK));
    }
    // The element's scale, or (asymmetric) min: of block k / 32 in the row
    // tile's super-block (row tiles) or of group k / group.
    SmallVector<Value> sIdx(pre);
    sIdx.push_back(idiv(k, c(qv.group)));
    auto scaleOf = [&](bool mins) {
      if (qv.tile > 1) {
        int64_t sbytes = ::gemma4::quant::scaleBytes(qv.attr.getSpec().scale);
        Value blockOff = imul(idiv(irem(k, c(256)), c(32)), c(sbytes));
        return tiledScalesF32(
            qv, tiledIdx(qv, pre, idiv(k, c(256)), mins ? TilePart::Mins : TilePart::Scales, blockOff), 1);
      }
      return loadScaleF32(mins ? qv.mins : qv.scales, sIdx);
    };
    Value s = scaleOf(false);
    if (qv.attr.getBits() == 8) {
      SmallVector<Value> dIdx(pre);
      dIdx.push_back(k);
      Value q = memref::LoadOp::create(b, loc, qv.data, dIdx);
      return mul(arith::SIToFPOp::create(b, loc, b.getF32Type(), q), s);
    }
    // int4 (QuantLayout.h int4Position): block k/32, byte (k%32)%16, high
    // nibble for k%32 >= 16; interleaved: super-block k/256, chunk
    // c = (k%32)/4 of block j = (k%256)/32 at byte 32(c/2) + 4j + k%4,
    // high nibble for odd c.
    // Row tiles: that byte of the row's 128 in the tile's super-block.
    Value j = irem(k, c(32));
    SmallVector<Value> dIdx;
    Value shiftIdx;
    if (qv.interleaved) {
      Value chunk = idiv(j, c(4)), sb = idiv(k, c(256));
      Value inSb = iadd(imul(idiv(chunk, c(2)), c(32)),
                        iadd(imul(idiv(irem(k, c(256)), c(32)), c(4)), irem(k, c(4))));
      dIdx = qv.tile > 1 ? tiledIdx(qv, pre, sb, TilePart::Data, inSb)
                         : rowIdx(pre, iadd(imul(sb, c(128)), inSb));
      shiftIdx = imul(irem(chunk, c(2)), c(4));
    } else {
      dIdx = rowIdx(pre, iadd(imul(idiv(k, c(32)), c(16)), irem(j, c(16))));
      shiftIdx = imul(idiv(j, c(16)), c(4));
    }
    Value byte = memref::LoadOp::create(b, loc, qv.data, dIdx);
    Value shift = arith::IndexCastOp::create(b, loc, b.getI8Type(), shiftIdx);
    Value nib = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, byte, shift), i8c(15));
    Value q = arith::UIToFPOp::create(b, loc, b.getF32Type(), nib);
    if (qv.attr.getSymmetric())
      return mul(sub(q, cf(8.0)), s);
    return add(mul(q, s), scaleOf(true));
  }

  // ---- vector dot products ---------------------------------------------------
  static constexpr int64_t VL = 16; ///< lanes per vector op
  VectorType vf32() { return VectorType::get({VL}, b.getF32Type()); }
  Value vzero() {
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vf32(), 0.0f));
  }
  Value vsplat(Value scalar) { return vector::BroadcastOp::create(b, loc, vf32(), scalar); }
  Value vfma(Value a, Value x, Value acc) { return vector::FMAOp::create(b, loc, a, x, acc); }
  Value vload(Value m, ValueRange pre, Value k, Type elem) {
    return vector::LoadOp::create(b, loc, VectorType::get({VL}, elem), m, rowIdx(pre, k));
  }
  /// 16 weights at (pre.., k) widened to f32 (plain float weights).
  Value vloadWeight(Value w, ValueRange pre, Value k) {
    Type et = cast<MemRefType>(w.getType()).getElementType();
    Value v = vload(w, pre, k, et);
    if (et.isF32())
      return v;
    if (et.isBF16()) {
      // bf16 -> f32 is a 16-bit shift of the bit pattern.
      auto i16v = VectorType::get({VL}, b.getI16Type()), i32v = VectorType::get({VL}, b.getI32Type());
      Value bits = arith::BitcastOp::create(b, loc, i16v, v);
      Value wide = arith::ExtUIOp::create(b, loc, i32v, bits);
      Value sh = arith::ShLIOp::create(
          b, loc, wide, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32v, int32_t(16))));
      return arith::BitcastOp::create(b, loc, vf32(), sh);
    }
    return arith::ExtFOp::create(b, loc, vf32(), v);
  }
  Value vreduce(Value v) {
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v,
                                       arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  }
  Value loadScaleF32(Value m, ValueRange idx) {
    Value s = memref::LoadOp::create(b, loc, m, idx);
    return s.getType().isF32() ? s : arith::ExtFOp::create(b, loc, b.getF32Type(), s).getResult();
  }
  /// idx = pre.., last
  static SmallVector<Value> rowIdx(ValueRange pre, Value last) {
    SmallVector<Value> idx(pre.begin(), pre.end());
    idx.push_back(last);
    return idx;
  }
  /// 8 consecutive elements m[pre.., at..at+8) as f32 (scales, activation
  /// block scales and sums).
  Value load8(Value m, ValueRange pre, Value at) {
    Type et = cast<MemRefType>(m.getType()).getElementType();
    Value v = vector::LoadOp::create(b, loc, VectorType::get({8}, et), m, rowIdx(pre, at));
    if (et.isF32())
      return v;
    return arith::ExtFOp::create(b, loc, VectorType::get({8}, b.getF32Type()), v);
  }
  /// Load l of super-block sb of an interleaved int4 row, `bytes` (32 or
  /// 64) bytes at offset l * bytes, split into low and high nibbles; 4-byte
  /// lane j of each 32 holds elements of block j only (QuantLayout.h
  /// int4Interleaved).
  std::pair<Value, Value> interleavedNibbles(const QuantView &qv, ValueRange wPre, Value sb,
                                             int64_t l, int64_t bytes = 32) {
    auto v32i8 = VectorType::get({bytes}, b.getI8Type());
    SmallVector<Value> idx = qv.tile > 1 ? tiledIdx(qv, wPre, sb, TilePart::Data, c(bytes * l))
                                         : rowIdx(wPre, iadd(imul(sb, c(128)), c(bytes * l)));
    Value wv = vector::LoadOp::create(b, loc, v32i8, qv.data, idx);
    Value lo = arith::AndIOp::create(
        b, loc, wv, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v32i8, int8_t(15))));
    Value hi = arith::ShRUIOp::create(
        b, loc, wv, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v32i8, int8_t(4))));
    return {lo, hi};
  }
  /// Whether interleaved int4 rows are read 64 bytes per load (X86Vnni512):
  /// the int8 activation order (storeInterleaved) and the reader
  /// (interleavedIntRows) must agree.
  bool wideDot() const { return intDot == IntDot::X86Vnni512; }
  /// One-token matrix-vector products (decode) prefetch the weight bytes
  /// `weightPrefetch` ahead of the `n` elements a step loads from `data`
  /// at element `at` of row `wPre`, one prefetch per 64 bytes: on Intel's
  /// server cores the hardware streamer alone leaves one core well short of
  /// its bandwidth. The address may run past the row, into the next one
  /// (the rows a thread streams are consecutive) or, for the last rows of
  /// the weight blob, past its end: prefetches do not fault.
  void prefetchWeights(Value data, ValueRange wPre, Value at, int64_t n) {
    if (weightPrefetch <= 0)
      return;
    int64_t elem = std::max<int64_t>(
        1, cast<MemRefType>(data.getType()).getElementType().getIntOrFloatBitWidth() / 8);
    for (int64_t l = 0; l < n * elem; l += 64)
      memref::PrefetchOp::create(b, loc, data, rowIdx(wPre, iadd(at, c((weightPrefetch + l) / elem))),
                                 /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
  }
  /// An activation row: x[pre.., 0..K).
  struct XRow {
    Value mem;
    SmallVector<Value> pre;
  };
  /// sum_k x_t[k] * W[wPre.., k] for every row x_t, sharing each weight load
  /// across the rows (register tiling over tokens). Vectorised when K allows,
  /// with quantized weights dequantised in registers.
  SmallVector<Value> dotRows(Value w, ValueRange wPre, int64_t K, ArrayRef<XRow> xs) {
    return dotTile(w, {SmallVector<Value>(wPre.begin(), wPre.end())}, K, xs);
  }
  /// Whether dotTile shares the activation loads of several weight rows of
  /// `w` (plain float weights, and quantized ones on the integer dot path);
  /// other weights run one row at a time.
  bool rowTileable(Value w, int64_t K, ArrayRef<XRow> xs) {
    auto qit = quantViews.find(w);
    if (qit == quantViews.end())
      return K % VL == 0;
    return intDot != IntDot::None && K % 32 == 0 && quantActsFor(qit->second, xs).size() == xs.size();
  }
  /// sum_k x_t[k] * W[wPres[r].., k] for every weight row r and activation
  /// row t (result r * T + t): a register tile whose activation loads are
  /// shared by the R weight rows and whose weight loads are shared by the T
  /// activation rows. Decode passes R rows from far-apart parts of W (one
  /// activation row): each row is its own sequential stream, and one core
  /// streams several at the bandwidth the memory gives it, where one row
  /// per step spends its load slots on the activations.
  SmallVector<Value> dotTile(Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                             ArrayRef<XRow> xs) {
    if (wPres.size() > 1 && !rowTileable(w, K, xs)) {
      SmallVector<Value> out;
      for (const SmallVector<Value> &wPre : wPres)
        llvm::append_range(out, dotTile(w, {wPre}, K, xs));
      return out;
    }
    ValueRange wPre = wPres.front();
    auto scalar = [&]() {
      SmallVector<Value> inits(xs.size(), cf(0.0));
      return reduce(c(0), c(K), inits, [&](Value k, ValueRange acc) {
        SmallVector<Value> wi(wPre.begin(), wPre.end());
        wi.push_back(k);
        Value wv = load(w, wi);
        SmallVector<Value> next;
        for (size_t t = 0; t < xs.size(); ++t) {
          SmallVector<Value> xi(xs[t].pre);
          xi.push_back(k);
          next.push_back(add(acc[t], mul(load(xs[t].mem, xi), wv)));
        }
        return next;
      });
    };
    auto finish = [&](ValueRange accs) {
      SmallVector<Value> out;
      for (Value a : accs)
        out.push_back(vreduce(a));
      return out;
    };
    SmallVector<Value> zeros(xs.size(), vzero());
    auto qit = quantViews.find(w);
    if (qit == quantViews.end()) {
      if (K % VL != 0)
        return scalar();
      // U independent accumulators per (row, token) when those are few, so
      // the FMA latency chain does not bound a memory-bound loop.
      size_t R = wPres.size(), T = xs.size(), P = R * T;
      int64_t U = std::max<int64_t>(1, accumulators / static_cast<int64_t>(P));
      while (U > 1 && K % (VL * U) != 0)
        U /= 2;
      SmallVector<Value> inits(P * U, vzero());
      auto accs = reduceStep(c(0), c(K), c(VL * U), inits, [&](Value k0, ValueRange acc) {
        SmallVector<Value> next(acc.begin(), acc.end());
        if (T == 1)
          for (const SmallVector<Value> &row : wPres)
            prefetchWeights(w, row, k0, VL * U);
        for (int64_t u = 0; u < U; ++u) {
          Value k = u == 0 ? k0 : iadd(k0, c(u * VL));
          SmallVector<Value> xv;
          for (const XRow &x : xs)
            xv.push_back(vload(x.mem, x.pre, k, b.getF32Type()));
          for (size_t r = 0; r < R; ++r) {
            Value wv = vloadWeight(w, wPres[r], k);
            for (size_t t = 0; t < T; ++t) {
              size_t a = u * P + r * T + t;
              next[a] = vfma(xv[t], wv, next[a]);
            }
          }
        }
        return next;
      });
      SmallVector<Value> sums(accs.begin(), accs.begin() + P);
      for (int64_t u = 1; u < U; ++u)
        for (size_t p = 0; p < P; ++p)
          sums[p] = arith::AddFOp::create(b, loc, sums[p], accs[u * P + p], fm());
      return finish(sums);
    }
    const QuantView &qv = qit->second;
    if (qv.panels > 1) {
      // The panels' dot products, summed in registers (prefill: the panel
      // order does not matter to a weight reused by several tokens).
      if (!panelDotReady(w, xs))
        return scalar(); // dequantLoad knows the panel layout
      SmallVector<Value> inits(wPres.size() * xs.size(), cf(0.0));
      return reduce(c(0), c(qv.panels), inits, [&](Value pc, ValueRange acc) {
        SmallVector<Value> part = panelTile(w, wPres, pc, xs), next;
        for (size_t i = 0; i < part.size(); ++i)
          next.push_back(add(acc[i], part[i]));
        return next;
      });
    }
    if (intDot != IntDot::None && K % 32 == 0) {
      SmallVector<QuantAct> qas = quantActsFor(qv, xs);
      if (qas.size() == xs.size())
        return intDotRows(qv, wPres, K, xs, qas);
    }
    if (qv.attr.getBits() == 8) {
      if (K % VL != 0)
        return scalar();
      auto accs = reduceStep(c(0), c(K), c(VL), zeros, [&](Value k, ValueRange acc) {
        Value q = vload(qv.data, wPre, k, b.getI8Type());
        Value wv = arith::SIToFPOp::create(b, loc, vf32(), q);
        SmallVector<Value> next;
        for (size_t t = 0; t < xs.size(); ++t)
          next.push_back(vfma(vload(xs[t].mem, xs[t].pre, k, b.getF32Type()), wv, acc[t]));
        return next;
      });
      // int8 is per output channel: one scale per row.
      SmallVector<Value> sIdx(wPre.begin(), wPre.end());
      sIdx.push_back(c(0));
      Value s = loadScaleF32(qv.scales, sIdx);
      SmallVector<Value> out;
      for (Value r : finish(accs))
        out.push_back(mul(r, s));
      return out;
    }
    if (qv.interleaved) {
      SmallVector<Value> xps = permutedActsFor(xs);
      if (xps.size() != xs.size())
        return scalar(); // dequantLoad knows the interleaved layout
      return interleavedF32Rows(qv, wPre, K, xs, xps);
    }
    // int4: per group, 32 elements per 16-byte load (low nibbles: the first
    // 16 elements, high nibbles: the next 16), scaled once per group.
    bool sym = qv.attr.getSymmetric();
    int64_t G = qv.group, blocks = G / 32;
    auto i8v = VectorType::get({VL}, b.getI8Type());
    auto accs = reduceStep(c(0), c(K / G), c(1), zeros, [&](Value g, ValueRange acc) {
      SmallVector<Value> ginit(xs.size() * (sym ? 1 : 2), vzero());
      auto gacc = reduceStep(c(0), c(blocks), c(1), ginit, [&](Value blk, ValueRange ga) {
        Value blockIdx = iadd(imul(g, c(blocks)), blk);
        Value bytes = vload(qv.data, wPre, imul(blockIdx, c(16)), b.getI8Type());
        Value lo = arith::AndIOp::create(
            b, loc, bytes, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i8v, int8_t(15))));
        Value hi = arith::ShRUIOp::create(
            b, loc, bytes, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i8v, int8_t(4))));
        Value lof = arith::UIToFPOp::create(b, loc, vf32(), lo);
        Value hif = arith::UIToFPOp::create(b, loc, vf32(), hi);
        if (sym) {
          Value eight = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vf32(), 8.0f));
          lof = arith::SubFOp::create(b, loc, lof, eight);
          hif = arith::SubFOp::create(b, loc, hif, eight);
        }
        Value k0 = imul(blockIdx, c(32));
        Value k1 = iadd(k0, c(16));
        // Yields the T group sums of x*q, then (asymmetric) the T sums of x.
        SmallVector<Value> next(ga.size());
        for (size_t t = 0; t < xs.size(); ++t) {
          Value x0 = vload(xs[t].mem, xs[t].pre, k0, b.getF32Type());
          Value x1 = vload(xs[t].mem, xs[t].pre, k1, b.getF32Type());
          next[t] = vfma(x1, hif, vfma(x0, lof, ga[t]));
          if (!sym)
            next[xs.size() + t] = arith::AddFOp::create(
                b, loc, ga[xs.size() + t], arith::AddFOp::create(b, loc, x0, x1, fm()), fm());
        }
        return next;
      });
      SmallVector<Value> sIdx(wPre.begin(), wPre.end());
      sIdx.push_back(g);
      Value sv = vsplat(loadScaleF32(qv.scales, sIdx));
      Value mv = sym ? Value() : vsplat(loadScaleF32(qv.mins, sIdx));
      SmallVector<Value> next;
      for (size_t t = 0; t < xs.size(); ++t) {
        Value a = vfma(gacc[t], sv, acc[t]);
        if (!sym)
          a = vfma(gacc[xs.size() + t], mv, a);
        next.push_back(a);
      }
      return next;
    });
    return finish(accs);
  }
  // ---- int8 activations and integer dot products ---------------------------
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
  /// The quantized activations of rows xs for weight qv (fewer than xs when
  /// some were not prepared).
  SmallVector<QuantAct> quantActsFor(const QuantView &qv, ArrayRef<XRow> xs) {
    SmallVector<QuantAct> qas;
    for (const XRow &x : xs)
      if (auto it = actQuant.find({x.mem, unsigned(qv.interleaved)}); it != actQuant.end())
        qas.push_back(it->second);
    return qas;
  }
  /// f32 activation copies in interleaved order (the f32 path's operand for
  /// interleaved int4 weights); valid within one op's lowering.
  llvm::DenseMap<Value, Value> permutedF32;
  /// The permuted f32 copies of rows xs (fewer than xs when some were not
  /// prepared).
  SmallVector<Value> permutedActsFor(ArrayRef<XRow> xs) {
    SmallVector<Value> xps;
    for (const XRow &x : xs)
      if (Value xp = permutedF32.lookup(x.mem))
        xps.push_back(xp);
    return xps;
  }

  /// A buffer shaped like x with last dim `last` and element type et.
  Value allocLike(Value x, int64_t last, Type et) {
    auto xt = cast<MemRefType>(x.getType());
    SmallVector<Value> dyn;
    for (int64_t i = 0; i + 1 < xt.getRank(); ++i)
      if (xt.isDynamicDim(i))
        dyn.push_back(dim(x, i));
    SmallVector<int64_t> shape(xt.getShape().drop_back());
    shape.push_back(last);
    Value m = memref::AllocOp::create(b, loc, MemRefType::get(shape, et), dyn,
                                      b.getI64IntegerAttr(64));
    allocs.push_back(m);
    return m;
  }
  /// Runs body(pre, block) for every 32-element block of every row of x.
  void forEachBlock(Value x, int64_t K, function_ref<void(ValueRange, Value)> body) {
    auto xt = cast<MemRefType>(x.getType());
    SmallVector<Value> ubs;
    for (int64_t i = 0; i + 1 < xt.getRank(); ++i)
      ubs.push_back(dim(x, i));
    parallel(ubs, [&](ValueRange pre) { loop(c(K / 32), [&](Value blk) { body(pre, blk); }); });
  }
  /// Stores v, elements e0..e0+15 of block bi of row `pre`, at their
  /// interleaved slots: runs of 4 at sb*256 + 32c + 4j (QuantLayout.h).
  /// With `wide` (the int8 rows X86Vnni512 reads 64 bytes at a time), chunks
  /// 1 and 2 of every 4 trade places, so the low-nibble partners of one
  /// 64-byte weight load (chunks 4R, 4R+2) are contiguous, then the high
  /// (4R+1, 4R+3).
  void storeInterleaved(Value v, Value dst, ValueRange pre, Value bi, int64_t e0,
                        bool wide = false) {
    Value base = iadd(imul(idiv(bi, c(8)), c(256)), imul(irem(bi, c(8)), c(4)));
    for (int64_t part = 0; part < 4; ++part) {
      Value run = vector::ExtractStridedSliceOp::create(b, loc, v, ArrayRef<int64_t>{part * 4},
                                                        ArrayRef<int64_t>{4}, ArrayRef<int64_t>{1});
      int64_t chunk = e0 / 4 + part;
      if (wide)
        chunk = (chunk & ~int64_t(3)) | ((chunk & 1) << 1) | ((chunk & 2) >> 1);
      vector::StoreOp::create(b, loc, run, dst, rowIdx(pre, iadd(base, c(32 * chunk))));
    }
  }

  /// Before the loops of an op that reads activation buffer x (last dim K)
  /// against weight w: with integer dot products, quantizes x once for
  /// every output's dot product; on the f32 path, permutes x for an
  /// interleaved int4 weight.
  /// Computes 16 activations of row `pre` from element k (a producer fused
  /// into the quantization, which also stores them to the buffer).
  using ActSource = std::function<Value(ValueRange pre, Value k)>;
  /// Whether prepareActs(x, w, K) quantizes x for integer dot products.
  bool quantizesActs(Value w, int64_t K) {
    return intDot != IntDot::None && K % 32 == 0 && quantViews.count(w);
  }
  /// With `src` (quantizesActs only), x is first computed by it, fused into
  /// the quantization's loop.
  void prepareActs(Value x, Value w, int64_t K, const ActSource &src = {}) {
    auto it = quantViews.find(w);
    if (it == quantViews.end() || K % 32 != 0)
      return;
    bool inter = it->second.interleaved;
    if (quantizesActs(w, K)) {
      if (!actQuant.count({x, inter}))
        actQuant[{x, inter}] = quantizeActs(x, K, inter, src);
      return;
    }
    if (inter && !permutedF32.count(x)) {
      Value xp = allocLike(x, K, b.getF32Type());
      forEachBlock(x, K, [&](ValueRange pre, Value blk) {
        Value k0 = imul(blk, c(32));
        storeInterleaved(vload(x, pre, k0, b.getF32Type()), xp, pre, blk, 0);
        storeInterleaved(vload(x, pre, iadd(k0, c(16)), b.getF32Type()), xp, pre, blk, 16);
      });
      permutedF32[x] = xp;
    }
  }

  QuantAct quantizeActs(Value x, int64_t K, bool interleaved, const ActSource &src = {}) {
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
    bool wide = interleaved && wideDot();
    QuantAct qa{allocLike(x, K, i8), allocLike(x, K / 32, f32), allocLike(x, K / 32, f32),
                interleaved ? allocLike(x, wide ? K / 16 : K / 32, i32) : Value()};
    auto vi32 = VectorType::get({VL}, i32), vi8 = VectorType::get({VL}, i8);
    forEachBlock(x, K, [&](ValueRange pre, Value blk) {
      Value k0 = imul(blk, c(32)), k1 = iadd(k0, c(16));
      Value x0, x1;
      if (src) {
        x0 = src(pre, k0);
        x1 = src(pre, k1);
        vector::StoreOp::create(b, loc, x0, x, rowIdx(pre, k0));
        vector::StoreOp::create(b, loc, x1, x, rowIdx(pre, k1));
      } else {
        x0 = vload(x, pre, k0, f32);
        x1 = vload(x, pre, k1, f32);
      }
      Value amax = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::MAXNUMF,
          arith::MaxNumFOp::create(b, loc, math::AbsFOp::create(b, loc, x0),
                                   math::AbsFOp::create(b, loc, x1)));
      Value d = div(amax, cf(127.0));
      Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, amax, cf(0.0));
      Value inv = arith::SelectOp::create(b, loc, pos, div(cf(127.0), amax), cf(0.0));
      auto quant = [&](Value xv, Value k, int64_t e0) {
        Value r = math::RoundEvenOp::create(b, loc, mul(xv, vsplat(inv)));
        Value qi = arith::FPToSIOp::create(b, loc, vi32, r);
        Value q8 = arith::TruncIOp::create(b, loc, vi8, qi);
        if (interleaved) {
          storeInterleaved(q8, qa.q, pre, blk, e0, wideDot());
        } else {
          vector::StoreOp::create(b, loc, q8, qa.q, rowIdx(pre, k));
        }
        return qi;
      };
      Value qs = arith::AddIOp::create(b, loc, quant(x0, k0, 0), quant(x1, k1, 16));
      Value qsum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, qs);
      SmallVector<Value> sIdx = rowIdx(pre, blk);
      store(d, qa.d, sIdx);
      store(mul(d, arith::SIToFPOp::create(b, loc, f32, qsum)), qa.cs, sIdx);
      if (wide) {
        // Both lanes of block j (j and j + 8 of the super-block's 16) start
        // at -4 sum(q); the lane fold adds them to -8 sum(q).
        Value half = imul(qsum, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-4)));
        Value lane = iadd(imul(idiv(blk, c(8)), c(16)), irem(blk, c(8)));
        store(half, qa.negSum8, rowIdx(pre, lane));
        store(half, qa.negSum8, rowIdx(pre, iadd(lane, c(8))));
      } else if (interleaved) {
        store(imul(qsum, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-8))), qa.negSum8,
              sIdx);
      }
    });
    return qa;
  }

  /// f32 dot products with an interleaved int4 weight (QuantLayout.h): per
  /// super-block of 8 blocks, each 32-byte load holds 4 + 4 elements of each
  /// block (lane group j = block j), so the products accumulate unscaled in
  /// two 16-lane vectors (blocks 0-3, 4-7) against the permuted activations
  /// and are scaled once per super-block by lane-expanded block scales.
  SmallVector<Value> interleavedF32Rows(const QuantView &qv, ValueRange wPre, int64_t K,
                                        ArrayRef<XRow> xs, ArrayRef<Value> xps, Value sb0 = {}) {
    Type f32 = b.getF32Type();
    size_t T = xs.size();
    bool sym = qv.attr.getSymmetric();
    auto expand = [&](Value v8, int64_t first) { // lanes 4i..4i+3 <- v8[first + i]
      SmallVector<int64_t> mask;
      for (int64_t i = 0; i < 16; ++i)
        mask.push_back(first + i / 4);
      return vector::ShuffleOp::create(b, loc, v8, v8, mask).getResult();
    };
    auto toF32 = [&](Value bytes16) -> Value {
      Value f = arith::UIToFPOp::create(b, loc, vf32(), bytes16);
      if (sym)
        f = arith::SubFOp::create(
            b, loc, f, arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vf32(), 8.0f)));
      return f;
    };
    SmallVector<Value> inits(T, vzero());
    auto accs = reduceStep(c(0), c(K / 256), c(1), inits, [&](Value sb, ValueRange acc) {
      // Per row: [A, B] products, then (asymmetric) [A, B] sums of x.
      SmallVector<Value> part(T * (sym ? 2 : 4), vzero());
      for (int64_t r = 0; r < 4; ++r) {
        auto [lo, hi] = interleavedNibbles(qv, wPre, sb, r);
        for (int64_t h = 0; h < 2; ++h) {
          Value nib = h ? hi : lo;
          for (int64_t half = 0; half < 2; ++half) {
            Value w16 = toF32(vector::ExtractStridedSliceOp::create(
                b, loc, nib, ArrayRef<int64_t>{half * 16}, ArrayRef<int64_t>{16}, ArrayRef<int64_t>{1}));
            for (size_t t = 0; t < T; ++t) {
              Value at = iadd(imul(sb0 ? iadd(sb, sb0) : sb, c(256)), c(64 * r + 32 * h + 16 * half));
              Value xv = vload(xps[t], xs[t].pre, at, f32);
              part[2 * t + half] = vfma(xv, w16, part[2 * t + half]);
              if (!sym)
                part[2 * T + 2 * t + half] =
                    arith::AddFOp::create(b, loc, part[2 * T + 2 * t + half], xv, fm());
            }
          }
        }
      }
      Value sw8 = superScales8(qv, wPre, sb);
      Value sA = expand(sw8, 0), sB = expand(sw8, 4);
      Value mA, mB;
      if (!sym) {
        Value mw8 = superScales8(qv, wPre, sb, /*mins=*/true);
        mA = expand(mw8, 0);
        mB = expand(mw8, 4);
      }
      SmallVector<Value> next;
      for (size_t t = 0; t < T; ++t) {
        Value a = vfma(part[2 * t + 1], sB, vfma(part[2 * t], sA, acc[t]));
        if (!sym)
          a = vfma(part[2 * T + 2 * t + 1], mB, vfma(part[2 * T + 2 * t], mA, a));
        next.push_back(a);
      }
      return next;
    });
    SmallVector<Value> out;
    for (Value a : accs)
      out.push_back(vreduce(a));
    return out;
  }

  /// acc + the 4-byte-group dot products of 32 weight bytes `w` with 32
  /// int8 activations `x` (lane i: sum_k w[4i+k] x[4i+k]), as 8 int32
  /// lanes: one vpdpbusd (w unsigned), or two NEON sdot on the 16-byte
  /// halves (w signed; the callers' nibbles 0..15 are both).
  Value dot4(Value acc, Value w, Value x) {
    auto accT = cast<VectorType>(acc.getType());
    if (intDot == IntDot::X86Vnni || intDot == IntDot::X86Vnni512)
      return LLVM::CallIntrinsicOp::create(
                 b, loc, accT,
                 b.getStringAttr(accT.getNumElements() == 16 ? "llvm.x86.avx512.vpdpbusd.512"
                                                             : "llvm.x86.avx512.vpdpbusd.256"),
                 ValueRange{acc, w, x})
          .getResult(0);
    auto v4i = VectorType::get({4}, b.getI32Type());
    auto half = [&](Value v, int64_t h, int64_t n) {
      return vector::ExtractStridedSliceOp::create(b, loc, v, ArrayRef<int64_t>{h * n},
                                                   ArrayRef<int64_t>{n}, ArrayRef<int64_t>{1})
          .getResult();
    };
    Value parts[2];
    for (int64_t h = 0; h < 2; ++h)
      parts[h] = LLVM::CallIntrinsicOp::create(b, loc, v4i,
                                               b.getStringAttr("llvm.aarch64.neon.sdot.v4i32.v16i8"),
                                               ValueRange{half(acc, h, 4), half(w, h, 16), half(x, h, 16)})
                     .getResult(0);
    return vector::ShuffleOp::create(b, loc, parts[0], parts[1], ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  }

  /// The integer dot with an interleaved int4 weight: per super-block, four
  /// 32-byte loads (two 64-byte loads with X86Vnni512) each give a low- and
  /// a high-nibble vector whose 4-byte lane j (mod 8) belongs to block j, so
  /// vpdpbusd accumulates the 8 blocks' dot products side by side in int32
  /// lanes (several accumulators, to hide the vpdpbusd latency); once per
  /// super-block the lanes are folded to 8, the symmetric offset -8 sum(q)
  /// is added as an integer, and the sums are converted and scaled by the 8
  /// block scales as one vector.
  /// K elements from super-block sb0 of the activations (K panels); the
  /// weight rows wPres hold K elements. Row r is of weight *rowViews[r]
  /// when given (several weights of the same quantization read side by
  /// side, as the MLP's gate and up), else of qv.
  SmallVector<Value> interleavedIntRows(const QuantView &qv, ArrayRef<SmallVector<Value>> wPres,
                                        int64_t K, ArrayRef<XRow> xs, ArrayRef<QuantAct> qas,
                                        Value sb0 = {}, ArrayRef<const QuantView *> rowViews = {}) {
    auto rowView = [&](size_t r) -> const QuantView & { return rowViews.empty() ? qv : *rowViews[r]; };
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
    bool wide = wideDot();
    int64_t bytes = wide ? 64 : 32, loads = 128 / bytes;
    auto v8f = VectorType::get({8}, f32), v8i = VectorType::get({8}, i32),
         vAcc = VectorType::get({bytes / 4}, i32), vBytes = VectorType::get({bytes}, i8);
    // Pair p = r * T + t: weight row r with activation row t.
    size_t R = wPres.size(), T = xs.size(), P = R * T;
    // int32 accumulators per pair: more than 4 pairs (two row tiles) fill
    // the registers with one each.
    size_t NI = P == 1 ? size_t(loads) : P > 4 ? 1 : 2;
    bool sym = qv.attr.getSymmetric();
    Value zero8f = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v8f, 0.0f));
    Value zeroAcc = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vAcc, int32_t(0)));
    // Scaled sums, then (asymmetric) the min corrections.
    SmallVector<Value> inits(sym ? P : 2 * P, zero8f);
    auto accs = reduceStep(c(0), c(K / 256), c(1), inits, [&](Value sb, ValueRange acc) {
      SmallVector<Value> ai(P * NI, zeroAcc);
      if (T == 1)
        for (size_t r = 0; r < wPres.size(); ++r) {
          const QuantView &v = rowView(r);
          if (v.tile > 1) { // an equal share of the tile super-block per row
            int64_t share = static_cast<int64_t>(::gemma4::quant::tileSuperBytes(v.attr.getSpec())) / v.tile;
            auto [t, rr] = tileOfRow(wPres[r].back(), v.tile);
            prefetchWeights(v.data, {t}, iadd(imul(sb, c(share * v.tile)), imul(rr, c(share))), share);
          } else {
            prefetchWeights(v.data, wPres[r], imul(sb, c(128)), 128);
          }
        }
      // Weight scales at block b0 of the row, activation ones at bx.
      Value sbx = sb0 ? iadd(sb, sb0) : sb;
      Value b0 = imul(sb, c(8)), bx = imul(sbx, c(8));
      if (sym) // the symmetric offset -8 sum(q) starts the block's lane
        for (size_t t = 0; t < T; ++t) {
          Value neg = vector::LoadOp::create(b, loc, vAcc, qas[t].negSum8,
                                             rowIdx(xs[t].pre, imul(sbx, c(bytes / 4))));
          for (size_t r = 0; r < R; ++r)
            ai[(r * T + t) * NI] = neg;
        }
      for (int64_t l = 0; l < loads; ++l) {
        SmallVector<std::pair<Value, Value>> nibs;
        for (size_t r = 0; r < wPres.size(); ++r)
          nibs.push_back(interleavedNibbles(rowView(r), wPres[r], sb, l, bytes));
        for (int64_t h = 0; h < 2; ++h)
          for (size_t t = 0; t < T; ++t) {
            Value xq = vector::LoadOp::create(
                b, loc, vBytes, qas[t].q,
                rowIdx(xs[t].pre, iadd(imul(sbx, c(256)), c(2 * bytes * l + bytes * h))));
            for (size_t r = 0; r < R; ++r) {
              size_t a = (r * T + t) * NI + static_cast<size_t>(2 * l + h) % NI;
              ai[a] = dot4(ai[a], h ? nibs[r].second : nibs[r].first, xq);
            }
          }
      }
      SmallVector<Value> next(acc.begin(), acc.end());
      for (size_t r = 0; r < R; ++r) {
        Value sw8 = superScales8(rowView(r), wPres[r], sb);
        Value mw8 = sym ? Value() : superScales8(rowView(r), wPres[r], sb, /*mins=*/true);
        for (size_t t = 0; t < T; ++t) {
          size_t p = r * T + t;
          Value sum = ai[p * NI];
          for (size_t u = 1; u < NI; ++u)
            sum = arith::AddIOp::create(b, loc, sum, ai[p * NI + u]);
          if (wide) // lanes j and j + 8 hold block j
            sum = arith::AddIOp::create(
                b, loc, vector::ShuffleOp::create(b, loc, sum, sum, ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}),
                vector::ShuffleOp::create(b, loc, sum, sum, ArrayRef<int64_t>{8, 9, 10, 11, 12, 13, 14, 15}));
          Value s8 = arith::MulFOp::create(b, loc, sw8, load8(qas[t].d, xs[t].pre, bx), fm());
          next[p] = vfma(arith::SIToFPOp::create(b, loc, v8f, sum), s8, next[p]);
          if (!sym)
            next[P + p] = vfma(mw8, load8(qas[t].cs, xs[t].pre, bx), next[P + p]);
        }
      }
      return next;
    });
    SmallVector<Value> out;
    for (size_t p = 0; p < P; ++p)
      out.push_back(sym ? vreduce(accs[p]) : add(vreduce(accs[p]), vreduce(accs[P + p])));
    return out;
  }

  /// Dot products of quantized weight rows with int8-quantized activation
  /// rows, one 32-element block per vpdpbusd. vpdpbusd multiplies unsigned
  /// by signed bytes, so the weights enter unsigned and the offset is
  /// removed with the activation block sums cs = d_x * sum(q_x):
  ///   int4 sym:  w = s (u - 8):   sum_b s d_x,b dot_b(u, q_x) - 8 s cs_b
  ///   int4 asym: w = s u + m:     sum_b s d_x,b dot_b(u, q_x) + m cs_b
  ///   int8:      w = s q, u = q + 128:  s (sum_b d_x,b dot_b(u, q_x) - 128 cs_b)
  /// (NEON sdot multiplies signed bytes: int8 weights enter as q, offset 0.)
  /// When the row has a multiple of 8 blocks and one scale per block (int8,
  /// int4 group 32), 8 blocks form a step: their weight scales, d_x and cs
  /// are loaded and combined as 8-lane vectors, and each block's scale is a
  /// lane broadcast, so the per-block scalar work is gone.
  SmallVector<Value> intDotRows(const QuantView &qv, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                ArrayRef<XRow> xs, ArrayRef<QuantAct> qas) {
    if (qv.interleaved)
      return interleavedIntRows(qv, wPres, K, xs, qas);
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
    auto v8f = VectorType::get({8}, f32), v8i = VectorType::get({8}, i32),
         v32i8 = VectorType::get({32}, i8), v16i8 = VectorType::get({16}, i8);
    auto splatI8 = [&](VectorType t, int8_t v) {
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(t, v));
    };
    // Pair p = r * T + t: weight row r with activation row t.
    size_t R = wPres.size(), T = xs.size(), P = R * T;
    bool int8 = qv.attr.getBits() == 8, sym = qv.attr.getSymmetric();
    // int8 weights enter vpdpbusd as q + 128 (unsigned); sdot takes q as is.
    double int8Offset = intDot == IntDot::ArmDotprod ? 0.0 : 128.0;
    int64_t nBlocks = K / 32;
    Value zero8f = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v8f, 0.0f));
    Value zero8i = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v8i, int32_t(0)));
    // Block bi of weight row r as 32 unsigned bytes.
    auto unsignedBlock = [&](size_t r, Value bi) -> Value {
      if (int8) {
        Value q = vector::LoadOp::create(b, loc, v32i8, qv.data, rowIdx(wPres[r], imul(bi, c(32))));
        if (int8Offset == 0)
          return q;
        return arith::XOrIOp::create(b, loc, q, splatI8(v32i8, int8_t(-128)));
      }
      Value bytes = vector::LoadOp::create(b, loc, v16i8, qv.data, rowIdx(wPres[r], imul(bi, c(16))));
      Value hi = arith::ShRUIOp::create(b, loc, bytes, splatI8(v16i8, 4));
      SmallVector<int64_t> mask;
      for (int64_t i = 0; i < 32; ++i)
        mask.push_back(i);
      Value both = vector::ShuffleOp::create(b, loc, bytes, hi, mask);
      return arith::AndIOp::create(b, loc, both, splatI8(v32i8, 15));
    };
    // Block bi of activation row t.
    auto actBlock = [&](size_t t, Value bi) -> Value {
      return vector::LoadOp::create(b, loc, v32i8, qas[t].q, rowIdx(xs[t].pre, imul(bi, c(32))));
    };
    // Accumulators: P vectors of scaled dot products, then P corrections
    // (vectors when chunked, scalars otherwise).
    bool chunked = (int8 || qv.group == 32) && nBlocks % 8 == 0;
    // With few pairs, U independent accumulators per pair keep the FMA
    // latency chain from bounding the loop (one FMA per block otherwise).
    size_t U = chunked ? std::max<size_t>(1, 4 / P) : 1;
    SmallVector<Value> inits(P, zero8f);
    inits.append(P, chunked ? zero8f : cf(0.0));
    inits.append(P * (U - 1), zero8f);
    SmallVector<Value> accs;
    if (chunked) {
      accs = reduceStep(c(0), c(nBlocks), c(8), inits, [&](Value b0, ValueRange acc) {
        SmallVector<Value> next(acc.begin(), acc.end()), s8(P);
        if (T == 1)
          for (const SmallVector<Value> &row : wPres)
            prefetchWeights(qv.data, row, imul(b0, c(int8 ? 32 : 16)), int8 ? 256 : 128);
        // Accumulator u of pair p.
        auto accIdx = [&](size_t p, size_t u) { return u == 0 ? p : 2 * P + p * (U - 1) + (u - 1); };
        SmallVector<Value> dx8, cs8;
        for (size_t t = 0; t < T; ++t) {
          dx8.push_back(load8(qas[t].d, xs[t].pre, b0));
          cs8.push_back(load8(qas[t].cs, xs[t].pre, b0));
        }
        for (size_t r = 0; r < R; ++r) {
          Value sw8, mw8;
          if (!int8) {
            sw8 = load8(qv.scales, wPres[r], b0);
            mw8 = sym ? sw8 : load8(qv.mins, wPres[r], b0); // sym: -8 applied at the end
          }
          for (size_t t = 0; t < T; ++t) {
            size_t p = r * T + t;
            s8[p] = int8 ? dx8[t] : arith::MulFOp::create(b, loc, sw8, dx8[t], fm()).getResult();
            next[P + p] = int8 ? arith::AddFOp::create(b, loc, next[P + p], cs8[t], fm()).getResult()
                               : vfma(mw8, cs8[t], next[P + p]);
          }
        }
        for (int64_t j = 0; j < 8; ++j) {
          Value bi = iadd(b0, c(j));
          SmallVector<Value> us, xq;
          for (size_t r = 0; r < R; ++r)
            us.push_back(unsignedBlock(r, bi));
          for (size_t t = 0; t < T; ++t)
            xq.push_back(actBlock(t, bi));
          for (size_t r = 0; r < R; ++r)
            for (size_t t = 0; t < T; ++t) {
              size_t p = r * T + t;
              Value lane = vector::ShuffleOp::create(b, loc, s8[p], s8[p], SmallVector<int64_t>(8, j));
              Value d = arith::SIToFPOp::create(b, loc, v8f, dot4(zero8i, us[r], xq[t]));
              size_t a = accIdx(p, static_cast<size_t>(j) % U);
              next[a] = vfma(d, lane, next[a]);
            }
        }
        return next;
      });
    } else {
      int64_t G = int8 ? 32 : qv.group, blocksPerGroup = G / 32;
      accs = reduceStep(c(0), c(K / G), c(1), inits, [&](Value g, ValueRange acc) {
        SmallVector<Value> sw(R), mw(R);
        if (!int8)
          for (size_t r = 0; r < R; ++r) {
            sw[r] = loadScaleF32(qv.scales, rowIdx(wPres[r], g));
            mw[r] = sym ? sw[r] : loadScaleF32(qv.mins, rowIdx(wPres[r], g));
          }
        SmallVector<Value> next(acc.begin(), acc.end());
        for (int64_t blk = 0; blk < blocksPerGroup; ++blk) {
          Value bi = iadd(imul(g, c(blocksPerGroup)), c(blk));
          SmallVector<Value> us, dx, cs, xq;
          for (size_t r = 0; r < R; ++r)
            us.push_back(unsignedBlock(r, bi));
          for (size_t t = 0; t < T; ++t) {
            dx.push_back(memref::LoadOp::create(b, loc, qas[t].d, rowIdx(xs[t].pre, bi)));
            cs.push_back(memref::LoadOp::create(b, loc, qas[t].cs, rowIdx(xs[t].pre, bi)));
            xq.push_back(actBlock(t, bi));
          }
          for (size_t r = 0; r < R; ++r)
            for (size_t t = 0; t < T; ++t) {
              size_t p = r * T + t;
              Value s = vector::BroadcastOp::create(b, loc, v8f, int8 ? dx[t] : mul(sw[r], dx[t]));
              Value d = arith::SIToFPOp::create(b, loc, v8f, dot4(zero8i, us[r], xq[t]));
              next[p] = vfma(d, s, next[p]);
              next[P + p] = add(next[P + p], int8 ? cs[t] : mul(mw[r], cs[t]));
            }
        }
        return next;
      });
    }
    SmallVector<Value> out;
    for (size_t r = 0; r < R; ++r) {
      Value rowScale;
      if (int8)
        rowScale = loadScaleF32(qv.scales, rowIdx(wPres[r], c(0)));
      for (size_t t = 0; t < T; ++t) {
        size_t p = r * T + t;
        Value sumAcc = accs[p];
        for (size_t u = 1; u < U; ++u)
          sumAcc = arith::AddFOp::create(b, loc, sumAcc, accs[2 * P + p * (U - 1) + (u - 1)], fm());
        Value res = vreduce(sumAcc);
        Value corr = chunked ? vreduce(accs[P + p]) : accs[P + p];
        if (int8)
          out.push_back(int8Offset == 0.0 ? mul(rowScale, res)
                                          : mul(rowScale, sub(res, mul(cf(int8Offset), corr))));
        else
          out.push_back(sym ? sub(res, mul(cf(8.0), corr)) : add(res, corr));
      }
    }
    return out;
  }

  /// Whether panelTile can run for weight `w` with K panels and these
  /// activation rows (their int8 or permuted f32 forms are prepared).
  bool panelDotReady(Value w, ArrayRef<XRow> xs) {
    const QuantView &qv = quantViews.find(w)->second;
    if (intDot != IntDot::None)
      return quantActsFor(qv, xs).size() == xs.size();
    return permutedActsFor(xs).size() == xs.size();
  }
  /// dotTile restricted to K panel `pc` of a panelled weight (result
  /// r * T + t): the panel's columns of rows wPres against the matching
  /// slice of the activations. Needs panelDotReady.
  SmallVector<Value> panelTile(Value w, ArrayRef<SmallVector<Value>> wPres, Value pc,
                               ArrayRef<XRow> xs) {
    const QuantView &qv = quantViews.find(w)->second;
    SmallVector<SmallVector<Value>> pres;
    for (const SmallVector<Value> &wPre : wPres) {
      SmallVector<Value> p{pc};
      p.append(wPre.begin(), wPre.end());
      pres.push_back(p);
    }
    Value sb0 = imul(pc, c(qv.panelK / 256));
    if (intDot != IntDot::None)
      return interleavedIntRows(qv, pres, qv.panelK, xs, quantActsFor(qv, xs), sb0);
    SmallVector<Value> xps = permutedActsFor(xs), out;
    for (const SmallVector<Value> &p : pres)
      llvm::append_range(out, interleavedF32Rows(qv, p, qv.panelK, xs, xps, sb0));
    return out;
  }

  Value dot(Value w, ValueRange wPre, int64_t K, Value x, ValueRange xPre) {
    return dotRows(w, wPre, K, {XRow{x, SmallVector<Value>(xPre.begin(), xPre.end())}})[0];
  }

  // ---- buffers ---------------------------------------------------------------
  /// A buffer for a tensor of type tensorTy whose dynamic dimensions are
  /// the token count: static when the function takes one token (decode),
  /// so the ops reading it see a one-token operand and take their
  /// matrix-vector paths.
  Value alloc(Type tensorTy) {
    auto t = cast<RankedTensorType>(tensorTy);
    SmallVector<Value> dyn;
    SmallVector<int64_t> shape(t.getShape());
    std::optional<int64_t> fixed = getConstantIntValue(tokens);
    for (int64_t i = 0; i < t.getRank(); ++i)
      if (t.isDynamicDim(i)) {
        if (fixed)
          shape[i] = *fixed;
        else
          dyn.push_back(tokens);
      }
    auto mt = MemRefType::get(shape, t.getElementType());
    Value m = memref::AllocOp::create(b, loc, mt, dyn, b.getI64IntegerAttr(64));
    allocs.push_back(m);
    return m;
  }
  /// The result buffer of `op`: the function's out-parameter for the
  /// returned value, else a fresh allocation.
  Value resultBuffer(Value result) {
    if (result == returned)
      return outArg;
    return alloc(result.getType());
  }
  /// For elementwise ops: reuse `in`'s buffer when `in` dies here.
  Value inPlaceOr(Value in, Value result) {
    if (result != returned && in.hasOneUse() && in.getDefiningOp() &&
        !isa<WeightOp>(in.getDefiningOp()) && ownsBuffer.contains(in))
      return buf[in];
    return resultBuffer(result);
  }
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

  // ---- shared emitters -------------------------------------------------------
  /// dst[prefix.., :] = rmsnorm(src[prefix.., :]) (* w) over the last dim.
  void rmsNormRow(Value src, ValueRange srcPre, Value dst, ValueRange dstPre,
                  int64_t D, Value w, float eps) {
    auto isF32 = [](Value m) { return cast<MemRefType>(m.getType()).getElementType().isF32(); };
    if (D % VL == 0 && isF32(src) && isF32(dst)) {
      // 16 lanes at a time: sum of squares, then scale (and weight) per vector.
      Type f32 = b.getF32Type();
      Value acc = reduceStep(c(0), c(D), c(VL), {vzero()}, [&](Value d, ValueRange a) {
        Value x = vload(src, srcPre, d, f32);
        return SmallVector<Value>{vfma(x, x, a[0])};
      })[0];
      Value mean = add(div(vreduce(acc), cf(D)), cf(eps));
      Value inv = vsplat(math::RsqrtOp::create(b, loc, mean));
      reduceStep(c(0), c(D), c(VL), {}, [&](Value d, ValueRange) {
        Value y = mul(vload(src, srcPre, d, f32), inv);
        if (w)
          y = mul(y, vloadWeight(w, {}, d));
        vector::StoreOp::create(b, loc, rnd(y), dst, rowIdx(dstPre, d));
        return SmallVector<Value>{};
      });
      markMap(lastLoop); // element d reads and writes element d only
      return;
    }
    auto idx = [&](ValueRange pre, Value i) {
      SmallVector<Value> v(pre.begin(), pre.end());
      v.push_back(i);
      return v;
    };
    Value ss = sum(c(D), [&](Value i) {
      Value x = load(src, idx(srcPre, i));
      return mul(x, x);
    });
    Value mean = add(div(ss, cf(D)), cf(eps));
    Value inv = math::RsqrtOp::create(b, loc, mean);
    loop(c(D), [&](Value i) {
      Value y = mul(load(src, idx(srcPre, i)), inv);
      if (w)
        y = mul(y, load(w, {i}));
      store(rnd(y), dst, idx(dstPre, i));
    });
  }

  /// cos and sin of RoPE angle i at position pos + t, [tokens, rotary dims]
  /// each, computed once per function for every (rope, position, head
  /// dim) and shared by all the layers and heads that rotate with it.
  struct RopeTable {
    Value cos, sin;
  };
  llvm::DenseMap<std::tuple<Attribute, Value, int64_t>, RopeTable> ropeTables;
  /// The table of `rope` for head dim D at positions pos + [0, tokens).
  /// Call at the top level of the function (it is built at the first call
  /// and must dominate every later use).
  RopeTable ropeTable(RopeAttr rope, Value pos, int64_t D) {
    auto key = std::make_tuple(Attribute(rope), pos, D);
    if (auto it = ropeTables.find(key); it != ropeTables.end())
      return it->second;
    int64_t R = rope.getRotaryDims();
    double theta = rope.getTheta().getValueAsDouble();
    auto tableTy = RankedTensorType::get({ShapedType::kDynamic, R}, b.getF32Type());
    RopeTable t{alloc(tableTy), alloc(tableTy)};
    parallel({tokens}, [&](ValueRange iv) {
      Value posF = arith::UIToFPOp::create(
          b, loc, b.getF32Type(),
          arith::IndexCastUIOp::create(b, loc, b.getI64Type(), iadd(pos, iv[0])));
      loop(c(R), [&](Value i) {
        // inv_freq_i = theta^(-2i/D), computed in f32 as transformers does.
        Value iF = arith::UIToFPOp::create(
            b, loc, b.getF32Type(), arith::IndexCastUIOp::create(b, loc, b.getI64Type(), i));
        Value expo = div(mul(iF, cf(2.0)), cf(D));
        Value invFreq = div(cf(1.0), math::PowFOp::create(b, loc, cf(theta), expo));
        Value ang = arith::MulFOp::create(b, loc, posF, invFreq);
        store(rnd(math::CosOp::create(b, loc, ang)), t.cos, {iv[0], i});
        store(rnd(math::SinOp::create(b, loc, ang)), t.sin, {iv[0], i});
      });
    }, rowGrain(8 * R));
    ropeTables[key] = t;
    return t;
  }
  /// In-place RoPE (rotate-half pairing) of buf[prefix.., :] for token t of
  /// table `tab` (ropeTable).
  void ropeRow(Value m, ValueRange pre, int64_t D, RopeAttr rope, const RopeTable &tab, Value t) {
    int64_t half = D / 2, R = rope.getRotaryDims();
    if (R == 0)
      return;
    auto at = [&](Value i) { return rowIdx(pre, i); };
    if (R % VL == 0 && cast<MemRefType>(m.getType()).getElementType().isF32()) {
      Type f32 = b.getF32Type();
      reduceStep(c(0), c(R), c(VL), {}, [&](Value i, ValueRange) {
        Value cs = vload(tab.cos, {t}, i, f32), sn = vload(tab.sin, {t}, i, f32);
        Value i2 = iadd(i, c(half));
        Value x1 = vload(m, pre, i, f32), x2 = vload(m, pre, i2, f32);
        vector::StoreOp::create(b, loc, rnd(sub(rnd(mul(x1, cs)), rnd(mul(x2, sn)))), m, at(i));
        vector::StoreOp::create(b, loc, rnd(add(rnd(mul(x2, cs)), rnd(mul(x1, sn)))), m, at(i2));
        return SmallVector<Value>{};
      });
      return;
    }
    loop(c(R), [&](Value i) {
      Value cs = load(tab.cos, {t, i}), sn = load(tab.sin, {t, i});
      Value i2 = iadd(i, c(half));
      Value x1 = load(m, at(i)), x2 = load(m, at(i2));
      store(rnd(sub(rnd(mul(x1, cs)), rnd(mul(x2, sn)))), m, at(i));
      store(rnd(add(rnd(mul(x2, cs)), rnd(mul(x1, sn)))), m, at(i2));
    });
  }
  /// In bf16 emulation, rounds an intermediate (f32 or a vector of f32) the
  /// way a bf16 tensor would be.
  Value rnd(Value v) {
    if (!bf16)
      return v;
    Type bf = b.getBF16Type();
    if (auto vt = dyn_cast<VectorType>(v.getType()))
      bf = VectorType::get(vt.getShape(), bf);
    return arith::ExtFOp::create(b, loc, v.getType(), arith::TruncFOp::create(b, loc, bf, v).getResult());
  }
  /// f32 constant v shaped like `like` (a scalar or a vector splat).
  Value cfLike(double v, Value like) {
    if (auto vt = dyn_cast<VectorType>(like.getType()))
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, static_cast<float>(v)));
    return cf(v);
  }
  /// GELU (tanh approximation) of a scalar or a vector, elementwise alike.
  Value geluTanh(Value g) {
    // 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
    Value g3 = mul(mul(g, g), g);
    Value inner = mul(cfLike(std::sqrt(2.0 / M_PI), g), add(g, mul(cfLike(0.044715, g), g3)));
    Value t = math::TanhOp::create(b, loc, inner);
    return mul(mul(cfLike(0.5, g), g), add(cfLike(1.0, g), t));
  }
  /// out[s, n] = sum_k x[s, k] * W[n, k]   (x, out: [S, K] / [S, N])
  /// Prefill tiling over tokens: parallel over (n < N, tiles of T tokens);
  /// a full tile runs tile(n, its T token indices), the last partial tile
  /// runs single(n, s) per token.
  void tokenTiles(int64_t N, Value S, int64_t T, function_ref<void(Value, ArrayRef<Value>)> tile,
                  function_ref<void(Value, Value)> single) {
    Value tiles = idiv(iadd(S, c(T - 1)), c(T));
    parallel({c(N), tiles}, [&](ValueRange iv) {
      Value n = iv[0], s0 = imul(iv[1], c(T));
      Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, iadd(s0, c(T)), S);
      auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        SmallVector<Value> toks;
        for (int64_t t = 0; t < T; ++t)
          toks.push_back(iadd(s0, c(t)));
        tile(n, toks);
      }
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
        loop(s0, S, [&](Value s) { single(n, s); });
      }
    });
  }
  /// Tokens per prefill register tile. 8 measured no faster than 4 for bf16
  /// weights on E2B (the x rows of 8 tokens outgrow L1; that needs K/N cache
  /// blocking, not a taller tile), and the integer paths keep several
  /// accumulators per row.
  static constexpr int64_t kPrefillTile = 4;
  static SmallVector<XRow> rowsOf(Value x, ArrayRef<Value> toks) {
    SmallVector<XRow> rows;
    for (Value t : toks)
      rows.push_back(XRow{x, {t}});
    return rows;
  }

  /// Weight rows per prefill register tile of a plain (float) weight:
  /// kRowTile rows x kPrefillTile tokens of accumulators, so each k step
  /// loads kRowTile weight and kPrefillTile activation vectors for their
  /// product's FMAs (a GEMM microkernel; one row per tile would load one
  /// activation vector per FMA).
  static constexpr int64_t kRowTile = 4;
  /// Whether `w` takes the row-tiled prefill kernel (plainTile).
  bool rowTiled(Value w, int64_t N, int64_t K) {
    return !quantViews.count(w) && K % VL == 0 && N % kRowTile == 0;
  }
  /// sum_k x_t[k] * W[n_r, k] for every weight row n_r and activation row
  /// x_t of a plain float weight: result r * T + t.
  SmallVector<Value> plainTile(Value w, ArrayRef<Value> ns, int64_t K, ArrayRef<XRow> xs) {
    size_t R = ns.size(), T = xs.size();
    SmallVector<Value> inits(R * T, vzero());
    auto accs = reduceStep(c(0), c(K), c(VL), inits, [&](Value k, ValueRange acc) {
      SmallVector<Value> xv, next(acc.begin(), acc.end());
      for (const XRow &x : xs)
        xv.push_back(vload(x.mem, x.pre, k, b.getF32Type()));
      for (size_t r = 0; r < R; ++r) {
        Value wv = vloadWeight(w, {ns[r]}, k);
        for (size_t t = 0; t < T; ++t)
          next[r * T + t] = vfma(xv[t], wv, next[r * T + t]);
      }
      return next;
    });
    SmallVector<Value> out;
    for (Value a : accs)
      out.push_back(vreduce(a));
    return out;
  }
  /// Prefill over (row tiles of kRowTile weight rows, token tiles):
  /// body(rows, tokens) for full token tiles and each leftover token.
  void rowTokenTiles(int64_t N, Value S, function_ref<void(ArrayRef<Value>, ArrayRef<Value>)> body) {
    auto rowsAt = [&](Value ng) {
      SmallVector<Value> ns;
      for (int64_t r = 0; r < kRowTile; ++r)
        ns.push_back(iadd(imul(ng, c(kRowTile)), c(r)));
      return ns;
    };
    tokenTiles(N / kRowTile, S, kPrefillTile,
               [&](Value ng, ArrayRef<Value> toks) { body(rowsAt(ng), toks); },
               [&](Value ng, Value s) { body(rowsAt(ng), {s}); });
  }

  /// Decode gate and up rows of interleaved int4 weights (same scheme, no
  /// K panels) as one register tile: their weight streams are read side by
  /// side, line by line, as a single matrix's 4 parts are, instead of the
  /// gate's rows in full and then the up's. False when they do not qualify.
  bool jointGateUp(Value wg, Value wu, ArrayRef<SmallVector<Value>> rows, int64_t K,
                   ArrayRef<XRow> xs, SmallVector<Value> &gates, SmallVector<Value> &ups) {
    auto ig = quantViews.find(wg), iu = quantViews.find(wu);
    if (ig == quantViews.end() || iu == quantViews.end() || intDot == IntDot::None || K % 256 != 0)
      return false;
    const QuantView &qg = ig->second, &qu = iu->second;
    if (!qg.interleaved || !qu.interleaved || qg.panels != 1 || qu.panels != 1 || qg.attr != qu.attr)
      return false;
    SmallVector<QuantAct> qas = quantActsFor(qg, xs);
    if (qas.size() != xs.size() || xs.size() != 1)
      return false;
    SmallVector<SmallVector<Value>> all;
    SmallVector<const QuantView *> views;
    for (const QuantView *q : {&qg, &qu})
      for (const SmallVector<Value> &r : rows) {
        all.push_back(r);
        views.push_back(q);
      }
    SmallVector<Value> outs = interleavedIntRows(qg, all, K, xs, qas, {}, views);
    gates.assign(outs.begin(), outs.begin() + rows.size());
    ups.assign(outs.begin() + rows.size(), outs.end());
    return true;
  }

  /// Rows per step of a decode matrix-vector product over N rows of K
  /// elements of each weight in ws (read side by side, as the MLP's gate and
  /// up): decodeRowTile weight streams in all, when N divides and dotTile
  /// shares activation loads for them, else 1.
  /// Row-tiled weights (QuantLayout.h) of one tile size: one whole tile of
  /// each per step, its rows one stream (decodeRowSet with `tiled`).
  int64_t decodeRows(ArrayRef<Value> ws, int64_t N, int64_t K, Value x) {
    if (int64_t T = commonTile(ws); T > 1) {
      for (Value w : ws)
        if (!rowTileable(w, K, {XRow{x, {}}}))
          return 1;
      return T;
    }
    int64_t R = decodeRowTile / static_cast<int64_t>(ws.size());
    if (R <= 1 || N % R != 0)
      return 1;
    for (Value w : ws)
      if (!rowTileable(w, K, {XRow{x, {}}}))
        return 1;
    return R;
  }
  /// The grain of a decode matrix-vector loop whose steps each read R rows
  /// of K weights of every weight in ws: enough steps that a chunk streams
  /// at least kDecodeChunkBytes, so a chunk claim (an atomic on a line all
  /// threads touch) stays a small part of it. Small matrices (E2B's
  /// per-layer projections: 512 bytes a step) then run on fewer threads
  /// instead of 16 threads claiming 1.5 KB each.
  static constexpr int64_t kDecodeChunkBytes = 16384;
  int64_t decodeGrain(ArrayRef<Value> ws, int64_t R, int64_t K) {
    int64_t bits = 0;
    for (Value w : ws) {
      if (auto it = quantViews.find(w); it != quantViews.end())
        bits += it->second.attr.getBits();
      else
        bits += cast<MemRefType>(w.getType()).getElementTypeBitWidth();
    }
    int64_t bytes = std::max<int64_t>(1, R * K * bits / 8);
    return std::max<int64_t>(1, (kDecodeChunkBytes + bytes - 1) / bytes);
  }
  /// The row tile every weight of ws has (QuantLayout.h), else 1.
  int64_t commonTile(ArrayRef<Value> ws) {
    int64_t T = 0;
    for (Value w : ws) {
      auto it = quantViews.find(w);
      int64_t t = it == quantViews.end() ? 1 : it->second.tile;
      if (T != 0 && t != T)
        return 1;
      T = t;
    }
    return T > 1 ? T : 1;
  }
  /// Step i's R rows of N of the weights ws: row i of each of the R equal
  /// parts of N rows (i, i + N/R, ...: R streams), or for row-tiled weights
  /// (commonTile(ws) == R) tile i's rows iR .. iR + R - 1 (one stream).
  SmallVector<SmallVector<Value>> decodeRowSet(ArrayRef<Value> ws, Value i, int64_t N, int64_t R) {
    bool tiled = R > 1 && commonTile(ws) == R;
    SmallVector<SmallVector<Value>> rows;
    for (int64_t r = 0; r < R; ++r) {
      if (tiled)
        rows.push_back({iadd(imul(i, c(R)), c(r))});
      else
        rows.push_back({r == 0 ? i : iadd(i, c(r * (N / R)))});
    }
    return rows;
  }
  /// out[s, n] = sum_k x[s, k] * W[n, k]   (x, out: [S, K] / [S, N])
  void matmulNT(Value x, Value w, Value out, int64_t N, int64_t K, Value S) {
    prepareActs(x, w, K);
    auto single = [&](Value n, Value s) { store(dot(w, {n}, K, x, {s}), out, {s, n}); };
    auto xTy = cast<MemRefType>(x.getType());
    if (!xTy.isDynamicDim(0) && xTy.getDimSize(0) == 1) {
      // Decode: R output features per step, from R equal parts of W.
      int64_t R = decodeRows({w}, N, K, x);
      auto qit = quantViews.find(w);
      if (qit != quantViews.end() && qit->second.panels > 1 && panelDotReady(w, {XRow{x, {c(0)}}})) {
        // K panels: each chunk of rows streams panel after panel (the
        // panel loop runs outside the chunk's rows once outlined), adding
        // each panel's partial sums to the output.
        int64_t P = qit->second.panels;
        parallel({c(N / R)}, [&](ValueRange iv) {
          Value lb = c(0), ub = c(P), one = c(1);
          auto f = scf::ForOp::create(b, loc, lb, ub, one);
          f->setAttr(kRangeOuterAttr, b.getUnitAttr());
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(f.getBody()->getTerminator());
          Value pc = f.getInductionVar();
          SmallVector<SmallVector<Value>> rows = decodeRowSet({w}, iv[0], N, R);
          SmallVector<Value> outs = panelTile(w, rows, pc, {XRow{x, {c(0)}}});
          Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, pc, c(0));
          for (int64_t r = 0; r < R; ++r) {
            Value prev = load(out, {c(0), rows[r][0]});
            store(arith::SelectOp::create(b, loc, first, outs[r], add(prev, outs[r])), out,
                  {c(0), rows[r][0]});
          }
        }, decodeGrain({w}, R, K));
        return;
      }
      parallel({c(N / R)}, [&](ValueRange iv) {
        SmallVector<SmallVector<Value>> rows = decodeRowSet({w}, iv[0], N, R);
        SmallVector<Value> outs = dotTile(w, rows, K, {XRow{x, {c(0)}}});
        for (int64_t r = 0; r < R; ++r)
          store(outs[r], out, {c(0), rows[r][0]});
      }, decodeGrain({w}, R, K));
      return;
    }
    if (rowTiled(w, N, K)) {
      rowTokenTiles(N, S, [&](ArrayRef<Value> ns, ArrayRef<Value> toks) {
        auto accs = plainTile(w, ns, K, rowsOf(x, toks));
        for (size_t r = 0; r < ns.size(); ++r)
          for (size_t t = 0; t < toks.size(); ++t)
            store(accs[r * toks.size() + t], out, {toks[t], ns[r]});
      });
      return;
    }
    // Prefill: output-feature-major so consecutive iterations share weight
    // row n, and register-tiled over tokens so each weight vector loaded
    // (and dequantised) feeds several FMAs (x rows stay in cache).
    tokenTiles(N, S, kPrefillTile, [&](Value n, ArrayRef<Value> toks) {
      auto accs = dotRows(w, {n}, K, rowsOf(x, toks));
      for (size_t t = 0; t < toks.size(); ++t)
        store(accs[t], out, {toks[t], n});
    }, single);
  }
  /// The first key position a query at position p sees: 0, or with a
  /// sliding window, max(0, p - window + 1) (keys j > p - window).
  Value firstVisibleKey(Value p, int64_t window) {
    if (window <= 0)
      return c(0);
    Value start = isub(iadd(p, c(1)), c(window));
    Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, start, c(0));
    return arith::SelectOp::create(b, loc, neg, c(0), start);
  }
  /// Online-softmax attention for query row (s, h) whose normalised, rotated
  /// query is q[s, h, :]; accumulates into out[s, h, :].
  void attendRow(Value q, Value kc, Value vc, Value out, Value s, Value h,
                 Value pos, int64_t D, int64_t group, int64_t window, float scale) {
    Value p = iadd(pos, s);
    Value kh = idiv(h, c(group));
    Value cap = dim(kc, 0);
    Value lo = firstVisibleKey(p, window);
    loop(c(D), [&](Value d) { store(cf(0.0), out, {s, h, d}); });
    auto res = reduce(lo, iadd(p, c(1)), {cf(-1e30), cf(0.0)}, [&](Value j, ValueRange acc) {
      Value row = irem(j, cap);
      Value score = sum(c(D), [&](Value d) {
        return mul(load(q, {s, h, d}), load(kc, {row, kh, d}));
      });
      if (scale != 1.0f)
        score = mul(score, cf(scale));
      Value mNew = arith::MaximumFOp::create(b, loc, acc[0], score);
      Value corr = math::ExpOp::create(b, loc, sub(acc[0], mNew));
      Value pe = math::ExpOp::create(b, loc, sub(score, mNew));
      loop(c(D), [&](Value d) {
        Value o = load(out, {s, h, d});
        store(add(mul(o, corr), mul(pe, load(vc, {row, kh, d}))), out, {s, h, d});
      });
      return SmallVector<Value>{mNew, add(mul(acc[1], corr), pe)};
    });
    Value invL = div(cf(1.0), res[1]);
    loop(c(D), [&](Value d) {
      store(mul(load(out, {s, h, d}), invL), out, {s, h, d});
    });
  }

  /// Decode attention splits the visible keys into at most kMaxKeyChunks
  /// chunks per KV head (work items for the thread pool), each of at least
  /// kMinKeyChunk keys (attendDecode).
  static constexpr int64_t kMaxKeyChunks = 32, kMinKeyChunk = 64;
  /// Query heads of one KV group whose dot products share a register pass.
  static constexpr int64_t kHeadTile = 8;
  /// Whether attendDecode handles this attention: one query token, a head
  /// dim of whole vectors, static head counts (the capacity may be dynamic:
  /// global layers' caches are sized by the run's context).
  bool canAttendDecode(Value query, Value kc, int64_t D) {
    auto qt = cast<MemRefType>(query.getType());
    auto kt = cast<MemRefType>(kc.getType());
    return !qt.isDynamicDim(0) && qt.getDimSize(0) == 1 && D % VL == 0 && !kt.isDynamicDim(1);
  }
  /// Decode attention (one query token at position `pos`), flash-decoding
  /// style: the visible keys split into up to kMaxKeyChunks chunks of at
  /// least kMinKeyChunk keys, one work item per (KV head, chunk), so a long
  /// context spreads over every thread even with a single KV head. A work
  /// item serves all the query heads of its KV group (GQA) at once, so each
  /// K and V row is read once per group instead of once per query head:
  ///   1. scores s[g, j] = scale * q_g . K_j, K_j loaded once per vector
  ///      for all heads g;
  ///   2. per head, the chunk's max m and exp-sum l (p = exp(s - m));
  ///   3. o_g = sum_j p[g, j] V_j, V vector-outer so each V line is loaded
  ///      once and the heads' accumulators stay in registers.
  /// A combine step per query head then rescales the chunks' (m, l, o) by
  /// exp(m_c - max m) and normalises.
  void attendDecode(Value q, Value kc, Value vc, Value out, Value pos, int64_t nh, int64_t D,
                    int64_t window, float scale) {
    auto kt = cast<MemRefType>(kc.getType());
    int64_t kvh = kt.getDimSize(1), G = nh / kvh;
    Value cap = dim(kc, 0);
    // Chunks per KV head and keys per chunk, at most (scratch sizes): a
    // dynamic capacity takes kMaxKeyChunks chunks of ceil(cap / that) keys.
    // A chunk's score row is padded to whole vectors (step 2 reads it 16 at
    // a time; the lanes past the chunk are masked off in registers).
    int64_t maxChunks = kMaxKeyChunks, scLen = ShapedType::kDynamic;
    Value maxChunkLen;
    if (!kt.isDynamicDim(0)) {
      int64_t n = kt.getDimSize(0);
      maxChunks = std::min(kMaxKeyChunks, (n + kMinKeyChunk - 1) / kMinKeyChunk);
      scLen = llvm::alignTo(std::max(kMinKeyChunk, (n + kMaxKeyChunks - 1) / kMaxKeyChunks), VL);
    } else {
      maxChunkLen = arith::MaxUIOp::create(b, loc, c(kMinKeyChunk),
                                           idiv(iadd(cap, c(kMaxKeyChunks - 1)), c(kMaxKeyChunks)));
      maxChunkLen = imul(idiv(iadd(maxChunkLen, c(VL - 1)), c(VL)), c(VL));
    }
    Type f32 = b.getF32Type();
    auto scratch = [&](ArrayRef<int64_t> shape, ValueRange dyn) {
      Value m = memref::AllocOp::create(b, loc, MemRefType::get(shape, f32), dyn,
                                        b.getI64IntegerAttr(64));
      allocs.push_back(m);
      return m;
    };
    Value part = scratch({nh, maxChunks, D}, {}), pm = scratch({nh, maxChunks}, {}),
          pl = scratch({nh, maxChunks}, {}),
          sc = scratch({kvh, maxChunks, G, scLen}, maxChunkLen ? SmallVector<Value>{maxChunkLen}
                                                               : SmallVector<Value>{});
    Value end = iadd(pos, c(1)), lo = firstVisibleKey(pos, window);
    Value len = isub(end, lo);
    Value chunkLen = arith::MaxUIOp::create(
        b, loc, c(kMinKeyChunk), idiv(iadd(len, c(kMaxKeyChunks - 1)), c(kMaxKeyChunks)));
    Value nChunks = idiv(iadd(len, isub(chunkLen, c(1))), chunkLen);
    auto vstore = [&](Value v, Value m, ArrayRef<Value> idx) {
      vector::StoreOp::create(b, loc, v, m, idx);
    };
    auto vmax = [&](Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y).getResult(); };
    // The chunk's keys [j0, j1) sit in ring rows j mod cap: at most two
    // runs of consecutive rows, so the key loops carry the row instead of
    // dividing per key (a division by the run's capacity on global layers).
    auto forKeys = [&](Value j0, Value j1, ValueRange inits,
                       function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
      Value r0 = irem(j0, cap);
      Value jw = arith::MinUIOp::create(b, loc, j1, iadd(j0, isub(cap, r0)));
      auto accs = reduce(j0, jw, inits, [&](Value j, ValueRange acc) {
        return body(j, iadd(r0, isub(j, j0)), acc);
      });
      return reduce(jw, j1, accs, [&](Value j, ValueRange acc) { return body(j, isub(j, jw), acc); });
    };
    auto maskTy = VectorType::get({VL}, b.getI1Type());
    parallel({c(kvh), nChunks}, [&](ValueRange iv) {
      Value kh = iv[0], ci = iv[1];
      Value j0 = iadd(lo, imul(ci, chunkLen));
      Value j1 = arith::MinUIOp::create(b, loc, iadd(j0, chunkLen), end);
      Value n = isub(j1, j0);
      for (int64_t g0 = 0; g0 < G; g0 += kHeadTile) {
        int64_t gn = std::min(kHeadTile, G - g0);
        SmallVector<Value> heads, gs;
        for (int64_t i = 0; i < gn; ++i) {
          gs.push_back(c(g0 + i));
          heads.push_back(iadd(imul(kh, c(G)), gs.back()));
        }
        SmallVector<Value> zeros(gn, vzero());
        // 1. Scores of this chunk's keys for the gn heads. Each K line read
        // also prefetches the V line at the same place: step 3 reads V a
        // few vectors of every key at a time, a pattern the hardware
        // prefetchers do not follow, and the cache rows are cold (a whole
        // token of weights streamed through the caches since).
        forKeys(j0, j1, {}, [&](Value j, Value row, ValueRange) {
          auto accs = reduceStep(c(0), c(D), c(VL), zeros, [&](Value d, ValueRange acc) {
            Value kv = vloadWeight(kc, {row, kh}, d);
            if (g0 == 0)
              memref::PrefetchOp::create(b, loc, vc, ValueRange{row, kh, d}, /*isWrite=*/false,
                                         /*localityHint=*/3, /*isDataCache=*/true);
            SmallVector<Value> next;
            for (int64_t i = 0; i < gn; ++i)
              next.push_back(vfma(vload(q, {c(0), heads[i]}, d, f32), kv, acc[i]));
            return next;
          });
          for (int64_t i = 0; i < gn; ++i)
            store(mul(vreduce(accs[i]), cf(scale)), sc, {kh, ci, gs[i], isub(j, j0)});
          return SmallVector<Value>{};
        });
        // 2. Chunk max and exp-sum per head, 16 scores at a time (lanes past
        // n, in the row's padding, are replaced by -1e30, whose exp is 0);
        // the scores become exp(s - m).
        for (int64_t i = 0; i < gn; ++i) {
          SmallVector<Value> rowPre{kh, ci, gs[i]};
          auto scores = [&](Value jj, Value mask) {
            return arith::SelectOp::create(b, loc, mask, vload(sc, rowPre, jj, f32), vsplat(cf(-1e30)))
                .getResult();
          };
          auto tailMask = [&](Value jj) {
            return vector::CreateMaskOp::create(b, loc, maskTy, ValueRange{isub(n, jj)}).getResult();
          };
          Value vm = reduceStep(c(0), n, c(VL), {vsplat(cf(-1e30))}, [&](Value jj, ValueRange acc) {
            return SmallVector<Value>{vmax(acc[0], scores(jj, tailMask(jj)))};
          })[0];
          Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, vm);
          Value vl = reduceStep(c(0), n, c(VL), {vzero()}, [&](Value jj, ValueRange acc) {
            Value mask = tailMask(jj);
            Value e = math::ExpOp::create(b, loc, sub(scores(jj, mask), vsplat(m)));
            vstore(e, sc, rowIdx(rowPre, jj)); // the masked lanes' exp is 0, in the padding
            return SmallVector<Value>{arith::AddFOp::create(b, loc, acc[0], e, fm()).getResult()};
          })[0];
          store(m, pm, {heads[i], ci});
          store(vreduce(vl), pl, {heads[i], ci});
        }
        // 3. Unnormalised outputs, db vectors of D at a time: the gn x db
        // accumulators stay in registers over the keys, each V line is
        // loaded once and each weight broadcast once per block.
        int64_t db = (D / VL) % 2 == 0 ? 2 : 1;
        reduceStep(c(0), c(D), c(db * VL), {}, [&](Value d, ValueRange) {
          SmallVector<Value> inits(gn * db, vzero());
          auto accs = forKeys(j0, j1, inits, [&](Value j, Value row, ValueRange acc) {
            SmallVector<Value> vv;
            for (int64_t k = 0; k < db; ++k)
              vv.push_back(vloadWeight(vc, {row, kh}, iadd(d, c(k * VL))));
            Value jj = isub(j, j0);
            SmallVector<Value> next;
            for (int64_t i = 0; i < gn; ++i) {
              Value p = vsplat(load(sc, {kh, ci, gs[i], jj}));
              for (int64_t k = 0; k < db; ++k)
                next.push_back(vfma(p, vv[k], acc[i * db + k]));
            }
            return next;
          });
          for (int64_t i = 0; i < gn; ++i)
            for (int64_t k = 0; k < db; ++k)
              vstore(accs[i * db + k], part, {heads[i], ci, iadd(d, c(k * VL))});
          return SmallVector<Value>{};
        });
      }
    });
    // Combine the chunks per query head.
    parallel({c(nh)}, [&](ValueRange iv) {
      Value h = iv[0];
      Value M = reduce(c(0), nChunks, {cf(-1e30)}, [&](Value ci, ValueRange acc) {
        return SmallVector<Value>{vmax(acc[0], load(pm, {h, ci}))};
      })[0];
      Value L = sum(nChunks, [&](Value ci) {
        Value w = math::ExpOp::create(b, loc, sub(load(pm, {h, ci}), M));
        store(w, pm, {h, ci});
        return mul(w, load(pl, {h, ci}));
      });
      Value invL = vsplat(div(cf(1.0), L));
      reduceStep(c(0), c(D), c(VL), {}, [&](Value d, ValueRange) {
        auto acc = reduce(c(0), nChunks, {vzero()}, [&](Value ci, ValueRange a) {
          return SmallVector<Value>{vfma(vsplat(load(pm, {h, ci})), vload(part, {h, ci}, d, f32), a[0])};
        });
        vstore(arith::MulFOp::create(b, loc, acc[0], invL, fm()), out, {c(0), h, d});
        return SmallVector<Value>{};
      });
    });
  }

  // ---- op lowerings ----------------------------------------------------------
  LogicalResult lower(Operation *op);

  /// The location of the loops lowering `op`: named after the op and its
  /// first weight ("linear:layers.0.self_attn.q_proj.weight"), so outlined
  /// parallel bodies, profiles and debuggers say what they compute.
  Location opLocation(Operation &op, Location base) {
    std::string label = op.getName().stripDialect().str();
    for (Value v : op.getOperands())
      if (auto w = v.getDefiningOp<WeightOp>()) {
        label += ":" + w.getName().str();
        break;
      }
    return NameLoc::get(b.getStringAttr(label), base);
  }

  func::FuncOp fn;
  OpBuilder b;
  Location loc, fnLoc;
  Value tokens, weightsArg, outArg, returned;
  llvm::DenseMap<Value, Value> buf;
  llvm::DenseSet<Value> ownsBuffer;
  SmallVector<Value> allocs;
  bool bf16 = false;
  IntDot intDot = IntDot::None;
  int64_t weightPrefetch = 0;
  /// Weight rows per decode matrix-vector step (decodeRows).
  int64_t decodeRowTile = 4;
  /// Vector accumulators a dot product with few rows x tokens spreads over.
  int64_t accumulators = 4;

  /// bf16 emulation: round every element of an activation buffer.
  void roundToBF16(Value m) {
    auto t = cast<MemRefType>(m.getType());
    if (!t.getElementType().isF32())
      return;
    SmallVector<Value> ubs;
    for (int64_t i = 0; i < t.getRank(); ++i)
      ubs.push_back(dim(m, i));
    parallel(ubs, [&](ValueRange iv) {
      Value x = memref::LoadOp::create(b, loc, m, iv);
      Value r = arith::TruncFOp::create(b, loc, b.getBF16Type(), x);
      store(arith::ExtFOp::create(b, loc, b.getF32Type(), r), m, iv);
    }, kElementGrain);
  }
};

LogicalResult FunctionLowering::lower(Operation *op) {
  auto S = [&]() { return tokens; };
  auto shapeOf = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };

  if (auto w = dyn_cast<WeightOp>(op)) {
    if (!w.getOffset())
      return w.emitOpError() << "has no offset: run gemma4-layout-weights first";
    auto t = w.getResult().getType();
    int64_t base = static_cast<int64_t>(*w.getOffset());
    if (QuantAttr q = getQuant(t)) {
      // Packed data, scales and mins at their QuantLayout.h offsets.
      int64_t K = t.getShape().back();
      int64_t rows = t.getNumElements() / K;
      ::gemma4::quant::Layout l = ::gemma4::quant::layout(q.getSpec(), rows, K);
      SmallVector<int64_t> dShape(t.getShape()), sShape(t.getShape());
      const int64_t PK = ::gemma4::quant::panelElems(q.getSpec(), K);
      dShape.back() = q.getBits() == 4 ? PK / 2 : PK;
      sShape.back() = PK / l.group;
      if (PK != K) { // K panels, panel-major (QuantLayout.h)
        dShape.insert(dShape.begin(), K / PK);
        sShape.insert(sShape.begin(), K / PK);
      }
      auto view = [&](ArrayRef<int64_t> shape, Type et, uint64_t off) -> Value {
        return memref::ViewOp::create(b, loc, MemRefType::get(shape, et), weightsArg,
                                      c(base + static_cast<int64_t>(off)), ValueRange{});
      };
      QuantView qv;
      qv.attr = q;
      qv.group = l.group;
      qv.interleaved = ::gemma4::quant::int4Interleaved(q.getSpec(), K);
      qv.panels = K / PK;
      qv.panelK = PK;
      qv.tile = std::max<int64_t>(1, q.getSpec().tile);
      if (qv.tile > 1) { // one stream (QuantLayout.h row tiles)
        int64_t perTile = static_cast<int64_t>(::gemma4::quant::tileSuperBytes(q.getSpec())) * (K / 256);
        qv.data = view({rows / qv.tile, perTile}, b.getI8Type(), l.dataOffset);
      } else {
        qv.data = view(dShape, b.getI8Type(), l.dataOffset);
        qv.scales = view(sShape, q.getScaleType(), l.scaleOffset);
        if (!q.getSymmetric())
          qv.mins = view(sShape, q.getScaleType(), l.minOffset);
      }
      quantViews[qv.data] = qv;
      set(w.getResult(), qv.data, false);
      return success();
    }
    auto mt = MemRefType::get(t.getShape(), t.getElementType());
    Value v = memref::ViewOp::create(b, loc, mt, weightsArg, c(base), ValueRange{});
    set(w.getResult(), v, false);
    return success();
  }
  if (auto v = dyn_cast<KVCacheViewOp>(op)) {
    Value ctx = buf.lookup(v.getContext()) ? buf.lookup(v.getContext()) : v.getContext();
    Value off = iadd(c(v.getOffset()), imul(c(v.getOffsetPerContext()), ctx));
    SmallVector<Value> sizes;
    if (static_cast<int64_t>(v.getCapacity()) < 0)
      sizes.push_back(ctx);
    Value m = memref::ViewOp::create(b, loc, v.getResult().getType(), get(v.getArena()), off, sizes);
    set(v.getResult(), m, false);
    return success();
  }
  if (auto e = dyn_cast<EmbeddingLookupOp>(op)) {
    Value table = get(e.getTable()), ids = get(e.getIds());
    Value out = resultBuffer(e.getResult());
    int64_t H = shapeOf(e.getResult())[1];
    int64_t V = shapeOf(e.getTable())[0];
    float scale = e.getScale().convertToFloat();
    parallel({S()}, [&](ValueRange iv) {
      Value id = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, ids, iv[0]));
      id = arith::MinUIOp::create(b, loc, id, c(V - 1));
      loop(c(H), [&](Value j) { store(mul(load(table, {id, j}), cf(scale)), out, {iv[0], j}); });
    }, rowGrain(H));
    set(e.getResult(), out);
    return success();
  }
  if (auto n = dyn_cast<RMSNormOp>(op)) {
    Value in = get(n.getInput());
    Value w = n.getWeight() ? get(n.getWeight()) : Value();
    Value out = inPlaceOr(n.getInput(), n.getResult());
    auto shape = shapeOf(n.getInput());
    int64_t D = shape.back();
    SmallVector<Value> ubs;
    for (int64_t i = 0; i + 1 < (int64_t)shape.size(); ++i)
      ubs.push_back(ShapedType::isDynamic(shape[i]) ? S() : c(shape[i]));
    float eps = n.getEpsilon().convertToFloat();
    if (ubs.empty())
      rmsNormRow(in, {}, out, {}, D, w, eps);
    else
      parallel(ubs, [&](ValueRange iv) { rmsNormRow(in, iv, out, iv, D, w, eps); }, rowGrain(D));
    set(n.getResult(), out);
    return success();
  }
  if (auto l = dyn_cast<LinearOp>(op)) {
    auto ws = shapeOf(l.getWeight());
    Value out = resultBuffer(l.getResult());
    matmulNT(get(l.getInput()), get(l.getWeight()), out, ws[0], ws[1], S());
    set(l.getResult(), out);
    return success();
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    Value in = get(r.getInput());
    auto inShape = shapeOf(r.getInput()), outShape = shapeOf(r.getResult());
    auto mt = MemRefType::get(outShape, b.getF32Type());
    Value m;
    if (inShape.size() == 2 && outShape.size() == 3)
      m = memref::ExpandShapeOp::create(b, loc, mt, in, ArrayRef<ReassociationIndices>{{0}, {1, 2}},
                                        ArrayRef<OpFoldResult>{ShapedType::isDynamic(outShape[0]) ? OpFoldResult(S()) : OpFoldResult(b.getIndexAttr(outShape[0])), b.getIndexAttr(outShape[1]),
                                                               b.getIndexAttr(outShape[2])});
    else if (inShape.size() == 3 && outShape.size() == 2)
      m = memref::CollapseShapeOp::create(b, loc, in, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    else if (inShape == outShape)
      m = in;
    else
      return r.emitOpError() << "reshape between these ranks is not lowered yet";
    buf[r.getResult()] = m; // aliases the input buffer
    return success();
  }
  if (auto rp = dyn_cast<RopeOp>(op)) {
    Value in = get(rp.getInput());
    Value out = inPlaceOr(rp.getInput(), rp.getResult());
    auto shape = shapeOf(rp.getInput());
    int64_t Hh = shape[1], D = shape[2];
    Value pos = rp.getPositionBase();
    RopeTable tab = ropeTable(rp.getRope(), pos, D);
    parallel({S(), c(Hh)}, [&](ValueRange iv) {
      if (out != in)
        loop(c(D), [&](Value d) { store(load(in, {iv[0], iv[1], d}), out, {iv[0], iv[1], d}); });
      ropeRow(out, iv, D, rp.getRope(), tab, iv[0]);
    }, rowGrain(D));
    set(rp.getResult(), out);
    return success();
  }
  if (auto u = dyn_cast<KVCacheUpdateOp>(op)) {
    Value k = get(u.getKey()), v = get(u.getValue());
    Value kc = get(u.getKeyCache()), vc = get(u.getValueCache());
    auto shape = shapeOf(u.getKey());
    Value pos = u.getPositionBase();
    Value cap = dim(kc, 0);
    parallel({S(), c(shape[1])}, [&](ValueRange iv) {
      Value row = irem(iadd(pos, iv[0]), cap);
      loop(c(shape[2]), [&](Value d) {
        store(load(k, {iv[0], iv[1], d}), kc, {row, iv[1], d});
        store(load(v, {iv[0], iv[1], d}), vc, {row, iv[1], d});
      });
    }, rowGrain(shape[2]));
    return success();
  }
  if (auto a = dyn_cast<AttentionOp>(op)) {
    Value q = get(a.getQuery());
    Value out = resultBuffer(a.getResult());
    auto shape = shapeOf(a.getQuery());
    int64_t nh = shape[1], D = shape[2];
    int64_t kvh = cast<ShapedType>(a.getKeyCache().getType()).getDimSize(1);
    if (canAttendDecode(q, get(a.getKeyCache()), D)) {
      attendDecode(q, get(a.getKeyCache()), get(a.getValueCache()), out, a.getPositionBase(), nh, D,
                   a.getSlidingWindow(), a.getScale().convertToFloat());
      set(a.getResult(), out);
      return success();
    }
    parallel({S(), c(nh)}, [&](ValueRange iv) {
      attendRow(q, get(a.getKeyCache()), get(a.getValueCache()), out, iv[0], iv[1],
                a.getPositionBase(), D, nh / kvh, a.getSlidingWindow(),
                a.getScale().convertToFloat());
    });
    set(a.getResult(), out);
    return success();
  }
  if (auto fa = dyn_cast<FusedAttentionOp>(op)) {
    auto shape = shapeOf(fa.getQuery());
    int64_t nh = shape[1], D = shape[2];
    int64_t kvh = cast<ShapedType>(fa.getKeyCache().getType()).getDimSize(1);
    float eps = fa.getEpsilon().convertToFloat();
    Value kc = get(fa.getKeyCache()), vc = get(fa.getValueCache());
    Value pos = fa.getPositionBase();
    RopeTable tab = ropeTable(fa.getRope(), pos, D);
    if (fa.getKey()) {
      // K: norm + RoPE straight into the cache row; V: scale-free norm.
      Value k = get(fa.getKey()), v = get(fa.getValue()), kn = get(fa.getKeyNorm());
      Value cap = dim(kc, 0);
      parallel({S(), c(kvh)}, [&](ValueRange iv) {
        Value p = iadd(pos, iv[0]);
        Value row = irem(p, cap);
        rmsNormRow(k, iv, kc, {row, iv[1]}, D, kn, eps);
        ropeRow(kc, {row, iv[1]}, D, fa.getRope(), tab, iv[0]);
        rmsNormRow(v, iv, vc, {row, iv[1]}, D, Value(), eps);
      }, rowGrain(2 * D));
    }
    // Q: norm + RoPE in place (the raw projection dies here), then attend.
    Value q = get(fa.getQuery());
    Value qn = inPlaceOr(fa.getQuery(), fa.getQuery());
    Value out = resultBuffer(fa.getResult());
    Value qNorm = get(fa.getQueryNorm());
    if (canAttendDecode(q, kc, D)) {
      parallel({S(), c(nh)}, [&](ValueRange iv) {
        rmsNormRow(q, iv, qn, iv, D, qNorm, eps);
        ropeRow(qn, iv, D, fa.getRope(), tab, iv[0]);
      }, rowGrain(D));
      attendDecode(qn, kc, vc, out, pos, nh, D, fa.getSlidingWindow(),
                   fa.getScale().convertToFloat());
      set(fa.getResult(), out);
      return success();
    }
    parallel({S(), c(nh)}, [&](ValueRange iv) {
      rmsNormRow(q, iv, qn, iv, D, qNorm, eps);
      ropeRow(qn, iv, D, fa.getRope(), tab, iv[0]);
      attendRow(qn, kc, vc, out, iv[0], iv[1], pos, D, nh / kvh, fa.getSlidingWindow(),
                fa.getScale().convertToFloat());
    });
    set(fa.getResult(), out);
    return success();
  }
  if (auto g = dyn_cast<GeluMulOp>(op)) {
    Value gate = get(g.getGate()), up = get(g.getUp());
    Value out = inPlaceOr(g.getGate(), g.getResult());
    int64_t N = shapeOf(g.getGate())[1];
    parallel({S(), c(N)}, [&](ValueRange iv) {
      store(mul(rnd(geluTanh(load(gate, iv))), load(up, iv)), out, iv);
    }, kElementGrain);
    set(g.getResult(), out);
    return success();
  }
  if (auto m = dyn_cast<MLPOp>(op)) {
    Value x = get(m.getInput());
    auto gs = shapeOf(m.getGateWeight());
    int64_t I = gs[0], H = gs[1];
    auto tmpTy = RankedTensorType::get({ShapedType::kDynamic, I}, b.getF32Type());
    Value gbuf = alloc(tmpTy);
    Value wg = get(m.getGateWeight()), wu = get(m.getUpWeight()), wd = get(m.getDownWeight());
    prepareActs(x, wg, H);
    prepareActs(x, wu, H);
    auto act = [&](Value gate, Value up) { return rnd(mul(rnd(geluTanh(rnd(gate))), rnd(up))); };
    auto single = [&](Value i, Value s) {
      store(act(dot(wg, {i}, H, x, {s}), dot(wu, {i}, H, x, {s})), gbuf, {s, i});
    };
    auto xTy = cast<MemRefType>(x.getType());
    bool decode = !xTy.isDynamicDim(0) && xTy.getDimSize(0) == 1;
    if (decode) {
      // The matrix-vector loop stores the raw gate and up dot products; the
      // activation runs after it on 16-lane vectors, fused into the down
      // projection's activation quantization when it has one. A scalar GELU
      // per output row in the loop's tail costs a one-core decode a fifth
      // of the gate/up time.
      bool vec = I % VL == 0;
      Value ubuf = vec ? alloc(tmpTy) : Value();
      int64_t R = decodeRows({wg, wu}, I, H, x);
      parallel({c(I / R)}, [&](ValueRange iv) {
        SmallVector<SmallVector<Value>> rows = decodeRowSet({wg, wu}, iv[0], I, R);
        SmallVector<XRow> xr{XRow{x, {c(0)}}};
        SmallVector<Value> gates, ups;
        if (!jointGateUp(wg, wu, rows, H, xr, gates, ups)) {
          gates = dotTile(wg, rows, H, xr);
          ups = dotTile(wu, rows, H, xr);
        }
        for (int64_t r = 0; r < R; ++r) {
          if (vec) {
            store(gates[r], gbuf, {c(0), rows[r][0]});
            store(ups[r], ubuf, {c(0), rows[r][0]});
          } else {
            store(act(gates[r], ups[r]), gbuf, {c(0), rows[r][0]});
          }
        }
      }, decodeGrain({wg, wu}, R, H));
      if (vec) {
        auto src = [&](ValueRange pre, Value k) {
          return act(vload(gbuf, pre, k, b.getF32Type()), vload(ubuf, pre, k, b.getF32Type()));
        };
        if (quantizesActs(wd, I)) {
          prepareActs(gbuf, wd, I, src);
        } else {
          loop(c(I / VL), [&](Value v) {
            Value k = imul(v, c(VL));
            vector::StoreOp::create(b, loc, src({c(0)}, k), gbuf, rowIdx({c(0)}, k));
          });
        }
      }
    } else if (rowTiled(wg, I, H) && rowTiled(wu, I, H)) {
      // Prefill, float weights: row x token tiles like matmulNT.
      rowTokenTiles(I, S(), [&](ArrayRef<Value> is, ArrayRef<Value> toks) {
        SmallVector<XRow> rows = rowsOf(x, toks);
        auto gates = plainTile(wg, is, H, rows), ups = plainTile(wu, is, H, rows);
        for (size_t r = 0; r < is.size(); ++r)
          for (size_t t = 0; t < toks.size(); ++t)
            store(act(gates[r * toks.size() + t], ups[r * toks.size() + t]), gbuf, {toks[t], is[r]});
      });
    } else {
      // Prefill: gate and up rows register-tiled over tokens like matmulNT.
      tokenTiles(I, S(), kPrefillTile, [&](Value i, ArrayRef<Value> toks) {
        SmallVector<XRow> rows = rowsOf(x, toks);
        auto gates = dotRows(wg, {i}, H, rows), ups = dotRows(wu, {i}, H, rows);
        for (size_t t = 0; t < toks.size(); ++t)
          store(act(gates[t], ups[t]), gbuf, {toks[t], i});
      }, single);
    }
    Value out = resultBuffer(m.getResult());
    matmulNT(gbuf, wd, out, H, I, S());
    set(m.getResult(), out);
    return success();
  }
  if (auto r = dyn_cast<RouterOp>(op)) {
    Value x = get(r.getInput());
    Value rw = get(r.getRouterWeight()), rs = get(r.getRouterScale()),
          pes = get(r.getPerExpertScale());
    auto rws = shapeOf(r.getRouterWeight());
    int64_t E = rws[0], H = rws[1], K = r.getTopK();
    float eps = r.getEpsilon().convertToFloat();
    Value z = alloc(RankedTensorType::get({ShapedType::kDynamic, H}, b.getF32Type()));
    Value probs = alloc(RankedTensorType::get({ShapedType::kDynamic, E}, b.getF32Type()));
    auto idxTy = cast<RankedTensorType>(r.getExperts().getType());
    Value experts = resultBuffer(r.getExperts());
    Value weights = resultBuffer(r.getWeights());
    (void)idxTy;
    float rootSize = static_cast<float>(std::pow((double)H, -0.5));
    parallel({S()}, [&](ValueRange iv) {
      Value s = iv[0];
      rmsNormRow(x, {s}, z, {s}, H, Value(), eps);
      loop(c(H), [&](Value j) {
        store(mul(mul(load(z, {s, j}), load(rs, {j})), cf(rootSize)), z, {s, j});
      });
      // logits, then softmax over experts
      loop(c(E), [&](Value e) {
        store(dot(rw, {e}, H, z, {s}), probs, {s, e});
      });
      Value mx = reduce(c(0), c(E), {cf(-1e30)}, [&](Value e, ValueRange acc) {
                   return SmallVector<Value>{arith::MaximumFOp::create(b, loc, acc[0], load(probs, {s, e}))};
                 })[0];
      Value tot = sum(c(E), [&](Value e) {
        Value ex = math::ExpOp::create(b, loc, sub(load(probs, {s, e}), mx));
        store(ex, probs, {s, e});
        return ex;
      });
      Value invTot = div(cf(1.0), tot);
      loop(c(E), [&](Value e) { store(mul(load(probs, {s, e}), invTot), probs, {s, e}); });
      // top-k by repeated argmax (lowest index wins ties), taken entries -> -1
      Value ksum = reduce(c(0), c(K), {cf(0.0)}, [&](Value kk, ValueRange acc) {
        auto best = reduce(c(0), c(E), {cf(-2.0), c(0)}, [&](Value e, ValueRange a2) {
          Value pv = load(probs, {s, e});
          Value gt = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, pv, a2[0]);
          return SmallVector<Value>{arith::SelectOp::create(b, loc, gt, pv, a2[0]),
                                    arith::SelectOp::create(b, loc, gt, e, a2[1])};
        });
        store(cf(-1.0), probs, {s, best[1]});
        store(arith::IndexCastOp::create(b, loc, b.getI32Type(), best[1]), experts, {s, kk});
        store(best[0], weights, {s, kk});
        return SmallVector<Value>{add(acc[0], best[0])};
      })[0];
      Value invK = div(cf(1.0), ksum);
      loop(c(K), [&](Value kk) {
        Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, experts, ValueRange{s, kk}));
        store(mul(mul(load(weights, {s, kk}), invK), load(pes, {e})), weights, {s, kk});
      });
    });
    set(r.getExperts(), experts);
    set(r.getWeights(), weights);
    return success();
  }
  if (auto x = dyn_cast<ExpertFFNOp>(op)) {
    Value in = get(x.getInput()), experts = get(x.getExperts()), weights = get(x.getWeights());
    Value gu = get(x.getGateUpWeight()), down = get(x.getDownWeight());
    auto ds = shapeOf(x.getDownWeight());
    int64_t H = ds[1], Ie = ds[2];
    int64_t K = shapeOf(x.getExperts())[1];
    int64_t E = shapeOf(x.getDownWeight())[0];
    auto f32 = b.getF32Type();
    Value act = alloc(RankedTensorType::get({ShapedType::kDynamic, K, Ie}, f32));
    Value out = resultBuffer(x.getResult());
    auto expertOf = [&](Value s, Value kk) {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                        memref::LoadOp::create(b, loc, experts, ValueRange{s, kk}));
    };
    // act[s, kk, :] = gelu(gate_e x_s) * (up_e x_s) for e = experts[s, kk].
    auto gateUp = [&](Value s, Value kk, Value e, Value i) {
      Value gate = dot(gu, {e, i}, H, in, {s}), up = dot(gu, {e, iadd(i, c(Ie))}, H, in, {s});
      store(mul(geluTanh(gate), up), act, {s, kk, i});
    };
    /// Runs `body` when experts[s, kk] == e.
    auto ifRouted = [&](Value s, Value kk, Value e, function_ref<void()> body) {
      Value hit = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, expertOf(s, kk), e);
      auto ifOp = scf::IfOp::create(b, loc, hit, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      body();
    };
    auto shapeIn = cast<ShapedType>(x.getInput().getType());
    prepareActs(in, gu, H);
    if (!shapeIn.isDynamicDim(0) && shapeIn.getDimSize(0) == 1) {
      // Decode: one token, parallel over its k experts' rows, then over outputs.
      parallel({S(), c(K), c(Ie)}, [&](ValueRange iv) {
        gateUp(iv[0], iv[1], expertOf(iv[0], iv[1]), iv[2]);
      });
      prepareActs(act, down, Ie);
      parallel({S(), c(H)}, [&](ValueRange iv) {
        Value s = iv[0], j = iv[1];
        Value y = sum(c(K), [&](Value kk) {
          Value e = expertOf(s, kk);
          Value d = dot(down, {e, j}, Ie, act, {s, kk});
          return mul(load(weights, {s, kk}), d);
        });
        store(y, out, {s, j});
      });
    } else {
      // Prefill: expert-major. Each expert gathers the (token, slot) pairs
      // routed to it and streams its weights once for all of them; outputs
      // go to per-slot partials, then a scatter-add sums the k slots.
      Value partial = alloc(RankedTensorType::get({ShapedType::kDynamic, K, H}, f32));
      parallel({c(E), c(Ie)}, [&](ValueRange iv) {
        Value e = iv[0], i = iv[1];
        loop(S(), [&](Value s) {
          loop(c(K), [&](Value kk) { ifRouted(s, kk, e, [&] { gateUp(s, kk, e, i); }); });
        });
      });
      prepareActs(act, down, Ie);
      parallel({c(E), c(H)}, [&](ValueRange iv) {
        Value e = iv[0], j = iv[1];
        loop(S(), [&](Value s) {
          loop(c(K), [&](Value kk) {
            ifRouted(s, kk, e, [&] {
              Value d = dot(down, {e, j}, Ie, act, {s, kk});
              store(mul(load(weights, {s, kk}), d), partial, {s, kk, j});
            });
          });
        });
      });
      parallel({S(), c(H)}, [&](ValueRange iv) {
        Value s = iv[0], j = iv[1];
        store(sum(c(K), [&](Value kk) { return load(partial, {s, kk, j}); }), out, {s, j});
      });
    }
    set(x.getResult(), out);
    return success();
  }
  if (auto p = dyn_cast<PerLayerInputsOp>(op)) {
    Value ids = get(p.getIds()), h = get(p.getHidden()), table = get(p.getTable()),
          pw = get(p.getProjectionWeight()), nw = get(p.getNormWeight());
    auto rs = shapeOf(p.getResult());
    int64_t NL = rs[1], P = rs[2];
    int64_t H = shapeOf(p.getHidden())[1];
    int64_t Vp = shapeOf(p.getTable())[0];
    float eps = p.getEpsilon().convertToFloat();
    float ts = p.getTableScale().convertToFloat(), ps = p.getProjectionScale().convertToFloat();
    Value out = resultBuffer(p.getResult());
    // projection, scaled, written as [S, L, P]
    prepareActs(h, pw, H);
    parallel({S(), c(NL), c(P)}, [&](ValueRange iv) {
      Value n = iadd(imul(iv[1], c(P)), iv[2]);
      Value acc = dot(pw, {n}, H, h, {iv[0]});
      store(mul(acc, cf(ps)), out, {iv[0], iv[1], iv[2]});
    });
    parallel({S(), c(NL)}, [&](ValueRange iv) {
      Value s = iv[0], l = iv[1];
      rmsNormRow(out, {s, l}, out, {s, l}, P, nw, eps);
      Value id = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, ids, s));
      id = arith::MinUIOp::create(b, loc, id, c(Vp - 1));
      loop(c(P), [&](Value j) {
        Value tok = mul(load(table, {id, iadd(imul(l, c(P)), j)}), cf(ts));
        store(mul(add(load(out, {s, l, j}), tok), cf(1.0 / std::sqrt(2.0))), out, {s, l, j});
      });
    }, rowGrain(2 * P));
    set(p.getResult(), out);
    return success();
  }
  if (auto ls = dyn_cast<LayerSliceOp>(op)) {
    Value in = get(ls.getInput());
    int64_t P = shapeOf(ls.getResult())[1];
    Value out = resultBuffer(ls.getResult());
    Value l = c(ls.getLayer());
    parallel({S()}, [&](ValueRange iv) {
      loop(c(P), [&](Value j) { store(load(in, {iv[0], l, j}), out, {iv[0], j}); });
    }, rowGrain(P));
    set(ls.getResult(), out);
    return success();
  }
  // Elementwise ops over [S, N] or [S, A, B].
  auto elementwise = [&](Value result, Value first, function_ref<Value(ValueRange)> f) {
    Value out = inPlaceOr(first, result);
    auto shape = shapeOf(result);
    SmallVector<Value> ubs{S()};
    for (int64_t i = 1; i < (int64_t)shape.size(); ++i)
      ubs.push_back(c(shape[i]));
    parallel(ubs, [&](ValueRange iv) { store(f(iv), out, iv); }, kElementGrain);
    set(result, out);
  };
  if (auto a = dyn_cast<AddOp>(op)) {
    Value x = get(a.getLhs()), y = get(a.getRhs());
    elementwise(a.getResult(), a.getLhs(), [&](ValueRange iv) { return add(load(x, iv), load(y, iv)); });
    return success();
  }
  if (auto sc = dyn_cast<ScaleOp>(op)) {
    Value x = get(sc.getInput());
    Value factor = cf(sc.getFactor().convertToFloat());
    if (sc.getScalar()) {
      Value sm = get(sc.getScalar());
      auto st = cast<MemRefType>(sm.getType());
      SmallVector<Value> zeros(st.getRank(), c(0));
      factor = mul(factor, load(sm, zeros));
    }
    elementwise(sc.getResult(), sc.getInput(), [&](ValueRange iv) { return mul(load(x, iv), factor); });
    return success();
  }
  if (auto sc = dyn_cast<SoftcapOp>(op)) {
    Value x = get(sc.getInput());
    float cap = sc.getCap().convertToFloat();
    elementwise(sc.getResult(), sc.getInput(), [&](ValueRange iv) {
      return mul(cf(cap), math::TanhOp::create(b, loc, div(load(x, iv), cf(cap))));
    });
    return success();
  }
  return op->emitOpError() << "has no lowering to loops";
}

LogicalResult FunctionLowering::run() {
  FunctionType oldTy = fn.getFunctionType();
  if (oldTy.getNumInputs() != 5 || oldTy.getNumResults() != 1)
    return fn.emitOpError() << "is not a gemma4 entry point (ids, position, kv_arena, context, weights) -> logits";
  auto idsT = cast<RankedTensorType>(oldTy.getInput(0));
  auto logitsT = cast<RankedTensorType>(oldTy.getResult(0));
  auto idsM = MemRefType::get(idsT.getShape(), idsT.getElementType());
  auto logitsM = MemRefType::get(logitsT.getShape(), logitsT.getElementType());
  SmallVector<Type> ins{idsM, oldTy.getInput(1), oldTy.getInput(2), oldTy.getInput(3),
                        oldTy.getInput(4), logitsM};
  b.setInsertionPoint(fn);
  auto nf = func::FuncOp::create(b, fn.getLoc(), fn.getName(), b.getFunctionType(ins, {}));
  Block *entry = nf.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Block &old = fn.getBody().front();
  set(old.getArgument(0), entry->getArgument(0), false);
  for (int i = 1; i < 5; ++i)
    buf[old.getArgument(i)] = entry->getArgument(i);
  weightsArg = entry->getArgument(4);
  outArg = entry->getArgument(5);
  auto ret = cast<func::ReturnOp>(old.getTerminator());
  returned = ret.getOperand(0);
  tokens = dim(entry->getArgument(0), 0);

  // position/context scalars are used directly by the ops below.
  for (Operation &op : old.without_terminator()) {
    // Ops take index operands (position, context) as the new block args.
    for (OpOperand &operand : op.getOpOperands())
      if (auto ba = dyn_cast<BlockArgument>(operand.get()); ba && ba.getOwner() == &old &&
                                                            isa<IndexType>(ba.getType()))
        operand.set(entry->getArgument(ba.getArgNumber()));
    actQuant.clear(); // an activation buffer's contents change between ops
    permutedF32.clear();
    loc = opLocation(op, fnLoc);
    if (failed(lower(&op)))
      return failure();
    if (bf16 && !isa<WeightOp, KVCacheViewOp, ReshapeOp>(op))
      for (Value r : op.getResults())
        if (auto it = buf.find(r); it != buf.end())
          roundToBF16(it->second);
    // KV caches hold bf16 values in a bf16 model.
    if (bf16)
      if (auto fa = dyn_cast<FusedAttentionOp>(op); fa && fa.getKey()) {
        roundToBF16(get(fa.getKeyCache()));
        roundToBF16(get(fa.getValueCache()));
      }
  }
  if (get(returned) != outArg)
    return fn.emitOpError() << "returned logits were not written to the output buffer";
  loc = fnLoc;
  for (Value a : allocs)
    memref::DeallocOp::create(b, loc, a);
  func::ReturnOp::create(b, loc);
  for (int i = 0; i < 5; ++i)
    if (auto attr = fn.getArgAttrOfType<StringAttr>(i, "gemma4.arg"))
      nf.setArgAttr(i, "gemma4.arg", attr);
  nf.setArgAttr(5, "gemma4.arg", b.getStringAttr("logits"));
  // Drop the old body: its ops may reference values now owned elsewhere.
  fn.getBody().front().dropAllDefinedValueUses();
  fn.erase();
  return success();
}

struct Gemma4ToLoopsPass : mlir::gemma4::impl::Gemma4ToLoopsBase<Gemma4ToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    FunctionLowering::IntDot idot;
    if (intDot == "none")
      idot = FunctionLowering::IntDot::None;
    else if (intDot == "x86-vnni")
      idot = FunctionLowering::IntDot::X86Vnni;
    else if (intDot == "x86-vnni-512")
      idot = FunctionLowering::IntDot::X86Vnni512;
    else if (intDot == "arm-dotprod")
      idot = FunctionLowering::IntDot::ArmDotprod;
    else {
      getOperation().emitError() << "convert-gemma4-to-loops: unknown int-dot '" << intDot
                                 << "' (expected none, x86-vnni, x86-vnni-512 or arm-dotprod)";
      return signalPassFailure();
    }
    if (accumulators < 1 || accumulators > 16) {
      getOperation().emitError() << "convert-gemma4-to-loops: accumulators must be in 1..16, got "
                                 << static_cast<int64_t>(accumulators);
      return signalPassFailure();
    }
    if (decodeRowTile < 1 || decodeRowTile > 16) {
      getOperation().emitError() << "convert-gemma4-to-loops: decode-row-tile must be in 1..16, got "
                                 << static_cast<int64_t>(decodeRowTile);
      return signalPassFailure();
    }
    if (weightPrefetch < 0) {
      getOperation().emitError() << "convert-gemma4-to-loops: weight-prefetch must be >= 0, got "
                                 << static_cast<int64_t>(weightPrefetch);
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> fns;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (!f.isExternal() && f.getNumArguments() == 5 && f.getArgAttr(0, "gemma4.arg"))
        fns.push_back(f);
    for (auto f : fns) {
      FunctionLowering fl(f, bf16Activations, idot, weightPrefetch, decodeRowTile, accumulators);
      if (failed(fl.run()))
        return signalPassFailure();
    }
  }
};
} // namespace

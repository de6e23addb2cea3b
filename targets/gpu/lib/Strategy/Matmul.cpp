//===- Matmul.cpp - the GPU matmul ----------------------------------------===//
//
// out[s, n] = sum_k x[s, k] * W[n, k] as loops for GPU kernels:
//   * decode (one token): one parallel iteration per output row n, whose K
//     reduction (the LoopEmitter's f32 dot kernel of W's encoding, marked
//     gemma4.lanes "reduce") a subgroup's lanes share, coalesced;
//   * prefill: one parallel iteration (a subgroup) per tile of R rows x
//     kPrefillTokens tokens. Float weights: the lanes share K four elements
//     a lane a step (prefillDot: 16 bytes of each token's activations, 8 of
//     each bf16 weight row), R x T four-lane accumulators a lane, so each
//     weight load feeds T tokens and each activation load R rows.
//     Quantized weights: each row's dot kernel of its encoding against the
//     T tokens. The last tile's missing tokens are clamped to the last one
//     for the loads and not stored, so every subgroup runs the same loops
//     (a per-tile branch would keep the lanes from sharing them).
// Each output goes through LoopEmitter::epilogue (an elementwise consumer
// folded into the matmul, Fusion.cpp).
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

SmallVector<Value> GPUStrategy::prefillDot(LoopEmitter &e, ArrayRef<Value> ws, ArrayRef<Value> rows,
                                           int64_t K, ArrayRef<XRow> xs) {
  OpBuilder &b = e.b;
  Type f32 = b.getF32Type();
  auto v4 = VectorType::get({kLaneK}, f32);
  size_t T = xs.size();
  size_t RW = ws.size() * rows.size();
  Value zero = arith::ConstantOp::create(b, e.loc, DenseElementsAttr::get(v4, 0.0f));
  SmallVector<Value> inits(RW * T, zero);
  auto load4 = [&](Value m, ValueRange pre, Value k) -> Value {
    Type et = cast<MemRefType>(m.getType()).getElementType();
    Value v = vector::LoadOp::create(b, e.loc, VectorType::get({kLaneK}, et), m, LoopEmitter::rowIdx(pre, k));
    if (et.isF32())
      return v;
    if (et.isBF16()) { // bf16 -> f32 is a 16-bit shift of the bit pattern
      auto i16v = VectorType::get({kLaneK}, b.getI16Type()), i32v = VectorType::get({kLaneK}, b.getI32Type());
      Value wide = arith::ExtUIOp::create(b, e.loc, i32v, arith::BitcastOp::create(b, e.loc, i16v, v));
      Value sh = arith::ShLIOp::create(b, e.loc, wide,
                                       arith::ConstantOp::create(b, e.loc, DenseElementsAttr::get(i32v, int32_t(16))));
      return arith::BitcastOp::create(b, e.loc, v4, sh);
    }
    return arith::ExtFOp::create(b, e.loc, v4, v).getResult();
  };
  auto accs = e.reduceStep(e.c(0), e.c(K), e.c(kLaneK), inits, [&](Value k, ValueRange acc) {
    SmallVector<Value> xv, next(acc.begin(), acc.end());
    for (const XRow &x : xs)
      xv.push_back(load4(x.mem, x.pre, k));
    size_t r = 0;
    for (Value w : ws)
      for (Value n : rows) {
        Value wv = load4(w, {n}, k);
        for (size_t t = 0; t < T; ++t)
          next[r * T + t] = e.vfma(xv[t], wv, next[r * T + t]);
        ++r;
      }
    return next;
  });
  SmallVector<Value> out;
  for (Value a : accs)
    out.push_back(e.vreduce(a));
  return out;
}

void GPUStrategy::prefillTiles(LoopEmitter &e, int64_t N, int64_t R,
                               function_ref<void(ArrayRef<Value> rows, ArrayRef<Value> toks,
                                                 ArrayRef<XRow> clamped,
                                                 function_ref<void(Value tok, function_ref<void()>)> ifToken)>
                                   body) {
  OpBuilder &b = e.b;
  Value S = e.tokens;
  int64_t T = kPrefillTokens;
  Value tiles = arith::CeilDivUIOp::create(b, e.loc, S, e.c(T));
  Value last = e.isub(S, e.c(1));
  e.parallel({e.c(N / R), tiles}, [&](ValueRange iv) {
    SmallVector<Value> rows, toks;
    for (int64_t r = 0; r < R; ++r)
      rows.push_back(e.iadd(e.imul(iv[0], e.c(R)), e.c(r)));
    for (int64_t t = 0; t < T; ++t)
      toks.push_back(e.iadd(e.imul(iv[1], e.c(T)), e.c(t)));
    SmallVector<XRow> clamped;
    for (Value t : toks)
      clamped.push_back(XRow{Value(), {arith::MinUIOp::create(b, e.loc, t, last)}});
    body(rows, toks, clamped, [&](Value tok, function_ref<void()> then) {
      Value in = arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ult, tok, S);
      auto ifOp = scf::IfOp::create(b, e.loc, in, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      then();
    });
  });
}

/// The rows of x at the clamped token indices.
static SmallVector<XRow> rowsAt(Value x, ArrayRef<XRow> clamped) {
  SmallVector<XRow> xs;
  for (const XRow &c : clamped)
    xs.push_back(XRow{x, c.pre});
  return xs;
}

void GPUStrategy::matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) {
  e.prepareActs(x, w, K);
  if (LoopEmitter::isOneToken(x)) {
    e.parallel({e.c(N)}, [&](ValueRange iv) {
      Value n = iv[0];
      Value acc = e.dotRows(w, {n}, K, {XRow{x, {e.c(0)}}})[0];
      e.store(e.epilogue(acc, {e.c(0), n}), out, {e.c(0), n});
    });
    return;
  }
  bool plain = !e.quantView(w) && K % kLaneK == 0;
  int64_t R = plain && N % kPrefillRows == 0 ? kPrefillRows : 1;
  prefillTiles(e, N, R, [&](ArrayRef<Value> rows, ArrayRef<Value> toks, ArrayRef<XRow> clamped,
                            function_ref<void(Value, function_ref<void()>)> ifToken) {
    SmallVector<XRow> xs = rowsAt(x, clamped);
    SmallVector<Value> accs;
    if (plain)
      accs = prefillDot(e, {w}, rows, K, xs);
    else
      for (Value n : rows)
        llvm::append_range(accs, e.dotRows(w, {n}, K, xs));
    for (size_t t = 0; t < toks.size(); ++t)
      ifToken(toks[t], [&] {
        for (size_t r = 0; r < rows.size(); ++r)
          e.store(e.epilogue(accs[r * toks.size() + t], {toks[t], rows[r]}), out, {toks[t], rows[r]});
      });
  });
}

//===- Matmul.cpp - the GPU matmul ----------------------------------------===//
//
// out[s, n] = sum_k x[s, k] * W[n, k] as loops for GPU kernels:
//   * decode (one token): one parallel iteration (a subgroup) per
//     decode-rows output rows (laneDot): the lanes share one K loop (marked
//     gemma4.lanes "reduce"), a lane a few elements of every row a step
//     (4 bytes of int8 or int4 weights, 4 elements of float ones), so
//     consecutive lanes read consecutive bytes of each row, every row's
//     load of a step is in flight before its multiplies and the rows
//     share the activation loads; one subgroup per row fed the LoopEmitter's
//     dot kernel of the encoding (16-element vectors a lane: registers for
//     too few loads in flight) for the layouts laneDot does not take;
//   * prefill, block tiles in workgroup memory (blockTiled): a block of
//     threads computes a tile of BlockTile::tokens x rows outputs. Each
//     step of K, its threads copy k elements of the tile's activation rows
//     and weight rows (dequantised, widened to f32) into workgroup memory,
//     16 bytes a thread a load, consecutive threads consecutive bytes;
//     after a barrier each thread multiplies its threadTokens x threadRows
//     outputs from there, 16-byte loads of 4 elements of K of a row at a
//     time (its rows and tokens a tile's width / threadRows apart, so a
//     subgroup's loads hit distinct banks: the tiles' rows are padded by 4
//     elements), each weight element loaded once for threadTokens tokens
//     and each activation once for threadRows rows; a second barrier lets
//     the next step overwrite the tiles. A kernel per product, whatever
//     the weight's encoding (dequantisation costs one load per element of
//     a tile, shared by its tokens);
//   * prefill, subgroup tiles (when the block tiles do not fit the shape:
//     K not a multiple of BlockTile::k): one parallel iteration (a
//     subgroup) per tile of R rows x kPrefillTokens tokens. Float weights:
//     the lanes share K four elements a lane a step (prefillDot: 16 bytes
//     of each token's activations, 8 of each bf16 weight row), R x T
//     four-lane accumulators a lane, so each weight load feeds T tokens and
//     each activation load R rows. Quantized weights: each row's dot kernel
//     of its encoding against the T tokens. The last tile's missing tokens
//     are clamped to the last one for the loads and not stored, so every
//     subgroup runs the same loops (a per-tile branch would keep the lanes
//     from sharing them).
// Each output goes through LoopEmitter::epilogue (an elementwise consumer
// folded into the matmul, Fusion.cpp).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/GPUStrategy.h"

#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

Value GPUStrategy::loadLaneK(LoopEmitter &e, Value m, ValueRange idx) {
  OpBuilder &b = e.b;
  Type f32 = b.getF32Type();
  int64_t n = GPUStrategy::kLaneK;
  auto vf = VectorType::get({n}, f32);
  Type et = cast<MemRefType>(m.getType()).getElementType();
  Value v = vector::LoadOp::create(b, e.loc, VectorType::get({n}, et), m, idx);
  if (et.isF32())
    return v;
  if (et.isBF16()) { // bf16 -> f32 is a 16-bit shift of the bit pattern
    auto i16v = VectorType::get({n}, b.getI16Type()), i32v = VectorType::get({n}, b.getI32Type());
    Value wide = arith::ExtUIOp::create(b, e.loc, i32v, arith::BitcastOp::create(b, e.loc, i16v, v));
    Value sh = arith::ShLIOp::create(b, e.loc, wide,
                                     arith::ConstantOp::create(b, e.loc, DenseElementsAttr::get(i32v, int32_t(16))));
    return arith::BitcastOp::create(b, e.loc, vf, sh);
  }
  return arith::ExtFOp::create(b, e.loc, vf, v).getResult();
}

static bool isFloatMemRef(Value m, int64_t rank) {
  auto t = dyn_cast<MemRefType>(m.getType());
  Type et = t ? t.getElementType() : Type();
  return t && t.getRank() == rank && (et.isF32() || et.isBF16() || et.isF16());
}

GPUStrategy::BlockGrid GPUStrategy::blockGrid(LoopEmitter &e, int64_t N, int64_t rows, int64_t tokens,
                                              int64_t threads) {
  OpBuilder &b = e.b;
  int64_t rowTiles = (N + rows - 1) / rows;
  // Blocks (row tiles, token tiles), then the block's threads.
  SmallVector<Value> ubs;
  if (rowTiles > 1)
    ubs.push_back(e.c(rowTiles));
  ubs.push_back(arith::CeilDivUIOp::create(b, e.loc, e.tokens, e.c(tokens)));
  ubs.push_back(e.c(threads));
  SmallVector<Value> lbs(ubs.size(), e.c(0)), steps(ubs.size(), e.c(1));
  auto p = scf::ParallelOp::create(b, e.loc, lbs, ubs, steps);
  p->setAttr(kBlockThreadsAttr, b.getI64IntegerAttr(threads));
  b.setInsertionPoint(p.getBody()->getTerminator());
  ValueRange iv = p.getInductionVars();
  return {iv.back(), e.imul(iv[iv.size() - 2], e.c(tokens)),
          rowTiles > 1 ? e.imul(iv[0], e.c(rows)) : e.c(0)};
}

Value GPUStrategy::workgroupTile(LoopEmitter &e, int64_t rows, int64_t cols, Type et) {
  auto wg = mlir::gpu::AddressSpaceAttr::get(e.b.getContext(), mlir::gpu::AddressSpace::Workgroup);
  return memref::AllocaOp::create(e.b, e.loc, MemRefType::get({rows, cols}, et, MemRefLayoutAttrInterface(), wg));
}

SmallVector<Value> GPUStrategy::outerProductStep(LoopEmitter &e, Value a, Value ty, int64_t GA,
                                                int64_t MT, ArrayRef<Value> bs, Value tx,
                                                int64_t GB, int64_t NT, Value k0, ValueRange acc) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto v4 = VectorType::get({kLaneK}, b.getF32Type());
  SmallVector<Value> av, bv, next(acc.begin(), acc.end());
  for (int64_t i = 0; i < MT; ++i)
    av.push_back(vector::LoadOp::create(b, loc, v4, a, ValueRange{e.iadd(ty, e.c(GA * i)), k0}));
  for (Value tile : bs)
    for (int64_t j = 0; j < NT; ++j)
      bv.push_back(vector::LoadOp::create(b, loc, v4, tile, ValueRange{e.iadd(tx, e.c(GB * j)), k0}));
  for (int64_t q = 0; q < kLaneK; ++q) {
    SmallVector<Value> ae, be;
    for (Value v : av)
      ae.push_back(vector::ExtractOp::create(b, loc, v, q));
    for (Value v : bv)
      be.push_back(vector::ExtractOp::create(b, loc, v, q));
    for (int64_t w = 0; w < (int64_t)bs.size(); ++w)
      for (int64_t i = 0; i < MT; ++i)
        for (int64_t j = 0; j < NT; ++j) {
          Value &s = next[(w * MT + i) * NT + j];
          s = math::FmaOp::create(b, loc, ae[i], be[w * NT + j], s);
        }
  }
  return next;
}

void GPUStrategy::ifBelow(LoopEmitter &e, Value i, Value n, function_ref<void()> then) {
  OpBuilder &b = e.b;
  auto in = scf::IfOp::create(b, e.loc, arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ult, i, n),
                              /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(in.thenBlock()->getTerminator());
  then();
}

bool GPUStrategy::canBlockTile(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                               const BlockTile &t) const {
  if (t.rows <= 0 || t.tokens <= 0 || t.threadTokens <= 0 || t.threadRows <= 0 || t.k <= 0 ||
      t.tokens % t.threadTokens || t.rows % t.threadRows || t.k % kLaneK || K % t.k)
    return false;
  int64_t T = t.threads(), perRow = t.k / kLaneK;
  if (T < 1 || T > 1024 || (t.tokens * perRow) % T || (t.rows * perRow) % T)
    return false;
  if (LoopEmitter::isOneToken(x) || !isFloatMemRef(x, 2))
    return false;
  for (Value w : ws) {
    const QuantView *qv = e.quantView(w);
    if (qv ? qv->panels != 1 || qv->tile != 1 || qv->interleaved : !isFloatMemRef(w, 2))
      return false;
  }
  return true;
}

void GPUStrategy::blockTiled(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                             const BlockTile &t,
                             function_ref<void(Value s, Value n, ArrayRef<Value> sums)> store) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  const int64_t T = t.threads(), TM = t.tokens, TN = t.rows, BK = t.k;
  const int64_t MT = t.threadTokens, NT = t.threadRows, W = ws.size();
  const int64_t GT = TM / MT, GR = TN / NT; // thread groups along tokens, rows
  const int64_t perRow = BK / kLaneK, pad = kLaneK;
  Value S = e.tokens, lastTok = e.isub(S, e.c(1));
  OpBuilder::InsertionGuard guard(b);
  auto [tid, s0, n0] = blockGrid(e, N, TN, TM, T);
  Value xs = workgroupTile(e, TM, BK + pad, f32);
  SmallVector<Value> wts;
  for (size_t i = 0; i < ws.size(); ++i)
    wts.push_back(workgroupTile(e, TN, BK + pad, f32));
  Value ty = e.idiv(tid, e.c(GR)), tx = e.irem(tid, e.c(GR));
  Value zero = e.cf(0.0);
  SmallVector<Value> inits(W * MT * NT, zero);
  // One tile of `rows` rows of K [k0, k0 + BK): element-group idx of the
  // copy is tile row idx / perRow, elements 4 (idx % perRow)..
  auto copyTile = [&](Value tile, int64_t rows, Value k0,
                      function_ref<Value(Value r, Value k)> load) {
    for (int64_t i = 0; i < rows * perRow / T; ++i) {
      Value idx = e.iadd(tid, e.c(i * T));
      Value r = e.idiv(idx, e.c(perRow)), kk = e.imul(e.irem(idx, e.c(perRow)), e.c(kLaneK));
      vector::StoreOp::create(b, loc, load(r, e.iadd(k0, kk)), tile, ValueRange{r, kk});
    }
  };
  auto steps4 = [&](Value k0, ValueRange acc) -> SmallVector<Value> {
    copyTile(xs, TM, k0, [&](Value r, Value k) {
      Value s = arith::MinUIOp::create(b, loc, e.iadd(s0, r), lastTok);
      return loadLaneK(e, x, {s, k});
    });
    for (auto [w, tile] : llvm::zip(ws, wts))
      copyTile(tile, TN, k0, [&](Value r, Value k) {
        Value n = e.iadd(n0, r);
        if (N % TN)
          n = arith::MinUIOp::create(b, loc, n, e.c(N - 1));
        if (!e.quantView(w))
          return loadLaneK(e, w, {n, k});
        SmallVector<Value> el;
        for (int64_t j = 0; j < kLaneK; ++j)
          el.push_back(e.load(w, {n, e.iadd(k, e.c(j))}));
        return Value(vector::FromElementsOp::create(b, loc, VectorType::get({kLaneK}, f32), el));
      });
    mlir::gpu::BarrierOp::create(b, loc);
    auto inner = scf::ForOp::create(
        b, loc, e.c(0), e.c(BK), e.c(kLaneK), acc,
        [&](OpBuilder &, Location, Value q0, ValueRange a) {
          scf::YieldOp::create(b, loc,
                               outerProductStep(e, xs, ty, GT, MT, wts, tx, GR, NT, q0, a));
        });
    mlir::gpu::BarrierOp::create(b, loc);
    return SmallVector<Value>(inner.getResults());
  };
  auto kLoop = scf::ForOp::create(b, loc, e.c(0), e.c(K), e.c(BK), inits,
                                  [&](OpBuilder &, Location, Value k0, ValueRange acc) {
                                    scf::YieldOp::create(b, loc, steps4(k0, acc));
                                  });
  // Each thread's outputs: tokens ty + GT i, rows tx + GR j.
  for (int64_t i = 0; i < MT; ++i) {
    Value s = e.iadd(s0, e.iadd(ty, e.c(GT * i)));
    ifBelow(e, s, S, [&] {
      for (int64_t j = 0; j < NT; ++j) {
        Value n = e.iadd(n0, e.iadd(tx, e.c(GR * j)));
        SmallVector<Value> sums;
        for (int64_t w = 0; w < W; ++w)
          sums.push_back(kLoop.getResult((w * MT + i) * NT + j));
        if (N % TN == 0)
          store(s, n, sums);
        else
          ifBelow(e, n, e.c(N), [&] { store(s, n, sums); });
      }
    });
  }
}

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
    return loadLaneK(e, m, LoopEmitter::rowIdx(pre, k));
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

int64_t GPUStrategy::decodeRowsFor(LoopEmitter &e, ArrayRef<Value> ws, int64_t N, int64_t K) const {
  if (decodeRows == 0)
    return 0;
  // Every weight one kind: float, int8 rows or int4 groups of a multiple of
  // 32 (their steps differ), in the plain row layout.
  int kind = -1;
  for (Value w : ws) {
    const QuantView *qv = e.quantView(w);
    int k = !qv ? 0 : qv->attr.getBits() == 8 ? 1 : 2;
    bool ok = !qv ? isFloatMemRef(w, 2) && K % kLaneK == 0
                  : !qv->interleaved && qv->tile <= 1 && qv->panels <= 1 &&
                        (k == 1 ? K % kLaneK == 0
                                : qv->attr.getBits() == 4 && qv->group % 32 == 0 && K % 32 == 0);
    if (!ok || (kind >= 0 && k != kind))
      return 0;
    kind = k;
  }
  bool automatic = decodeRows < 0;
  int64_t R = automatic ? kDecodeRows : decodeRows;
  if (R == 0)
    return 0;
  while (R > 1 && (N % R != 0 || (automatic && N / R < kMinDecodeSubgroups)))
    --R;
  return R;
}

SmallVector<Value> GPUStrategy::laneDot(LoopEmitter &e, ArrayRef<Value> ws, ArrayRef<Value> rows,
                                        int64_t K, const XRow &x) {
  const QuantView *q0 = e.quantView(ws.front());
  if (!q0)
    return prefillDot(e, ws, rows, K, {x});
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto v4 = VectorType::get({kLaneK}, b.getF32Type());
  auto v4i8 = VectorType::get({4}, b.getI8Type());
  auto splat = [&](Value s) { return vector::BroadcastOp::create(b, loc, v4, s).getResult(); };
  auto bytesOf = [&](int8_t v) {
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v4i8, v)).getResult();
  };
  bool int4 = q0->attr.getBits() == 4;
  // int4: a lane's step is 4 bytes of a 16-byte block, elements 4p..4p+3
  // (low nibbles) and 16+4p.. (high nibbles) of block q / 4, p = q % 4;
  // int8: 4 bytes, elements 4q..4q+3.
  int64_t E = int4 ? 8 : kLaneK;
  SmallVector<const QuantView *> qvs;
  for (Value w : ws)
    qvs.push_back(e.quantView(w));
  Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v4, 0.0f));
  SmallVector<Value> inits(ws.size() * rows.size(), zero);
  auto accs = e.reduceStep(e.c(0), e.c(K / E), e.c(1), inits, [&](Value q, ValueRange acc) {
    Value off = e.imul(q, e.c(4)), k0 = off, blk;
    if (int4) {
      blk = e.idiv(q, e.c(4));
      Value part = e.irem(q, e.c(4));
      off = e.iadd(e.imul(blk, e.c(16)), e.imul(part, e.c(4)));
      k0 = e.iadd(e.imul(blk, e.c(32)), e.imul(part, e.c(4)));
    }
    // Every row's weight bytes first: all in flight before a multiply.
    SmallVector<Value> bytes;
    for (const QuantView *qv : qvs)
      for (Value n : rows)
        bytes.push_back(vector::LoadOp::create(b, loc, v4i8, qv->data, LoopEmitter::rowIdx({n}, off)));
    Value x0 = loadLaneK(e, x.mem, LoopEmitter::rowIdx(x.pre, k0));
    Value x1 = int4 ? loadLaneK(e, x.mem, LoopEmitter::rowIdx(x.pre, e.iadd(k0, e.c(16)))) : Value();
    SmallVector<Value> next;
    size_t r = 0;
    for (const QuantView *qv : qvs)
      for (Value n : rows) {
        Value wb = bytes[r];
        if (!int4) { // the row's scale after the loop
          next.push_back(e.vfma(x0, arith::SIToFPOp::create(b, loc, v4, wb), acc[r++]));
          continue;
        }
        Value lo = arith::UIToFPOp::create(b, loc, v4, arith::AndIOp::create(b, loc, wb, bytesOf(15)));
        Value hi = arith::UIToFPOp::create(b, loc, v4, arith::ShRUIOp::create(b, loc, wb, bytesOf(4)));
        bool sym = qv->attr.getSymmetric();
        if (sym) {
          Value eight = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v4, 8.0f));
          lo = arith::SubFOp::create(b, loc, lo, eight);
          hi = arith::SubFOp::create(b, loc, hi, eight);
        }
        Value t = e.vfma(x1, hi, arith::MulFOp::create(b, loc, x0, lo));
        Value g = qv->group == 32 ? blk : e.idiv(blk, e.c(qv->group / 32)); // the group of k0
        Value sc = splat(e.loadScaleF32(qv->scales, {n, g}));
        if (sym) {
          next.push_back(e.vfma(t, sc, acc[r++]));
          continue;
        }
        // Asymmetric: + min * (the activations' sum), one add into acc.
        Value xs = arith::AddFOp::create(b, loc, x0, x1);
        Value term = e.vfma(xs, splat(e.loadScaleF32(qv->mins, {n, g})), arith::MulFOp::create(b, loc, t, sc));
        next.push_back(arith::AddFOp::create(b, loc, acc[r++], term));
      }
    return next;
  });
  SmallVector<Value> out;
  size_t r = 0;
  for (const QuantView *qv : qvs)
    for (Value n : rows) {
      Value sum = e.vreduce(accs[r++]);
      out.push_back(int4 ? sum : e.mul(sum, e.loadScaleF32(qv->scales, {n, e.c(0)})));
    }
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
    body(rows, toks, clamped, [&](Value tok, function_ref<void()> then) { ifBelow(e, tok, S, then); });
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
    if (int64_t R = decodeRowsFor(e, {w}, N, K)) {
      e.parallel({e.c(N / R)}, [&](ValueRange iv) {
        SmallVector<Value> rows;
        for (int64_t r = 0; r < R; ++r)
          rows.push_back(e.iadd(e.imul(iv[0], e.c(R)), e.c(r)));
        SmallVector<Value> sums = laneDot(e, {w}, rows, K, XRow{x, {e.c(0)}});
        for (int64_t r = 0; r < R; ++r)
          e.store(e.epilogue(sums[r], {e.c(0), rows[r]}), out, {e.c(0), rows[r]});
      });
      return;
    }
    e.parallel({e.c(N)}, [&](ValueRange iv) {
      Value n = iv[0];
      Value acc = e.dotRows(w, {n}, K, {XRow{x, {e.c(0)}}})[0];
      e.store(e.epilogue(acc, {e.c(0), n}), out, {e.c(0), n});
    });
    return;
  }
  // Fewer rows a tile for a narrow product (a layer's 1536-row projections:
  // 24 tiles of 64 rows would leave most multiprocessors idle).
  BlockTile t = blockTile;
  while (t.rows > 2 * t.threadRows && N / t.rows < kMinRowTiles && t.rows % (2 * t.threadRows) == 0)
    t.rows /= 2;
  if (canBlockTile(e, x, {w}, N, K, t)) {
    blockTiled(e, x, {w}, N, K, t, [&](Value s, Value n, ArrayRef<Value> sums) {
      e.store(e.epilogue(sums[0], {s, n}), out, {s, n});
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

//===- IntegerDot.cpp - int8 activations and the CPUs' integer dots -------===//
//
// On CPUs with integer dot products (int-dot=x86-vnni, x86-vnni-512,
// arm-dotprod), the activation rows a quantized matmul reads are quantized
// to int8 per 32-element block once per op (quantizeActs), and each block
// of a weight row meets them in one 4-byte-group integer dot product
// (dot4: vpdpbusd, or two NEON sdot); the block scales, the activations'
// scales and their sums turn the int32 sums back into f32 (intDotRows,
// interleavedIntRows). See Matmul.cpp for where these kernels are used.
//
//===----------------------------------------------------------------------===//
#include "CPUStrategy.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cpu;

static constexpr int64_t VL = LoopEmitter::VL;

/// The quantized activations of rows xs for weight qv (fewer than xs when
/// some were not prepared).
SmallVector<CPUStrategy::QuantAct> CPUStrategy::quantActsFor(LoopEmitter &e, const QuantView &qv,
                                                          ArrayRef<XRow> xs) {
  SmallVector<QuantAct> qas;
  for (const XRow &x : xs)
    if (auto it = actQuant.find({x.mem, unsigned(qv.interleaved)}); it != actQuant.end())
      qas.push_back(it->second);
  return qas;
}

bool CPUStrategy::quantizesActs(LoopEmitter &e, Value w, int64_t K) {
  return intDot != IntDot::None && K % 32 == 0 && e.quantView(w);
}

/// Before the loops of an op that reads activation buffer x (last dim K)
/// against a quantized weight: quantizes x once for every output's dot
/// product (with `src`, x is first computed by it, fused into the
/// quantization's loop).
bool CPUStrategy::prepareActs(LoopEmitter &e, Value x, const QuantView &qv, int64_t K,
                              const ActSource &src) {
  if (intDot == IntDot::None)
    return false;
  bool inter = qv.interleaved;
  if (!actQuant.count({x, inter}))
    actQuant[{x, inter}] = quantizeActs(e, x, K, inter, src);
  return true;
}

CPUStrategy::QuantAct CPUStrategy::quantizeActs(LoopEmitter &e, Value x, int64_t K, bool interleaved,
                                                const ActSource &src) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  bool wide = interleaved && wideDot();
  QuantAct qa{e.allocLike(x, K, i8), e.allocLike(x, K / 32, f32), e.allocLike(x, K / 32, f32),
              interleaved ? e.allocLike(x, wide ? K / 16 : K / 32, i32) : Value()};
  auto vi32 = VectorType::get({VL}, i32), vi8 = VectorType::get({VL}, i8);
  e.forEachBlock(x, K, [&](ValueRange pre, Value blk) {
    Value k0 = e.imul(blk, e.c(32)), k1 = e.iadd(k0, e.c(16));
    Value x0, x1;
    if (src) {
      x0 = src(pre, k0);
      x1 = src(pre, k1);
      vector::StoreOp::create(b, loc, x0, x, e.rowIdx(pre, k0));
      vector::StoreOp::create(b, loc, x1, x, e.rowIdx(pre, k1));
    } else {
      x0 = e.vload(x, pre, k0, f32);
      x1 = e.vload(x, pre, k1, f32);
    }
    Value amax = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXNUMF,
        arith::MaxNumFOp::create(b, loc, math::AbsFOp::create(b, loc, x0),
                                 math::AbsFOp::create(b, loc, x1)));
    Value d = e.div(amax, e.cf(127.0));
    Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, amax, e.cf(0.0));
    Value inv = arith::SelectOp::create(b, loc, pos, e.div(e.cf(127.0), amax), e.cf(0.0));
    auto quant = [&](Value xv, Value k, int64_t e0) {
      Value r = math::RoundEvenOp::create(b, loc, e.mul(xv, e.vsplat(inv)));
      Value qi = arith::FPToSIOp::create(b, loc, vi32, r);
      Value q8 = arith::TruncIOp::create(b, loc, vi8, qi);
      if (interleaved) {
        e.storeInterleaved(q8, qa.q, pre, blk, e0, wideDot());
      } else {
        vector::StoreOp::create(b, loc, q8, qa.q, e.rowIdx(pre, k));
      }
      return qi;
    };
    Value qs = arith::AddIOp::create(b, loc, quant(x0, k0, 0), quant(x1, k1, 16));
    Value qsum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, qs);
    SmallVector<Value> sIdx = e.rowIdx(pre, blk);
    e.store(d, qa.d, sIdx);
    e.store(e.mul(d, arith::SIToFPOp::create(b, loc, f32, qsum)), qa.cs, sIdx);
    if (wide) {
      // Both lanes of block j (j and j + 8 of the super-block's 16) start
      // at -4 sum(q); the lane fold adds them to -8 sum(q).
      Value half = e.imul(qsum, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-4)));
      Value lane = e.iadd(e.imul(e.idiv(blk, e.c(8)), e.c(16)), e.irem(blk, e.c(8)));
      e.store(half, qa.negSum8, e.rowIdx(pre, lane));
      e.store(half, qa.negSum8, e.rowIdx(pre, e.iadd(lane, e.c(8))));
    } else if (interleaved) {
      e.store(e.imul(qsum, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(-8))), qa.negSum8,
            sIdx);
    }
  });
  return qa;
}

/// acc + the 4-byte-group dot products of 32 weight bytes `w` with 32
/// int8 activations `x` (lane i: sum_k w[4i+k] x[4i+k]), as 8 int32
/// lanes: one vpdpbusd (w unsigned), or two NEON sdot on the 16-byte
/// halves (w signed; the callers' nibbles 0..15 are both).
Value CPUStrategy::dot4(LoopEmitter &e, Value acc, Value w, Value x) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
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
SmallVector<Value> CPUStrategy::interleavedIntRows(LoopEmitter &e, const QuantView &qv,
                                                   ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                                   ArrayRef<XRow> xs, ArrayRef<QuantAct> qas, Value sb0,
                                                   ArrayRef<const QuantView *> rowViews) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
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
  // Prefill tiles (several tokens) with 64-byte loads keep each pair's 16
  // int32 lanes (block j in lanes j and j + 8) unfolded: they are scaled
  // by lane-duplicated block scales, one conversion and one FMA a pair a
  // super-block, the two halves summed by the final reduction. Decode
  // (one token) folds to 8 lanes first.
  bool unfolded = wide && T > 1;
  auto v16f = VectorType::get({16}, f32);
  Value zero8f = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v8f, 0.0f));
  Value zeroSum = unfolded ? arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v16f, 0.0f)).getResult()
                           : zero8f;
  Value zeroAcc = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vAcc, int32_t(0)));
  // Scaled sums, then (asymmetric) the min corrections.
  SmallVector<Value> inits(P, zeroSum);
  if (!sym)
    inits.append(P, zero8f);
  auto accs = e.reduceStep(e.c(0), e.c(K / 256), e.c(1), inits, [&](Value sb, ValueRange acc) {
    SmallVector<Value> ai(P * NI, zeroAcc);
    if (T == 1)
      for (size_t r = 0; r < wPres.size(); ++r) {
        const QuantView &v = rowView(r);
        if (v.tile > 1) { // an equal share of the tile super-block per row
          int64_t share = static_cast<int64_t>(::gemma4::quant::tileSuperBytes(v.attr.getSpec())) / v.tile;
          auto [t, rr] = e.tileOfRow(wPres[r].back(), v.tile);
          prefetchWeights(e, v.data, {t}, e.iadd(e.imul(sb, e.c(share * v.tile)), e.imul(rr, e.c(share))), share);
        } else {
          prefetchWeights(e, v.data, wPres[r], e.imul(sb, e.c(128)), 128);
        }
      }
    // Weight scales at block b0 of the row, activation ones at bx.
    Value sbx = sb0 ? e.iadd(sb, sb0) : sb;
    Value b0 = e.imul(sb, e.c(8)), bx = e.imul(sbx, e.c(8));
    if (sym) // the symmetric offset -8 sum(q) starts the block's lane
      for (size_t t = 0; t < T; ++t) {
        Value neg = vector::LoadOp::create(b, loc, vAcc, qas[t].negSum8,
                                           e.rowIdx(xs[t].pre, e.imul(sbx, e.c(bytes / 4))));
        for (size_t r = 0; r < R; ++r)
          ai[(r * T + t) * NI] = neg;
      }
    for (int64_t l = 0; l < loads; ++l) {
      SmallVector<std::pair<Value, Value>> nibs;
      for (size_t r = 0; r < wPres.size(); ++r)
        nibs.push_back(e.interleavedNibbles(rowView(r), wPres[r], sb, l, bytes));
      for (int64_t h = 0; h < 2; ++h)
        for (size_t t = 0; t < T; ++t) {
          Value xq = vector::LoadOp::create(
              b, loc, vBytes, qas[t].q,
              e.rowIdx(xs[t].pre, e.iadd(e.imul(sbx, e.c(256)), e.c(2 * bytes * l + bytes * h))));
          for (size_t r = 0; r < R; ++r) {
            size_t a = (r * T + t) * NI + static_cast<size_t>(2 * l + h) % NI;
            ai[a] = dot4(e, ai[a], h ? nibs[r].second : nibs[r].first, xq);
          }
        }
    }
    SmallVector<Value> next(acc.begin(), acc.end());
    auto twice = [&](Value v8) { // lanes j and j + 8: element j
      return vector::ShuffleOp::create(b, loc, v8, v8,
                                       ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7})
          .getResult();
    };
    SmallVector<Value> dx16;
    if (unfolded)
      for (size_t t = 0; t < T; ++t)
        dx16.push_back(twice(e.load8(qas[t].d, xs[t].pre, bx)));
    for (size_t r = 0; r < R; ++r) {
      Value sw8 = e.superScales8(rowView(r), wPres[r], sb);
      Value mw8 = sym ? Value() : e.superScales8(rowView(r), wPres[r], sb, /*mins=*/true);
      Value sw16 = unfolded ? twice(sw8) : Value();
      for (size_t t = 0; t < T; ++t) {
        size_t p = r * T + t;
        Value sum = ai[p * NI];
        for (size_t u = 1; u < NI; ++u)
          sum = arith::AddIOp::create(b, loc, sum, ai[p * NI + u]);
        if (unfolded) {
          Value s16 = arith::MulFOp::create(b, loc, sw16, dx16[t], e.fm());
          next[p] = e.vfma(arith::SIToFPOp::create(b, loc, v16f, sum), s16, next[p]);
          if (!sym)
            next[P + p] = e.vfma(mw8, e.load8(qas[t].cs, xs[t].pre, bx), next[P + p]);
          continue;
        }
        if (wide) // lanes j and j + 8 hold block j
          sum = arith::AddIOp::create(
              b, loc, vector::ShuffleOp::create(b, loc, sum, sum, ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}),
              vector::ShuffleOp::create(b, loc, sum, sum, ArrayRef<int64_t>{8, 9, 10, 11, 12, 13, 14, 15}));
        Value s8 = arith::MulFOp::create(b, loc, sw8, e.load8(qas[t].d, xs[t].pre, bx), e.fm());
        next[p] = e.vfma(arith::SIToFPOp::create(b, loc, v8f, sum), s8, next[p]);
        if (!sym)
          next[P + p] = e.vfma(mw8, e.load8(qas[t].cs, xs[t].pre, bx), next[P + p]);
      }
    }
    return next;
  });
  SmallVector<Value> out;
  for (size_t p = 0; p < P; ++p)
    out.push_back(sym ? e.vreduce(accs[p]) : e.add(e.vreduce(accs[p]), e.vreduce(accs[P + p])));
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
SmallVector<Value> CPUStrategy::intDotRows(LoopEmitter &e, const QuantView &qv,
                                           ArrayRef<SmallVector<Value>> wPres, int64_t K, ArrayRef<XRow> xs,
                                           ArrayRef<QuantAct> qas) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  if (qv.interleaved)
    return interleavedIntRows(e, qv, wPres, K, xs, qas);
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
      Value q = vector::LoadOp::create(b, loc, v32i8, qv.data, e.rowIdx(wPres[r], e.imul(bi, e.c(32))));
      if (int8Offset == 0)
        return q;
      return arith::XOrIOp::create(b, loc, q, splatI8(v32i8, int8_t(-128)));
    }
    Value bytes = vector::LoadOp::create(b, loc, v16i8, qv.data, e.rowIdx(wPres[r], e.imul(bi, e.c(16))));
    Value hi = arith::ShRUIOp::create(b, loc, bytes, splatI8(v16i8, 4));
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < 32; ++i)
      mask.push_back(i);
    Value both = vector::ShuffleOp::create(b, loc, bytes, hi, mask);
    return arith::AndIOp::create(b, loc, both, splatI8(v32i8, 15));
  };
  // Block bi of activation row t.
  auto actBlock = [&](size_t t, Value bi) -> Value {
    return vector::LoadOp::create(b, loc, v32i8, qas[t].q, e.rowIdx(xs[t].pre, e.imul(bi, e.c(32))));
  };
  // Accumulators: P vectors of scaled dot products, then P corrections
  // (vectors when chunked, scalars otherwise).
  bool chunked = (int8 || qv.group == 32) && nBlocks % 8 == 0;
  // With few pairs, U independent accumulators per pair keep the FMA
  // latency chain from bounding the loop (one FMA per block otherwise).
  size_t U = chunked ? std::max<size_t>(1, 4 / P) : 1;
  // Prefill tiles (several tokens) of int8 weights with 512-bit vpdpbusd
  // take two blocks a step: one 64-byte load per weight row and token, one
  // vpdpbusd, one conversion and one FMA a pair, lanes 0-7 scaled by the
  // first block's activation scale and 8-15 by the second's.
  bool pairs = int8 && chunked && intDot == IntDot::X86Vnni512 && T > 1;
  auto v16f = VectorType::get({16}, f32), v16i = VectorType::get({16}, i32), v64i8 = VectorType::get({64}, i8);
  Value zeroSum = pairs ? arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v16f, 0.0f)).getResult() : zero8f;
  SmallVector<Value> inits(P, zeroSum);
  inits.append(P, chunked ? zero8f : e.cf(0.0));
  inits.append(P * (U - 1), zeroSum);
  SmallVector<Value> accs;
  if (pairs) {
    Value zero16i = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v16i, int32_t(0)));
    accs = e.reduceStep(e.c(0), e.c(nBlocks), e.c(8), inits, [&](Value b0, ValueRange acc) {
      SmallVector<Value> next(acc.begin(), acc.end()), dx8;
      auto accIdx = [&](size_t p, size_t u) { return u == 0 ? p : 2 * P + p * (U - 1) + (u - 1); };
      for (size_t t = 0; t < T; ++t) {
        dx8.push_back(e.load8(qas[t].d, xs[t].pre, b0));
        for (size_t r = 0; r < R; ++r)
          next[P + r * T + t] = arith::AddFOp::create(b, loc, next[P + r * T + t], e.load8(qas[t].cs, xs[t].pre, b0),
                                                      e.fm());
      }
      for (int64_t j = 0; j < 8; j += 2) {
        Value k0 = e.imul(e.iadd(b0, e.c(j)), e.c(32));
        SmallVector<Value> us, xq, sc;
        for (size_t r = 0; r < R; ++r) {
          Value q = vector::LoadOp::create(b, loc, v64i8, qv.data, e.rowIdx(wPres[r], k0));
          us.push_back(int8Offset == 0 ? q : arith::XOrIOp::create(b, loc, q, splatI8(v64i8, int8_t(-128))).getResult());
        }
        SmallVector<int64_t> lanes(8, j);
        lanes.append(8, j + 1);
        for (size_t t = 0; t < T; ++t) {
          xq.push_back(vector::LoadOp::create(b, loc, v64i8, qas[t].q, e.rowIdx(xs[t].pre, k0)));
          sc.push_back(vector::ShuffleOp::create(b, loc, dx8[t], dx8[t], lanes));
        }
        for (size_t r = 0; r < R; ++r)
          for (size_t t = 0; t < T; ++t) {
            size_t p = r * T + t, a = accIdx(p, static_cast<size_t>(j / 2) % U);
            Value d = arith::SIToFPOp::create(b, loc, v16f, dot4(e, zero16i, us[r], xq[t]));
            next[a] = e.vfma(d, sc[t], next[a]);
          }
      }
      return next;
    });
  } else if (chunked) {
    accs = e.reduceStep(e.c(0), e.c(nBlocks), e.c(8), inits, [&](Value b0, ValueRange acc) {
      SmallVector<Value> next(acc.begin(), acc.end()), s8(P);
      if (T == 1)
        for (const SmallVector<Value> &row : wPres)
          prefetchWeights(e, qv.data, row, e.imul(b0, e.c(int8 ? 32 : 16)), int8 ? 256 : 128);
      // Accumulator u of pair p.
      auto accIdx = [&](size_t p, size_t u) { return u == 0 ? p : 2 * P + p * (U - 1) + (u - 1); };
      SmallVector<Value> dx8, cs8;
      for (size_t t = 0; t < T; ++t) {
        dx8.push_back(e.load8(qas[t].d, xs[t].pre, b0));
        cs8.push_back(e.load8(qas[t].cs, xs[t].pre, b0));
      }
      for (size_t r = 0; r < R; ++r) {
        Value sw8, mw8;
        if (!int8) {
          sw8 = e.load8(qv.scales, wPres[r], b0);
          mw8 = sym ? sw8 : e.load8(qv.mins, wPres[r], b0); // sym: -8 applied at the end
        }
        for (size_t t = 0; t < T; ++t) {
          size_t p = r * T + t;
          s8[p] = int8 ? dx8[t] : arith::MulFOp::create(b, loc, sw8, dx8[t], e.fm()).getResult();
          next[P + p] = int8 ? arith::AddFOp::create(b, loc, next[P + p], cs8[t], e.fm()).getResult()
                             : e.vfma(mw8, cs8[t], next[P + p]);
        }
      }
      for (int64_t j = 0; j < 8; ++j) {
        Value bi = e.iadd(b0, e.c(j));
        SmallVector<Value> us, xq;
        for (size_t r = 0; r < R; ++r)
          us.push_back(unsignedBlock(r, bi));
        for (size_t t = 0; t < T; ++t)
          xq.push_back(actBlock(t, bi));
        for (size_t r = 0; r < R; ++r)
          for (size_t t = 0; t < T; ++t) {
            size_t p = r * T + t;
            Value lane = vector::ShuffleOp::create(b, loc, s8[p], s8[p], SmallVector<int64_t>(8, j));
            Value d = arith::SIToFPOp::create(b, loc, v8f, dot4(e, zero8i, us[r], xq[t]));
            size_t a = accIdx(p, static_cast<size_t>(j) % U);
            next[a] = e.vfma(d, lane, next[a]);
          }
      }
      return next;
    });
  } else {
    int64_t G = int8 ? 32 : qv.group, blocksPerGroup = G / 32;
    accs = e.reduceStep(e.c(0), e.c(K / G), e.c(1), inits, [&](Value g, ValueRange acc) {
      SmallVector<Value> sw(R), mw(R);
      if (!int8)
        for (size_t r = 0; r < R; ++r) {
          sw[r] = e.loadScaleF32(qv.scales, e.rowIdx(wPres[r], g));
          mw[r] = sym ? sw[r] : e.loadScaleF32(qv.mins, e.rowIdx(wPres[r], g));
        }
      SmallVector<Value> next(acc.begin(), acc.end());
      for (int64_t blk = 0; blk < blocksPerGroup; ++blk) {
        Value bi = e.iadd(e.imul(g, e.c(blocksPerGroup)), e.c(blk));
        SmallVector<Value> us, dx, cs, xq;
        for (size_t r = 0; r < R; ++r)
          us.push_back(unsignedBlock(r, bi));
        for (size_t t = 0; t < T; ++t) {
          dx.push_back(memref::LoadOp::create(b, loc, qas[t].d, e.rowIdx(xs[t].pre, bi)));
          cs.push_back(memref::LoadOp::create(b, loc, qas[t].cs, e.rowIdx(xs[t].pre, bi)));
          xq.push_back(actBlock(t, bi));
        }
        for (size_t r = 0; r < R; ++r)
          for (size_t t = 0; t < T; ++t) {
            size_t p = r * T + t;
            Value s = vector::BroadcastOp::create(b, loc, v8f, int8 ? dx[t] : e.mul(sw[r], dx[t]));
            Value d = arith::SIToFPOp::create(b, loc, v8f, dot4(e, zero8i, us[r], xq[t]));
            next[p] = e.vfma(d, s, next[p]);
            next[P + p] = e.add(next[P + p], int8 ? cs[t] : e.mul(mw[r], cs[t]));
          }
      }
      return next;
    });
  }
  SmallVector<Value> out;
  for (size_t r = 0; r < R; ++r) {
    Value rowScale;
    if (int8)
      rowScale = e.loadScaleF32(qv.scales, e.rowIdx(wPres[r], e.c(0)));
    for (size_t t = 0; t < T; ++t) {
      size_t p = r * T + t;
      Value sumAcc = accs[p];
      for (size_t u = 1; u < U; ++u)
        sumAcc = arith::AddFOp::create(b, loc, sumAcc, accs[2 * P + p * (U - 1) + (u - 1)], e.fm());
      Value res = e.vreduce(sumAcc);
      Value corr = chunked ? e.vreduce(accs[P + p]) : accs[P + p];
      if (int8)
        out.push_back(int8Offset == 0.0 ? e.mul(rowScale, res)
                                        : e.mul(rowScale, e.sub(res, e.mul(e.cf(int8Offset), corr))));
      else
        out.push_back(sym ? e.sub(res, e.mul(e.cf(8.0), corr)) : e.add(res, corr));
    }
  }
  return out;
}


//===- WeightDot.cpp - weights as loaded, and their f32 dot products ------===//
//
// What a weight is, whatever runs it: the dequantisation of #gemma4.quant
// weights (QuantLayout.h: int8 rows, int4 groups, interleaved int4
// super-blocks, K panels, row tiles) and the f32 dot products of every
// encoding. Matmul reductions over K are in the vector dialect (16 lanes):
// plain weights are loaded as vectors and widened; quantized weights are
// loaded packed (16 int8 or 32 int4 per load), unpacked and converted in
// registers, multiplied with the activations and scaled once per group, so
// no dequantised copy of a weight ever exists. A target's strategy decides
// which rows and tokens share a tile (LoweringStrategy::dotTile) and may
// replace these kernels (the CPU's integer dot products).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::gemma4;

// ---- loads -------------------------------------------------------------------

Value LoopEmitter::vloadWeight(Value w, ValueRange pre, Value k) {
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

Value LoopEmitter::loadScaleF32(Value m, ValueRange idx) {
  Value s = memref::LoadOp::create(b, loc, m, idx);
  return s.getType().isF32() ? s : arith::ExtFOp::create(b, loc, b.getF32Type(), s).getResult();
}

Value LoopEmitter::load8(Value m, ValueRange pre, Value at) {
  Type et = cast<MemRefType>(m.getType()).getElementType();
  Value v = vector::LoadOp::create(b, loc, VectorType::get({8}, et), m, rowIdx(pre, at));
  if (et.isF32())
    return v;
  return arith::ExtFOp::create(b, loc, VectorType::get({8}, b.getF32Type()), v);
}

// ---- quantized weights -------------------------------------------------------

SmallVector<Value> LoopEmitter::tiledIdx(const QuantView &qv, ValueRange wPre, Value sb, TilePart part,
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

std::pair<Value, Value> LoopEmitter::tileOfRow(Value n, int64_t T) {
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

Value LoopEmitter::tiledScalesF32(const QuantView &qv, ArrayRef<Value> idx, int64_t n) {
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

Value LoopEmitter::superScales8(const QuantView &qv, ValueRange wPre, Value sb, bool mins) {
  if (qv.tile > 1)
    return tiledScalesF32(qv, tiledIdx(qv, wPre, sb, mins ? TilePart::Mins : TilePart::Scales, c(0)), 8);
  return load8(mins ? qv.mins : qv.scales, wPre, imul(sb, c(8)));
}

Value LoopEmitter::dequantLoad(const QuantView &qv, ValueRange idx) {
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

std::pair<Value, Value> LoopEmitter::interleavedNibbles(const QuantView &qv, ValueRange wPre, Value sb,
                                                        int64_t l, int64_t bytes) {
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

// ---- activations -------------------------------------------------------------

Value LoopEmitter::allocLike(Value x, int64_t last, Type et) {
  auto xt = cast<MemRefType>(x.getType());
  SmallVector<Value> dyn;
  for (int64_t i = 0; i + 1 < xt.getRank(); ++i)
    if (xt.isDynamicDim(i))
      dyn.push_back(dim(x, i));
  SmallVector<int64_t> shape(xt.getShape().drop_back());
  shape.push_back(last);
  Value m = memref::AllocOp::create(b, loc, MemRefType::get(shape, et), dyn, b.getI64IntegerAttr(64));
  allocs.push_back(m);
  return m;
}

void LoopEmitter::forEachBlock(Value x, int64_t K, function_ref<void(ValueRange, Value)> body) {
  auto xt = cast<MemRefType>(x.getType());
  SmallVector<Value> ubs;
  for (int64_t i = 0; i + 1 < xt.getRank(); ++i)
    ubs.push_back(dim(x, i));
  parallel(ubs, [&](ValueRange pre) { loop(c(K / 32), [&](Value blk) { body(pre, blk); }); });
}

void LoopEmitter::storeInterleaved(Value v, Value dst, ValueRange pre, Value bi, int64_t e0, bool wide) {
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

void LoopEmitter::prepareActs(Value x, Value w, int64_t K, const ActSource &src) {
  auto it = quantViews.find(w);
  if (it == quantViews.end() || K % 32 != 0)
    return;
  if (strategy.prepareActs(*this, x, it->second, K, src))
    return;
  if (it->second.interleaved && !permutedF32.count(x)) {
    Value xp = allocLike(x, K, b.getF32Type());
    forEachBlock(x, K, [&](ValueRange pre, Value blk) {
      Value k0 = imul(blk, c(32));
      storeInterleaved(vload(x, pre, k0, b.getF32Type()), xp, pre, blk, 0);
      storeInterleaved(vload(x, pre, iadd(k0, c(16)), b.getF32Type()), xp, pre, blk, 16);
    });
    permutedF32[x] = xp;
  }
}

SmallVector<Value> LoopEmitter::permutedActsFor(ArrayRef<XRow> xs) {
  SmallVector<Value> xps;
  for (const XRow &x : xs)
    if (Value xp = permutedF32.lookup(x.mem))
      xps.push_back(xp);
  return xps;
}

// ---- f32 dot products --------------------------------------------------------

SmallVector<Value> LoopEmitter::dotRows(Value w, ValueRange wPre, int64_t K, ArrayRef<XRow> xs) {
  return strategy.dotTile(*this, w, {SmallVector<Value>(wPre.begin(), wPre.end())}, K, xs);
}

SmallVector<Value> LoopEmitter::dotF32(Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                       ArrayRef<XRow> xs) {
  const QuantView *qv = quantView(w);
  if (wPres.size() > 1 && (qv || K % VL != 0)) {
    SmallVector<Value> out;
    for (const SmallVector<Value> &wPre : wPres)
      llvm::append_range(out, dotF32(w, {wPre}, K, xs));
    return out;
  }
  if (!qv)
    return K % VL != 0 ? dotScalar(w, wPres.front(), K, xs) : dotPlain(w, wPres, K, xs);
  if (qv->panels > 1) {
    // The panels' dot products, summed in registers.
    if (permutedActsFor(xs).size() != xs.size())
      return dotScalar(w, wPres.front(), K, xs); // dequantLoad knows the panel layout
    return sumPanels(*qv, wPres.size() * xs.size(), [&](Value pc) {
      SmallVector<SmallVector<Value>> pres = panelRows(wPres, pc);
      return interleavedF32Panel(*qv, pres, xs, imul(pc, c(qv->panelK / 256)));
    });
  }
  return dotQuantF32(*qv, wPres.front(), K, xs);
}

SmallVector<Value> LoopEmitter::dotScalar(Value w, ValueRange wPre, int64_t K, ArrayRef<XRow> xs) {
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
}

SmallVector<Value> LoopEmitter::dotPlain(Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                         ArrayRef<XRow> xs, int64_t accumulators,
                                         function_ref<void(Value, int64_t)> beforeStep) {
  // U independent accumulators per (row, token) when those are few, so
  // the FMA latency chain does not bound a memory-bound loop.
  size_t R = wPres.size(), T = xs.size(), P = R * T;
  int64_t U = std::max<int64_t>(1, accumulators / static_cast<int64_t>(P));
  while (U > 1 && K % (VL * U) != 0)
    U /= 2;
  SmallVector<Value> inits(P * U, vzero());
  auto accs = reduceStep(c(0), c(K), c(VL * U), inits, [&](Value k0, ValueRange acc) {
    SmallVector<Value> next(acc.begin(), acc.end());
    if (beforeStep)
      beforeStep(k0, VL * U);
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
  SmallVector<Value> out;
  for (Value a : sums)
    out.push_back(vreduce(a));
  return out;
}

SmallVector<Value> LoopEmitter::dotQuantF32(const QuantView &qv, ValueRange wPre, int64_t K,
                                            ArrayRef<XRow> xs) {
  SmallVector<Value> zeros(xs.size(), vzero());
  auto finish = [&](ValueRange accs) {
    SmallVector<Value> out;
    for (Value a : accs)
      out.push_back(vreduce(a));
    return out;
  };
  if (qv.attr.getBits() == 8) {
    if (K % VL != 0)
      return dotScalar(qv.data, wPre, K, xs);
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
      return dotScalar(qv.data, wPre, K, xs); // dequantLoad knows the interleaved layout
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

SmallVector<Value> LoopEmitter::interleavedF32Rows(const QuantView &qv, ValueRange wPre, int64_t K,
                                                   ArrayRef<XRow> xs, ArrayRef<Value> xps, Value sb0) {
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
      f = arith::SubFOp::create(b, loc, f,
                                arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vf32(), 8.0f)));
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

SmallVector<Value> LoopEmitter::interleavedF32Panel(const QuantView &qv, ArrayRef<SmallVector<Value>> pres,
                                                    ArrayRef<XRow> xs, Value sb0) {
  SmallVector<Value> xps = permutedActsFor(xs), out;
  for (const SmallVector<Value> &p : pres)
    llvm::append_range(out, interleavedF32Rows(qv, p, qv.panelK, xs, xps, sb0));
  return out;
}

SmallVector<SmallVector<Value>> LoopEmitter::panelRows(ArrayRef<SmallVector<Value>> wPres, Value pc) {
  SmallVector<SmallVector<Value>> pres;
  for (const SmallVector<Value> &wPre : wPres) {
    SmallVector<Value> p{pc};
    p.append(wPre.begin(), wPre.end());
    pres.push_back(p);
  }
  return pres;
}

SmallVector<Value> LoopEmitter::sumPanels(const QuantView &qv, size_t n,
                                          function_ref<SmallVector<Value>(Value)> panel) {
  SmallVector<Value> inits(n, cf(0.0));
  return reduce(c(0), c(qv.panels), inits, [&](Value pc, ValueRange acc) {
    SmallVector<Value> part = panel(pc), next;
    for (size_t i = 0; i < part.size(); ++i)
      next.push_back(add(acc[i], part[i]));
    return next;
  });
}

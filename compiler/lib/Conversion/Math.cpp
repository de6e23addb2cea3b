//===- Math.cpp - the row arithmetic every target shares ------------------===//
//
// RMS norm rows, RoPE tables and rows, GELU (tanh approximation) and the
// bf16 rounding that emulates a bf16 model: written once, used by every op
// and every target's strategy.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::gemma4;

void LoopEmitter::rmsNormRow(Value src, ValueRange srcPre, Value dst, ValueRange dstPre, int64_t D, Value w,
                             float eps, function_ref<Value(Value, Value)> epilogue) {
  auto finish = [&](Value y, Value d) { return epilogue ? epilogue(rnd(y), d) : rnd(y); };
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
      vector::StoreOp::create(b, loc, finish(y, d), dst, rowIdx(dstPre, d));
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
    store(finish(y, i), dst, idx(dstPre, i));
  });
}

LoopEmitter::RopeTable LoopEmitter::ropeTable(RopeAttr rope, Value pos, int64_t D) {
  auto key = std::make_tuple(Attribute(rope), pos, D);
  if (auto it = ropeTables.find(key); it != ropeTables.end())
    return it->second;
  int64_t R = rope.getRotaryDims();
  double theta = rope.getTheta().getValueAsDouble();
  auto tableTy = RankedTensorType::get({ShapedType::kDynamic, R}, b.getF32Type());
  RopeTable t{alloc(tableTy), alloc(tableTy)};
  parallel({tokens}, [&](ValueRange iv) {
    Value posF = arith::UIToFPOp::create(
        b, loc, b.getF32Type(), arith::IndexCastUIOp::create(b, loc, b.getI64Type(), iadd(pos, iv[0])));
    loop(c(R), [&](Value i) {
      // inv_freq_i = theta^(-2i/D), computed in f32 as transformers does.
      Value iF = arith::UIToFPOp::create(b, loc, b.getF32Type(),
                                         arith::IndexCastUIOp::create(b, loc, b.getI64Type(), i));
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

void LoopEmitter::ropeRow(Value m, ValueRange pre, int64_t D, RopeAttr rope, const RopeTable &tab, Value t) {
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
    // Step i touches [i, i + VL) and [i + D/2, i + D/2 + VL) only (R <= D/2):
    // the steps are independent, a GPU's lanes may share them.
    markMap(lastLoop);
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

Value LoopEmitter::rnd(Value v) {
  if (!bf16)
    return v;
  Type bf = b.getBF16Type();
  if (auto vt = dyn_cast<VectorType>(v.getType()))
    bf = VectorType::get(vt.getShape(), bf);
  return arith::ExtFOp::create(b, loc, v.getType(), arith::TruncFOp::create(b, loc, bf, v).getResult());
}

Value LoopEmitter::cfLike(double v, Value like) {
  if (auto vt = dyn_cast<VectorType>(like.getType()))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vt, static_cast<float>(v)));
  return cf(v);
}

Value LoopEmitter::geluTanh(Value g) {
  // 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
  Value g3 = mul(mul(g, g), g);
  Value inner = mul(cfLike(std::sqrt(2.0 / M_PI), g), add(g, mul(cfLike(0.044715, g), g3)));
  Value t = math::TanhOp::create(b, loc, inner);
  return mul(mul(cfLike(0.5, g), g), add(cfLike(1.0, g), t));
}

void LoopEmitter::roundToBF16(Value m) {
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
  }, elementGrain());
}

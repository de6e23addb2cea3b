//===- Fusion.cpp - elementwise ops folded into their producer's loops ----===//
//
// With LoweringStrategy::fusesElementwise (a GPU, where each op's loops are
// a kernel launch of their own), an op's elementwise consumers are computed
// in its loops, at its place in the function:
//   * rms_norm -> add (the residual) [-> scale (the layer scalar)]
//     [-> rms_norm of that sum]: one row pass writes the sum, a second the
//     next norm, where four ops were four launches; the decoder layer's
//     post-norms and the next block's pre-norm are this chain;
//   * linear -> gelu_mul (its output the gate): each output row stores
//     gelu(gate) * up (LoopEmitter::matmulEpilogue; the per-layer input
//     gate of Gemma 4's small models).
// The arithmetic, bf16 rounding included, is that of the ops one by one.
// The folded ops are marked lowered and skipped when run() reaches them;
// the weights they read are lowered ahead of their turn.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

using namespace mlir;
using namespace mlir::gemma4;

bool LoopEmitter::ensureLowered(Value v) {
  if (buf.count(v))
    return true;
  auto w = v.getDefiningOp<WeightOp>();
  if (!w || failed(lower(w)))
    return false;
  lowered.insert(w);
  return true;
}

bool LoopEmitter::lowerFused(Operation *op) {
  if (!strategy.fusesElementwise())
    return false;
  if (auto n = dyn_cast<RMSNormOp>(op))
    return fuseNormChain(n);
  if (auto l = dyn_cast<LinearOp>(op))
    return fuseMatmulGelu(l);
  return false;
}

/// The single user of v when it is an op of type T.
template <typename T> static T soleUser(Value v) {
  return v.hasOneUse() ? dyn_cast<T>(*v.getUsers().begin()) : T();
}

bool LoopEmitter::fuseNormChain(RMSNormOp n) {
  auto add = soleUser<AddOp>(n.getResult());
  if (!add || add.getLhs() == add.getRhs())
    return false;
  Value resid = add.getLhs() == n.getResult() ? add.getRhs() : add.getLhs();
  if (!buf.count(resid))
    return false; // computed after the norm: not at hand here
  auto sc = soleUser<ScaleOp>(add.getResult());
  if (sc && sc.getScalar() && !ensureLowered(sc.getScalar()))
    return false;
  Value sum = sc ? sc.getResult() : add.getResult();
  RMSNormOp next;
  for (Operation *u : sum.getUsers())
    if (auto n2 = dyn_cast<RMSNormOp>(u); n2 && n2.getInput() == sum && n2 != n) {
      next = n2;
      break;
    }
  if (next && next.getWeight() && !ensureLowered(next.getWeight()))
    next = {};
  if (sum == returned || (next && next.getResult() == returned))
    return false;
  if (n.getWeight() && !ensureLowered(n.getWeight()))
    return false;

  Value x = get(n.getInput()), r = get(resid);
  Value w = n.getWeight() ? get(n.getWeight()) : Value();
  Value out = inPlaceOr(resid, add.getResult());
  Value factor;
  if (sc) {
    factor = cf(sc.getFactor().convertToFloat());
    if (sc.getScalar()) {
      Value sm = get(sc.getScalar());
      SmallVector<Value> zeros(cast<MemRefType>(sm.getType()).getRank(), c(0));
      factor = mul(factor, load(sm, zeros));
    }
  }
  Value nextOut = next ? resultBuffer(next.getResult()) : Value();
  auto shape = cast<ShapedType>(n.getInput().getType()).getShape();
  int64_t D = shape.back();
  SmallVector<Value> ubs;
  for (int64_t i = 0; i + 1 < (int64_t)shape.size(); ++i)
    ubs.push_back(ShapedType::isDynamic(shape[i]) ? tokens : c(shape[i]));
  float eps = n.getEpsilon().convertToFloat();
  auto row = [&](ValueRange iv) {
    rmsNormRow(x, iv, out, iv, D, w, eps, [&](Value y, Value d) {
      Value rv = isa<VectorType>(y.getType()) ? vload(r, iv, d, b.getF32Type()) : load(r, rowIdx(iv, d));
      Value s = rnd(this->add(rv, y));
      return sc ? rnd(mul(s, isa<VectorType>(y.getType()) ? vsplat(factor) : factor)) : s;
    });
    if (next) {
      Value w2 = next.getWeight() ? get(next.getWeight()) : Value();
      rmsNormRow(out, iv, nextOut, iv, D, w2, next.getEpsilon().convertToFloat());
    }
  };
  if (ubs.empty())
    row({});
  else
    parallel(ubs, row, rowGrain(2 * D));
  set(sum, out);
  lowered.insert(add);
  if (sc)
    lowered.insert(sc);
  if (next) {
    set(next.getResult(), nextOut);
    lowered.insert(next);
  }
  return true;
}

bool LoopEmitter::fuseMatmulGelu(LinearOp l) {
  auto g = soleUser<GeluMulOp>(l.getResult());
  if (!g || g.getGate() != l.getResult() || g.getUp() == l.getResult() || !buf.count(g.getUp()) ||
      g.getResult() == returned)
    return false;
  if (!ensureLowered(l.getWeight()))
    return false;
  auto ws = cast<ShapedType>(l.getWeight().getType()).getShape();
  Value up = get(g.getUp());
  Value out = resultBuffer(g.getResult());
  matmulEpilogue = [&](Value acc, ValueRange idx) {
    return rnd(mul(rnd(geluTanh(rnd(acc))), load(up, idx)));
  };
  strategy.matmul(*this, get(l.getInput()), get(l.getWeight()), out, ws[0], ws[1]);
  matmulEpilogue = nullptr;
  set(g.getResult(), out);
  lowered.insert(g);
  return true;
}

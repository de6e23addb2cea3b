//===- MLP.cpp - the CPU MLP's gate and up projections --------------------===//
//
// gbuf = gelu(W_g x) * (W_u x) as a CPU runs it: decode reads the gate's
// and the up's rows side by side in one matrix-vector loop (row sets of
// Matmul.cpp; interleaved int4 gate and up of one scheme as one register
// tile), storing the raw dot products, and applies the activation after it
// on 16-lane vectors, fused into the down projection's int8 activation
// quantization when it has one; prefill runs the matmul's register tiles
// for both weights at once.
//
//===----------------------------------------------------------------------===//
#include "CPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cpu;

static constexpr int64_t VL = LoopEmitter::VL;

/// Decode gate and up rows of interleaved int4 weights (same scheme, no
/// K panels) as one register tile: their weight streams are read side by
/// side, line by line, as a single matrix's 4 parts are, instead of the
/// gate's rows in full and then the up's. False when they do not qualify.
bool CPUStrategy::jointGateUp(LoopEmitter &e, Value wg, Value wu, ArrayRef<SmallVector<Value>> rows, int64_t K,
                              ArrayRef<XRow> xs, SmallVector<Value> &gates, SmallVector<Value> &ups) {
  const QuantView *ig = e.quantView(wg), *iu = e.quantView(wu);
  if (!ig || !iu || intDot == IntDot::None || K % 256 != 0)
    return false;
  const QuantView &qg = *ig, &qu = *iu;
  if (!qg.interleaved || !qu.interleaved || qg.panels != 1 || qu.panels != 1 || qg.attr != qu.attr)
    return false;
  SmallVector<QuantAct> qas = quantActsFor(e, qg, xs);
  if (qas.size() != xs.size() || xs.size() != 1)
    return false;
  SmallVector<SmallVector<Value>> all;
  SmallVector<const QuantView *> views;
  for (const QuantView *q : {&qg, &qu})
    for (const SmallVector<Value> &r : rows) {
      all.push_back(r);
      views.push_back(q);
    }
  SmallVector<Value> outs = interleavedIntRows(e, qg, all, K, xs, qas, {}, views);
  gates.assign(outs.begin(), outs.begin() + rows.size());
  ups.assign(outs.begin() + rows.size(), outs.end());
  return true;
}

void CPUStrategy::mlpGateUp(LoopEmitter &e, const MLPArgs &m) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value x = m.x, wg = m.wg, wu = m.wu, wd = m.wd, gbuf = m.gbuf;
  int64_t I = m.I, H = m.H;
  auto act = [&](Value gate, Value up) { return e.geluGate(gate, up); };
  auto single = [&](Value i, Value s) {
    e.store(act(e.dot(wg, {i}, H, x, {s}), e.dot(wu, {i}, H, x, {s})), gbuf, {s, i});
  };
  if (LoopEmitter::isOneToken(x)) {
    // The matrix-vector loop stores the raw gate and up dot products; the
    // activation runs after it on 16-lane vectors, fused into the down
    // projection's activation quantization when it has one. A scalar GELU
    // per output row in the loop's tail costs a one-core decode a fifth
    // of the gate/up time.
    bool vec = I % VL == 0;
    Value ubuf = vec ? e.alloc(RankedTensorType::get({ShapedType::kDynamic, I}, b.getF32Type())) : Value();
    int64_t R = decodeRows(e, {wg, wu}, I, H, x);
    e.parallel({e.c(I / R)}, [&](ValueRange iv) {
      SmallVector<SmallVector<Value>> rows = decodeRowSet(e, {wg, wu}, iv[0], I, R);
      SmallVector<XRow> xr{XRow{x, {e.c(0)}}};
      SmallVector<Value> gates, ups;
      if (!jointGateUp(e, wg, wu, rows, H, xr, gates, ups)) {
        gates = dotTile(e, wg, rows, H, xr);
        ups = dotTile(e, wu, rows, H, xr);
      }
      for (int64_t r = 0; r < R; ++r) {
        if (vec) {
          e.store(gates[r], gbuf, {e.c(0), rows[r][0]});
          e.store(ups[r], ubuf, {e.c(0), rows[r][0]});
        } else {
          e.store(act(gates[r], ups[r]), gbuf, {e.c(0), rows[r][0]});
        }
      }
    }, decodeGrain(e, {wg, wu}, R, H));
    if (vec) {
      auto src = [&](ValueRange pre, Value k) {
        return act(e.vload(gbuf, pre, k, b.getF32Type()), e.vload(ubuf, pre, k, b.getF32Type()));
      };
      if (quantizesActs(e, wd, I)) {
        e.prepareActs(gbuf, wd, I, src);
      } else {
        e.loop(e.c(I / VL), [&](Value v) {
          Value k = e.imul(v, e.c(VL));
          vector::StoreOp::create(b, loc, src({e.c(0)}, k), gbuf, e.rowIdx({e.c(0)}, k));
        });
      }
    }
  } else if ((rowTiled(e, wg, I, H) && rowTiled(e, wu, I, H)) ||
             (intTiled(e, wg, x, I, H) && intTiled(e, wu, x, I, H))) {
    // Prefill: register tiles of rows x tokens over token blocks, as the
    // matmul's (float weights, or quantized ones on the integer dot path).
    bool ints = e.quantView(wg) != nullptr;
    int64_t R = ints ? intRowTile() : kRowTile, T = ints ? intTokTile() : kPrefillTile;
    prefillTiles(e, I, ints ? H : 4 * H, R, T, [&](ArrayRef<Value> is, ArrayRef<Value> toks) {
      SmallVector<XRow> rows = LoopEmitter::rowsOf(x, toks);
      auto gates = rowsTile(e, wg, is, H, rows), ups = rowsTile(e, wu, is, H, rows);
      for (size_t r = 0; r < is.size(); ++r)
        for (size_t t = 0; t < toks.size(); ++t)
          e.store(act(gates[r * toks.size() + t], ups[r * toks.size() + t]), gbuf, {toks[t], is[r]});
    });
  } else {
    // Prefill of other weights: gate and up rows register-tiled over
    // tokens like matmul.
    e.tokenTiles(I, e.tokens, kPrefillTile, [&](Value i, ArrayRef<Value> toks) {
      SmallVector<XRow> rows = LoopEmitter::rowsOf(x, toks);
      auto gates = e.dotRows(wg, {i}, H, rows), ups = e.dotRows(wu, {i}, H, rows);
      for (size_t t = 0; t < toks.size(); ++t)
        e.store(act(gates[t], ups[t]), gbuf, {toks[t], i});
    }, single);
  }
}

//===- MLP.cpp - the GPU MLP's gate and up projections --------------------===//
//
// gbuf = gelu(W_g x) * (W_u x) as loops for GPU kernels. Decode: one
// parallel iteration per row i computes the gate's and the up's dot
// products (each a lane-shared K reduction) and their activation. Prefill: the
// matmul's tiles (Matmul.cpp) for both weights at once.
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;


void GPUStrategy::mlpGateUp(LoopEmitter &e, const MLPArgs &m) {
  OpBuilder &b = e.b;
  Value x = m.x, wg = m.wg, wu = m.wu, gbuf = m.gbuf;
  int64_t I = m.I, H = m.H;
  if (LoopEmitter::isOneToken(x)) {
    // The activation of each row right after its two dot products (every
    // lane has the sums; lane 0 stores): no second pass over gbuf.
    e.parallel({e.c(I)}, [&](ValueRange iv) {
      Value i = iv[0];
      SmallVector<XRow> xr{XRow{x, {e.c(0)}}};
      Value gate = e.dotRows(wg, {i}, H, xr)[0], up = e.dotRows(wu, {i}, H, xr)[0];
      e.store(e.geluGate(gate, up), gbuf, {e.c(0), i});
    });
    return;
  }
  if (rowTiled(e, wg, I, H) && rowTiled(e, wu, I, H)) {
    e.rowTokenTiles(I, e.tokens, kRowTile, kTokenTile, [&](ArrayRef<Value> is, ArrayRef<Value> toks) {
      SmallVector<SmallVector<Value>> rows;
      for (Value i : is)
        rows.push_back({i});
      SmallVector<XRow> xs = LoopEmitter::rowsOf(x, toks);
      SmallVector<Value> gates = e.dotPlain(wg, rows, H, xs), ups = e.dotPlain(wu, rows, H, xs);
      for (size_t r = 0; r < is.size(); ++r)
        for (size_t t = 0; t < toks.size(); ++t)
          e.store(e.geluGate(gates[r * toks.size() + t], ups[r * toks.size() + t]), gbuf, {toks[t], is[r]});
    });
    return;
  }
  e.tokenTiles(I, e.tokens, kTokenTile, [&](Value i, ArrayRef<Value> toks) {
    SmallVector<XRow> xs = LoopEmitter::rowsOf(x, toks);
    SmallVector<Value> gates = e.dotRows(wg, {i}, H, xs), ups = e.dotRows(wu, {i}, H, xs);
    for (size_t t = 0; t < toks.size(); ++t)
      e.store(e.geluGate(gates[t], ups[t]), gbuf, {toks[t], i});
  }, [&](Value i, Value s) {
    e.store(e.geluGate(e.dot(wg, {i}, H, x, {s}), e.dot(wu, {i}, H, x, {s})), gbuf, {s, i});
  });
}

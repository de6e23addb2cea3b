//===- MLP.cpp - the GPU MLP's gate and up projections --------------------===//
//
// gbuf = gelu(W_g x) * (W_u x) as loops for GPU kernels. Decode: one
// parallel iteration per decode-rows rows computes the gate's and the up's
// dot products in one lane-shared K loop (Matmul.cpp laneDot), and their
// activation. Prefill:
// the matmul's block tiles (Matmul.cpp) of both weights at once, half the
// rows a thread each (mlpTile), else its subgroup tiles, kPrefillMLPRows
// rows of both x kPrefillTokens tokens a subgroup; the activation as each
// output is stored.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/GPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

void GPUStrategy::mlpGateUp(LoopEmitter &e, const MLPArgs &m) {
  Value x = m.x, wg = m.wg, wu = m.wu, gbuf = m.gbuf;
  int64_t I = m.I, H = m.H;
  if (LoopEmitter::isOneToken(x)) {
    // decode-rows rows of both weights a subgroup, one K loop (laneDot).
    if (int64_t R = decodeRowsFor(e, {wg, wu}, I, H)) {
      e.parallel({e.c(I / R)}, [&](ValueRange iv) {
        SmallVector<Value> rows;
        for (int64_t r = 0; r < R; ++r)
          rows.push_back(e.iadd(e.imul(iv[0], e.c(R)), e.c(r)));
        SmallVector<Value> both = laneDot(e, {wg, wu}, rows, H, XRow{x, {e.c(0)}});
        for (int64_t r = 0; r < R; ++r)
          e.store(e.geluGate(both[r], both[R + r]), gbuf, {e.c(0), rows[r]});
      });
      return;
    }
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
  if (BlockTile t = mlpTile(); canBlockTile(e, x, {wg, wu}, I, H, t)) {
    blockTiled(e, x, {wg, wu}, I, H, t, [&](Value s, Value i, ArrayRef<Value> sums) {
      e.store(e.geluGate(sums[0], sums[1]), gbuf, {s, i});
    });
    return;
  }
  bool plain = !e.quantView(wg) && !e.quantView(wu) && H % kLaneK == 0;
  int64_t R = plain && I % kPrefillMLPRows == 0 ? kPrefillMLPRows : 1;
  prefillTiles(e, I, R, [&](ArrayRef<Value> rows, ArrayRef<Value> toks, ArrayRef<XRow> clamped,
                            function_ref<void(Value, function_ref<void()>)> ifToken) {
    SmallVector<XRow> xs;
    for (const XRow &c : clamped)
      xs.push_back(XRow{x, c.pre});
    size_t T = toks.size(), Rn = rows.size();
    SmallVector<Value> gates, ups;
    if (plain) {
      SmallVector<Value> both = prefillDot(e, {wg, wu}, rows, H, xs);
      gates.assign(both.begin(), both.begin() + Rn * T);
      ups.assign(both.begin() + Rn * T, both.end());
    } else {
      for (Value i : rows) {
        llvm::append_range(gates, e.dotRows(wg, {i}, H, xs));
        llvm::append_range(ups, e.dotRows(wu, {i}, H, xs));
      }
    }
    for (size_t t = 0; t < T; ++t)
      ifToken(toks[t], [&] {
        for (size_t r = 0; r < Rn; ++r)
          e.store(e.geluGate(gates[r * T + t], ups[r * T + t]), gbuf, {toks[t], rows[r]});
      });
  });
}

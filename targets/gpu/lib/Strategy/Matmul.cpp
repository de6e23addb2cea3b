//===- Matmul.cpp - the GPU matmul ----------------------------------------===//
//
// out[s, n] = sum_k x[s, k] * W[n, k] as loops for GPU kernels:
//   * decode (one token): one parallel iteration per output row n, whose K
//     reduction (the LoopEmitter's f32 dot kernel of W's encoding, marked
//     gemma4.lanes "reduce") a subgroup's lanes share, coalesced;
//   * prefill: one parallel iteration per tile of outputs, kRowTile rows x
//     kTokenTile tokens of a float weight, else one row x kTokenTile tokens
//     (each weight vector loaded and dequantised feeds every token).
// Each output goes through LoopEmitter::epilogue (an elementwise consumer
// folded into the matmul, Fusion.cpp).
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

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
  if (rowTiled(e, w, N, K)) {
    e.rowTokenTiles(N, e.tokens, kRowTile, kTokenTile, [&](ArrayRef<Value> ns, ArrayRef<Value> toks) {
      SmallVector<SmallVector<Value>> rows;
      for (Value n : ns)
        rows.push_back({n});
      SmallVector<Value> accs = e.dotPlain(w, rows, K, LoopEmitter::rowsOf(x, toks));
      for (size_t r = 0; r < ns.size(); ++r)
        for (size_t t = 0; t < toks.size(); ++t)
          e.store(e.epilogue(accs[r * toks.size() + t], {toks[t], ns[r]}), out, {toks[t], ns[r]});
    });
    return;
  }
  e.tokenTiles(N, e.tokens, kTokenTile, [&](Value n, ArrayRef<Value> toks) {
    SmallVector<Value> accs = e.dotRows(w, {n}, K, LoopEmitter::rowsOf(x, toks));
    for (size_t t = 0; t < toks.size(); ++t)
      e.store(e.epilogue(accs[t], {toks[t], n}), out, {toks[t], n});
  }, [&](Value n, Value s) { e.store(e.epilogue(e.dot(w, {n}, K, x, {s}), {s, n}), out, {s, n}); });
}

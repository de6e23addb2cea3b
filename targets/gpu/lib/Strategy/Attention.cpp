//===- Attention.cpp - the GPU decode attention (flash-decoding) ----------===//
//
// Decode attention for GPU kernels, flash-decoding style: the visible keys
// split into chunks of kKeyChunk keys and one parallel iteration (a
// subgroup, gemma4-map-to-gpu) per (query head, chunk), so a long context
// spreads over every multiprocessor even with one KV head:
//   1. the chunk's scores s_j = scale * q . K_j, a nested parallel loop
//      whose keys the lanes share (each lane a whole dot product of 16-
//      element vectors, 64-byte loads);
//   2. the chunk's max m (every lane, from the scores in cache) and exp-sum
//      l (a sum the lanes share);
//   3. o = sum_j exp(s_j - m) V_j, the lanes sharing D (consecutive lanes
//      read consecutive 64 bytes of each V row: coalesced);
// then one iteration per query head combines the chunks' (m, l, o),
// rescaling each by exp(m_c - max m), the lanes sharing D again.
// Query heads of a KV group read the same K and V rows (from L2).
// Prefill attention is the default's, one (token, head) row per parallel
// iteration (LoweringStrategy::attendPrefill).
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

namespace {
/// Keys per chunk: a subgroup's share of one head's keys.
constexpr int64_t kKeyChunk = 64;
constexpr int64_t VL = LoopEmitter::VL;
} // namespace

/// f(i, acc) folded over i in [0, n) from `init`, serial within a lane:
/// unmarked, so the lanes do not share it (only sums can be shared, and a
/// vector sum whose surrounding loop is folded away, a head dim of one
/// vector, would otherwise become a lane-shared vector reduction).
static Value serialFold(LoopEmitter &e, Value n, Value init, function_ref<Value(Value, Value)> f) {
  OpBuilder &b = e.b;
  auto loop = scf::ForOp::create(b, e.loc, e.c(0), n, e.c(1), ValueRange{init},
                                 [&](OpBuilder &, Location, Value i, ValueRange acc) {
                                   scf::YieldOp::create(b, e.loc, f(i, acc[0]));
                                 });
  return loop.getResult(0);
}
static Value serialMax(LoopEmitter &e, Value n, function_ref<Value(Value)> f) {
  return serialFold(e, n, e.cf(-1e30), [&](Value i, Value acc) {
    return arith::MaximumFOp::create(e.b, e.loc, acc, f(i)).getResult();
  });
}

void GPUStrategy::attendDecode(LoopEmitter &e, const AttentionArgs &a) {
  OpBuilder &b = e.b;
  Type f32 = b.getF32Type();
  int64_t nh = a.nh, D = a.D, G = a.group;
  Value cap = e.dim(a.kc, 0);
  Value C = e.c(kKeyChunk);
  // Scratch for every chunk the capacity can have.
  Value maxChunks = arith::CeilDivUIOp::create(b, e.loc, cap, C);
  Value part = e.scratch({nh, ShapedType::kDynamic, D}, {maxChunks});
  Value pm = e.scratch({nh, ShapedType::kDynamic}, {maxChunks});
  Value pl = e.scratch({nh, ShapedType::kDynamic}, {maxChunks});
  Value sc = e.scratch({nh, ShapedType::kDynamic, kKeyChunk}, {maxChunks});
  Value end = e.iadd(a.pos, e.c(1)), lo = e.firstVisibleKey(a.pos, a.window);
  Value nChunks = arith::CeilDivUIOp::create(b, e.loc, e.isub(end, lo), C);
  Value scale = e.cf(a.scale);
  e.parallel({e.c(nh), nChunks}, [&](ValueRange iv) {
    Value h = iv[0], ci = iv[1];
    Value kh = e.idiv(h, e.c(G));
    Value j0 = e.iadd(lo, e.imul(ci, C));
    Value j1 = arith::MinUIOp::create(b, e.loc, e.iadd(j0, C), end);
    Value n = e.isub(j1, j0);
    // 1. Scores, a key per lane.
    e.parallel({n}, [&](ValueRange jv) {
      Value row = e.irem(e.iadd(j0, jv[0]), cap);
      auto acc = e.reduceStep(e.c(0), e.c(D), e.c(VL), {e.vzero()}, [&](Value d, ValueRange acc) {
        return SmallVector<Value>{e.vfma(e.vload(a.q, {e.c(0), h}, d, f32), e.vloadWeight(a.kc, {row, kh}, d), acc[0])};
      });
      e.store(e.mul(e.vreduce(acc[0]), scale), sc, {h, ci, jv[0]});
    });
    // 2. The chunk's max and exp-sum.
    Value m = serialMax(e, n, [&](Value jj) { return e.load(sc, {h, ci, jj}); });
    Value l = e.sum(n, [&](Value jj) { return math::ExpOp::create(b, e.loc, e.sub(e.load(sc, {h, ci, jj}), m)); });
    // 3. Unnormalised output, 16 elements of D per lane.
    e.reduceStep(e.c(0), e.c(D), e.c(VL), {}, [&](Value d, ValueRange) {
      Value acc = serialFold(e, n, e.vzero(), [&](Value jj, Value acc) {
        Value row = e.irem(e.iadd(j0, jj), cap);
        Value p = math::ExpOp::create(b, e.loc, e.sub(e.load(sc, {h, ci, jj}), m));
        return e.vfma(e.vsplat(p), e.vloadWeight(a.vc, {row, kh}, d), acc);
      });
      vector::StoreOp::create(b, e.loc, acc, part, ValueRange{h, ci, d});
      return SmallVector<Value>{};
    });
    e.markMap(e.lastLoop);
    e.store(m, pm, {h, ci});
    e.store(l, pl, {h, ci});
  });
  // Combine the chunks per query head.
  e.parallel({e.c(nh)}, [&](ValueRange iv) {
    Value h = iv[0];
    Value M = serialMax(e, nChunks, [&](Value c) { return e.load(pm, {h, c}); });
    Value L = e.sum(nChunks, [&](Value c) {
      return e.mul(math::ExpOp::create(b, e.loc, e.sub(e.load(pm, {h, c}), M)), e.load(pl, {h, c}));
    });
    Value invL = e.vsplat(e.div(e.cf(1.0), L));
    e.reduceStep(e.c(0), e.c(D), e.c(VL), {}, [&](Value d, ValueRange) {
      Value acc = serialFold(e, nChunks, e.vzero(), [&](Value c, Value acc) {
        Value w = math::ExpOp::create(b, e.loc, e.sub(e.load(pm, {h, c}), M));
        return e.vfma(e.vsplat(w), e.vload(part, {h, c}, d, f32), acc);
      });
      vector::StoreOp::create(b, e.loc, e.mul(acc, invL), a.out, ValueRange{e.c(0), h, d});
      return SmallVector<Value>{};
    });
    e.markMap(e.lastLoop);
  });
}

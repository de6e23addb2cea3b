//===- Attention.cpp - the GPU decode attention (flash-decoding) ----------===//
//
// Decode attention for GPU kernels, flash-decoding style: the visible keys
// split into chunks (decodeKeyChunk: 16 keys in a sliding-window layer, 32
// in a full-attention one) and one parallel iteration (a subgroup,
// gemma4-map-to-gpu) per (query head, chunk), so a long context spreads
// over every multiprocessor even with one KV head:
//   0. a fused attention's query row, normalised and rotated, into the
//      chunk's own copy (attendDecodeFused: no kernel of its own);
//   1. the chunk's scores s_j = scale * q . K_j, a nested parallel loop
//      whose keys the lanes share (each lane a whole dot product of 16-
//      element vectors, 64-byte loads);
//   2. the chunk's max m and exp-sum l, reductions the lanes share (a
//      subgroup max and a subgroup sum);
//   3. o = sum_j exp(s_j - m) V_j, the lanes sharing D, kVW elements each
//      (consecutive lanes read consecutive 32 bytes of each V row:
//      coalesced), the keys fold-unroll (8) at a time so that many loads
//      are in flight before the first multiply-add waits for one;
// then one iteration per query head combines the chunks' (m, l, o),
// rescaling each by exp(m_c - max m), the lanes sharing D again.
// Query heads of a KV group read the same K and V rows (from L2).
// Prefill runs the same kernels over (token, head, chunk): each token takes
// its visible part of a chunk grid laid over the keys any token sees.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/GPUStrategy.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::gpu;

namespace {
constexpr int64_t VL = LoopEmitter::VL;
/// Keys per chunk of the prefill attention (a prefill call's tokens already
/// give the grid its width).
constexpr int64_t kPrefillKeyChunk = 64;
/// Elements of D a lane takes in the value and combine passes.
constexpr int64_t kVW = 8;
/// Vectors of D a step of a score's dot product loads together.
constexpr int64_t kScoreUnroll = 4;
} // namespace

/// f(i, valid, acc) folded over i in [0, n) from `init`, serial within a
/// lane: unmarked, so the lanes do not share it. The steps go `unroll` at a
/// time (their loads independent of the accumulator, so issued together)
/// over n rounded up to `unroll`; a step past n gets i clamped to n - 1 and
/// valid false, and must add nothing (one loop: no remainder loop).
static Value serialFold(LoopEmitter &e, int64_t unroll, Value n, Value init,
                        function_ref<Value(Value, Value, Value)> f) {
  OpBuilder &b = e.b;
  Value U = e.c(unroll);
  Value nUp = e.imul(arith::CeilDivUIOp::create(b, e.loc, n, U), U);
  Value last = e.isub(n, e.c(1));
  auto loop = scf::ForOp::create(b, e.loc, e.c(0), nUp, U, ValueRange{init},
                                 [&](OpBuilder &, Location, Value i, ValueRange acc) {
                                   Value a = acc[0];
                                   for (int64_t u = 0; u < unroll; ++u) {
                                     Value iu = u ? e.iadd(i, e.c(u)) : i;
                                     Value valid = arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ult, iu, n);
                                     a = f(arith::MinUIOp::create(b, e.loc, iu, last), valid, a);
                                   }
                                   scf::YieldOp::create(b, e.loc, a);
                                 });
  return loop.getResult(0);
}
/// max over i in [0, n) of f(i), a reduction the lanes share.
static Value sharedMax(LoopEmitter &e, Value n, function_ref<Value(Value)> f) {
  return e.reduce(e.c(0), n, {e.cf(-1e30)}, [&](Value i, ValueRange acc) {
    return SmallVector<Value>{arith::MaximumFOp::create(e.b, e.loc, acc[0], f(i))};
  })[0];
}

/// Attention for the S query tokens of a.q (a decode step: S = 1), flash-
/// decoding style. The keys visible to any of the tokens, from the first
/// token's first visible key, form one grid of kKeyChunk-key chunks; token
/// s takes the part of each chunk it sees (none: a chunk of no keys, whose
/// zero partial result the combine weighs by 0).
static void flashAttention(LoopEmitter &e, const AttentionArgs &a, Value S, bool decode,
                           int64_t unroll, int64_t kKeyChunk,
                           const LoweringStrategy::QueryRowFn &queryRow = {}) {
  OpBuilder &b = e.b;
  Type f32 = b.getF32Type();
  auto vw = VectorType::get({kVW}, f32);
  auto splat = [&](Value x) { return vector::BroadcastOp::create(b, e.loc, vw, x).getResult(); };
  Value vzero = arith::ConstantOp::create(b, e.loc, DenseElementsAttr::get(vw, 0.0f));
  int64_t nh = a.nh, D = a.D, G = a.group;
  Value cap = e.dim(a.kc, 0);
  Value C = e.c(kKeyChunk);
  Value base = e.firstVisibleKey(a.pos, a.window);
  // Chunks of the grid: a decode step's bound is the capacity's (static for
  // a sliding window's ring, so its scratch is planned once).
  Value maxChunks = decode ? arith::CeilDivUIOp::create(b, e.loc, cap, C).getResult()
                           : arith::CeilDivUIOp::create(b, e.loc, e.isub(e.iadd(a.pos, S), base), C).getResult();
  int64_t dynS = decode ? 1 : ShapedType::kDynamic;
  SmallVector<Value> dyn = decode ? SmallVector<Value>{maxChunks} : SmallVector<Value>{S, maxChunks};
  Value part = e.scratch({dynS, nh, ShapedType::kDynamic, D}, dyn);
  Value pm = e.scratch({dynS, nh, ShapedType::kDynamic}, dyn);
  Value pl = e.scratch({dynS, nh, ShapedType::kDynamic}, dyn);
  Value sc = e.scratch({dynS, nh, ShapedType::kDynamic, kKeyChunk}, dyn);
  // A fused attention's query rows, made in each chunk's iteration (its own
  // copy: the chunks of a head run side by side).
  Value qc = queryRow ? e.scratch({dynS, nh, ShapedType::kDynamic, D}, dyn) : Value();
  Value nChunks = decode ? arith::CeilDivUIOp::create(b, e.loc, e.isub(e.iadd(a.pos, e.c(1)), base), C).getResult()
                         : maxChunks;
  Value scale = e.cf(a.scale);
  e.parallel({S, e.c(nh), nChunks}, [&](ValueRange iv) {
    Value s = iv[0], h = iv[1], ci = iv[2];
    Value kh = e.idiv(h, e.c(G));
    Value p = e.iadd(a.pos, s);
    Value end = e.iadd(p, e.c(1));
    Value g0 = e.iadd(base, e.imul(ci, C));
    Value j0 = arith::MaxUIOp::create(b, e.loc, g0, e.firstVisibleKey(p, a.window));
    Value j1 = arith::MinUIOp::create(b, e.loc, e.iadd(g0, C), end);
    Value some = arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ult, j0, j1);
    Value n = arith::SelectOp::create(b, e.loc, some, e.isub(j1, j0), e.c(0));
    Value qv = a.q;
    SmallVector<Value> qAt{s, h};
    if (queryRow) {
      qAt = {s, h, ci};
      queryRow({s, h}, qc, qAt);
      qv = qc;
    }
    // 1. Scores, a key per lane, kScoreUnroll vectors of D a step (their
    // loads issued together).
    e.parallel({n}, [&](ValueRange jv) {
      Value row = e.irem(e.iadd(j0, jv[0]), cap);
      int64_t U = D % (VL * kScoreUnroll) == 0 ? kScoreUnroll : 1;
      auto acc = e.reduceStep(e.c(0), e.c(D), e.c(VL * U), {e.vzero()}, [&](Value d0, ValueRange acc) {
        Value a0 = acc[0];
        for (int64_t u = 0; u < U; ++u) {
          Value d = u ? e.iadd(d0, e.c(u * VL)) : d0;
          a0 = e.vfma(e.vload(qv, qAt, d, f32), e.vloadWeight(a.kc, {row, kh}, d), a0);
        }
        return SmallVector<Value>{a0};
      });
      e.store(e.mul(e.vreduce(acc[0]), scale), sc, {s, h, ci, jv[0]});
    });
    // 2. The chunk's max and exp-sum.
    Value m = sharedMax(e, n, [&](Value jj) { return e.load(sc, {s, h, ci, jj}); });
    Value l = e.sum(n, [&](Value jj) { return math::ExpOp::create(b, e.loc, e.sub(e.load(sc, {s, h, ci, jj}), m)); });
    // 3. Unnormalised output, kVW elements of D per lane.
    e.reduceStep(e.c(0), e.c(D), e.c(kVW), {}, [&](Value d, ValueRange) {
      Value acc = serialFold(e, unroll, n, vzero, [&](Value jj, Value valid, Value acc) {
        Value row = e.irem(e.iadd(j0, jj), cap);
        Value pj = math::ExpOp::create(b, e.loc, e.sub(e.load(sc, {s, h, ci, jj}), m));
        pj = arith::SelectOp::create(b, e.loc, valid, pj, e.cf(0.0));
        return e.vfma(splat(pj), e.load8(a.vc, {row, kh}, d), acc);
      });
      vector::StoreOp::create(b, e.loc, acc, part, ValueRange{s, h, ci, d});
      return SmallVector<Value>{};
    });
    e.markMap(e.lastLoop);
    e.store(m, pm, {s, h, ci});
    e.store(l, pl, {s, h, ci});
  });
  // Combine the chunks per (token, query head).
  e.parallel({S, e.c(nh)}, [&](ValueRange iv) {
    Value s = iv[0], h = iv[1];
    Value M = sharedMax(e, nChunks, [&](Value c) { return e.load(pm, {s, h, c}); });
    Value L = e.sum(nChunks, [&](Value c) {
      return e.mul(math::ExpOp::create(b, e.loc, e.sub(e.load(pm, {s, h, c}), M)), e.load(pl, {s, h, c}));
    });
    Value invL = splat(e.div(e.cf(1.0), L));
    e.reduceStep(e.c(0), e.c(D), e.c(kVW), {}, [&](Value d, ValueRange) {
      Value acc = serialFold(e, unroll, nChunks, vzero, [&](Value c, Value valid, Value acc) {
        Value w = math::ExpOp::create(b, e.loc, e.sub(e.load(pm, {s, h, c}), M));
        w = arith::SelectOp::create(b, e.loc, valid, w, e.cf(0.0));
        return e.vfma(splat(w), e.load8(part, {s, h, c}, d), acc);
      });
      vector::StoreOp::create(b, e.loc, e.mul(acc, invL), a.out, ValueRange{s, h, d});
      return SmallVector<Value>{};
    });
    e.markMap(e.lastLoop);
  });
}

/// Keys per chunk of a decode step: a chunk's kernel folds its keys one
/// after another and the combine folds the chunks, so the best size grows
/// with the keys seen (about their square root); a sliding window sees at
/// most window keys, a full-attention layer the whole context: key-chunk
/// and twice that. (H100, E2B bf16 decode at 128 / 2048 tokens of context:
/// 16/32 keys 249 / 218 tokens/s, 64 keys 218 / 209.)
int64_t GPUStrategy::decodeKeyChunk(const AttentionArgs &a) const {
  return a.window > 0 ? keyChunk : 2 * keyChunk;
}

void GPUStrategy::attendDecode(LoopEmitter &e, const AttentionArgs &a) {
  flashAttention(e, a, e.c(1), /*decode=*/true, foldUnroll, decodeKeyChunk(a));
}

void GPUStrategy::attendDecodeFused(LoopEmitter &e, const AttentionArgs &a, QueryRowFn queryRow) {
  // The query rows in the attention's kernel (per chunk): no kernel of
  // their own.
  flashAttention(e, a, e.c(1), /*decode=*/true, foldUnroll, decodeKeyChunk(a), queryRow);
}

void GPUStrategy::attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                                std::function<void(ValueRange iv)> prologue) {
  if (a.D % VL != 0) // the row-at-a-time default (any head dim)
    return LoweringStrategy::attendPrefill(e, a, prologue);
  if (prologue)
    e.parallel({e.tokens, e.c(a.nh)}, prologue, e.rowGrain(a.D));
  flashAttention(e, a, e.tokens, /*decode=*/false, foldUnroll, kPrefillKeyChunk);
}

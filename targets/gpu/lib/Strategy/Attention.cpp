//===- Attention.cpp - the GPU attention: flash-decoding, flash tiles -----===//
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
//
// Prefill attention is flash attention by block tiles (tiledAttention,
// GPUStrategy::AttnTile, --gpu-tune attn-tile): a block of 256 threads per
// (tile of query rows, KV head), the rows a few tokens x the query heads
// that share the KV head (GQA), so each K and V element staged in
// workgroup memory serves every query row of the tile. The block walks the
// keys its tokens see (causal, from the first token's sliding-window
// start), a tile of keys at a time: scores from Q and K slices of D in
// workgroup memory, the mask per (query, key), an online softmax a thread
// per row (running max, correction, exp-sum), then P V from V slices of D
// into accumulators kept in registers; the rows normalised at the end.
// Defaults (CUDA, the emulator): 32 query rows, 64 keys, D in slices of
// 32 (Q, K) and 64 (V): 39 KiB of workgroup memory whatever the head dim
// (256 or 512). Vulkan: 32 x 16, 13.6 KiB. attn-tile=0, or a shape the
// tiles do not take (a tile not a whole number of KV groups), runs the
// decode kernels per query token instead: each token takes its visible
// part of a 64-key chunk grid laid over the keys any token sees.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/GPUStrategy.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
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
/// lane: unmarked, so the lanes do not share it. The whole groups of
/// `unroll` steps go `unroll` at a time (their loads independent of the
/// accumulator, so issued together), the n % unroll steps after them one
/// at a time; every step has valid true (f may still select on it).
/// Without a step past n there is no clamped index and no 64-bit unsigned
/// compare: on NVIDIA's Vulkan compiler (580.159) the earlier one-loop
/// form (i clamped to n - 1, valid = i < n unsigned) gave a decode
/// attention's value sum that lavapipe and CUDA did not
/// (bench/results/vulkan-nvidia-flashdebug-s7b.txt).
static Value serialFold(LoopEmitter &e, int64_t unroll, Value n, Value init,
                        function_ref<Value(Value, Value, Value)> f) {
  OpBuilder &b = e.b;
  Value valid = arith::ConstantIntOp::create(b, e.loc, 1, 1);
  Value U = e.c(unroll);
  Value whole = unroll > 1 ? e.isub(n, e.irem(n, U)) : n;
  auto steps = [&](Value lb, Value ub, int64_t u0, Value acc0) {
    auto loop = scf::ForOp::create(b, e.loc, lb, ub, e.c(u0), ValueRange{acc0},
                                   [&](OpBuilder &, Location, Value i, ValueRange acc) {
                                     Value a = acc[0];
                                     for (int64_t u = 0; u < u0; ++u)
                                       a = f(u ? e.iadd(i, e.c(u)) : i, valid, a);
                                     scf::YieldOp::create(b, e.loc, a);
                                   });
    return loop.getResult(0);
  };
  Value acc = steps(e.c(0), whole, unroll, init);
  return unroll > 1 ? steps(whole, n, 1, acc) : acc;
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
    // j1 - j0 keys, none when j0 >= j1, without a select between the
    // difference and 0: NVIDIA's Vulkan compiler (580.159) computed
    // select(j0 < j1, j1 - j0, 0) of 64-bit values as about 2^64, and the
    // chunk saw no keys (bench/results/vulkan-nvidia-flashdebug-s7b.txt).
    Value n = e.isub(j1, arith::MinUIOp::create(b, e.loc, j0, j1));
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

/// The largest power of two up to `want` that divides D (D a multiple of
/// 4: at least 4).
static int64_t sliceOf(int64_t D, int64_t want) {
  int64_t w = 4;
  while (w * 2 <= want && D % (w * 2) == 0)
    w *= 2;
  return w;
}

int64_t GPUStrategy::attnTileBytes(const AttnTile &t, int64_t D) {
  int64_t DK = D ? sliceOf(D, t.slice) : t.slice, DV = D ? sliceOf(D, 2 * t.slice) : 2 * t.slice;
  int64_t pad = kLaneK;
  return 4 * (t.queries * (DK + pad) + t.keys * (DK + pad) + t.keys * (DV + pad) +
              t.queries * (t.keys + pad) + t.queries);
}

bool GPUStrategy::canAttnTile(const AttentionArgs &a, const AttnTile &t) const {
  if (t.queries <= 0 || a.D % VL != 0 || a.group < 1 || t.queries % a.group != 0 ||
      a.nh % a.group != 0)
    return false;
  auto floatRank3 = [](Value m, bool f32Only) {
    auto ty = dyn_cast<MemRefType>(m.getType());
    if (!ty || ty.getRank() != 3)
      return false;
    Type et = ty.getElementType();
    return et.isF32() || (!f32Only && (et.isBF16() || et.isF16()));
  };
  return floatRank3(a.q, false) && floatRank3(a.kc, false) && floatRank3(a.vc, false) &&
         floatRank3(a.out, true);
}

/// Prefill attention by tiles, flash-attention style: one block of
/// kAttnThreads threads per (tile of M = t.queries query rows, KV head),
/// the rows the tile's M / group tokens x the group's query heads (row r:
/// token s0 + r / group, head kh * group + r % group). It walks the keys
/// any of its tokens sees, from the first token's first visible key to the
/// last token's position, BK = t.keys at a time:
///   1. scores S = Q K^T of the tile (M x BK): per slice of DK elements of
///      D, the threads copy Q's and K's slices into workgroup memory (16
///      bytes a thread a copy), a barrier, each thread's M/16 x BK/16
///      scores (rows 16 apart, keys 16 apart) take 4 elements at a time
///      from there, a barrier; then scale * S into workgroup memory;
///   2. online softmax, a thread per query row: the max m over the keys
///      row r's token sees (the causal bound and the sliding window, per
///      (row, key)), the correction exp(m_old - m), p = exp(s - m) in place
///      of s (0 for masked keys), l = l * corr + sum p;
///   3. O = corr * O + P V: per slice of DV elements of D, V's slice into
///      workgroup memory, a barrier, each thread's 4 columns of its rows
///      (DV / 4 threads a row, rows T / (DV / 4) apart) from 4 keys of P
///      and V a step, a barrier. O stays in registers, D/DV slices of each
///      row a thread.
/// Then O / l to a.out for the tile's tokens. Keys past the last token's
/// position (the last key tile's) are loaded clamped and weigh 0.
void GPUStrategy::tiledAttention(LoopEmitter &e, const AttentionArgs &a, const AttnTile &t) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  auto v4 = VectorType::get({kLaneK}, f32);
  const int64_t T = kAttnThreads, M = t.queries, BK = t.keys, G = a.group, D = a.D;
  const int64_t BQ = M / G, kvh = a.nh / G, pad = kLaneK;
  const int64_t DK = sliceOf(D, t.slice), DV = sliceOf(D, 2 * t.slice), NV = D / DV;
  // Scores: 16 key groups x 16 row groups; P V: DV / 4 column groups.
  const int64_t GK = 16, GT = T / GK, TM = M / GT, TN = BK / GK;
  assert(M % GT == 0 && BK % GK == 0 && "parseAttnTile: multiples of 16");
  const int64_t GC = DV / kLaneK, GV = T / GC, RV = (M + GV - 1) / GV;
  Value S = e.tokens, lastTok = e.isub(S, e.c(1));
  Value cap = e.dim(a.kc, 0);
  Value zero = e.cf(0.0), neg = e.cf(-1e30);
  Value vzero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(v4, 0.0f));

  OpBuilder::InsertionGuard guard(b);
  auto [tid, s0, kh] = blockGrid(e, kvh, 1, BQ, T);
  Value qs = workgroupTile(e, M, DK + pad, f32);
  Value ks = workgroupTile(e, BK, DK + pad, f32);
  Value vs = workgroupTile(e, BK, DV + pad, f32);
  Value ss = workgroupTile(e, M, BK + pad, f32);
  Value rowc = workgroupTile(e, 1, M, f32); // per row: corr, at the end 1 / l
  auto lt = [&](Value x, Value y) { return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y); };
  auto umin = [&](Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y).getResult(); };
  auto andI = [&](Value x, Value y) { return arith::AndIOp::create(b, loc, x, y).getResult(); };
  auto select = [&](Value c, Value x, Value y) { return arith::SelectOp::create(b, loc, c, x, y).getResult(); };

  // The block's tokens [s0, sEnd), positions, and the keys they see.
  Value sEnd = umin(e.iadd(s0, e.c(BQ)), S);
  Value pLast = e.isub(e.iadd(a.pos, sEnd), e.c(1));
  Value kStart = e.firstVisibleKey(e.iadd(a.pos, s0), a.window);
  // (x + BK - 1) / BK: SPIR-V has no ceildivui.
  Value nTiles = e.idiv(e.isub(e.iadd(pLast, e.c(BK)), kStart), e.c(BK));
  auto tokenOf = [&](Value r) { return e.iadd(s0, e.idiv(r, e.c(G))); };
  auto headOf = [&](Value r) { return e.iadd(e.imul(kh, e.c(G)), e.irem(r, e.c(G))); };
  auto keyRow = [&](Value j) { return e.irem(umin(j, pLast), cap); };

  // tile[r, c..c+4) = load(r, c) for rows x cols, 4 elements a thread a copy.
  auto stage = [&](Value tile, int64_t rows, int64_t cols, function_ref<Value(Value, Value)> load) {
    int64_t per = cols / kLaneK, groups = rows * per;
    for (int64_t i = 0; i * T < groups; ++i) {
      Value idx = e.iadd(tid, e.c(i * T));
      auto copy = [&] {
        Value r = e.idiv(idx, e.c(per)), c = e.imul(e.irem(idx, e.c(per)), e.c(kLaneK));
        vector::StoreOp::create(b, loc, load(r, c), tile, ValueRange{r, c});
      };
      if ((i + 1) * T > groups)
        ifBelow(e, idx, e.c(groups), copy);
      else
        copy();
    }
  };

  Value ty = e.idiv(tid, e.c(GK)), tx = e.irem(tid, e.c(GK));
  Value tyv = e.idiv(tid, e.c(GC)), txv = e.irem(tid, e.c(GC));
  // The P V rows of this thread (clamped into the tile for the loads).
  SmallVector<Value> pvRows, pvRowsIn;
  for (int64_t i = 0; i < RV; ++i) {
    Value r = e.iadd(tyv, e.c(GV * i));
    pvRows.push_back(r);
    pvRowsIn.push_back(GV * RV > M ? umin(r, e.c(M - 1)) : r);
  }

  SmallVector<Value> inits{neg, zero};
  inits.append(RV * NV, vzero);
  auto keyLoop = scf::ForOp::create(b, loc, e.c(0), nTiles, e.c(1), inits,
                                    [&](OpBuilder &, Location, Value kt, ValueRange carried) {
    Value m = carried[0], l = carried[1];
    SmallVector<Value> acc(carried.begin() + 2, carried.end());
    Value k0 = e.iadd(kStart, e.imul(kt, e.c(BK)));
    // 1. Scores, DK elements of D a step.
    SmallVector<Value> sInit(TM * TN, zero);
    auto dLoop = scf::ForOp::create(b, loc, e.c(0), e.c(D), e.c(DK), sInit,
                                    [&](OpBuilder &, Location, Value d0, ValueRange sc) {
      stage(qs, M, DK, [&](Value r, Value c) {
        return loadLaneK(e, a.q, {umin(tokenOf(r), lastTok), headOf(r), e.iadd(d0, c)});
      });
      stage(ks, BK, DK, [&](Value r, Value c) {
        return loadLaneK(e, a.kc, {keyRow(e.iadd(k0, r)), kh, e.iadd(d0, c)});
      });
      mlir::gpu::BarrierOp::create(b, loc);
      auto inner = scf::ForOp::create(b, loc, e.c(0), e.c(DK), e.c(kLaneK), sc,
                                      [&](OpBuilder &, Location, Value c0, ValueRange sa) {
        scf::YieldOp::create(b, loc, outerProductStep(e, qs, ty, GT, TM, {ks}, tx, GK, TN, c0, sa));
      });
      mlir::gpu::BarrierOp::create(b, loc);
      scf::YieldOp::create(b, loc, inner.getResults());
    });
    for (int64_t i = 0; i < TM; ++i)
      for (int64_t j = 0; j < TN; ++j) {
        Value r = e.iadd(ty, e.c(GT * i)), c = e.iadd(tx, e.c(GK * j));
        Value v = dLoop.getResult(i * TN + j);
        if (a.scale != 1.0f)
          v = e.mul(v, e.cf(a.scale));
        // (M and BK are multiples of 16: every thread's scores are in.)
        e.store(v, ss, {r, c});
      }
    mlir::gpu::BarrierOp::create(b, loc);
    // 2. Online softmax, thread r for row r.
    auto rowIf = scf::IfOp::create(b, loc, TypeRange{f32, f32}, lt(tid, e.c(M)), /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(rowIf.thenBlock());
      Value r = tid;
      Value s = tokenOf(r);
      Value p = e.iadd(a.pos, s);
      Value lo = e.firstVisibleKey(p, a.window);
      Value real = lt(s, S);
      auto visible = [&](Value c) {
        Value j = e.iadd(k0, c);
        Value inWin = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, j, lo);
        Value causal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, j, p);
        return andI(real, andI(inWin, causal));
      };
      auto mx = scf::ForOp::create(b, loc, e.c(0), e.c(BK), e.c(1), ValueRange{m},
                                   [&](OpBuilder &, Location, Value c, ValueRange x) {
        Value sc = select(visible(c), e.load(ss, {r, c}), neg);
        scf::YieldOp::create(b, loc, ValueRange{arith::MaximumFOp::create(b, loc, x[0], sc).getResult()});
      }).getResult(0);
      Value corr = math::ExpOp::create(b, loc, e.sub(m, mx));
      auto sum = scf::ForOp::create(b, loc, e.c(0), e.c(BK), e.c(1), ValueRange{zero},
                                    [&](OpBuilder &, Location, Value c, ValueRange x) {
        Value pc = math::ExpOp::create(b, loc, e.sub(e.load(ss, {r, c}), mx));
        pc = select(visible(c), pc, zero);
        e.store(pc, ss, {r, c});
        scf::YieldOp::create(b, loc, ValueRange{e.add(x[0], pc)});
      }).getResult(0);
      e.store(corr, rowc, {e.c(0), r});
      scf::YieldOp::create(b, loc, ValueRange{mx, e.add(e.mul(l, corr), sum)});
      b.setInsertionPointToStart(rowIf.elseBlock());
      scf::YieldOp::create(b, loc, ValueRange{m, l});
    }
    mlir::gpu::BarrierOp::create(b, loc);
    // 3. O = corr * O + P V, DV elements of D a slice.
    for (int64_t i = 0; i < RV; ++i) {
      Value corr = vector::BroadcastOp::create(b, loc, v4, e.load(rowc, {e.c(0), pvRowsIn[i]}));
      for (int64_t v = 0; v < NV; ++v)
        acc[i * NV + v] = e.mul(acc[i * NV + v], corr);
    }
    Value col = e.imul(txv, e.c(kLaneK));
    for (int64_t v = 0; v < NV; ++v) {
      stage(vs, BK, DV, [&](Value r, Value c) {
        return loadLaneK(e, a.vc, {keyRow(e.iadd(k0, r)), kh, e.iadd(e.c(v * DV), c)});
      });
      mlir::gpu::BarrierOp::create(b, loc);
      SmallVector<Value> sliceInit;
      for (int64_t i = 0; i < RV; ++i)
        sliceInit.push_back(acc[i * NV + v]);
      auto inner = scf::ForOp::create(b, loc, e.c(0), e.c(BK), e.c(kLaneK), sliceInit,
                                      [&](OpBuilder &, Location, Value c0, ValueRange oa) {
        SmallVector<Value> vv, next(oa.begin(), oa.end());
        for (int64_t q = 0; q < kLaneK; ++q)
          vv.push_back(vector::LoadOp::create(b, loc, v4, vs, ValueRange{e.iadd(c0, e.c(q)), col}));
        for (int64_t i = 0; i < RV; ++i) {
          Value pv = vector::LoadOp::create(b, loc, v4, ss, ValueRange{pvRowsIn[i], c0});
          for (int64_t q = 0; q < kLaneK; ++q) {
            Value pq = vector::BroadcastOp::create(b, loc, v4, vector::ExtractOp::create(b, loc, pv, q));
            next[i] = vector::FMAOp::create(b, loc, pq, vv[q], next[i]);
          }
        }
        scf::YieldOp::create(b, loc, next);
      });
      for (int64_t i = 0; i < RV; ++i)
        acc[i * NV + v] = inner.getResult(i);
      mlir::gpu::BarrierOp::create(b, loc);
    }
    SmallVector<Value> yield{rowIf.getResult(0), rowIf.getResult(1)};
    yield.append(acc);
    scf::YieldOp::create(b, loc, yield);
  });
  // O / l for the tile's tokens.
  ifBelow(e, tid, e.c(M), [&] {
    Value l = keyLoop.getResult(1);
    Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
    e.store(select(pos, e.div(e.cf(1.0), l), zero), rowc, {e.c(0), tid});
  });
  mlir::gpu::BarrierOp::create(b, loc);
  Value col = e.imul(txv, e.c(kLaneK));
  for (int64_t i = 0; i < RV; ++i) {
    Value r = pvRows[i], s = tokenOf(pvRowsIn[i]);
    Value ok = lt(s, S);
    if (GV * RV > M)
      ok = andI(ok, lt(r, e.c(M)));
    auto in = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(in.thenBlock()->getTerminator());
    Value inv = vector::BroadcastOp::create(b, loc, v4, e.load(rowc, {e.c(0), r}));
    Value h = headOf(r);
    for (int64_t v = 0; v < NV; ++v)
      vector::StoreOp::create(b, loc, e.mul(keyLoop.getResult(2 + i * NV + v), inv), a.out,
                              ValueRange{s, h, e.iadd(e.c(v * DV), col)});
  }
}

void GPUStrategy::attendPrefill(LoopEmitter &e, const AttentionArgs &a,
                                std::function<void(ValueRange iv)> prologue) {
  if (a.D % VL != 0) // the row-at-a-time default (any head dim)
    return LoweringStrategy::attendPrefill(e, a, prologue);
  if (prologue)
    e.parallel({e.tokens, e.c(a.nh)}, prologue, e.rowGrain(a.D));
  if (canAttnTile(a, attnTile))
    return tiledAttention(e, a, attnTile);
  flashAttention(e, a, e.tokens, /*decode=*/false, foldUnroll, kPrefillKeyChunk);
}

//===- Attention.cpp - causal attention over the KV caches, as loops ------===//
//
// The arithmetic of attention every target shares: the sliding window's
// first visible key, the online-softmax row (prefill: one query row at a
// time) and the split-key decode attention (flash decoding), whose work
// split and register blocking a target's strategy chooses
// (LoopEmitter::SplitKVPlan; targets/<name>/lib/Strategy/Attention.cpp).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::gemma4;

Value LoopEmitter::firstVisibleKey(Value p, int64_t window) {
  if (window <= 0)
    return c(0);
  // max(p + 1 - window, 0) as max(p + 1, window) - window: no select
  // between a difference and 0 (NVIDIA's Vulkan compiler miscomputes such
  // 64-bit selects; see the GPU strategy's flash attention).
  return isub(arith::MaxUIOp::create(b, loc, iadd(p, c(1)), c(window)), c(window));
}

void LoopEmitter::attendRow(const AttentionArgs &a, Value s, Value h) {
  Value q = a.q, kc = a.kc, vc = a.vc, out = a.out;
  int64_t D = a.D;
  Value p = iadd(a.pos, s);
  Value kh = idiv(h, c(a.group));
  Value cap = dim(kc, 0);
  Value lo = firstVisibleKey(p, a.window);
  loop(c(D), [&](Value d) { store(cf(0.0), out, {s, h, d}); });
  auto res = reduce(lo, iadd(p, c(1)), {cf(-1e30), cf(0.0)}, [&](Value j, ValueRange acc) {
    Value row = irem(j, cap);
    Value score = sum(c(D), [&](Value d) { return mul(load(q, {s, h, d}), load(kc, {row, kh, d})); });
    if (a.scale != 1.0f)
      score = mul(score, cf(a.scale));
    Value mNew = arith::MaximumFOp::create(b, loc, acc[0], score);
    Value corr = math::ExpOp::create(b, loc, sub(acc[0], mNew));
    Value pe = math::ExpOp::create(b, loc, sub(score, mNew));
    loop(c(D), [&](Value d) {
      Value o = load(out, {s, h, d});
      store(add(mul(o, corr), mul(pe, load(vc, {row, kh, d}))), out, {s, h, d});
    });
    return SmallVector<Value>{mNew, add(mul(acc[1], corr), pe)};
  });
  Value invL = div(cf(1.0), res[1]);
  loop(c(D), [&](Value d) { store(mul(load(out, {s, h, d}), invL), out, {s, h, d}); });
}

bool LoopEmitter::canAttendDecode(Value query, Value kc, int64_t D) {
  auto qt = cast<MemRefType>(query.getType());
  auto kt = cast<MemRefType>(kc.getType());
  return !qt.isDynamicDim(0) && qt.getDimSize(0) == 1 && D % VL == 0 && !kt.isDynamicDim(1);
}

/// Decode attention (one query token at position `pos`), flash-decoding
/// style: the visible keys split into up to plan.maxKeyChunks chunks of at
/// least plan.minKeyChunk keys, one work item per (KV head, chunk), so a
/// long context spreads over every thread (or block) even with a single KV
/// head. A work item serves all the query heads of its KV group (GQA), up
/// to plan.headTile at a time, so each K and V row is read once per tile of
/// heads instead of once per query head:
///   1. scores s[g, j] = scale * q_g . K_j, K_j loaded once per vector
///      for all heads g (with plan.prefetchValues, the V line at the same
///      place is prefetched);
///   2. per head, the chunk's max m and exp-sum l (p = exp(s - m));
///   3. o_g = sum_j p[g, j] V_j, V vector-outer so each V line is loaded
///      once and the heads' accumulators (plan.valueVectors vectors of D
///      each) stay in registers.
/// A combine step per query head then rescales the chunks' (m, l, o) by
/// exp(m_c - max m) and normalises.
void LoopEmitter::splitKVDecode(const AttentionArgs &a, const SplitKVPlan &plan) {
  Value q = a.q, kc = a.kc, vc = a.vc, out = a.out, pos = a.pos;
  int64_t nh = a.nh, D = a.D, window = a.window;
  float scale = a.scale;
  const int64_t kMaxKeyChunks = plan.maxKeyChunks, kMinKeyChunk = plan.minKeyChunk,
                kHeadTile = plan.headTile;
  auto kt = cast<MemRefType>(kc.getType());
  int64_t kvh = kt.getDimSize(1), G = nh / kvh;
  Value cap = dim(kc, 0);
  // Chunks per KV head and keys per chunk, at most (scratch sizes): a
  // dynamic capacity takes kMaxKeyChunks chunks of ceil(cap / that) keys.
  // A chunk's score row is padded to whole vectors (step 2 reads it 16 at
  // a time; the lanes past the chunk are masked off in registers).
  int64_t maxChunks = kMaxKeyChunks, scLen = ShapedType::kDynamic;
  Value maxChunkLen;
  if (!kt.isDynamicDim(0)) {
    int64_t n = kt.getDimSize(0);
    maxChunks = std::min(kMaxKeyChunks, (n + kMinKeyChunk - 1) / kMinKeyChunk);
    scLen = llvm::alignTo(std::max(kMinKeyChunk, (n + kMaxKeyChunks - 1) / kMaxKeyChunks), VL);
  } else {
    maxChunkLen = arith::MaxUIOp::create(b, loc, c(kMinKeyChunk),
                                         idiv(iadd(cap, c(kMaxKeyChunks - 1)), c(kMaxKeyChunks)));
    maxChunkLen = imul(idiv(iadd(maxChunkLen, c(VL - 1)), c(VL)), c(VL));
  }
  Type f32 = b.getF32Type();
  Value part = scratch({nh, maxChunks, D}, {}), pm = scratch({nh, maxChunks}, {}),
        pl = scratch({nh, maxChunks}, {}),
        sc = scratch({kvh, maxChunks, G, scLen},
                     maxChunkLen ? SmallVector<Value>{maxChunkLen} : SmallVector<Value>{});
  Value end = iadd(pos, c(1)), lo = firstVisibleKey(pos, window);
  Value len = isub(end, lo);
  Value chunkLen = arith::MaxUIOp::create(b, loc, c(kMinKeyChunk),
                                          idiv(iadd(len, c(kMaxKeyChunks - 1)), c(kMaxKeyChunks)));
  Value nChunks = idiv(iadd(len, isub(chunkLen, c(1))), chunkLen);
  auto vstore = [&](Value v, Value m, ArrayRef<Value> idx) { vector::StoreOp::create(b, loc, v, m, idx); };
  auto vmax = [&](Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y).getResult(); };
  // The chunk's keys [j0, j1) sit in ring rows j mod cap: at most two
  // runs of consecutive rows, so the key loops carry the row instead of
  // dividing per key (a division by the run's capacity on global layers).
  auto forKeys = [&](Value j0, Value j1, ValueRange inits,
                     function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
    Value r0 = irem(j0, cap);
    Value jw = arith::MinUIOp::create(b, loc, j1, iadd(j0, isub(cap, r0)));
    auto accs = reduce(j0, jw, inits,
                       [&](Value j, ValueRange acc) { return body(j, iadd(r0, isub(j, j0)), acc); });
    return reduce(jw, j1, accs, [&](Value j, ValueRange acc) { return body(j, isub(j, jw), acc); });
  };
  auto maskTy = VectorType::get({VL}, b.getI1Type());
  parallel({c(kvh), nChunks}, [&](ValueRange iv) {
    Value kh = iv[0], ci = iv[1];
    Value j0 = iadd(lo, imul(ci, chunkLen));
    Value j1 = arith::MinUIOp::create(b, loc, iadd(j0, chunkLen), end);
    Value n = isub(j1, j0);
    for (int64_t g0 = 0; g0 < G; g0 += kHeadTile) {
      int64_t gn = std::min(kHeadTile, G - g0);
      SmallVector<Value> heads, gs;
      for (int64_t i = 0; i < gn; ++i) {
        gs.push_back(c(g0 + i));
        heads.push_back(iadd(imul(kh, c(G)), gs.back()));
      }
      SmallVector<Value> zeros(gn, vzero());
      // 1. Scores of this chunk's keys for the gn heads.
      forKeys(j0, j1, {}, [&](Value j, Value row, ValueRange) {
        auto accs = reduceStep(c(0), c(D), c(VL), zeros, [&](Value d, ValueRange acc) {
          Value kv = vloadWeight(kc, {row, kh}, d);
          if (plan.prefetchValues && g0 == 0)
            memref::PrefetchOp::create(b, loc, vc, ValueRange{row, kh, d}, /*isWrite=*/false,
                                       /*localityHint=*/3, /*isDataCache=*/true);
          SmallVector<Value> next;
          for (int64_t i = 0; i < gn; ++i)
            next.push_back(vfma(vload(q, {c(0), heads[i]}, d, f32), kv, acc[i]));
          return next;
        });
        for (int64_t i = 0; i < gn; ++i)
          store(mul(vreduce(accs[i]), cf(scale)), sc, {kh, ci, gs[i], isub(j, j0)});
        return SmallVector<Value>{};
      });
      // 2. Chunk max and exp-sum per head, 16 scores at a time (lanes past
      // n, in the row's padding, are replaced by -1e30, whose exp is 0);
      // the scores become exp(s - m).
      for (int64_t i = 0; i < gn; ++i) {
        SmallVector<Value> rowPre{kh, ci, gs[i]};
        auto scores = [&](Value jj, Value mask) {
          return arith::SelectOp::create(b, loc, mask, vload(sc, rowPre, jj, f32), vsplat(cf(-1e30)))
              .getResult();
        };
        auto tailMask = [&](Value jj) {
          return vector::CreateMaskOp::create(b, loc, maskTy, ValueRange{isub(n, jj)}).getResult();
        };
        Value vm = reduceStep(c(0), n, c(VL), {vsplat(cf(-1e30))}, [&](Value jj, ValueRange acc) {
          return SmallVector<Value>{vmax(acc[0], scores(jj, tailMask(jj)))};
        })[0];
        Value m = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, vm);
        Value vl = reduceStep(c(0), n, c(VL), {vzero()}, [&](Value jj, ValueRange acc) {
          Value mask = tailMask(jj);
          Value e = math::ExpOp::create(b, loc, sub(scores(jj, mask), vsplat(m)));
          vstore(e, sc, rowIdx(rowPre, jj)); // the masked lanes' exp is 0, in the padding
          return SmallVector<Value>{arith::AddFOp::create(b, loc, acc[0], e, fm()).getResult()};
        })[0];
        store(m, pm, {heads[i], ci});
        store(vreduce(vl), pl, {heads[i], ci});
      }
      // 3. Unnormalised outputs, db vectors of D at a time: the gn x db
      // accumulators stay in registers over the keys, each V line is
      // loaded once and each weight broadcast once per block.
      int64_t db = (D / VL) % plan.valueVectors == 0 ? plan.valueVectors : 1;
      reduceStep(c(0), c(D), c(db * VL), {}, [&](Value d, ValueRange) {
        SmallVector<Value> inits(gn * db, vzero());
        auto accs = forKeys(j0, j1, inits, [&](Value j, Value row, ValueRange acc) {
          SmallVector<Value> vv;
          for (int64_t k = 0; k < db; ++k)
            vv.push_back(vloadWeight(vc, {row, kh}, iadd(d, c(k * VL))));
          Value jj = isub(j, j0);
          SmallVector<Value> next;
          for (int64_t i = 0; i < gn; ++i) {
            Value p = vsplat(load(sc, {kh, ci, gs[i], jj}));
            for (int64_t k = 0; k < db; ++k)
              next.push_back(vfma(p, vv[k], acc[i * db + k]));
          }
          return next;
        });
        for (int64_t i = 0; i < gn; ++i)
          for (int64_t k = 0; k < db; ++k)
            vstore(accs[i * db + k], part, {heads[i], ci, iadd(d, c(k * VL))});
        return SmallVector<Value>{};
      });
    }
  });
  // Combine the chunks per query head.
  parallel({c(nh)}, [&](ValueRange iv) {
    Value h = iv[0];
    Value M = reduce(c(0), nChunks, {cf(-1e30)}, [&](Value ci, ValueRange acc) {
      return SmallVector<Value>{vmax(acc[0], load(pm, {h, ci}))};
    })[0];
    Value L = sum(nChunks, [&](Value ci) {
      Value w = math::ExpOp::create(b, loc, sub(load(pm, {h, ci}), M));
      store(w, pm, {h, ci});
      return mul(w, load(pl, {h, ci}));
    });
    Value invL = vsplat(div(cf(1.0), L));
    reduceStep(c(0), c(D), c(VL), {}, [&](Value d, ValueRange) {
      auto acc = reduce(c(0), nChunks, {vzero()}, [&](Value ci, ValueRange a) {
        return SmallVector<Value>{vfma(vsplat(load(pm, {h, ci})), vload(part, {h, ci}, d, f32), a[0])};
      });
      vstore(arith::MulFOp::create(b, loc, acc[0], invL, fm()), out, {c(0), h, d});
      return SmallVector<Value>{};
    });
  });
}

//===- Matmul.cpp - the CPU matmul: row sets, tiles, dot tiles ------------===//
//
// How a CPU runs out[s, n] = sum_k x[s, k] * W[n, k] (the linears, the
// MLP's down projection) and every other dot product (dotTile):
//   * decode (one token): a matrix-vector product whose parallel steps
//     each read decodeRowTile weight rows from equal parts of W (each its
//     own sequential stream; one core streams several at the bandwidth the
//     memory gives it), or one row tile of QuantLayout.h (one stream), with
//     grains sized so a thread's chunk streams at least kDecodeChunkBytes;
//     K-panelled weights stream panel after panel (gemma4.range_outer);
//     weight bytes software-prefetched weight-prefetch bytes ahead;
//   * prefill: register tiles of weight rows x tokens (kRowTile x
//     kPrefillTile f32 FMAs for plain float weights, intRowTile() x
//     intTokTile() integer dot products for quantized ones on CPUs with
//     them), over blocks of tokens whose activations stay in L2 while the
//     weight rows stream past (prefillTiles), the last tile repeating the
//     last token instead of a scalar tail; other weights one row x
//     kPrefillTile tokens, so each weight vector loaded (and dequantised)
//     feeds several FMAs;
//   * dot tiles: the f32 kernels of every encoding (LoopEmitter, shared
//     with every target), with `accumulators` independent accumulators
//     when a tile has few rows x tokens (so FMA latency does not bound a
//     memory-bound loop), and on CPUs with integer dot products the
//     int8-activation kernels (IntegerDot.cpp): with int-dot=x86-vnni or
//     arm-dotprod, the activation rows a quantized matmul reads are first
//     quantized to int8 per 32-element block (q = round(x/d), d = max|x|/127,
//     once per op, not per output), and each block is one 4-byte-group
//     integer dot product (dot4) of the weight bytes with those int8
//     activations: vpdpbusd (unsigned x signed bytes: int4 nibbles 0..15,
//     int8 + 128) or two NEON sdot (signed x signed: int4 nibbles 0..15,
//     int8 as is); the per-block sums of q correct for the offset (see
//     intDotRows).
//
//===----------------------------------------------------------------------===//
#include "CPUStrategy.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cpu;

static constexpr int64_t VL = LoopEmitter::VL;

/// One-token matrix-vector products (decode) prefetch the weight bytes
/// `weightPrefetch` ahead of the `n` elements a step loads from `data`
/// at element `at` of row `wPre`, one prefetch per 64 bytes: on Intel's
/// server cores the hardware streamer alone leaves one core well short of
/// its bandwidth. The address may run past the row, into the next one
/// (the rows a thread streams are consecutive) or, for the last rows of
/// the weight blob, past its end: prefetches do not fault.
void CPUStrategy::prefetchWeights(LoopEmitter &e, Value data, ValueRange wPre, Value at, int64_t n) {
  if (weightPrefetch <= 0)
    return;
  int64_t elem =
      std::max<int64_t>(1, cast<MemRefType>(data.getType()).getElementType().getIntOrFloatBitWidth() / 8);
  for (int64_t l = 0; l < n * elem; l += 64)
    memref::PrefetchOp::create(e.b, e.loc, data, e.rowIdx(wPre, e.iadd(at, e.c((weightPrefetch + l) / elem))),
                               /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
}

/// Whether dotTile shares the activation loads of several weight rows of
/// `w` (plain float weights, and quantized ones on the integer dot path);
/// other weights run one row at a time.
bool CPUStrategy::rowTileable(LoopEmitter &e, Value w, int64_t K, ArrayRef<XRow> xs) {
  const QuantView *qv = e.quantView(w);
  if (!qv)
    return K % VL == 0;
  return intDot != IntDot::None && K % 32 == 0 && quantActsFor(e, *qv, xs).size() == xs.size();
}

/// sum_k x_t[k] * W[wPres[r].., k] for every weight row r and activation
/// row t (result r * T + t): a register tile whose activation loads are
/// shared by the R weight rows and whose weight loads are shared by the T
/// activation rows. Decode passes R rows from far-apart parts of W (one
/// activation row): each row is its own sequential stream, and one core
/// streams several at the bandwidth the memory gives it, where one row
/// per step spends its load slots on the activations.
SmallVector<Value> CPUStrategy::dotTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres, int64_t K,
                                        ArrayRef<XRow> xs) {
  if (wPres.size() > 1 && !rowTileable(e, w, K, xs)) {
    SmallVector<Value> out;
    for (const SmallVector<Value> &wPre : wPres)
      llvm::append_range(out, dotTile(e, w, {wPre}, K, xs));
    return out;
  }
  const QuantView *qv = e.quantView(w);
  if (!qv && bf16Dottable(e, w, K))
    return bf16DotTile(e, w, wPres, K, xs);
  if (!qv) {
    if (K % VL != 0)
      return e.dotScalar(w, wPres.front(), K, xs);
    // A decode step (one activation row) prefetches its rows' bytes ahead.
    return e.dotPlain(w, wPres, K, xs, accumulators, [&](Value k0, int64_t n) {
      if (xs.size() == 1)
        for (const SmallVector<Value> &row : wPres)
          prefetchWeights(e, w, row, k0, n);
    });
  }
  if (qv->panels > 1) {
    // The panels' dot products, summed in registers (prefill: the panel
    // order does not matter to a weight reused by several tokens).
    if (!panelDotReady(e, w, xs))
      return e.dotScalar(w, wPres.front(), K, xs); // dequantLoad knows the panel layout
    return e.sumPanels(*qv, wPres.size() * xs.size(),
                       [&](Value pc) { return panelTile(e, w, wPres, pc, xs); });
  }
  if (intDot != IntDot::None && K % 32 == 0) {
    SmallVector<QuantAct> qas = quantActsFor(e, *qv, xs);
    if (qas.size() == xs.size())
      return intDotRows(e, *qv, wPres, K, xs, qas);
  }
  return e.dotQuantF32(*qv, wPres.front(), K, xs);
}

bool CPUStrategy::bf16Dottable(LoopEmitter &e, Value w, int64_t K) const {
  auto t = dyn_cast<MemRefType>(w.getType());
  return bf16Dot && e.bf16 && t && t.getElementType().isBF16() && K % 32 == 0;
}

SmallVector<Value> CPUStrategy::bf16DotTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres,
                                            int64_t K, ArrayRef<XRow> xs) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto v32bf = VectorType::get({32}, b.getBF16Type());
  // As dotPlain: U independent accumulators per (row, token) when those are
  // few, so the vdpbf16ps latency does not bound a memory-bound loop.
  size_t R = wPres.size(), T = xs.size(), P = R * T;
  int64_t U = std::max<int64_t>(1, accumulators / static_cast<int64_t>(P));
  while (U > 1 && K % (32 * U) != 0)
    U /= 2;
  SmallVector<Value> inits(P * U, e.vzero());
  auto accs = e.reduceStep(e.c(0), e.c(K), e.c(32 * U), inits, [&](Value k0, ValueRange acc) {
    SmallVector<Value> next(acc.begin(), acc.end());
    if (xs.size() == 1)
      for (const SmallVector<Value> &row : wPres)
        prefetchWeights(e, w, row, k0, 32 * U);
    for (int64_t u = 0; u < U; ++u) {
      Value k = u == 0 ? k0 : e.iadd(k0, e.c(u * 32));
      Value k16 = e.iadd(k, e.c(16));
      SmallVector<Value> xv;
      for (const XRow &x : xs) {
        // The activations are bf16 values: the conversion is exact.
        Value lo = e.vload(x.mem, x.pre, k, b.getF32Type()), hi = e.vload(x.mem, x.pre, k16, b.getF32Type());
        xv.push_back(LLVM::CallIntrinsicOp::create(b, loc, v32bf,
                                                   b.getStringAttr("llvm.x86.avx512bf16.cvtne2ps2bf16.512"),
                                                   ValueRange{hi, lo})
                         .getResult(0));
      }
      for (size_t r = 0; r < R; ++r) {
        Value wv = vector::LoadOp::create(b, loc, v32bf, w, e.rowIdx(wPres[r], k));
        for (size_t t = 0; t < T; ++t) {
          size_t a = u * P + r * T + t;
          next[a] = LLVM::CallIntrinsicOp::create(b, loc, e.vf32(),
                                                  b.getStringAttr("llvm.x86.avx512bf16.dpbf16ps.512"),
                                                  ValueRange{next[a], xv[t], wv})
                        .getResult(0);
        }
      }
    }
    return next;
  });
  SmallVector<Value> sums(accs.begin(), accs.begin() + P);
  for (int64_t u = 1; u < U; ++u)
    for (size_t p = 0; p < P; ++p)
      sums[p] = arith::AddFOp::create(b, loc, sums[p], accs[u * P + p]);
  SmallVector<Value> out;
  for (Value a : sums)
    out.push_back(e.vreduce(a));
  return out;
}

/// Whether panelTile can run for weight `w` with K panels and these
/// activation rows (their int8 or permuted f32 forms are prepared).
bool CPUStrategy::panelDotReady(LoopEmitter &e, Value w, ArrayRef<XRow> xs) {
  const QuantView &qv = *e.quantView(w);
  if (intDot != IntDot::None)
    return quantActsFor(e, qv, xs).size() == xs.size();
  return e.permutedActsFor(xs).size() == xs.size();
}

/// dotTile restricted to K panel `pc` of a panelled weight (result
/// r * T + t): the panel's columns of rows wPres against the matching
/// slice of the activations. Needs panelDotReady.
SmallVector<Value> CPUStrategy::panelTile(LoopEmitter &e, Value w, ArrayRef<SmallVector<Value>> wPres, Value pc,
                                          ArrayRef<XRow> xs) {
  const QuantView &qv = *e.quantView(w);
  SmallVector<SmallVector<Value>> pres = LoopEmitter::panelRows(wPres, pc);
  Value sb0 = e.imul(pc, e.c(qv.panelK / 256));
  if (intDot != IntDot::None)
    return interleavedIntRows(e, qv, pres, qv.panelK, xs, quantActsFor(e, qv, xs), sb0);
  return e.interleavedF32Panel(qv, pres, xs, sb0);
}

/// Whether float weight `w` takes the row-tiled prefill kernel.
bool CPUStrategy::rowTiled(LoopEmitter &e, Value w, int64_t N, int64_t K) {
  return !e.quantView(w) && K % VL == 0 && N % kRowTile == 0;
}

/// sum_k x_t[k] * W[n_r, k] for every weight row n_r and activation row
/// x_t (result r * T + t): one register tile (dotTile).
SmallVector<Value> CPUStrategy::rowsTile(LoopEmitter &e, Value w, ArrayRef<Value> ns, int64_t K,
                                         ArrayRef<XRow> xs) {
  SmallVector<SmallVector<Value>> rows;
  for (Value n : ns)
    rows.push_back({n});
  return dotTile(e, w, rows, K, xs);
}

/// Whether prefill runs quantized weight `w` (N rows of K) against the
/// activations x in intRowTile() x intTokTile() integer-dot tiles: on the
/// integer dot path, with x quantized to int8 for it (prepareActs).
bool CPUStrategy::intTiled(LoopEmitter &e, Value w, Value x, int64_t N, int64_t K) {
  return e.quantView(w) && intDot != IntDot::None && N % intRowTile() == 0 && rowTileable(e, w, K, {XRow{x, {}}});
}

/// Prefill over register tiles of R weight rows x T tokens, cache-blocked:
/// the parallel loop runs over (token blocks, row tiles), the row tiles
/// varying fastest, so a thread's consecutive iterations stream weight
/// rows past one block of tokens whose activations (actRowBytes a token,
/// at most kPrefillBlockBytes a block) stay in L2; each iteration runs its
/// R rows over the block's token tiles, the rows' bytes in L1 after the
/// first tile. The last tile of a prompt whose length T does not divide
/// repeats the last token (its indices clamped to S - 1): the same
/// products computed again and stored to the same place, so there is no
/// scalar tail loop.
void CPUStrategy::prefillTiles(LoopEmitter &e, int64_t N, int64_t actRowBytes, int64_t R, int64_t T,
                               function_ref<void(ArrayRef<Value>, ArrayRef<Value>)> body) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value S = e.tokens;
  int64_t TB = std::clamp<int64_t>(kPrefillBlockBytes / std::max<int64_t>(1, actRowBytes * T), 1, kMaxBlockTiles);
  Value tiles = e.idiv(e.iadd(S, e.c(T - 1)), e.c(T));
  Value blocks = e.idiv(e.iadd(tiles, e.c(TB - 1)), e.c(TB));
  e.parallel({blocks, e.c(N / R)}, [&](ValueRange iv) {
    SmallVector<Value> ns;
    for (int64_t r = 0; r < R; ++r)
      ns.push_back(e.iadd(e.imul(iv[1], e.c(R)), e.c(r)));
    Value t0 = e.imul(iv[0], e.c(TB));
    Value t1 = arith::MinUIOp::create(b, loc, e.iadd(t0, e.c(TB)), tiles);
    Value last = e.isub(S, e.c(1));
    auto f = scf::ForOp::create(b, loc, t0, t1, e.c(1));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(f.getBody()->getTerminator());
    Value s0 = e.imul(f.getInductionVar(), e.c(T));
    SmallVector<Value> toks;
    for (int64_t t = 0; t < T; ++t)
      toks.push_back(t == 0 ? s0 : arith::MinUIOp::create(b, loc, e.iadd(s0, e.c(t)), last).getResult());
    body(ns, toks);
  });
}

/// Rows per step of a decode matrix-vector product over N rows of K
/// elements of each weight in ws (read side by side, as the MLP's gate and
/// up): decodeRowTile weight streams in all, when N divides and dotTile
/// shares activation loads for them, else 1.
/// Row-tiled weights (QuantLayout.h) of one tile size: one whole tile of
/// each per step, its rows one stream (decodeRowSet with `tiled`).
int64_t CPUStrategy::decodeRows(LoopEmitter &e, ArrayRef<Value> ws, int64_t N, int64_t K, Value x) {
  if (int64_t T = commonTile(e, ws); T > 1) {
    for (Value w : ws)
      if (!rowTileable(e, w, K, {XRow{x, {}}}))
        return 1;
    return T;
  }
  int64_t R = decodeRowTile / static_cast<int64_t>(ws.size());
  if (R <= 1 || N % R != 0)
    return 1;
  for (Value w : ws)
    if (!rowTileable(e, w, K, {XRow{x, {}}}))
      return 1;
  return R;
}

/// The grain of a decode matrix-vector loop whose steps each read R rows
/// of K weights of every weight in ws: enough steps that a chunk streams
/// at least kDecodeChunkBytes, so a chunk claim (an atomic on a line all
/// threads touch) stays a small part of it. Small matrices (E2B's
/// per-layer projections: 512 bytes a step) then run on fewer threads
/// instead of 16 threads claiming 1.5 KB each.
int64_t CPUStrategy::decodeGrain(LoopEmitter &e, ArrayRef<Value> ws, int64_t R, int64_t K) {
  int64_t bits = 0;
  for (Value w : ws) {
    if (const QuantView *qv = e.quantView(w))
      bits += qv->attr.getBits();
    else
      bits += cast<MemRefType>(w.getType()).getElementTypeBitWidth();
  }
  int64_t bytes = std::max<int64_t>(1, R * K * bits / 8);
  return std::max<int64_t>(1, (kDecodeChunkBytes + bytes - 1) / bytes);
}

/// The row tile every weight of ws has (QuantLayout.h), else 1.
int64_t CPUStrategy::commonTile(LoopEmitter &e, ArrayRef<Value> ws) {
  int64_t T = 0;
  for (Value w : ws) {
    const QuantView *qv = e.quantView(w);
    int64_t t = qv ? qv->tile : 1;
    if (T != 0 && t != T)
      return 1;
    T = t;
  }
  return T > 1 ? T : 1;
}

/// Step i's R rows of N of the weights ws: row i of each of the R equal
/// parts of N rows (i, i + N/R, ...: R streams), or for row-tiled weights
/// (commonTile(ws) == R) tile i's rows iR .. iR + R - 1 (one stream).
SmallVector<SmallVector<Value>> CPUStrategy::decodeRowSet(LoopEmitter &e, ArrayRef<Value> ws, Value i, int64_t N,
                                                          int64_t R) {
  bool tiled = R > 1 && commonTile(e, ws) == R;
  SmallVector<SmallVector<Value>> rows;
  for (int64_t r = 0; r < R; ++r) {
    if (tiled)
      rows.push_back({e.iadd(e.imul(i, e.c(R)), e.c(r))});
    else
      rows.push_back({r == 0 ? i : e.iadd(i, e.c(r * (N / R)))});
  }
  return rows;
}

/// out[s, n] = sum_k x[s, k] * W[n, k]   (x, out: [S, K] / [S, N])
void CPUStrategy::matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value S = e.tokens;
  e.prepareActs(x, w, K);
  auto single = [&](Value n, Value s) { e.store(e.dot(w, {n}, K, x, {s}), out, {s, n}); };
  if (LoopEmitter::isOneToken(x)) {
    // Decode: R output features per step, from R equal parts of W.
    int64_t R = decodeRows(e, {w}, N, K, x);
    const QuantView *qv = e.quantView(w);
    if (qv && qv->panels > 1 && panelDotReady(e, w, {XRow{x, {e.c(0)}}})) {
      // K panels: each chunk of rows streams panel after panel (the
      // panel loop runs outside the chunk's rows once outlined), adding
      // each panel's partial sums to the output.
      int64_t P = qv->panels;
      e.parallel({e.c(N / R)}, [&](ValueRange iv) {
        Value lb = e.c(0), ub = e.c(P), one = e.c(1);
        auto f = scf::ForOp::create(b, loc, lb, ub, one);
        f->setAttr(kRangeOuterAttr, b.getUnitAttr());
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(f.getBody()->getTerminator());
        Value pc = f.getInductionVar();
        SmallVector<SmallVector<Value>> rows = decodeRowSet(e, {w}, iv[0], N, R);
        SmallVector<Value> outs = panelTile(e, w, rows, pc, {XRow{x, {e.c(0)}}});
        Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, pc, e.c(0));
        for (int64_t r = 0; r < R; ++r) {
          Value prev = e.load(out, {e.c(0), rows[r][0]});
          e.store(arith::SelectOp::create(b, loc, first, outs[r], e.add(prev, outs[r])), out,
                  {e.c(0), rows[r][0]});
        }
      }, decodeGrain(e, {w}, R, K));
      return;
    }
    e.parallel({e.c(N / R)}, [&](ValueRange iv) {
      SmallVector<SmallVector<Value>> rows = decodeRowSet(e, {w}, iv[0], N, R);
      SmallVector<Value> outs = dotTile(e, w, rows, K, {XRow{x, {e.c(0)}}});
      for (int64_t r = 0; r < R; ++r)
        e.store(outs[r], out, {e.c(0), rows[r][0]});
    }, decodeGrain(e, {w}, R, K));
    return;
  }
  if (rowTiled(e, w, N, K) || intTiled(e, w, x, N, K)) {
    // Prefill: register tiles of R weight rows x T tokens over blocks of
    // tokens (prefillTiles): float weights against f32 activations,
    // quantized ones against their int8 form.
    bool ints = e.quantView(w) != nullptr;
    int64_t R = ints ? intRowTile() : kRowTile, T = ints ? intTokTile() : kPrefillTile;
    prefillTiles(e, N, ints ? K : 4 * K, R, T, [&](ArrayRef<Value> ns, ArrayRef<Value> toks) {
      auto accs = rowsTile(e, w, ns, K, LoopEmitter::rowsOf(x, toks));
      for (size_t r = 0; r < ns.size(); ++r)
        for (size_t t = 0; t < toks.size(); ++t)
          e.store(accs[r * toks.size() + t], out, {toks[t], ns[r]});
    });
    return;
  }
  // Prefill of other weights: output-feature-major so consecutive
  // iterations share weight row n, and register-tiled over tokens so each
  // weight vector loaded (and dequantised) feeds several FMAs (x rows stay
  // in cache).
  e.tokenTiles(N, S, kPrefillTile, [&](Value n, ArrayRef<Value> toks) {
    auto accs = e.dotRows(w, {n}, K, LoopEmitter::rowsOf(x, toks));
    for (size_t t = 0; t < toks.size(); ++t)
      e.store(accs[t], out, {toks[t], n});
  }, single);
}

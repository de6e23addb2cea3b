//===- Matmul.cpp - the tensor-core matmul (NVIDIA, sm_80+) ---------------===//
//
// A prefill's out[s, n] = sum_k x[s, k] * W[n, k] on the tensor cores: the
// gpu strategy's block tiles (targets/gpu/lib/Strategy/Matmul.cpp), with
// bf16 tiles and warp-level mma.sync in place of each thread's FMAs.
//   * a block of warpsM x warpsN warps computes a tile of `tokens` x `rows`
//     outputs of each weight; each step of k elements of K its threads copy
//     the tile's activation rows and weight rows into workgroup memory as
//     bf16 (16 bytes of activations, 8 of weights a thread a copy), rows
//     padded by 8 elements so the fragments' 32-bit loads of a warp hit 32
//     distinct banks; a narrow product (a layer's 1536-row projections)
//     takes 32-row tiles, its 4 warps along the tokens;
//   * after a barrier each warp multiplies its (tokens / warpsM) x
//     (rows / warpsN) part as m16n8k16 tiles (nvvm.mma.sync, bf16 inputs,
//     f32 accumulators: A = 16 tokens x 16 of K, row-major, from the
//     activation tile; B = 16 of K x 8 weight rows, "col" = the weight
//     tile's rows as they are), each lane loading its fragment pairs
//     (PTX ISA, "Matrix Fragments for mma.m16n8k16"): lane l, g = l / 4,
//     q = l % 4: A holds rows g and g + 8 at K 2q, 2q + 1 and 2q + 8, 2q + 9;
//     B columns g at the same K; C rows g, g + 8 at columns 2q, 2q + 1;
//   * a second barrier, the next step; then each lane stores its C elements
//     through the caller's store (the epilogue), tokens past S skipped.
// bf16 inputs with f32 sums: with --compute=bf16 the activations are bf16
// values already and the weights bf16, so only the order of the sums
// differs from the FMA tiles; with f32 activations (mma=on) they are
// rounded to bf16 at the copy.
//
//===----------------------------------------------------------------------===//
#include "CUDAStrategy.h"

#include "gemma4c/Target/CUDA/Passes.h"
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;
using namespace mlir::gemma4::cuda;

static bool isFloatMemRef(Value m, int64_t rank, bool bf16Only = false) {
  auto t = dyn_cast<MemRefType>(m.getType());
  Type et = t ? t.getElementType() : Type();
  return t && t.getRank() == rank && (et.isBF16() || (!bf16Only && (et.isF32() || et.isF16())));
}

bool CUDAStrategy::canMma(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                          const MmaTile &t) const {
  if (mma == Mma::Off || (mma == Mma::Auto && !e.bf16))
    return false;
  if (LoopEmitter::isOneToken(x) || !isFloatMemRef(x, 2) || K % t.k || t.k % 16 || N % 8)
    return false;
  int64_t T = t.threads();
  if (t.tokens % (16 * t.warpsM) || t.rows % (8 * t.warpsN) || (t.tokens * t.k / 4) % T ||
      (t.rows * t.k / 4) % T)
    return false;
  // Weights: bf16 (f32 or f16 ones only when rounding was asked for).
  for (Value w : ws)
    if (e.quantView(w) || !isFloatMemRef(w, 2, /*bf16Only=*/mma != Mma::On))
      return false;
  return true;
}

void CUDAStrategy::mmaTiled(LoopEmitter &e, Value x, ArrayRef<Value> ws, int64_t N, int64_t K,
                            const MmaTile &t,
                            function_ref<void(Value s, Value n, ArrayRef<Value> sums)> store) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  MLIRContext *ctx = b.getContext();
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type(), i32 = b.getI32Type();
  const int64_t T = t.threads(), TM = t.tokens, TN = t.rows, BK = t.k, W = ws.size();
  const int64_t WTM = TM / t.warpsM, WTN = TN / t.warpsN; // a warp's tokens, rows
  const int64_t MI = WTM / 16, NI = WTN / 8;              // its m16, n8 tiles
  const int64_t pad = 8, perRow = BK / 4;
  Value S = e.tokens, lastTok = e.isub(S, e.c(1));
  OpBuilder::InsertionGuard guard(b);
  auto [tid, s0, n0] = blockGrid(e, N, TN, TM, T);
  Value xs = workgroupTile(e, TM, BK + pad, bf16);
  SmallVector<Value> wts;
  for (int64_t i = 0; i < W; ++i)
    wts.push_back(workgroupTile(e, TN, BK + pad, bf16));
  Value lane = e.irem(tid, e.c(32)), warp = e.idiv(tid, e.c(32));
  Value wm = e.idiv(warp, e.c(t.warpsN)), wn = e.irem(warp, e.c(t.warpsN));
  Value g = e.idiv(lane, e.c(4)), q2 = e.imul(e.irem(lane, e.c(4)), e.c(2));
  Value tok0 = e.imul(wm, e.c(WTM)), row0 = e.imul(wn, e.c(WTN));

  // 4 elements of row m at k as bf16.
  auto v4 = [&](Type et) { return VectorType::get({4}, et); };
  auto load4 = [&](Value m, ValueRange idx) -> Value {
    Type et = cast<MemRefType>(m.getType()).getElementType();
    Value v = vector::LoadOp::create(b, loc, v4(et), m, idx);
    if (et.isBF16())
      return v;
    if (!et.isF32())
      v = arith::ExtFOp::create(b, loc, v4(f32), v);
    return arith::TruncFOp::create(b, loc, v4(bf16), v);
  };
  auto copyTile = [&](Value tile, int64_t rows, Value k0, function_ref<Value(Value r, Value k)> load) {
    for (int64_t i = 0; i < rows * perRow / T; ++i) {
      Value idx = e.iadd(tid, e.c(i * T));
      Value r = e.idiv(idx, e.c(perRow)), kk = e.imul(e.irem(idx, e.c(perRow)), e.c(4));
      vector::StoreOp::create(b, loc, load(r, e.iadd(k0, kk)), tile, ValueRange{r, kk});
    }
  };
  // A fragment register: the bf16 pair tile[r, k], tile[r, k + 1] as i32.
  auto pair = [&](Value tile, Value r, Value k) -> Value {
    Value v = vector::LoadOp::create(b, loc, VectorType::get({2}, bf16), tile, ValueRange{r, k});
    Value w = vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), v);
    return vector::ExtractOp::create(b, loc, w, int64_t(0));
  };
  auto accTy = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
  auto step = [&](Value k0, ValueRange acc) -> SmallVector<Value> {
    copyTile(xs, TM, k0, [&](Value r, Value k) {
      return load4(x, {arith::MinUIOp::create(b, loc, e.iadd(s0, r), lastTok), k});
    });
    for (auto [w, tile] : llvm::zip(ws, wts))
      copyTile(tile, TN, k0, [&](Value r, Value k) {
        Value n = e.iadd(n0, r);
        if (N % TN)
          n = arith::MinUIOp::create(b, loc, n, e.c(N - 1));
        return load4(w, {n, k});
      });
    mlir::gpu::BarrierOp::create(b, loc);
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t kb = 0; kb < BK; kb += 16) {
      Value ka = e.iadd(q2, e.c(kb)), kc = e.iadd(q2, e.c(kb + 8));
      SmallVector<SmallVector<Value, 4>> a(MI);
      for (int64_t mi = 0; mi < MI; ++mi) {
        Value r = e.iadd(tok0, e.iadd(g, e.c(mi * 16))), r8 = e.iadd(r, e.c(8));
        a[mi] = {pair(xs, r, ka), pair(xs, r8, ka), pair(xs, r, kc), pair(xs, r8, kc)};
      }
      for (int64_t w = 0; w < W; ++w)
        for (int64_t ni = 0; ni < NI; ++ni) {
          Value r = e.iadd(row0, e.iadd(g, e.c(ni * 8)));
          SmallVector<Value, 2> bf = {pair(wts[w], r, ka), pair(wts[w], r, kc)};
          for (int64_t mi = 0; mi < MI; ++mi) {
            int64_t at = ((w * MI + mi) * NI + ni) * 4;
            ValueRange c(ArrayRef<Value>(next).slice(at, 4));
            Value d = NVVM::MmaOp::create(
                b, loc, accTy, a[mi], bf, c, ArrayRef<int64_t>{16, 8, 16},
                /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
            for (int64_t j = 0; j < 4; ++j)
              next[at + j] = LLVM::ExtractValueOp::create(b, loc, d, ArrayRef<int64_t>{j});
          }
        }
    }
    mlir::gpu::BarrierOp::create(b, loc);
    return next;
  };
  SmallVector<Value> inits(W * MI * NI * 4, e.cf(0.0));
  auto kLoop = scf::ForOp::create(b, loc, e.c(0), e.c(K), e.c(BK), inits,
                                  [&](OpBuilder &, Location, Value k0, ValueRange acc) {
                                    scf::YieldOp::create(b, loc, step(k0, acc));
                                  });
  // C element j of tile (mi, ni): token g (+ 8 for j >= 2), row 2q (+ 1 for odd j).
  for (int64_t mi = 0; mi < MI; ++mi)
    for (int64_t half = 0; half < 2; ++half) {
      Value s = e.iadd(s0, e.iadd(tok0, e.iadd(g, e.c(mi * 16 + half * 8))));
      ifBelow(e, s, S, [&] {
        for (int64_t ni = 0; ni < NI; ++ni)
          for (int64_t odd = 0; odd < 2; ++odd) {
            Value n = e.iadd(n0, e.iadd(row0, e.iadd(q2, e.c(ni * 8 + odd))));
            SmallVector<Value> sums;
            for (int64_t w = 0; w < W; ++w)
              sums.push_back(kLoop.getResult(((w * MI + mi) * NI + ni) * 4 + half * 2 + odd));
            if (N % TN == 0)
              store(s, n, sums);
            else
              ifBelow(e, n, e.c(N), [&] { store(s, n, sums); });
          }
      });
    }
}

void CUDAStrategy::matmul(LoopEmitter &e, Value x, Value w, Value out, int64_t N, int64_t K) {
  // A narrow product (fewer than kMinRowTiles tiles of rows): 32-row
  // tiles, the 4 warps side by side along the tokens (twice the blocks).
  MmaTile t = mmaTile;
  if (N / t.rows < kMinRowTiles && t.rows == 64 && t.warpsN == 2 && t.warpsM == 2) {
    t.rows = 32;
    t.warpsN = 1;
    t.warpsM = 4;
  }
  if (!canMma(e, x, {w}, N, K, t))
    return GPUStrategy::matmul(e, x, w, out, N, K);
  e.prepareActs(x, w, K);
  mmaTiled(e, x, {w}, N, K, t, [&](Value s, Value n, ArrayRef<Value> sums) {
    e.store(e.epilogue(sums[0], {s, n}), out, {s, n});
  });
}

void CUDAStrategy::mlpGateUp(LoopEmitter &e, const MLPArgs &m) {
  MmaTile t = mmaTile; // gate and up share the tile: half the rows each
  t.rows /= 2;
  if (!canMma(e, m.x, {m.wg, m.wu}, m.I, m.H, t))
    return GPUStrategy::mlpGateUp(e, m);
  mmaTiled(e, m.x, {m.wg, m.wu}, m.I, m.H, t, [&](Value s, Value i, ArrayRef<Value> sums) {
    e.store(e.geluGate(sums[0], sums[1]), m.gbuf, {s, i});
  });
}

void mlir::gemma4::registerCUDALoweringStrategy() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerLoweringStrategy(
        "cuda",
        [](const StrategyOptions &opts, std::string &error) -> std::unique_ptr<LoweringStrategy> {
          auto s = std::make_unique<CUDAStrategy>();
          if (!s->configure(opts, error))
            return nullptr;
          if (auto it = opts.find("mma"); it != opts.end()) {
            if (it->second == "off")
              s->mma = CUDAStrategy::Mma::Off;
            else if (it->second == "on")
              s->mma = CUDAStrategy::Mma::On;
            else if (it->second != "auto") {
              error = "mma must be auto, on or off, got " + it->second;
              return nullptr;
            }
          }
          return s;
        },
        [](DialectRegistry &r) {
          r.insert<mlir::gpu::GPUDialect, NVVM::NVVMDialect, LLVM::LLVMDialect>();
        });
  });
}

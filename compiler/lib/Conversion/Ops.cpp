//===- Ops.cpp - what each gemma4 op computes, as loops -------------------===//
//
// One branch per op: its buffers, and its arithmetic as loops built from
// the LoopEmitter's shared pieces. The ops whose loops a target runs its
// own way call the strategy: linear and the MLP's projections
// (LoweringStrategy::matmul, mlpGateUp), attention (attendDecode,
// attendPrefill); every dot product goes through LoweringStrategy::dotTile.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::gemma4;

LogicalResult LoopEmitter::lower(Operation *op) {
  auto S = [&]() { return tokens; };
  auto shapeOf = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };

  if (auto w = dyn_cast<WeightOp>(op)) {
    if (!w.getOffset())
      return w.emitOpError() << "has no offset: run gemma4-layout-weights first";
    auto t = w.getResult().getType();
    int64_t base = static_cast<int64_t>(*w.getOffset());
    if (QuantAttr q = getQuant(t)) {
      // Packed data, scales and mins at their QuantLayout.h offsets.
      int64_t K = t.getShape().back();
      int64_t rows = t.getNumElements() / K;
      ::gemma4::quant::Layout l = ::gemma4::quant::layout(q.getSpec(), rows, K);
      SmallVector<int64_t> dShape(t.getShape()), sShape(t.getShape());
      const int64_t PK = ::gemma4::quant::panelElems(q.getSpec(), K);
      dShape.back() = q.getBits() == 4 ? PK / 2 : PK;
      sShape.back() = PK / l.group;
      if (PK != K) { // K panels, panel-major (QuantLayout.h)
        dShape.insert(dShape.begin(), K / PK);
        sShape.insert(sShape.begin(), K / PK);
      }
      auto view = [&](ArrayRef<int64_t> shape, Type et, uint64_t off) -> Value {
        return memref::ViewOp::create(b, loc, MemRefType::get(shape, et), weightsArg,
                                      c(base + static_cast<int64_t>(off)), ValueRange{});
      };
      QuantView qv;
      qv.attr = q;
      qv.group = l.group;
      qv.interleaved = ::gemma4::quant::int4Interleaved(q.getSpec(), K);
      qv.panels = K / PK;
      qv.panelK = PK;
      qv.tile = std::max<int64_t>(1, q.getSpec().tile);
      if (qv.tile > 1) { // one stream (QuantLayout.h row tiles)
        int64_t perTile = static_cast<int64_t>(::gemma4::quant::tileSuperBytes(q.getSpec())) * (K / 256);
        qv.data = view({rows / qv.tile, perTile}, b.getI8Type(), l.dataOffset);
      } else {
        qv.data = view(dShape, b.getI8Type(), l.dataOffset);
        qv.scales = view(sShape, q.getScaleType(), l.scaleOffset);
        if (!q.getSymmetric())
          qv.mins = view(sShape, q.getScaleType(), l.minOffset);
      }
      quantViews[qv.data] = qv;
      set(w.getResult(), qv.data, false);
      return success();
    }
    auto mt = MemRefType::get(t.getShape(), t.getElementType());
    Value v = memref::ViewOp::create(b, loc, mt, weightsArg, c(base), ValueRange{});
    set(w.getResult(), v, false);
    return success();
  }
  if (auto v = dyn_cast<KVCacheViewOp>(op)) {
    Value ctx = buf.lookup(v.getContext()) ? buf.lookup(v.getContext()) : v.getContext();
    Value off = iadd(c(v.getOffset()), imul(c(v.getOffsetPerContext()), ctx));
    if (v.getBase()) // one sequence's region of a batched entry's arena
      off = iadd(off, v.getBase());
    SmallVector<Value> sizes;
    if (static_cast<int64_t>(v.getCapacity()) < 0)
      sizes.push_back(ctx);
    Value m = memref::ViewOp::create(b, loc, v.getResult().getType(), get(v.getArena()), off, sizes);
    set(v.getResult(), m, false);
    return success();
  }
  if (auto bi = dyn_cast<BatchIdsOp>(op)) {
    // The first B of the packed ids, copied (B int32).
    Value packed = get(bi.getPacked());
    Value out = alloc(bi.getResult().getType());
    int64_t B = shapeOf(bi.getResult())[0];
    loop(c(B), [&](Value i) { store(memref::LoadOp::create(b, loc, packed, i), out, {i}); });
    set(bi.getResult(), out);
    return success();
  }
  if (auto bs = dyn_cast<BatchSequenceOp>(op)) {
    Value packed = get(bs.getPacked());
    int64_t B = shapeOf(bs.getPacked())[0] / 3, r = static_cast<int64_t>(bs.getRow());
    auto at = [&](int64_t i) -> Value {
      Value v = memref::LoadOp::create(b, loc, packed, c(i));
      return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v);
    };
    Value ctx = buf.lookup(bs.getContext()) ? buf.lookup(bs.getContext()) : bs.getContext();
    // stride = round_up(fixed + per_context * context, 64 KiB)
    Value bytes = iadd(c(static_cast<int64_t>(bs.getKvBytesFixed())),
                       imul(c(static_cast<int64_t>(bs.getKvBytesPerContext())), ctx));
    Value stride = imul(idiv(iadd(bytes, c(kBatchSlotAlign - 1)), c(kBatchSlotAlign)), c(kBatchSlotAlign));
    bs.getPosition().replaceAllUsesWith(at(B + r));
    bs.getBase().replaceAllUsesWith(imul(at(2 * B + r), stride));
    return success();
  }
  // to[toRow, ...] = from[fromRow, ...] over the trailing dims of `shape`
  // (take_row: a batch row out; stack_rows: rows into a batch).
  auto copyRow = [&](Value from, Value fromRow, Value to, Value toRow, ArrayRef<int64_t> shape) {
    std::function<void(SmallVector<Value>)> copy = [&](SmallVector<Value> idx) {
      if (idx.size() == shape.size()) {
        SmallVector<Value> src(idx), dst(idx);
        src[0] = fromRow;
        dst[0] = toRow;
        store(load(from, src), to, dst);
        return;
      }
      loop(c(shape[idx.size()]), [&](Value i) {
        SmallVector<Value> next(idx);
        next.push_back(i);
        copy(next);
      });
    };
    copy({c(0)});
  };
  if (auto tr = dyn_cast<TakeRowOp>(op)) {
    Value out = alloc(tr.getResult().getType());
    copyRow(get(tr.getInput()), c(static_cast<int64_t>(tr.getRow())), out, c(0), shapeOf(tr.getInput()));
    set(tr.getResult(), out);
    return success();
  }
  if (auto st = dyn_cast<StackRowsOp>(op)) {
    Value out = resultBuffer(st.getResult());
    for (auto [r, v] : llvm::enumerate(st.getInputs()))
      copyRow(get(v), c(0), out, c(static_cast<int64_t>(r)), shapeOf(st.getResult()));
    set(st.getResult(), out);
    return success();
  }
  if (auto e = dyn_cast<EmbeddingLookupOp>(op)) {
    Value table = get(e.getTable()), ids = get(e.getIds());
    Value out = resultBuffer(e.getResult());
    int64_t H = shapeOf(e.getResult())[1];
    int64_t V = shapeOf(e.getTable())[0];
    float scale = e.getScale().convertToFloat();
    parallel({S()}, [&](ValueRange iv) {
      Value id = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, ids, iv[0]));
      id = arith::MinUIOp::create(b, loc, id, c(V - 1));
      loop(c(H), [&](Value j) { store(mul(load(table, {id, j}), cf(scale)), out, {iv[0], j}); });
    }, rowGrain(H));
    set(e.getResult(), out);
    return success();
  }
  if (auto n = dyn_cast<RMSNormOp>(op)) {
    Value in = get(n.getInput());
    Value w = n.getWeight() ? get(n.getWeight()) : Value();
    Value out = inPlaceOr(n.getInput(), n.getResult());
    auto shape = shapeOf(n.getInput());
    int64_t D = shape.back();
    SmallVector<Value> ubs;
    for (int64_t i = 0; i + 1 < (int64_t)shape.size(); ++i)
      ubs.push_back(ShapedType::isDynamic(shape[i]) ? S() : c(shape[i]));
    float eps = n.getEpsilon().convertToFloat();
    if (ubs.empty())
      rmsNormRow(in, {}, out, {}, D, w, eps);
    else
      parallel(ubs, [&](ValueRange iv) { rmsNormRow(in, iv, out, iv, D, w, eps); }, rowGrain(D));
    set(n.getResult(), out);
    return success();
  }
  if (auto l = dyn_cast<LinearOp>(op)) {
    auto ws = shapeOf(l.getWeight());
    Value out = resultBuffer(l.getResult());
    strategy.matmul(*this, get(l.getInput()), get(l.getWeight()), out, ws[0], ws[1]);
    set(l.getResult(), out);
    return success();
  }
  if (auto r = dyn_cast<ReshapeOp>(op)) {
    Value in = get(r.getInput());
    auto inShape = shapeOf(r.getInput()), outShape = shapeOf(r.getResult());
    auto mt = MemRefType::get(outShape, b.getF32Type());
    Value m;
    if (inShape.size() == 2 && outShape.size() == 3)
      m = memref::ExpandShapeOp::create(b, loc, mt, in, ArrayRef<ReassociationIndices>{{0}, {1, 2}},
                                        ArrayRef<OpFoldResult>{ShapedType::isDynamic(outShape[0]) ? OpFoldResult(S()) : OpFoldResult(b.getIndexAttr(outShape[0])), b.getIndexAttr(outShape[1]),
                                                               b.getIndexAttr(outShape[2])});
    else if (inShape.size() == 3 && outShape.size() == 2)
      m = memref::CollapseShapeOp::create(b, loc, in, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    else if (inShape == outShape)
      m = in;
    else
      return r.emitOpError() << "reshape between these ranks is not lowered yet";
    buf[r.getResult()] = m; // aliases the input buffer
    return success();
  }
  if (auto rp = dyn_cast<RopeOp>(op)) {
    Value in = get(rp.getInput());
    Value out = inPlaceOr(rp.getInput(), rp.getResult());
    auto shape = shapeOf(rp.getInput());
    int64_t Hh = shape[1], D = shape[2];
    Value pos = rp.getPositionBase();
    RopeTable tab = ropeTable(rp.getRope(), pos, D);
    parallel({S(), c(Hh)}, [&](ValueRange iv) {
      if (out != in)
        loop(c(D), [&](Value d) { store(load(in, {iv[0], iv[1], d}), out, {iv[0], iv[1], d}); });
      ropeRow(out, iv, D, rp.getRope(), tab, iv[0]);
    }, rowGrain(D));
    set(rp.getResult(), out);
    return success();
  }
  if (auto u = dyn_cast<KVCacheUpdateOp>(op)) {
    Value k = get(u.getKey()), v = get(u.getValue());
    Value kc = get(u.getKeyCache()), vc = get(u.getValueCache());
    auto shape = shapeOf(u.getKey());
    Value pos = u.getPositionBase();
    Value cap = dim(kc, 0);
    parallel({S(), c(shape[1])}, [&](ValueRange iv) {
      Value row = irem(iadd(pos, iv[0]), cap);
      loop(c(shape[2]), [&](Value d) {
        store(load(k, {iv[0], iv[1], d}), kc, {row, iv[1], d});
        store(load(v, {iv[0], iv[1], d}), vc, {row, iv[1], d});
      });
    }, rowGrain(shape[2]));
    return success();
  }
  if (auto a = dyn_cast<AttentionOp>(op)) {
    Value q = get(a.getQuery());
    Value out = resultBuffer(a.getResult());
    auto shape = shapeOf(a.getQuery());
    int64_t nh = shape[1], D = shape[2];
    int64_t kvh = cast<ShapedType>(a.getKeyCache().getType()).getDimSize(1);
    AttentionArgs args{q, get(a.getKeyCache()), get(a.getValueCache()), out, a.getPositionBase(),
                       nh, D, nh / kvh, static_cast<int64_t>(a.getSlidingWindow()), a.getScale().convertToFloat()};
    if (canAttendDecode(q, args.kc, D))
      strategy.attendDecode(*this, args);
    else
      strategy.attendPrefill(*this, args, {});
    set(a.getResult(), out);
    return success();
  }
  if (auto fa = dyn_cast<FusedAttentionOp>(op)) {
    auto shape = shapeOf(fa.getQuery());
    int64_t nh = shape[1], D = shape[2];
    int64_t kvh = cast<ShapedType>(fa.getKeyCache().getType()).getDimSize(1);
    float eps = fa.getEpsilon().convertToFloat();
    Value kc = get(fa.getKeyCache()), vc = get(fa.getValueCache());
    Value pos = fa.getPositionBase();
    RopeTable tab = ropeTable(fa.getRope(), pos, D);
    if (fa.getKey()) {
      // K: norm + RoPE straight into the cache row; V: scale-free norm.
      Value k = get(fa.getKey()), v = get(fa.getValue()), kn = get(fa.getKeyNorm());
      Value cap = dim(kc, 0);
      parallel({S(), c(kvh)}, [&](ValueRange iv) {
        Value p = iadd(pos, iv[0]);
        Value row = irem(p, cap);
        rmsNormRow(k, iv, kc, {row, iv[1]}, D, kn, eps);
        ropeRow(kc, {row, iv[1]}, D, fa.getRope(), tab, iv[0]);
        rmsNormRow(v, iv, vc, {row, iv[1]}, D, Value(), eps);
      }, rowGrain(2 * D));
    }
    // Q: norm + RoPE in place (the raw projection dies here), then attend.
    Value q = get(fa.getQuery());
    Value qn = inPlaceOr(fa.getQuery(), fa.getQuery());
    Value out = resultBuffer(fa.getResult());
    Value qNorm = get(fa.getQueryNorm());
    auto queryRow = [&](ValueRange iv, Value dst, ValueRange at) {
      rmsNormRow(q, iv, dst, at, D, qNorm, eps);
      ropeRow(dst, at, D, fa.getRope(), tab, iv[0]);
    };
    auto normRope = [&](ValueRange iv) { queryRow(iv, qn, iv); };
    AttentionArgs args{qn, kc, vc, out, pos, nh, D, nh / kvh, static_cast<int64_t>(fa.getSlidingWindow()),
                       fa.getScale().convertToFloat()};
    if (canAttendDecode(q, kc, D)) {
      strategy.attendDecodeFused(*this, args, queryRow);
    } else {
      strategy.attendPrefill(*this, args, normRope);
    }
    set(fa.getResult(), out);
    return success();
  }
  if (auto g = dyn_cast<GeluMulOp>(op)) {
    Value gate = get(g.getGate()), up = get(g.getUp());
    Value out = inPlaceOr(g.getGate(), g.getResult());
    int64_t N = shapeOf(g.getGate())[1];
    parallel({S(), c(N)}, [&](ValueRange iv) {
      store(mul(rnd(geluTanh(load(gate, iv))), load(up, iv)), out, iv);
    }, elementGrain());
    set(g.getResult(), out);
    return success();
  }
  if (auto m = dyn_cast<MLPOp>(op)) {
    Value x = get(m.getInput());
    auto gs = shapeOf(m.getGateWeight());
    int64_t I = gs[0], H = gs[1];
    Value gbuf = alloc(RankedTensorType::get({ShapedType::kDynamic, I}, b.getF32Type()));
    Value wg = get(m.getGateWeight()), wu = get(m.getUpWeight()), wd = get(m.getDownWeight());
    prepareActs(x, wg, H);
    prepareActs(x, wu, H);
    strategy.mlpGateUp(*this, MLPArgs{x, wg, wu, wd, gbuf, I, H});
    Value out = resultBuffer(m.getResult());
    strategy.matmul(*this, gbuf, wd, out, H, I);
    set(m.getResult(), out);
    return success();
  }
  if (auto r = dyn_cast<RouterOp>(op)) {
    Value x = get(r.getInput());
    Value rw = get(r.getRouterWeight()), rs = get(r.getRouterScale()),
          pes = get(r.getPerExpertScale());
    auto rws = shapeOf(r.getRouterWeight());
    int64_t E = rws[0], H = rws[1], K = r.getTopK();
    float eps = r.getEpsilon().convertToFloat();
    Value z = alloc(RankedTensorType::get({ShapedType::kDynamic, H}, b.getF32Type()));
    Value probs = alloc(RankedTensorType::get({ShapedType::kDynamic, E}, b.getF32Type()));
    auto idxTy = cast<RankedTensorType>(r.getExperts().getType());
    Value experts = resultBuffer(r.getExperts());
    Value weights = resultBuffer(r.getWeights());
    (void)idxTy;
    float rootSize = static_cast<float>(std::pow((double)H, -0.5));
    // z = norm(x) * scale * H^-0.5, then the logits z . rw_e, one parallel
    // iteration per (token, expert) (a GPU subgroup's lanes share each dot
    // product) rather than a loop of E dot products per token.
    parallel({S()}, [&](ValueRange iv) {
      Value s = iv[0];
      rmsNormRow(x, {s}, z, {s}, H, Value(), eps, [&](Value y, Value d) {
        Value sc = isa<VectorType>(y.getType()) ? vloadWeight(rs, {}, d) : load(rs, {d});
        return mul(mul(y, sc), isa<VectorType>(y.getType()) ? vsplat(cf(rootSize)) : cf(rootSize));
      });
    }, rowGrain(H));
    // (z is not prepared for the router weight: its f32 dot products, as
    // before, whatever the weight's encoding.)
    parallel({S(), c(E)}, [&](ValueRange iv) {
      store(dot(rw, {iv[1]}, H, z, {iv[0]}), probs, {iv[0], iv[1]});
    });
    // softmax over experts, then the top k
    parallel({S()}, [&](ValueRange iv) {
      Value s = iv[0];
      Value mx = reduce(c(0), c(E), {cf(-1e30)}, [&](Value e, ValueRange acc) {
                   return SmallVector<Value>{arith::MaximumFOp::create(b, loc, acc[0], load(probs, {s, e}))};
                 })[0];
      Value tot = sum(c(E), [&](Value e) {
        Value ex = math::ExpOp::create(b, loc, sub(load(probs, {s, e}), mx));
        store(ex, probs, {s, e});
        return ex;
      });
      Value invTot = div(cf(1.0), tot);
      loop(c(E), [&](Value e) { store(mul(load(probs, {s, e}), invTot), probs, {s, e}); });
      // top-k by repeated argmax (lowest index wins ties), taken entries -> -1
      Value ksum = reduce(c(0), c(K), {cf(0.0)}, [&](Value kk, ValueRange acc) {
        auto best = reduce(c(0), c(E), {cf(-2.0), c(0)}, [&](Value e, ValueRange a2) {
          Value pv = load(probs, {s, e});
          Value gt = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, pv, a2[0]);
          return SmallVector<Value>{arith::SelectOp::create(b, loc, gt, pv, a2[0]),
                                    arith::SelectOp::create(b, loc, gt, e, a2[1])};
        });
        store(cf(-1.0), probs, {s, best[1]});
        store(arith::IndexCastOp::create(b, loc, b.getI32Type(), best[1]), experts, {s, kk});
        store(best[0], weights, {s, kk});
        return SmallVector<Value>{add(acc[0], best[0])};
      })[0];
      Value invK = div(cf(1.0), ksum);
      loop(c(K), [&](Value kk) {
        Value e = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, experts, ValueRange{s, kk}));
        store(mul(mul(load(weights, {s, kk}), invK), load(pes, {e})), weights, {s, kk});
      });
    });
    set(r.getExperts(), experts);
    set(r.getWeights(), weights);
    return success();
  }
  if (auto x = dyn_cast<ExpertFFNOp>(op)) {
    Value in = get(x.getInput()), experts = get(x.getExperts()), weights = get(x.getWeights());
    Value gu = get(x.getGateUpWeight()), down = get(x.getDownWeight());
    auto ds = shapeOf(x.getDownWeight());
    int64_t H = ds[1], Ie = ds[2];
    int64_t K = shapeOf(x.getExperts())[1];
    int64_t E = shapeOf(x.getDownWeight())[0];
    auto f32 = b.getF32Type();
    Value act = alloc(RankedTensorType::get({ShapedType::kDynamic, K, Ie}, f32));
    Value out = resultBuffer(x.getResult());
    auto expertOf = [&](Value s, Value kk) {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                        memref::LoadOp::create(b, loc, experts, ValueRange{s, kk}));
    };
    // act[s, kk, :] = gelu(gate_e x_s) * (up_e x_s) for e = experts[s, kk].
    auto gateUp = [&](Value s, Value kk, Value e, Value i) {
      Value gate = dot(gu, {e, i}, H, in, {s}), up = dot(gu, {e, iadd(i, c(Ie))}, H, in, {s});
      store(mul(geluTanh(gate), up), act, {s, kk, i});
    };
    /// Runs `body` when experts[s, kk] == e.
    auto ifRouted = [&](Value s, Value kk, Value e, function_ref<void()> body) {
      Value hit = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, expertOf(s, kk), e);
      auto ifOp = scf::IfOp::create(b, loc, hit, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      body();
    };
    auto shapeIn = cast<ShapedType>(x.getInput().getType());
    prepareActs(in, gu, H);
    if (!shapeIn.isDynamicDim(0) && shapeIn.getDimSize(0) == 1) {
      // Decode: one token, parallel over its k experts' rows, then over outputs.
      parallel({S(), c(K), c(Ie)}, [&](ValueRange iv) {
        gateUp(iv[0], iv[1], expertOf(iv[0], iv[1]), iv[2]);
      });
      prepareActs(act, down, Ie);
      parallel({S(), c(H)}, [&](ValueRange iv) {
        Value s = iv[0], j = iv[1];
        Value y = sum(c(K), [&](Value kk) {
          Value e = expertOf(s, kk);
          Value d = dot(down, {e, j}, Ie, act, {s, kk});
          return mul(load(weights, {s, kk}), d);
        });
        store(y, out, {s, j});
      });
    } else {
      // Prefill: expert-major. Each expert gathers the (token, slot) pairs
      // routed to it and streams its weights once for all of them; outputs
      // go to per-slot partials, then a scatter-add sums the k slots.
      Value partial = alloc(RankedTensorType::get({ShapedType::kDynamic, K, H}, f32));
      parallel({c(E), c(Ie)}, [&](ValueRange iv) {
        Value e = iv[0], i = iv[1];
        loop(S(), [&](Value s) {
          loop(c(K), [&](Value kk) { ifRouted(s, kk, e, [&] { gateUp(s, kk, e, i); }); });
        });
      });
      prepareActs(act, down, Ie);
      parallel({c(E), c(H)}, [&](ValueRange iv) {
        Value e = iv[0], j = iv[1];
        loop(S(), [&](Value s) {
          loop(c(K), [&](Value kk) {
            ifRouted(s, kk, e, [&] {
              Value d = dot(down, {e, j}, Ie, act, {s, kk});
              store(mul(load(weights, {s, kk}), d), partial, {s, kk, j});
            });
          });
        });
      });
      parallel({S(), c(H)}, [&](ValueRange iv) {
        Value s = iv[0], j = iv[1];
        store(sum(c(K), [&](Value kk) { return load(partial, {s, kk, j}); }), out, {s, j});
      });
    }
    set(x.getResult(), out);
    return success();
  }
  if (auto p = dyn_cast<PerLayerInputsOp>(op)) {
    Value ids = get(p.getIds()), h = get(p.getHidden()), table = get(p.getTable()),
          pw = get(p.getProjectionWeight()), nw = get(p.getNormWeight());
    auto rs = shapeOf(p.getResult());
    int64_t NL = rs[1], P = rs[2];
    int64_t H = shapeOf(p.getHidden())[1];
    int64_t Vp = shapeOf(p.getTable())[0];
    float eps = p.getEpsilon().convertToFloat();
    float ts = p.getTableScale().convertToFloat(), ps = p.getProjectionScale().convertToFloat();
    Value out = resultBuffer(p.getResult());
    // The projection [S, H] x [L*P, H]^T as the target's matmul (block
    // tiles / tensor cores for a prompt), into `out` seen as [S, L*P].
    Value flat = memref::CollapseShapeOp::create(b, loc, out, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    strategy.matmul(*this, h, pw, flat, NL * P, H);
    parallel({S(), c(NL)}, [&](ValueRange iv) {
      Value s = iv[0], l = iv[1];
      // Scaled, then normalised per layer.
      auto scale = scf::ForOp::create(b, loc, c(0), c(P), c(1));
      markMap(scale);
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(scale.getBody()->getTerminator());
        Value j = scale.getInductionVar();
        store(mul(load(out, {s, l, j}), cf(ps)), out, {s, l, j});
      }
      rmsNormRow(out, {s, l}, out, {s, l}, P, nw, eps);
      Value id = arith::IndexCastOp::create(b, loc, b.getIndexType(), memref::LoadOp::create(b, loc, ids, s));
      id = arith::MinUIOp::create(b, loc, id, c(Vp - 1));
      // Each element on its own (a GPU's lanes share the loop).
      auto each = scf::ForOp::create(b, loc, c(0), c(P), c(1));
      markMap(each);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(each.getBody()->getTerminator());
      Value j = each.getInductionVar();
      Value tok = mul(load(table, {id, iadd(imul(l, c(P)), j)}), cf(ts));
      store(mul(add(load(out, {s, l, j}), tok), cf(1.0 / std::sqrt(2.0))), out, {s, l, j});
    }, rowGrain(2 * P));
    set(p.getResult(), out);
    return success();
  }
  if (auto orow = dyn_cast<OutputRowsOp>(op)) {
    // A view of the input's last R rows, R the logits buffer's row count
    // (the caller's choice): the ops after it run on those rows, so
    // `tokens` is R from here on. Nothing after it may use an earlier
    // value of S rows.
    for (Operation *next = op->getNextNode(); next; next = next->getNextNode())
      for (Value v : next->getOperands())
        if (Operation *d = v.getDefiningOp(); d && d != op && d->getBlock() == op->getBlock() &&
                                                d->isBeforeInBlock(op))
          if (auto t = dyn_cast<RankedTensorType>(v.getType());
              t && t.getRank() > 0 && t.isDynamicDim(0) && !isa<WeightOp>(d))
            return next->emitOpError()
                   << "uses a value of every token after gemma4.output_rows chose the rows";
    Value in = get(orow.getInput());
    auto inTy = cast<MemRefType>(in.getType());
    Value R = dim(outArg, 0);
    SmallVector<OpFoldResult> offsets{isub(S(), R), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{R, b.getIndexAttr(inTy.getDimSize(1))};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    Value v = memref::SubViewOp::create(b, loc, in, offsets, sizes, strides);
    buf[orow.getResult()] = v; // aliases the input buffer
    tokens = R;
    return success();
  }
  if (auto ls = dyn_cast<LayerSliceOp>(op)) {
    Value in = get(ls.getInput());
    int64_t P = shapeOf(ls.getResult())[1];
    if (strategy.fusesElementwise() && ls.getResult() != returned) {
      // A view of the layer's slice, not a copy (a kernel saved on a GPU).
      auto inTy = cast<MemRefType>(in.getType());
      SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(ls.getLayer()), b.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{inTy.isDynamicDim(0) ? OpFoldResult(S()) : OpFoldResult(b.getIndexAttr(inTy.getDimSize(0))),
                                      b.getIndexAttr(1), b.getIndexAttr(P)};
      SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
      auto ty = memref::SubViewOp::inferRankReducedResultType({inTy.getDimSize(0), P}, inTy, offsets, sizes, strides);
      Value v = memref::SubViewOp::create(b, loc, ty, in, offsets, sizes, strides);
      buf[ls.getResult()] = v; // aliases the input buffer
      return success();
    }
    Value out = resultBuffer(ls.getResult());
    Value l = c(ls.getLayer());
    parallel({S()}, [&](ValueRange iv) {
      loop(c(P), [&](Value j) { store(load(in, {iv[0], l, j}), out, {iv[0], j}); });
    }, rowGrain(P));
    set(ls.getResult(), out);
    return success();
  }
  // Elementwise ops over [S, N] or [S, A, B].
  auto elementwise = [&](Value result, Value first, function_ref<Value(ValueRange)> f) {
    Value out = inPlaceOr(first, result);
    auto shape = shapeOf(result);
    SmallVector<Value> ubs{S()};
    for (int64_t i = 1; i < (int64_t)shape.size(); ++i)
      ubs.push_back(c(shape[i]));
    parallel(ubs, [&](ValueRange iv) { store(f(iv), out, iv); }, elementGrain());
    set(result, out);
  };
  if (auto a = dyn_cast<AddOp>(op)) {
    Value x = get(a.getLhs()), y = get(a.getRhs());
    elementwise(a.getResult(), a.getLhs(), [&](ValueRange iv) { return add(load(x, iv), load(y, iv)); });
    return success();
  }
  if (auto sc = dyn_cast<ScaleOp>(op)) {
    Value x = get(sc.getInput());
    Value factor = cf(sc.getFactor().convertToFloat());
    if (sc.getScalar()) {
      Value sm = get(sc.getScalar());
      auto st = cast<MemRefType>(sm.getType());
      SmallVector<Value> zeros(st.getRank(), c(0));
      factor = mul(factor, load(sm, zeros));
    }
    elementwise(sc.getResult(), sc.getInput(), [&](ValueRange iv) { return mul(load(x, iv), factor); });
    return success();
  }
  if (auto sc = dyn_cast<SoftcapOp>(op)) {
    Value x = get(sc.getInput());
    float cap = sc.getCap().convertToFloat();
    auto shape = shapeOf(sc.getResult());
    if (!strategy.fusesElementwise() && shape.size() == 2 && shape[1] % VL == 0) {
      // The logits, 16 at a time: a verify call's [tokens, vocab] as a
      // scalar loop over both dimensions split each element's index with a
      // division (13x a decode step's time per element).
      Value out = inPlaceOr(sc.getInput(), sc.getResult());
      parallel({S(), c(shape[1] / VL)}, [&](ValueRange iv) {
        Value k = imul(iv[1], c(VL));
        Value v = vload(x, {iv[0]}, k, b.getF32Type());
        Value y = mul(cfLike(cap, v), math::TanhOp::create(b, loc, div(v, cfLike(cap, v))));
        vector::StoreOp::create(b, loc, y, out, rowIdx({iv[0]}, k));
      }, std::max<int64_t>(1, elementGrain() / VL));
      set(sc.getResult(), out);
      return success();
    }
    elementwise(sc.getResult(), sc.getInput(), [&](ValueRange iv) {
      return mul(cf(cap), math::TanhOp::create(b, loc, div(load(x, iv), cf(cap))));
    });
    return success();
  }
  return op->emitOpError() << "has no lowering to loops";
}


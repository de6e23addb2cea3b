//===- LoopEmitter.cpp - an entry function's buffers and loop shapes ------===//
//
// Lowers each entry function of a gemma4 module from tensor form to memref
// form, one op at a time (Ops.cpp says what each computes):
//   * tensor arguments become memrefs, the logits result an out-parameter
//     (the runtime ABI in runtime/include/gemma4rt/abi.h);
//   * gemma4.weight becomes a typed memref.view into the weights argument at
//     its assigned offset (gemma4-layout-weights must run first);
//   * gemma4.kv_cache_view becomes a memref.view into the KV arena;
//   * activations get heap buffers freed before the function returns;
//     elementwise ops reuse their input's buffer when it has no other use;
//   * outer loops over independent outputs are scf.parallel (a target runs
//     them on threads, or GPU blocks), reductions scf.for with
//     reassociation allowed so they vectorise.
// All arithmetic is f32; weights of other float types are extended on load.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"

using namespace mlir;
using namespace mlir::gemma4;

// ---- buffers -------------------------------------------------------------------

Value LoopEmitter::alloc(Type tensorTy) {
  auto t = cast<RankedTensorType>(tensorTy);
  SmallVector<Value> dyn;
  SmallVector<int64_t> shape(t.getShape());
  std::optional<int64_t> fixed = getConstantIntValue(tokens);
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (t.isDynamicDim(i)) {
      if (fixed)
        shape[i] = *fixed;
      else
        dyn.push_back(tokens);
    }
  auto mt = MemRefType::get(shape, t.getElementType());
  Value m = memref::AllocOp::create(b, loc, mt, dyn, b.getI64IntegerAttr(64));
  allocs.push_back(m);
  return m;
}

Value LoopEmitter::scratch(ArrayRef<int64_t> shape, ValueRange dyn) {
  Value m = memref::AllocOp::create(b, loc, MemRefType::get(shape, b.getF32Type()), dyn,
                                    b.getI64IntegerAttr(64));
  allocs.push_back(m);
  return m;
}

Value LoopEmitter::resultBuffer(Value result) {
  if (result == returned)
    return outArg;
  return alloc(result.getType());
}

Value LoopEmitter::inPlaceOr(Value in, Value result) {
  if (result != returned && in.hasOneUse() && in.getDefiningOp() && !isa<WeightOp>(in.getDefiningOp()) &&
      ownsBuffer.contains(in))
    return buf[in];
  return resultBuffer(result);
}

// ---- loop shapes ---------------------------------------------------------------

void LoopEmitter::tokenTiles(int64_t N, Value S, int64_t T, function_ref<void(Value, ArrayRef<Value>)> tile,
                             function_ref<void(Value, Value)> single) {
  Value tiles = idiv(iadd(S, c(T - 1)), c(T));
  parallel({c(N), tiles}, [&](ValueRange iv) {
    Value n = iv[0], s0 = imul(iv[1], c(T));
    Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, iadd(s0, c(T)), S);
    auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      SmallVector<Value> toks;
      for (int64_t t = 0; t < T; ++t)
        toks.push_back(iadd(s0, c(t)));
      tile(n, toks);
    }
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
      loop(s0, S, [&](Value s) { single(n, s); });
    }
  });
}

void LoopEmitter::rowTokenTiles(int64_t N, Value S, int64_t R, int64_t T,
                                function_ref<void(ArrayRef<Value>, ArrayRef<Value>)> body) {
  auto rowsAt = [&](Value ng) {
    SmallVector<Value> ns;
    for (int64_t r = 0; r < R; ++r)
      ns.push_back(iadd(imul(ng, c(R)), c(r)));
    return ns;
  };
  tokenTiles(N / R, S, T, [&](Value ng, ArrayRef<Value> toks) { body(rowsAt(ng), toks); },
             [&](Value ng, Value s) { body(rowsAt(ng), {s}); });
}

SmallVector<XRow> LoopEmitter::rowsOf(Value x, ArrayRef<Value> toks) {
  SmallVector<XRow> rows;
  for (Value t : toks)
    rows.push_back(XRow{x, {t}});
  return rows;
}

// ---- the function --------------------------------------------------------------

Location LoopEmitter::opLocation(Operation &op, Location base) {
  std::string label = op.getName().stripDialect().str();
  for (Value v : op.getOperands())
    if (auto w = v.getDefiningOp<WeightOp>()) {
      label += ":" + w.getName().str();
      break;
    }
  return NameLoc::get(b.getStringAttr(label), base);
}

LogicalResult LoopEmitter::run() {
  FunctionType oldTy = fn.getFunctionType();
  if (oldTy.getNumInputs() != 5 || oldTy.getNumResults() != 1)
    return fn.emitOpError() << "is not a gemma4 entry point (ids, position, kv_arena, context, weights) -> logits";
  auto idsT = cast<RankedTensorType>(oldTy.getInput(0));
  auto logitsT = cast<RankedTensorType>(oldTy.getResult(0));
  auto idsM = MemRefType::get(idsT.getShape(), idsT.getElementType());
  auto logitsM = MemRefType::get(logitsT.getShape(), logitsT.getElementType());
  SmallVector<Type> ins{idsM, oldTy.getInput(1), oldTy.getInput(2), oldTy.getInput(3), oldTy.getInput(4),
                        logitsM};
  b.setInsertionPoint(fn);
  auto nf = func::FuncOp::create(b, fn.getLoc(), fn.getName(), b.getFunctionType(ins, {}));
  Block *entry = nf.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Block &old = fn.getBody().front();
  set(old.getArgument(0), entry->getArgument(0), false);
  for (int i = 1; i < 5; ++i)
    buf[old.getArgument(i)] = entry->getArgument(i);
  weightsArg = entry->getArgument(4);
  outArg = entry->getArgument(5);
  auto ret = cast<func::ReturnOp>(old.getTerminator());
  returned = ret.getOperand(0);
  tokens = dim(entry->getArgument(0), 0);
  // A batched decode entry (@gemma4_decode_batch): its ids are packed (B
  // tokens, positions, slots); its weight products run on B tokens, each
  // token's attention on one row (the ops on [1, ...] blocks below).
  std::optional<int64_t> batch;
  if (auto a = fn->getAttrOfType<IntegerAttr>("gemma4.batch")) {
    batch = a.getInt();
    tokens = c(*batch);
  }
  Value batchTokens = tokens;

  // position/context scalars are used directly by the ops below.
  for (Operation &op : old.without_terminator()) {
    // Ops take index operands (position, context) as the new block args.
    for (OpOperand &operand : op.getOpOperands())
      if (auto ba = dyn_cast<BlockArgument>(operand.get());
          ba && ba.getOwner() == &old && isa<IndexType>(ba.getType()))
        operand.set(entry->getArgument(ba.getArgNumber()));
    if (lowered.contains(&op))
      continue; // folded into an earlier op's loops (Fusion.cpp)
    strategy.beginOp(*this); // an activation buffer's contents change between ops
    // In a batched entry, an op on one token's row ([1, ...]: its RoPE,
    // cache write, attention) runs on one token.
    // (Other entries keep `tokens` as ops set it: gemma4.output_rows.)
    if (batch) {
      tokens = batchTokens;
      if (*batch != 1 && op.getNumOperands() > 0)
        if (auto t = dyn_cast<RankedTensorType>(op.getOperand(0).getType());
            t && t.getRank() >= 1 && t.getDimSize(0) == 1 && !isa<StackRowsOp>(op))
          tokens = c(1);
    }
    permutedF32.clear();
    loc = opLocation(op, fnLoc);
    if (!lowerFused(&op) && failed(lower(&op)))
      return failure();
    if (bf16 && !isa<WeightOp, KVCacheViewOp, ReshapeOp, OutputRowsOp, BatchIdsOp, TakeRowOp, StackRowsOp>(op))
      for (Value r : op.getResults())
        if (auto it = buf.find(r); it != buf.end())
          roundToBF16(it->second);
    // KV caches hold bf16 values in a bf16 model.
    if (bf16)
      if (auto fa = dyn_cast<FusedAttentionOp>(op); fa && fa.getKey()) {
        roundToBF16(get(fa.getKeyCache()));
        roundToBF16(get(fa.getValueCache()));
      }
  }
  if (get(returned) != outArg)
    return fn.emitOpError() << "returned logits were not written to the output buffer";
  loc = fnLoc;
  for (Value a : allocs)
    memref::DeallocOp::create(b, loc, a);
  func::ReturnOp::create(b, loc);
  for (int i = 0; i < 5; ++i)
    if (auto attr = fn.getArgAttrOfType<StringAttr>(i, "gemma4.arg"))
      nf.setArgAttr(i, "gemma4.arg", attr);
  nf.setArgAttr(5, "gemma4.arg", b.getStringAttr("logits"));
  // Drop the old body: its ops may reference values now owned elsewhere.
  fn.getBody().front().dropAllDefinedValueUses();
  fn.erase();
  return success();
}

//===- Importer.cpp - build the gemma4 dialect module of a checkpoint -----===//
//
// The importer walks the resolved TextConfig and emits, for each entry point,
// the decoder as gemma4 ops in the order transformers evaluates them (see
// docs/architecture.md in the repo and ../shared/docs/gemma4-architecture.md):
// embeddings, per-layer inputs, then per layer attention (q/k/v projections,
// QK-norm, RoPE, cache update, attention), MLP (+ MoE), PLE gate and
// layer_scalar, then the final norm, lm-head and soft-cap. Attention is left
// unfused here; gemma4-fuse-attention turns it into gemma4.fused_attention.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Frontend/Importer.h"

#include "gemma4/IR/Gemma4Dialect.h"
#include "gemma4/IR/Gemma4Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::gemma4;

namespace gemma4c {
namespace {

Type elementType(MLIRContext &ctx, DType t, const std::string &name) {
  switch (t) {
  case DType::F32:
    return Float32Type::get(&ctx);
  case DType::F16:
    return Float16Type::get(&ctx);
  case DType::BF16:
    return BFloat16Type::get(&ctx);
  default:
    throw InputError("tensor '" + name + "' has dtype " + dtypeName(t) +
                     ", which gemma4c cannot compute with (need F32, F16 or BF16)");
  }
}

/// Rounds a float to the precision of `t` (bf16/f16) the way torch's
/// .to(dtype) does (round to nearest even).
float roundTo(float v, DType t) {
  if (t == DType::BF16) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint32_t lsb = (bits >> 16) & 1u;
    bits += 0x7FFFu + lsb;
    bits &= 0xFFFF0000u;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  if (t == DType::F16)
    return static_cast<float>(static_cast<_Float16>(v));
  return v;
}

class Importer {
public:
  Importer(MLIRContext &ctx, const Checkpoint &ckpt, const ImportOptions &opts,
           std::string weightPrefix = "")
      : ctx(ctx), ckpt(ckpt), cfg(ckpt.config()), opts(opts), b(&ctx),
        weightPrefix(std::move(weightPrefix)) {}

  OwningOpRef<ModuleOp> run();
  /// Adds the draft model's entries (@gemma4_draft_prefill,
  /// @gemma4_draft_decode) and its gemma4.draft.* attributes to `m`.
  void addDraft(ModuleOp m);

private:
  void planKV();
  /// `allRows`: a dynamic-length entry that returns every token's logits
  /// (@gemma4_verify) instead of only the rows its caller asks for.
  /// `batch`: a batched decode entry of S = B sequences (buildBatchEntry).
  void buildEntry(ModuleOp module, StringRef name, int64_t tokens, bool allRows = false,
                  bool batch = false);
  /// @gemma4_decode_batch: one decode step of B sequences (ImportOptions::
  /// decodeBatch).
  void buildBatchEntry(ModuleOp module, StringRef name, int64_t B);

  Value weight(const std::string &name) {
    const TensorView &t = ckpt.get(name);
    auto ty = RankedTensorType::get(t.shape, elementType(ctx, t.dtype, name));
    return WeightOp::create(b, loc, ty, b.getStringAttr(weightPrefix + name),
                            IntegerAttr());
  }
  std::string L(int64_t l, const std::string &rest) {
    return "layers." + std::to_string(l) + "." + rest;
  }
  RankedTensorType act(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  Value rmsNorm(Value x, Value w) {
    return RMSNormOp::create(b, loc, x.getType(), x, w,
                             b.getF32FloatAttr(cfg.rmsNormEps));
  }
  Value linear(Value x, Value w, int64_t S) {
    auto wt = cast<RankedTensorType>(w.getType());
    return LinearOp::create(b, loc, act({S, wt.getDimSize(0)}), x, w);
  }
  Value reshape(Value x, ArrayRef<int64_t> shape) {
    return ReshapeOp::create(b, loc, act(shape), x);
  }
  RopeAttr rope(const LayerConfig &lc) {
    return RopeAttr::get(&ctx, b.getF64FloatAttr(lc.rope.theta),
                         lc.rope.rotaryDims(lc.headDim));
  }
  float scaleConst(double v) const {
    float f = static_cast<float>(v);
    if (opts.roundScalesToWeightDType)
      f = roundTo(f, ckpt.get("embed_tokens.weight").dtype);
    return f;
  }

  MLIRContext &ctx;
  const Checkpoint &ckpt;
  const TextConfig &cfg;
  ImportOptions opts;
  OpBuilder b;
  /// Prepended to every gemma4.weight name ("draft:" for a draft model, so
  /// its tensors never share a name, hence a blob offset, with the
  /// target's).
  std::string weightPrefix;
  Location loc = UnknownLoc::get(&ctx);

  struct CacheSlot {
    int64_t capacity; // -1: context
    int64_t keyOffset, valueOffset;
    int64_t keyPerCtx, valuePerCtx;
  };
  std::vector<CacheSlot> slots; // by layer (meaningful for non-shared)
  KVLayout kv;
};

void Importer::planKV() {
  slots.assign(cfg.numLayers, CacheSlot{0, 0, 0, 0, 0});
  // Sliding caches first (fixed size), then full caches (scale with context).
  int64_t fixed = 0, perCtx = 0;
  for (int64_t l = 0; l < cfg.numLayers; ++l) {
    const LayerConfig &lc = cfg.layers[l];
    if (lc.kvShared || !lc.sliding)
      continue;
    int64_t cap = cfg.slidingWindow + opts.prefillChunk;
    int64_t bytes = cap * lc.numKVHeads * lc.headDim * 4;
    bytes = (bytes + 63) / 64 * 64;
    slots[l] = {cap, fixed, fixed + bytes, 0, 0};
    fixed += 2 * bytes;
  }
  for (int64_t l = 0; l < cfg.numLayers; ++l) {
    const LayerConfig &lc = cfg.layers[l];
    if (lc.kvShared || lc.sliding)
      continue;
    int64_t row = lc.numKVHeads * lc.headDim * 4;
    slots[l] = {-1, fixed, fixed, perCtx, perCtx + row};
    perCtx += 2 * row;
  }
  // Full caches start after the fixed region: offsets are fixed + k*ctx.
  for (int64_t l = 0; l < cfg.numLayers; ++l)
    if (!cfg.layers[l].kvShared && !cfg.layers[l].sliding) {
      slots[l].keyOffset = fixed;
      slots[l].valueOffset = fixed;
    }
  kv.bytesFixed = fixed;
  kv.bytesPerContext = perCtx;
}

void Importer::buildBatchEntry(ModuleOp module, StringRef name, int64_t B) {
  buildEntry(module, name, B, /*allRows=*/false, /*batch=*/true);
}

void Importer::buildEntry(ModuleOp module, StringRef name, int64_t S, bool allRows, bool batch) {
  b.setInsertionPointToEnd(module.getBody());
  const int64_t H = cfg.hiddenSize, V = cfg.vocabSize;
  // A batched entry's ids are packed: B tokens, B positions, B slots.
  auto idsTy = RankedTensorType::get({batch ? 3 * S : S}, b.getI32Type());
  auto arenaTy = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  auto logitsTy = act({S, V});
  auto fnTy = b.getFunctionType(
      {idsTy, b.getIndexType(), arenaTy, b.getIndexType(), arenaTy}, {logitsTy});
  auto fn = func::FuncOp::create(b, loc, name, fnTy);
  fn.setArgAttr(0, "gemma4.arg", b.getStringAttr("ids"));
  fn.setArgAttr(1, "gemma4.arg", b.getStringAttr("position"));
  fn.setArgAttr(2, "gemma4.arg", b.getStringAttr("kv_arena"));
  fn.setArgAttr(3, "gemma4.arg", b.getStringAttr("context"));
  fn.setArgAttr(4, "gemma4.arg", b.getStringAttr("weights"));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value ids = entry->getArgument(0), pos = entry->getArgument(1),
        arena = entry->getArgument(2), context = entry->getArgument(3);
  // A batched entry: each row's position and KV region (its slot's).
  const int64_t rowsPerSeq = batch ? S : 1;
  std::vector<Value> rowPos(rowsPerSeq, pos), rowBase(rowsPerSeq, Value());
  if (batch) {
    fn->setAttr("gemma4.batch", b.getI64IntegerAttr(S));
    Value packed = ids;
    for (int64_t r = 0; r < S; ++r) {
      auto seq = BatchSequenceOp::create(b, loc, packed, context, b.getI64IntegerAttr(r),
                                         b.getI64IntegerAttr(kv.bytesFixed),
                                         b.getI64IntegerAttr(kv.bytesPerContext));
      rowPos[r] = seq.getPosition();
      rowBase[r] = seq.getBase();
    }
    ids = BatchIdsOp::create(b, loc, RankedTensorType::get({S}, b.getI32Type()), packed);
  }

  // 1. Scaled token embeddings.
  Value embed = weight("embed_tokens.weight");
  Value h = EmbeddingLookupOp::create(b, loc, act({S, H}), embed, ids,
                                      b.getF32FloatAttr(scaleConst(std::sqrt((double)H))));

  // 2. Per-layer inputs for all layers at once.
  Value ple;
  const int64_t P = cfg.hiddenSizePerLayerInput, NL = cfg.numLayers;
  if (P > 0) {
    ple = PerLayerInputsOp::create(
        b, loc, act({S, NL, P}), ids, h, weight("embed_tokens_per_layer.weight"),
        weight("per_layer_model_projection.weight"),
        weight("per_layer_projection_norm.weight"),
        b.getF32FloatAttr(scaleConst(std::sqrt((double)P))),
        b.getF32FloatAttr(static_cast<float>(std::pow((double)H, -0.5))),
        b.getF32FloatAttr(cfg.rmsNormEps));
  }

  // Cache views, one pair per non-shared layer (and per sequence of a
  // batched entry).
  std::vector<std::vector<std::pair<Value, Value>>> caches(
      rowsPerSeq, std::vector<std::pair<Value, Value>>(NL));
  for (int64_t r = 0; r < rowsPerSeq; ++r)
    for (int64_t l = 0; l < NL; ++l) {
      const LayerConfig &lc = cfg.layers[l];
      if (lc.kvShared)
        continue;
      const CacheSlot &s = slots[l];
      auto cacheTy = MemRefType::get(
          {s.capacity > 0 ? s.capacity : ShapedType::kDynamic, lc.numKVHeads,
           lc.headDim},
          b.getF32Type());
      auto view = [&](int64_t off, int64_t perCtx) {
        return KVCacheViewOp::create(b, loc, cacheTy, arena, context, rowBase[r],
                                     b.getI64IntegerAttr(s.capacity),
                                     b.getI64IntegerAttr(off),
                                     b.getI64IntegerAttr(perCtx));
      };
      caches[r][l] = {view(s.keyOffset, s.keyPerCtx), view(s.valueOffset, s.valuePerCtx)};
    }

  for (int64_t l = 0; l < NL; ++l) {
    const LayerConfig &lc = cfg.layers[l];
    const int64_t nh = lc.numHeads, kvh = lc.numKVHeads, d = lc.headDim;
    // a. attention
    Value x = rmsNorm(h, weight(L(l, "input_layernorm.weight")));
    Value qAll = reshape(linear(x, weight(L(l, "self_attn.q_proj.weight")), S), {S, nh, d});
    Value kAll, vAll;
    if (!lc.kvShared) {
      kAll = reshape(linear(x, weight(L(l, "self_attn.k_proj.weight")), S), {S, kvh, d});
      vAll = lc.kEqV ? kAll
                     : reshape(linear(x, weight(L(l, "self_attn.v_proj.weight")), S),
                               {S, kvh, d});
    }
    // One sequence's attention: the whole block (prefill, decode) or, in a
    // batched entry, row r at its own position over its own caches.
    auto attend = [&](Value q, Value kRaw, Value vRaw, Value p,
                      std::pair<Value, Value> cache) {
      q = rmsNorm(q, weight(L(l, "self_attn.q_norm.weight")));
      q = RopeOp::create(b, loc, q.getType(), q, p, rope(lc));
      auto [kc, vc] = cache;
      if (!lc.kvShared) {
        Value k = rmsNorm(kRaw, weight(L(l, "self_attn.k_norm.weight")));
        k = RopeOp::create(b, loc, k.getType(), k, p, rope(lc));
        Value v = rmsNorm(vRaw, Value());
        KVCacheUpdateOp::create(b, loc, k, v, kc, vc, p);
      }
      return AttentionOp::create(b, loc, q.getType(), q, kc, vc, p,
                                 b.getI64IntegerAttr(lc.sliding ? cfg.slidingWindow : 0),
                                 b.getF32FloatAttr(1.0f))
          .getResult();
    };
    Value attn;
    if (!batch) {
      attn = attend(qAll, kAll, vAll, pos, caches[0][lc.kvSourceLayer]);
    } else {
      auto row = [&](Value all, int64_t r) -> Value {
        if (!all)
          return Value();
        auto t = cast<RankedTensorType>(all.getType());
        SmallVector<int64_t> shape(t.getShape());
        shape[0] = 1;
        return TakeRowOp::create(b, loc, act(shape), all, b.getI64IntegerAttr(r));
      };
      SmallVector<Value> outs;
      for (int64_t r = 0; r < S; ++r) {
        Value kr = row(kAll, r);
        Value vr = lc.kEqV ? kr : row(vAll, r);
        outs.push_back(attend(row(qAll, r), kr, vr, rowPos[r], caches[r][lc.kvSourceLayer]));
      }
      attn = StackRowsOp::create(b, loc, act({S, nh, d}), outs);
    }
    Value o = linear(reshape(attn, {S, nh * d}), weight(L(l, "self_attn.o_proj.weight")), S);
    h = AddOp::create(b, loc, h, rmsNorm(o, weight(L(l, "post_attention_layernorm.weight"))));

    // d/e. MLP (+ MoE beside it)
    Value residual = h;
    Value m = MLPOp::create(b, loc, act({S, H}),
                            rmsNorm(h, weight(L(l, "pre_feedforward_layernorm.weight"))),
                            weight(L(l, "mlp.gate_proj.weight")),
                            weight(L(l, "mlp.up_proj.weight")),
                            weight(L(l, "mlp.down_proj.weight")));
    if (lc.moe) {
      Value m1 = rmsNorm(m, weight(L(l, "post_feedforward_layernorm_1.weight")));
      Value x2 = rmsNorm(residual, weight(L(l, "pre_feedforward_layernorm_2.weight")));
      Value moe = MoEOp::create(
          b, loc, act({S, H}), residual, x2, weight(L(l, "router.proj.weight")),
          weight(L(l, "router.scale")), weight(L(l, "router.per_expert_scale")),
          weight(L(l, "experts.gate_up_proj")), weight(L(l, "experts.down_proj")),
          b.getI64IntegerAttr(cfg.topKExperts), b.getF32FloatAttr(cfg.rmsNormEps));
      Value m2 = rmsNorm(moe, weight(L(l, "post_feedforward_layernorm_2.weight")));
      m = AddOp::create(b, loc, m1, m2);
    }
    h = AddOp::create(b, loc, residual,
                      rmsNorm(m, weight(L(l, "post_feedforward_layernorm.weight"))));

    // g. per-layer input gate
    if (P > 0) {
      Value pl = LayerSliceOp::create(b, loc, act({S, P}), ple, b.getI64IntegerAttr(l));
      Value g = linear(h, weight(L(l, "per_layer_input_gate.weight")), S);
      Value t = GeluMulOp::create(b, loc, g, pl);
      Value p = linear(t, weight(L(l, "per_layer_projection.weight")), S);
      h = AddOp::create(b, loc, h, rmsNorm(p, weight(L(l, "post_per_layer_input_norm.weight"))));
    }
    // h. layer scalar
    h = ScaleOp::create(b, loc, h.getType(), h, weight(L(l, "layer_scalar")),
                        b.getF32FloatAttr(1.0f));
  }

  // A prefill call projects only the rows whose logits its caller wants
  // (the last token's to sample from, all of them to dump).
  if (ShapedType::isDynamic(S) && !allRows)
    h = OutputRowsOp::create(b, loc, h.getType(), h);
  Value hn = rmsNorm(h, weight("norm.weight"));
  Value lm = cfg.tieWordEmbeddings ? weight("embed_tokens.weight") : weight("lm_head.weight");
  Value logits = linear(hn, lm, S);
  if (cfg.finalLogitSoftcapping)
    logits = SoftcapOp::create(b, loc, logits,
                               b.getF32FloatAttr(static_cast<float>(*cfg.finalLogitSoftcapping)));
  func::ReturnOp::create(b, loc, logits);
}

OwningOpRef<ModuleOp> Importer::run() {
  ctx.loadDialect<Gemma4Dialect, func::FuncDialect, memref::MemRefDialect,
                  arith::ArithDialect>();
  if (opts.prefillChunk < 1)
    throw InputError("prefill chunk must be at least 1");
  planKV();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  int64_t maxCtx = std::min(opts.maxContext, cfg.maxPositionEmbeddings);
  auto m = *module;
  m->setAttr("gemma4.vocab_size", b.getI64IntegerAttr(cfg.vocabSize));
  m->setAttr("gemma4.num_layers", b.getI64IntegerAttr(cfg.numLayers));
  m->setAttr("gemma4.hidden_size", b.getI64IntegerAttr(cfg.hiddenSize));
  m->setAttr("gemma4.prefill_chunk", b.getI64IntegerAttr(opts.prefillChunk));
  m->setAttr("gemma4.default_context", b.getI64IntegerAttr(maxCtx));
  m->setAttr("gemma4.max_position_embeddings", b.getI64IntegerAttr(cfg.maxPositionEmbeddings));
  m->setAttr("gemma4.kv_bytes_fixed", b.getI64IntegerAttr(kv.bytesFixed));
  m->setAttr("gemma4.kv_bytes_per_context", b.getI64IntegerAttr(kv.bytesPerContext));
  buildEntry(m, "gemma4_prefill", ShapedType::kDynamic);
  buildEntry(m, "gemma4_decode", 1);
  // Speculative decoding: the prefill path for the k+1 tokens a draft
  // proposed (plus the last accepted one) at any position, every row's
  // logits returned. Rejected positions need no undo: caches are indexed
  // by position (sliding ones modulo sliding_window + prefill_chunk, which
  // keeps every row a later query can see as long as a call takes at most
  // prefill_chunk tokens), and a query at position p reads keys <= p only,
  // so the next call overwrites them before anything can read them.
  if (opts.verifyEntry)
    buildEntry(m, "gemma4_verify", ShapedType::kDynamic, /*allRows=*/true);
  if (opts.decodeBatch < 0)
    throw InputError("decode batch must be at least 0");
  if (opts.decodeBatch > 0)
    buildBatchEntry(m, "gemma4_decode_batch", opts.decodeBatch);
  if (failed(verify(m)))
    throw InputError("internal error: imported module of '" + ckpt.dir() +
                     "' does not verify");
  return module;
}

void Importer::addDraft(ModuleOp m) {
  if (opts.prefillChunk < 1)
    throw InputError("prefill chunk must be at least 1");
  planKV();
  m->setAttr("gemma4.draft.vocab_size", b.getI64IntegerAttr(cfg.vocabSize));
  m->setAttr("gemma4.draft.num_layers", b.getI64IntegerAttr(cfg.numLayers));
  m->setAttr("gemma4.draft.kv_bytes_fixed", b.getI64IntegerAttr(kv.bytesFixed));
  m->setAttr("gemma4.draft.kv_bytes_per_context", b.getI64IntegerAttr(kv.bytesPerContext));
  buildEntry(m, "gemma4_draft_prefill", ShapedType::kDynamic);
  buildEntry(m, "gemma4_draft_decode", 1);
  if (failed(verify(m)))
    throw InputError("internal error: the draft entries of '" + ckpt.dir() +
                     "' do not verify");
}

} // namespace

void importDraft(MLIRContext &ctx, ModuleOp target, const Checkpoint &draft,
                 const ImportOptions &opts) {
  Importer imp(ctx, draft, opts, "draft:");
  imp.addDraft(target);
}

OwningOpRef<ModuleOp> importCheckpoint(MLIRContext &ctx, const Checkpoint &ckpt,
                                       const ImportOptions &opts) {
  Importer imp(ctx, ckpt, opts);
  return imp.run();
}

} // namespace gemma4c

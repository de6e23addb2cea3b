//===- AttentionFusion.cpp - fuse QK-norm, RoPE, cache write, attention ---===//
//
// Matches, per attention layer,
//   q  = rope(rms_norm(q_raw, q_norm))
//   k  = rope(rms_norm(k_raw, k_norm)); v = rms_norm(v_raw)      (optional)
//   kv_cache_update k, v into kc, vc
//   o  = attention q, kc, vc
// and replaces it by one gemma4.fused_attention that normalises, rotates and
// writes K/V straight into the cache rows and computes attention with an
// online softmax: no normalised/rotated q/k/v tensors and no S x S scores are
// materialised. Layers that reuse another layer's KV (KV-shared layers)
// have no cache update of their own and fuse without k/v.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4FUSEATTENTION
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {
/// x = rope(rms_norm(raw, w)) at `pos`: returns (raw, w, norm, rope).
struct NormRope {
  Value raw, weight;
  RMSNormOp norm;
  RopeOp rope;
};

std::optional<NormRope> matchNormRope(Value v, Value pos) {
  auto rope = v.getDefiningOp<RopeOp>();
  if (!rope || rope.getPositionBase() != pos)
    return std::nullopt;
  auto norm = rope.getInput().getDefiningOp<RMSNormOp>();
  if (!norm || !norm.getWeight())
    return std::nullopt;
  return NormRope{norm.getInput(), norm.getWeight(), norm, rope};
}

/// The cache update that belongs to `attn`: the nearest earlier update of
/// the same caches with no other attention on those caches in between.
KVCacheUpdateOp findOwnUpdate(AttentionOp attn) {
  for (Operation *op = attn->getPrevNode(); op; op = op->getPrevNode()) {
    if (auto u = dyn_cast<KVCacheUpdateOp>(op))
      if (u.getKeyCache() == attn.getKeyCache() && u.getValueCache() == attn.getValueCache())
        return u;
    if (auto a = dyn_cast<AttentionOp>(op))
      if (a.getKeyCache() == attn.getKeyCache())
        return {};
    if (auto f = dyn_cast<FusedAttentionOp>(op))
      if (f.getKeyCache() == attn.getKeyCache())
        return {};
  }
  return {};
}

struct Gemma4FuseAttentionPass
    : mlir::gemma4::impl::Gemma4FuseAttentionBase<Gemma4FuseAttentionPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attns;
    getOperation().walk([&](AttentionOp a) { attns.push_back(a); });
    for (AttentionOp attn : attns)
      fuse(attn);
  }

  void fuse(AttentionOp attn) {
    Value pos = attn.getPositionBase();
    auto q = matchNormRope(attn.getQuery(), pos);
    if (!q || !q->rope->hasOneUse())
      return;
    float eps = q->norm.getEpsilon().convertToFloat();
    RopeAttr ropeAttr = q->rope.getRope();
    Value kRaw, vRaw, kNorm;
    KVCacheUpdateOp update = findOwnUpdate(attn);
    if (update) {
      auto k = matchNormRope(update.getKey(), pos);
      auto vNorm = update.getValue().getDefiningOp<RMSNormOp>();
      if (!k || !vNorm || vNorm.getWeight() || k->rope.getRope() != ropeAttr ||
          k->norm.getEpsilon() != q->norm.getEpsilon() ||
          vNorm.getEpsilon() != q->norm.getEpsilon() ||
          update.getPositionBase() != pos)
        return; // unusual form: leave unfused, still correct
      kRaw = k->raw;
      vRaw = vNorm.getInput();
      kNorm = k->weight;
    }
    int64_t window = attn.getSlidingWindow();
    OpBuilder b(attn);
    auto fused = FusedAttentionOp::create(
        b, attn.getLoc(), attn.getType(), q->raw, kRaw, vRaw, q->weight, kNorm,
        attn.getKeyCache(), attn.getValueCache(), pos,
        LayerTypeAttr::get(&getContext(), window > 0 ? LayerType::sliding : LayerType::full),
        ropeAttr, attn.getSlidingWindowAttr(), attn.getScaleAttr(), b.getF32FloatAttr(eps));
    attn.replaceAllUsesWith(fused.getResult());
    attn.erase();
    if (update) {
      Operation *k = update.getKey().getDefiningOp(), *v = update.getValue().getDefiningOp();
      update.erase();
      eraseIfDead(k);
      eraseIfDead(v);
    }
    eraseIfDead(q->rope);
  }

  /// Erases `op` and, transitively, producers left without uses.
  void eraseIfDead(Operation *op) {
    if (!op || !op->use_empty() || !isa<RopeOp, RMSNormOp>(op))
      return;
    SmallVector<Operation *> producers;
    for (Value v : op->getOperands())
      if (Operation *p = v.getDefiningOp())
        producers.push_back(p);
    op->erase();
    for (Operation *p : producers)
      eraseIfDead(p);
  }
};
} // namespace

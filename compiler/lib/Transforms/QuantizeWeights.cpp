//===- QuantizeWeights.cpp - choose quantized encodings for weights -------===//
//
// Gives every matrix weight the encoding its role gets under the --quant
// scheme: the result type of each gemma4.weight becomes
// tensor<...xi4|i8, #gemma4.quant<...>>. The weight keeps its checkpoint
// name; gemma4-layout-weights sizes it by its packed layout, and the compile
// driver packs the checkpoint tensor into that layout exactly once while
// writing the weight blob (gemma4c/Quant/Pack.h). Consumers read the packed
// bytes and dequantise in registers (convert-gemma4-to-loops).
//
// Interleaved int4 weights of linears' and MLPs' decode products are further
// laid out in K panels (long rows) or row tiles (QuantLayout.h).
//
// Roles come from the uses: embedding_lookup tables (and the tied lm-head
// linear that shares the name) are "embedding", per_layer_inputs tables
// "ple", router weights "router", expert stacks "experts", every other matmul
// weight "linear". Vectors (norm weights, router/expert scales) are kept.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Quant/Scheme.h"
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4QUANTIZEWEIGHTS
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;
using gemma4c::quant::Role;

namespace {

/// The role of the weight `v` in the op that uses it, if it is a matrix
/// operand of a matmul or gather.
std::optional<Role> roleOfUse(OpOperand &use) {
  Operation *op = use.getOwner();
  Value v = use.get();
  if (auto e = dyn_cast<EmbeddingLookupOp>(op))
    return e.getTable() == v ? std::optional(Role::Embedding) : std::nullopt;
  if (auto p = dyn_cast<PerLayerInputsOp>(op)) {
    if (p.getTable() == v)
      return Role::PLE;
    if (p.getProjectionWeight() == v)
      return Role::Linear;
    return std::nullopt;
  }
  if (auto l = dyn_cast<LinearOp>(op))
    return l.getWeight() == v ? std::optional(Role::Linear) : std::nullopt;
  if (isa<MLPOp>(op))
    return Role::Linear;
  if (auto r = dyn_cast<RouterOp>(op))
    return r.getRouterWeight() == v ? std::optional(Role::Router) : std::nullopt;
  if (auto x = dyn_cast<ExpertFFNOp>(op))
    return (x.getGateUpWeight() == v || x.getDownWeight() == v) ? std::optional(Role::Experts)
                                                                : std::nullopt;
  if (auto m = dyn_cast<MoEOp>(op)) {
    if (m.getRouterWeight() == v)
      return Role::Router;
    if (m.getGateUpWeight() == v || m.getDownWeight() == v)
      return Role::Experts;
    return std::nullopt;
  }
  return std::nullopt;
}

/// Whether every use of `w` is a matrix-vector product whose decode form
/// streams K panels (a linear's weight, an MLP's down projection).
bool panelledUses(WeightOp w) {
  for (OpOperand &use : w.getResult().getUses()) {
    Operation *op = use.getOwner();
    if (auto l = dyn_cast<LinearOp>(op); l && l.getWeight() == use.get())
      continue;
    if (auto m = dyn_cast<MLPOp>(op); m && m.getDownWeight() == use.get())
      continue;
    return false;
  }
  return true;
}

/// Whether every use of `w` reads it through the loop lowering's row-tiled
/// readers: linears and MLPs (matrix-vector steps of whole tiles) and
/// embedding lookups (a tied lm-head's table); other readers (the per-layer
/// input projection, experts) stay untiled.
bool tileableUses(WeightOp w) {
  for (OpOperand &use : w.getResult().getUses()) {
    Operation *op = use.getOwner();
    if (auto l = dyn_cast<LinearOp>(op); l && l.getWeight() == use.get())
      continue;
    if (isa<MLPOp>(op))
      continue;
    if (auto e = dyn_cast<EmbeddingLookupOp>(op); e && e.getTable() == use.get())
      continue;
    return false;
  }
  return true;
}

/// The K panel for an interleaved int4 weight of K input features: the
/// largest multiple of the super-block dividing K, at most `most`; 0 when
/// K fits one panel.
int64_t panelFor(int64_t K, int64_t most) {
  const int64_t sb = ::gemma4::quant::kInt4SuperBlock;
  if (most < sb || K <= most || K % sb != 0)
    return 0;
  for (int64_t p = most / sb * sb; p >= sb; p -= sb)
    if (K % p == 0)
      return p;
  return 0;
}

/// When one tensor plays several roles (the tied embedding is also the
/// lm-head), the most quality-sensitive one decides.
int priority(Role r) {
  switch (r) {
  case Role::Router: return 4;
  case Role::Embedding: return 3;
  case Role::PLE: return 2;
  case Role::Experts: return 1;
  default: return 0;
  }
}

struct Gemma4QuantizeWeightsPass
    : mlir::gemma4::impl::Gemma4QuantizeWeightsBase<Gemma4QuantizeWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string err;
    std::optional<gemma4c::quant::Scheme> scheme = gemma4c::quant::parseScheme(schemeName, err);
    if (!scheme) {
      module.emitError() << err;
      return signalPassFailure();
    }
    if (rowTile < 0 || rowTile == 1 || rowTile > 16) {
      module.emitError() << "gemma4-quantize-weights: row-tile must be 0 or 2 to 16, got " << rowTile;
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    module->setAttr("gemma4.quant", StringAttr::get(ctx, scheme->name));
    if (!scheme->quantizesAnything())
      return;

    // Role of each tensor name over all its uses (prefill and decode).
    llvm::StringMap<std::optional<Role>> roles;
    llvm::StringMap<SmallVector<WeightOp>> ops;
    module.walk([&](WeightOp w) {
      ops[w.getName()].push_back(w);
      std::optional<Role> &role = roles[w.getName()];
      for (OpOperand &use : w.getResult().getUses())
        if (std::optional<Role> r = roleOfUse(use))
          if (!role || priority(*r) > priority(*role))
            role = r;
    });

    for (auto &entry : ops) {
      std::optional<Role> role = roles[entry.getKey()];
      WeightOp first = entry.getValue().front();
      RankedTensorType t = first.getResult().getType();
      if (!role || t.getRank() < 2 || getQuant(t) || !isa<FloatType>(t.getElementType()))
        continue;
      std::optional<gemma4c::quant::Spec> spec = scheme->forRole(*role);
      if (!spec)
        continue;
      int64_t K = t.getShape().back();
      if (std::string why = gemma4c::quant::unsupportedReason(*spec, K); !why.empty()) {
        if (!scheme->fallbackToInt8) {
          first.emitError() << "cannot quantize '" << entry.getKey() << "' with --quant="
                            << scheme->name << ": " << why
                            << " (--quant=mixed falls back to int8 for such tensors)";
          return signalPassFailure(); // one error is enough
        }
        spec = gemma4c::quant::Spec{8, 0, ::gemma4::quant::ScaleType::F32, true};
      }
      if (!int4Interleave && spec->bits == 4)
        spec->plain = true;
      if (::gemma4::quant::int4Interleaved(*spec, K) && t.getRank() == 2 &&
          llvm::all_of(entry.getValue(), panelledUses))
        spec->panel = panelFor(K, kPanel);
      int64_t rows = K ? t.getNumElements() / K : 0;
      if (rowTile > 1 && rows > 0 && spec->panel == 0 && t.getRank() == 2 &&
          ::gemma4::quant::int4Interleaved(*spec, K) && rows % rowTile == 0 &&
          llvm::all_of(entry.getValue(), tileableUses))
        spec->tile = rowTile;
      auto enc = QuantAttr::get(ctx, *spec);
      auto qt = RankedTensorType::get(t.getShape(), IntegerType::get(ctx, spec->bits), enc);
      for (WeightOp w : entry.getValue())
        w.getResult().setType(qt);
    }
  }
};

} // namespace

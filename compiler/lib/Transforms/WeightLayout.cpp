//===- WeightLayout.cpp - assign byte offsets to gemma4.weight ops --------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4LAYOUTWEIGHTS
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {
struct Gemma4LayoutWeightsPass
    : mlir::gemma4::impl::Gemma4LayoutWeightsBase<Gemma4LayoutWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (alignment <= 0 || (alignment & (alignment - 1))) {
      getOperation().emitError() << "weight alignment must be a power of two, got "
                                 << alignment.getValue();
      return signalPassFailure();
    }
    llvm::StringMap<std::pair<int64_t, RankedTensorType>> placed;
    int64_t cursor = 0;
    bool failedAny = false;
    getOperation().walk([&](WeightOp op) {
      auto ty = op.getResult().getType();
      auto it = placed.find(op.getName());
      if (it != placed.end()) {
        if (weightByteSize(it->second.second) != weightByteSize(ty)) {
          op.emitOpError() << "tensor '" << op.getName()
                           << "' is used with two different sizes";
          failedAny = true;
        }
        op.setOffset(it->second.first);
        return;
      }
      cursor = (cursor + alignment - 1) / alignment * alignment;
      placed[op.getName()] = {cursor, ty};
      op.setOffset(cursor);
      cursor += weightByteSize(ty);
    });
    if (failedAny)
      return signalPassFailure();
    OpBuilder b(&getContext());
    getOperation()->setAttr("gemma4.weights_size", b.getI64IntegerAttr(cursor));
  }
};
} // namespace

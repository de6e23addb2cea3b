//===- ApproximateMath.cpp - polynomial approximations for math ops -------===//
//
// tanh (GeLU, soft-cap) and exp (softmax) as calls to libm would block
// vectorisation; MLIR's polynomial approximations are accurate to a few ulp
// in f32 and vectorise.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4APPROXIMATEMATH
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct Gemma4ApproximateMathPass
    : mlir::gemma4::impl::Gemma4ApproximateMathBase<Gemma4ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // The predicate sees full operation names ("math.tanh"), not mnemonics.
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == "math.tanh" || name == "math.exp"; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

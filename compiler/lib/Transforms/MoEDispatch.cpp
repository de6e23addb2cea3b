//===- MoEDispatch.cpp - split gemma4.moe into router + expert_ffn --------===//
//
// gemma4.moe is the importer's one-op view of the MoE block. This pass
// rewrites it into the two-stage dispatch form that backends lower:
//   gemma4.router     -> per token: softmax over experts, top-k,
//                        renormalise, times per-expert scale
//   gemma4.expert_ffn -> gather the tokens routed to each selected expert,
//                        run that expert's GeGLU, scatter-add weighted
//                        outputs. Unselected experts are never touched.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4MOEDISPATCH
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {
struct SplitMoE : OpRewritePattern<MoEOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MoEOp op,
                                PatternRewriter &rewriter) const override {
    auto inTy = cast<RankedTensorType>(op.getRouterInput().getType());
    int64_t k = op.getTopK();
    auto idxTy = RankedTensorType::get({inTy.getDimSize(0), k},
                                       rewriter.getI32Type());
    auto wTy = RankedTensorType::get({inTy.getDimSize(0), k},
                                     rewriter.getF32Type());
    auto router = RouterOp::create(
        rewriter, op.getLoc(), idxTy, wTy, op.getRouterInput(),
        op.getRouterWeight(), op.getRouterScale(), op.getPerExpertScale(),
        op.getTopKAttr(), op.getEpsilonAttr());
    rewriter.replaceOpWithNewOp<ExpertFFNOp>(
        op, op.getType(), op.getExpertInput(), router.getExperts(),
        router.getWeights(), op.getGateUpWeight(), op.getDownWeight());
    return success();
  }
};

struct Gemma4MoEDispatchPass
    : mlir::gemma4::impl::Gemma4MoEDispatchBase<Gemma4MoEDispatchPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SplitMoE>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

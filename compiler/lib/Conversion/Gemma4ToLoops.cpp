//===- Gemma4ToLoops.cpp - the convert-gemma4-to-loops pass ---------------===//
//
// Lowers every entry function with a LoopEmitter (what each op computes,
// compiler/lib/Conversion) driven by the LoweringStrategy named by the
// `strategy` option (how the target runs it, targets/<name>/lib/Strategy).
// The strategy's tunables travel as the pass's options; see README.md here.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Conversion/LoopEmitter.h"
#include "gemma4c/Conversion/LoweringStrategy.h"
#include "gemma4c/Transforms/Passes.h"

#include <string>

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4TOLOOPS
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {

struct Gemma4ToLoopsPass : mlir::gemma4::impl::Gemma4ToLoopsBase<Gemma4ToLoopsPass> {
  using Base::Base;
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    getLoweringStrategyDialects(strategy, registry);
  }
  void runOnOperation() override {
    StrategyOptions opts;
    opts["int-dot"] = intDot;
    opts["bf16-dot"] = bf16Dot;
    opts["weight-prefetch"] = std::to_string(static_cast<int64_t>(weightPrefetch));
    opts["decode-row-tile"] = std::to_string(static_cast<int64_t>(decodeRowTile));
    opts["accumulators"] = std::to_string(static_cast<int64_t>(accumulators));
    opts["fold-unroll"] = std::to_string(static_cast<int64_t>(foldUnroll));
    opts["key-chunk"] = std::to_string(static_cast<int64_t>(keyChunk));
    opts["decode-rows"] = std::to_string(static_cast<int64_t>(decodeRows));
    opts["block-tile"] = blockTile;
    opts["attn-tile"] = attnTile;
    opts["mma"] = mma;
    std::string error;
    std::unique_ptr<LoweringStrategy> s = createLoweringStrategy(strategy, opts, error);
    if (!s) {
      getOperation().emitError() << "convert-gemma4-to-loops: " << error;
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> fns;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (!f.isExternal() && f.getNumArguments() == 5 && f.getArgAttr(0, "gemma4.arg"))
        fns.push_back(f);
    for (auto f : fns) {
      LoopEmitter e(f, bf16Activations, *s);
      if (failed(e.run()))
        return signalPassFailure();
    }
  }
};

} // namespace

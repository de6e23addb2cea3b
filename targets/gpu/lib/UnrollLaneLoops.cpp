//===- UnrollLaneLoops.cpp - unroll kernels' short constant loops ---------===//
//
// See Passes.td (gemma4-unroll-lane-loops). MapToGPU deals a row's steps
// out to the lanes with constant bounds where every lane takes as many
// steps; those loops are unrolled here so a lane issues several steps'
// loads before it waits for the first. LLVM would not do it for the
// longer ones (a 24-step dot of a 12288-long row), and without it a
// decode matrix-vector product with few rows cannot fill the memory
// pipeline.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4UNROLLLANELOOPS
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
/// A constant index, through the products and sums MapToGPU leaves
/// unfolded (a lane loop's step is the op's step times the subgroup size).
std::optional<int64_t> constIndex(Value v, int depth = 0) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return c;
  Operation *d = v.getDefiningOp();
  if (!d || depth > 8 || d->getNumOperands() != 2)
    return std::nullopt;
  std::optional<int64_t> a = constIndex(d->getOperand(0), depth + 1),
                         b = constIndex(d->getOperand(1), depth + 1);
  if (!a || !b)
    return std::nullopt;
  if (isa<arith::MulIOp>(d))
    return *a * *b;
  if (isa<arith::AddIOp>(d))
    return *a + *b;
  if (isa<arith::SubIOp>(d))
    return *a - *b;
  return std::nullopt;
}

struct UnrollLaneLoopsPass
    : mlir::gemma4::impl::Gemma4UnrollLaneLoopsBase<UnrollLaneLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxFactor <= 1)
      return;
    SmallVector<std::pair<scf::ForOp, int64_t>> work;
    getOperation().walk([&](gpu::LaunchOp launch) {
      launch.getBody().walk([&](scf::ForOp f) {
        bool innermost = true;
        f.getBody()->walk([&](LoopLikeOpInterface) { innermost = false; });
        if (!innermost)
          return;
        std::optional<int64_t> lb = constIndex(f.getLowerBound()),
                               ub = constIndex(f.getUpperBound()), st = constIndex(f.getStep());
        if (!lb || !ub || !st || *st <= 0 || *ub <= *lb)
          return;
        int64_t trips = (*ub - *lb + *st - 1) / *st;
        if (trips < 2 || (int64_t)f.getBody()->getOperations().size() > maxBody)
          return;
        int64_t factor = 1;
        for (int64_t u = std::min<int64_t>(maxFactor, trips); u >= 2; --u)
          if (trips % u == 0) {
            factor = u;
            break;
          }
        if (factor > 1)
          work.emplace_back(f, factor);
      });
    });
    for (auto [f, factor] : work)
      if (failed(loopUnrollByFactor(f, uint64_t(factor))))
        return signalPassFailure();
  }
};
} // namespace

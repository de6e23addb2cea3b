//===- AlignVectorAccess.cpp - proven alignment for kernels' vector access -===//
//
// See Passes.td (gemma4-align-vector-access). A vector access's byte
// offset from its buffer's base is sum_i idx_i * stride_i * elementBytes;
// its alignment is the largest power of two that provably divides both the
// base's address and that offset. Each index's power-of-two factor comes
// from how it is computed (knownFactor); anything unknown counts as 1, so
// the result is never more than what holds.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4ALIGNVECTORACCESS
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {

/// Factors are powers of two, capped here ("zero": any power divides it).
constexpr int64_t kMax = int64_t(1) << 30;

int64_t lowBit(int64_t v) {
  if (v == 0)
    return kMax;
  uint64_t u = v < 0 ? uint64_t(-v) : uint64_t(v);
  return std::min<int64_t>(kMax, int64_t(u & (~u + 1)));
}
int64_t mulCap(int64_t a, int64_t b) {
  if (a >= kMax || b >= kMax)
    return kMax;
  return std::min<int64_t>(kMax, a * b);
}

struct AlignVectorAccessPass
    : mlir::gemma4::impl::Gemma4AlignVectorAccessBase<AlignVectorAccessPass> {
  using Base::Base;

  llvm::DenseMap<Value, int64_t> memo;

  /// The largest power of two known to divide index (or integer) v.
  int64_t knownFactor(Value v, int depth = 0) {
    if (depth > 32)
      return 1;
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    int64_t f = 1;
    if (std::optional<int64_t> c = getConstantIntValue(v)) {
      f = lowBit(*c);
    } else if (auto arg = dyn_cast<BlockArgument>(v)) {
      Operation *owner = arg.getOwner()->getParentOp();
      if (auto loop = dyn_cast<scf::ForOp>(owner); loop && arg == loop.getInductionVar())
        f = std::min(knownFactor(loop.getLowerBound(), depth + 1),
                     knownFactor(loop.getStep(), depth + 1));
      else if (auto par = dyn_cast<scf::ParallelOp>(owner))
        for (auto [iv, lb, st] :
             llvm::zip(par.getInductionVars(), par.getLowerBound(), par.getStep()))
          if (iv == arg)
            f = std::min(knownFactor(lb, depth + 1), knownFactor(st, depth + 1));
    } else if (Operation *d = v.getDefiningOp()) {
      if (isa<arith::AddIOp, arith::SubIOp>(d))
        f = std::min(knownFactor(d->getOperand(0), depth + 1),
                     knownFactor(d->getOperand(1), depth + 1));
      else if (isa<arith::MulIOp>(d))
        f = mulCap(knownFactor(d->getOperand(0), depth + 1),
                   knownFactor(d->getOperand(1), depth + 1));
      else if (auto sh = dyn_cast<arith::ShLIOp>(d)) {
        std::optional<int64_t> c = getConstantIntValue(sh.getRhs());
        if (c && *c >= 0 && *c < 30)
          f = mulCap(knownFactor(sh.getLhs(), depth + 1), int64_t(1) << *c);
      } else if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtUIOp, arith::ExtSIOp>(d))
        f = knownFactor(d->getOperand(0), depth + 1);
      else if (auto sel = dyn_cast<arith::SelectOp>(d))
        f = std::min(knownFactor(sel.getTrueValue(), depth + 1),
                     knownFactor(sel.getFalseValue(), depth + 1));
    }
    memo[v] = f;
    return f;
  }

  /// The known alignment in bytes of buffer m's base address.
  int64_t baseAlignment(Value m, int depth = 0) {
    if (depth > 16)
      return 1;
    if (auto arg = dyn_cast<BlockArgument>(m)) {
      Operation *owner = arg.getOwner()->getParentOp();
      if (isa<func::FuncOp>(owner))
        return allocAlignment;
      // A block's workgroup buffer: targets place them kWorkgroupAlignment-
      // aligned (targets/cuda: llvm.align on the attribution).
      if (auto l = dyn_cast<gpu::LaunchOp>(owner))
        if (llvm::is_contained(l.getWorkgroupAttributions(), arg))
          return std::min<int64_t>(allocAlignment, mlir::gemma4::kWorkgroupAlignment);
      return 1;
    }
    Operation *d = m.getDefiningOp();
    if (!d)
      return 1;
    if (isa<memref::AllocOp>(d)) {
      int64_t a = allocAlignment;
      if (auto attr = cast<memref::AllocOp>(d).getAlignment())
        a = std::max<int64_t>(a, int64_t(*attr));
      return a;
    }
    if (auto view = dyn_cast<memref::ViewOp>(d))
      return std::min(baseAlignment(view.getSource(), depth + 1), knownFactor(view.getByteShift()));
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(d))
      return baseAlignment(d->getOperand(0), depth + 1); // the same base, reshaped
    return 1;
  }

  /// The proven alignment of an access of `bytes` bytes at indices idx of m.
  int64_t accessAlignment(Value m, ValueRange idx, int64_t bytes) {
    auto t = dyn_cast<MemRefType>(m.getType());
    if (!t || !t.getLayout().isIdentity() || t.getRank() != (int64_t)idx.size())
      return 0;
    int64_t elemBytes = t.getElementTypeBitWidth() / 8;
    if (elemBytes <= 0 || t.getElementTypeBitWidth() % 8 != 0)
      return 0;
    int64_t a = baseAlignment(m);
    // Element strides of the identity layout, innermost 1.
    int64_t stride = 1;
    for (int64_t i = t.getRank() - 1; i >= 0; --i) {
      a = std::min(a, mulCap(mulCap(knownFactor(idx[i]), lowBit(stride)), elemBytes));
      if (i > 0) {
        if (t.isDynamicDim(i))
          return 0;
        stride *= t.getDimSize(i);
      }
    }
    return std::min(a, bytes);
  }

  void runOnOperation() override {
    if (allocAlignment <= 0)
      return;
    allocAlignment = lowBit(allocAlignment);
    getOperation().walk([&](gpu::LaunchOp launch) {
      launch.getBody().walk([&](Operation *op) {
        auto set = [&](auto access, VectorType vt) {
          int64_t bytes = vt.getNumElements() * vt.getElementTypeBitWidth() / 8;
          int64_t a = accessAlignment(access.getBase(), access.getIndices(), bytes);
          int64_t natural = std::max<int64_t>(1, vt.getElementTypeBitWidth() / 8);
          if (a > natural && !access.getAlignment())
            access.setAlignment(uint64_t(a));
        };
        if (auto ld = dyn_cast<vector::LoadOp>(op))
          set(ld, ld.getVectorType());
        else if (auto st = dyn_cast<vector::StoreOp>(op))
          set(st, st.getVectorType());
      });
    });
  }
};

} // namespace

//===- PlanBuffers.cpp - pack a function's static buffers into one arena ---===//
//
// The loop lowering gives every activation its own heap buffer, freed when
// the function returns. A decode step of a 35-layer model would then make
// about 1300 malloc/free pairs per token and touch megabytes of fresh
// memory. This pass packs the statically shaped top-level allocations of
// each function into one arena allocated on entry: a buffer's live range
// runs from its allocation to the last top-level op that uses it or a view
// of it, and buffers whose ranges do not overlap share bytes (first fit,
// largest first). Each allocation becomes a memref.view of the arena; the
// arena's size is recorded on the function as `gemma4.arena_bytes`.
// A top-level allocation with dynamic sizes (a prefill call's activations:
// tokens x features) keeps its own buffer, but its dealloc moves to just
// after its last use, so the allocator (the GPU runtime's scratch cache,
// malloc) hands the same memory to the next layer's buffer of that size: a
// 512-token E2B prefill call then allocates tens of buffers, not ~500 held
// to the end (2.2 GiB on a GPU). Allocations inside regions, or with a use
// the pass cannot follow (anything but a dealloc or an op that reads or
// writes through it, a view-like op's source included) are left alone.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4PLANBUFFERS
#include "gemma4c/Transforms/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4;

namespace {

struct Planned {
  memref::AllocOp alloc;
  int64_t bytes = 0, first = 0, last = 0, offset = 0;
  SmallVector<memref::DeallocOp> deallocs;
};

/// Bytes of a static, identity-layout memref of int or float elements.
std::optional<int64_t> staticBytes(MemRefType t) {
  if (!t.hasStaticShape() || !t.getLayout().isIdentity() || t.getMemorySpace())
    return std::nullopt;
  Type et = t.getElementType();
  if (!et.isIntOrFloat() || et.getIntOrFloatBitWidth() % 8)
    return std::nullopt;
  return t.getNumElements() * (et.getIntOrFloatBitWidth() / 8);
}

struct Gemma4PlanBuffersPass : mlir::gemma4::impl::Gemma4PlanBuffersBase<Gemma4PlanBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    if (alignment <= 0 || (alignment & (alignment - 1))) {
      getOperation().emitError() << "gemma4-plan-buffers: alignment must be a power of two, got "
                                 << alignment.getValue();
      return signalPassFailure();
    }
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal())
        plan(fn);
  }

  /// The index (in `order`) of the last top-level op of `block` that uses
  /// `v` or a view of it, collecting deallocs of v; false if a use cannot be
  /// followed.
  bool lastUse(Value v, Block &block, const llvm::DenseMap<Operation *, int64_t> &order,
               int64_t &last, SmallVectorImpl<memref::DeallocOp> &deallocs, bool isRoot) {
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto d = dyn_cast<memref::DeallocOp>(user)) {
        if (!isRoot || d->getBlock() != &block)
          return false; // a view freed, or a free inside a region
        deallocs.push_back(d);
        continue;
      }
      // Calls, returns and stores of the memref itself would let the
      // buffer outlive the range seen here.
      if (isa<CallOpInterface, RegionBranchTerminatorOpInterface>(user) ||
          user->hasTrait<OpTrait::ReturnLike>())
        return false;
      if (auto st = dyn_cast<memref::StoreOp>(user); st && st.getValueToStore() == v)
        return false;
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return false;
      last = std::max(last, order.lookup(top));
      if (auto view = dyn_cast<ViewLikeOpInterface>(user); view && view.getViewSource() == v)
        for (Value r : user->getResults())
          if (isa<MemRefType>(r.getType()) &&
              !lastUse(r, block, order, last, deallocs, /*isRoot=*/false))
            return false;
    }
    return true;
  }

  void plan(func::FuncOp fn) {
    Block &block = fn.getBody().front();
    llvm::DenseMap<Operation *, int64_t> order;
    int64_t i = 0;
    for (Operation &op : block)
      order[&op] = i++;
    SmallVector<Planned> bufs;
    SmallVector<Planned> dynamic;
    for (Operation &op : block) {
      auto a = dyn_cast<memref::AllocOp>(&op);
      if (a && !a.getDynamicSizes().empty()) {
        Planned p;
        p.alloc = a;
        p.first = p.last = order[&op];
        if (lastUse(a.getResult(), block, order, p.last, p.deallocs, /*isRoot=*/true) &&
            p.deallocs.size() == 1)
          dynamic.push_back(std::move(p));
        continue;
      }
      if (!a || !a.getSymbolOperands().empty())
        continue;
      std::optional<int64_t> bytes = staticBytes(a.getType());
      if (!bytes)
        continue;
      Planned p;
      p.alloc = a;
      p.bytes = llvm::alignTo(std::max<int64_t>(*bytes, 1), alignment);
      p.first = p.last = order[&op];
      if (!lastUse(a.getResult(), block, order, p.last, p.deallocs, /*isRoot=*/true))
        continue;
      bufs.push_back(std::move(p));
    }
    // Each dynamic buffer freed right after its last use (in order of
    // those, so a block freed earlier is first in line for reuse).
    SmallVector<Operation *> tops(llvm::make_pointer_range(block));
    for (Planned &p : dynamic) {
      memref::DeallocOp d = p.deallocs.front();
      Operation *after = tops[size_t(p.last)];
      if (after->hasTrait<OpTrait::IsTerminator>() || after == d.getOperation())
        continue;
      d->moveAfter(after);
    }
    if (bufs.empty())
      return;

    // First fit, largest first: each buffer goes to the lowest offset free
    // of every placed buffer whose live range overlaps its own.
    SmallVector<Planned *> bySize;
    for (Planned &p : bufs)
      bySize.push_back(&p);
    llvm::stable_sort(bySize, [](Planned *x, Planned *y) { return x->bytes > y->bytes; });
    SmallVector<Planned *> placed;
    int64_t total = 0;
    for (Planned *p : bySize) {
      SmallVector<std::pair<int64_t, int64_t>> busy; // [offset, end) of overlapping buffers
      for (Planned *q : placed)
        if (q->first <= p->last && p->first <= q->last)
          busy.push_back({q->offset, q->offset + q->bytes});
      llvm::sort(busy);
      int64_t at = 0;
      for (auto [lo, hi] : busy) {
        if (at + p->bytes <= lo)
          break;
        at = std::max(at, hi);
      }
      p->offset = at;
      total = std::max(total, at + p->bytes);
      placed.push_back(p);
    }

    OpBuilder b(fn.getContext());
    Location loc = fn.getLoc();
    b.setInsertionPointToStart(&block);
    auto arenaTy = MemRefType::get({total}, b.getI8Type());
    Value arena = memref::AllocOp::create(b, loc, arenaTy, ValueRange{}, b.getI64IntegerAttr(alignment));
    for (Planned &p : bufs) {
      b.setInsertionPoint(p.alloc);
      Value off = arith::ConstantIndexOp::create(b, p.alloc.getLoc(), p.offset);
      Value view = memref::ViewOp::create(b, p.alloc.getLoc(), p.alloc.getType(), arena, off, ValueRange{});
      p.alloc.getResult().replaceAllUsesWith(view);
      for (memref::DeallocOp d : p.deallocs)
        d.erase();
      p.alloc.erase();
    }
    b.setInsertionPoint(block.getTerminator());
    memref::DeallocOp::create(b, loc, arena);
    fn->setAttr("gemma4.arena_bytes", b.getI64IntegerAttr(total));
  }
};

} // namespace

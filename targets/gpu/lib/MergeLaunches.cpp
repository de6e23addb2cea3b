//===- MergeLaunches.cpp - independent kernels side by side in one launch -===//
//
// See Passes.td (gemma4-merge-gpu-launches). A decode step is hundreds of
// small kernels and each launch costs the GPU a few microseconds before
// its first instruction; kernels that do not touch each other's buffers
// (a layer's q, k and v projections read the same input and write three
// outputs) can run as the two halves of one grid instead:
//   blocks [0, gA) run A with its block id, blocks [gA, gA + gB) run B with
//   block id - gA.
// Both must be one-dimensional launches of the same block size (the block
// size a kernel was mapped for is part of its code) without dynamic shared
// memory, and what lies between them on the host must be pure index math,
// views or allocations (moved above A) or frees (moved below B: a buffer
// whose last use was A, gemma4-plan-buffers' early frees).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "BufferAccess.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4MERGEGPULAUNCHES
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4::bufferaccess;

namespace {

bool isOne(Value v) {
  std::optional<int64_t> c = getConstantIntValue(v);
  return c && *c == 1;
}

/// A launch this pass can merge: 1-D grid and block, a constant block size.
std::optional<int64_t> mergeableBlockSize(gpu::LaunchOp l) {
  if (l.getAsyncToken() || !l.getAsyncDependencies().empty() || l.getDynamicSharedMemorySize() ||
      l.hasClusterSize() || l.getNumWorkgroupAttributions() || l.getNumPrivateAttributions() ||
      !isOne(l.getGridSizeY()) || !isOne(l.getGridSizeZ()) ||
      !isOne(l.getBlockSizeY()) || !isOne(l.getBlockSizeZ()) || !l.getBody().hasOneBlock())
    return std::nullopt;
  return getConstantIntValue(l.getBlockSizeX());
}

/// Host ops that may move above the first launch: no memory touched (index
/// math, constants, views) or a fresh allocation; or below the second: a
/// free.
bool movable(Operation *op) {
  if (op->getNumRegions() > 0)
    return false;
  return isMemoryEffectFree(op) || isa<memref::AllocOp, memref::AllocaOp>(op) ||
         isa<ViewLikeOpInterface>(op) || isa<memref::DeallocOp>(op) ||
         isa<memref::DimOp, memref::ExtractStridedMetadataOp>(op);
}

struct MergeLaunchesPass
    : mlir::gemma4::impl::Gemma4MergeGPULaunchesBase<MergeLaunchesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Block *> blocks;
    getOperation().walk([&](Block *blk) {
      if (!blk->getParentOp()->getParentOfType<gpu::LaunchOp>() &&
          !isa<gpu::LaunchOp>(blk->getParentOp()))
        blocks.push_back(blk);
    });
    for (Block *blk : blocks)
      mergeIn(*blk);
  }

  void mergeIn(Block &blk) {
    gpu::LaunchOp prev;
    int64_t merged = 0; // kernels in prev
    for (Operation *op = blk.empty() ? nullptr : &blk.front(); op;) {
      Operation *next = op->getNextNode();
      auto l = dyn_cast<gpu::LaunchOp>(op);
      if (!l) {
        if (prev && !movable(op))
          prev = nullptr;
        op = next;
        continue;
      }
      if (prev && merged < maxKernels && canMerge(prev, l)) {
        prev = merge(prev, l);
        ++merged;
      } else {
        prev = mergeableBlockSize(l) ? l : gpu::LaunchOp();
        merged = 1;
      }
      op = next;
    }
  }

  static bool canMerge(gpu::LaunchOp a, gpu::LaunchOp b) {
    std::optional<int64_t> sa = mergeableBlockSize(a), sb = mergeableBlockSize(b);
    if (!sa || !sb || *sa != *sb)
      return false;
    // B's host operands must not come from ops between A and B that cannot
    // move above A (checked by the walk) -- nor from A itself.
    Access accA, accB;
    collectAccess(a, accA);
    collectAccess(b, accB);
    if (accA.unknown || accB.unknown)
      return false;
    return !overlaps(accB.reads, accA.writes) && !overlaps(accB.writes, accA.writes) &&
           !overlaps(accB.writes, accA.reads);
  }

  /// One launch running a's grid then b's.
  gpu::LaunchOp merge(gpu::LaunchOp a, gpu::LaunchOp b) {
    // What b's operands need moves above a.
    SmallVector<Operation *> between, frees;
    for (Operation *op = a->getNextNode(); op != b.getOperation(); op = op->getNextNode())
      (isa<memref::DeallocOp>(op) ? frees : between).push_back(op);
    for (Operation *op : between)
      op->moveBefore(a);
    OpBuilder builder(a);
    Location loc = a.getLoc();
    Value gA = a.getGridSizeX(), gB = b.getGridSizeX();
    Value grid = arith::AddIOp::create(builder, loc, gA, gB);
    auto m = gpu::LaunchOp::create(builder, loc, grid, a.getGridSizeY(), a.getGridSizeZ(),
                                   a.getBlockSizeX(), a.getBlockSizeY(), a.getBlockSizeZ());
    m->setAttrs(a->getAttrs());
    m->setAttr("gemma4.merged", builder.getUnitAttr());
    if (auto la = a->getAttrOfType<StringAttr>("gemma4.kernel_loc"))
      if (auto lb = b->getAttrOfType<StringAttr>("gemma4.kernel_loc"))
        m->setAttr("gemma4.kernel_loc", builder.getStringAttr(la.getValue() + "+" + lb.getValue()));
    Block &body = m.getBody().front();
    builder.setInsertionPointToStart(&body);
    Value bx = m.getBlockIds().x;
    Value isA = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, bx, gA);
    auto sel = scf::IfOp::create(builder, loc, isA, /*withElse=*/true);
    auto cloneInto = [&](gpu::LaunchOp from, Block *dst, Value blockX, Value gridX) {
      OpBuilder ib = OpBuilder::atBlockBegin(dst);
      ib.setInsertionPoint(dst->getTerminator());
      // Ids and sizes as the merged launch's, but the block id and grid
      // width along x as this kernel's own.
      IRMapping map;
      for (auto [o, n] : llvm::zip(from.getBody().getArguments(), m.getBody().getArguments()))
        map.map(o, n);
      map.map(from.getBlockIds().x, blockX);
      map.map(from.getGridSize().x, gridX);
      for (Operation &op : from.getBody().front().without_terminator())
        ib.clone(op, map);
    };
    cloneInto(a, sel.thenBlock(), bx, gA);
    {
      OpBuilder eb = OpBuilder::atBlockBegin(sel.elseBlock());
      Value bxB = arith::SubIOp::create(eb, loc, bx, gA);
      cloneInto(b, sel.elseBlock(), bxB, gB);
    }
    builder.setInsertionPointToEnd(&body);
    gpu::TerminatorOp::create(builder, loc);
    for (Operation *op : llvm::reverse(frees))
      op->moveAfter(m);
    a.erase();
    b.erase();
    return m;
  }
};
} // namespace

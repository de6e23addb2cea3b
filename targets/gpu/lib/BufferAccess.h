//===- BufferAccess.h - which buffers device code reads and writes -*- C++ -*-===//
//
// The memory analysis the GPU passes share (gemma4-map-to-gpu: barriers
// and lane-shared loops; gemma4-merge-gpu-launches: independent kernels):
// the buffers an op reads and writes, a buffer as a byte range of its root
// (an entry argument or an allocation, through views at constant offsets),
// and whether two buffers may share bytes.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_GPU_BUFFERACCESS_H
#define GEMMA4C_TARGET_GPU_BUFFERACCESS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::gemma4::bufferaccess {

/// The buffers an op (and the ops in its regions) reads and writes; an
/// effect on no particular value makes `unknown` true.
struct Access {
  SmallVector<Value> reads, writes;
  bool unknown = false;
};
inline void collectAccess(Operation *op, Access &acc) {
  // A barrier orders a block's accesses, a subgroup reduction or shuffle
  // exchanges registers: neither touches a buffer.
  if (isa<gpu::BarrierOp, gpu::SubgroupReduceOp, gpu::ShuffleOp>(op))
    return;
  if (auto mem = dyn_cast<MemoryEffectOpInterface>(op)) {
    SmallVector<MemoryEffects::EffectInstance> effects;
    mem.getEffects(effects);
    for (auto &e : effects) {
      Value v = e.getValue();
      bool w = isa<MemoryEffects::Write, MemoryEffects::Free, MemoryEffects::Allocate>(e.getEffect());
      bool r = isa<MemoryEffects::Read>(e.getEffect());
      if ((w || r) && !v) {
        acc.unknown = true;
        continue;
      }
      if (w)
        acc.writes.push_back(v);
      if (r)
        acc.reads.push_back(v);
    }
  } else if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() && !isMemoryEffectFree(op)) {
    acc.unknown = true;
  }
  for (Region &r : op->getRegions())
    for (Operation &inner : r.getOps())
      collectAccess(&inner, acc);
}
/// A buffer as (root, byte range): views of one allocation or argument
/// at constant offsets with static sizes; range {-1, -1} when unknown.
struct Extent {
  Value root;
  int64_t begin = -1, end = -1;
};
inline Extent extentOf(Value m) {
  int64_t off = 0;
  bool known = true;
  int64_t bytes = -1;
  if (auto t = dyn_cast<MemRefType>(m.getType()); t && t.hasStaticShape() &&
                                                  t.getLayout().isIdentity())
    bytes = t.getNumElements() * std::max<int64_t>(1, t.getElementTypeBitWidth() / 8);
  // A static subview of a static buffer (a layer's slice of the per-layer
  // inputs): the bytes from its first element to its last.
  if (auto sv = m.getDefiningOp<memref::SubViewOp>()) {
    MemRefType src = sv.getSourceType();
    if (src.hasStaticShape() && src.getLayout().isIdentity() && sv.getOffsets().empty() &&
        sv.getSizes().empty() && sv.getStrides().empty()) {
      int64_t eb = std::max<int64_t>(1, src.getElementTypeBitWidth() / 8);
      int64_t first = 0, last = 0, stride = 1;
      for (int64_t i = src.getRank() - 1; i >= 0; --i) {
        first += sv.getStaticOffsets()[i] * stride;
        last += (sv.getStaticSizes()[i] - 1) * sv.getStaticStrides()[i] * stride;
        stride *= src.getDimSize(i);
      }
      off = first * eb;
      bytes = (last + 1) * eb;
      m = sv.getSource();
    }
  }
  while (Operation *d = m.getDefiningOp()) {
    if (auto v = dyn_cast<memref::ViewOp>(d)) {
      std::optional<int64_t> c = getConstantIntValue(v.getByteShift());
      if (!c)
        known = false;
      else
        off += *c;
      m = v.getSource();
      continue;
    }
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(d)) {
      m = d->getOperand(0); // the same bytes, reshaped
      continue;
    }
    if (auto view = dyn_cast<ViewLikeOpInterface>(d)) {
      known = false; // subviews: the same root, extent unknown
      m = view.getViewSource();
      continue;
    }
    break;
  }
  if (!known || bytes < 0)
    return {m, -1, -1};
  return {m, off, off + bytes};
}
/// Whether a and b may share bytes: not when they are distinct entry
/// arguments or allocations, or disjoint byte ranges of one.
inline bool mayAlias(Value a, Value b) {
  if (a == b)
    return true;
  Extent ea = extentOf(a), eb = extentOf(b);
  auto distinctRoot = [](Value r) {
    return isa<BlockArgument>(r) || isa_and_nonnull<memref::AllocOp>(r.getDefiningOp());
  };
  if (ea.root != eb.root)
    return !(distinctRoot(ea.root) && distinctRoot(eb.root));
  if (ea.begin < 0 || eb.begin < 0)
    return true;
  return ea.begin < eb.end && eb.begin < ea.end;
}
inline bool overlaps(ArrayRef<Value> xs, ArrayRef<Value> ys) {
  for (Value x : xs)
    for (Value y : ys)
      if (mayAlias(x, y))
        return true;
  return false;
}
/// Whether `op` touches memory an earlier op (summarised in `before`)
/// wrote, or writes memory it read: the lanes that run them differ (lane
/// 0, all lanes, each lane its share), so a barrier goes between them.
inline bool conflicts(Operation *op, const Access &before) {
  Access now;
  collectAccess(op, now);
  bool beforeAny = before.unknown || !before.reads.empty() || !before.writes.empty();
  bool nowAny = now.unknown || !now.reads.empty() || !now.writes.empty();
  if ((now.unknown && beforeAny) || (before.unknown && nowAny))
    return true;
  return overlaps(now.reads, before.writes) || overlaps(now.writes, before.writes) ||
         overlaps(now.writes, before.reads);
}
inline void addAccess(Operation *op, Access &acc) { collectAccess(op, acc); }

} // namespace mlir::gemma4::bufferaccess

#endif

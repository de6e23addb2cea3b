//===- EmulateLaunches.cpp - gpu.launch kernels as CPU loops (tests) ------===//
//
// Runs the kernels gemma4-map-to-gpu makes on a CPU, so the GPU mapping is
// checked against the goldens where there is no GPU (the hidden gemma4c
// target gpu-emulator). A launch becomes a loop over its blocks; the
// guarded body (the scf.if on the iteration being in range) is split at its
// top-level gpu.barrier and gpu.subgroup_reduce ops into phases, and each
// phase is a loop over the block's threads. A value one phase defines and a
// later one uses is kept per thread in a stack buffer (or recomputed when it
// is a pure op of values at hand); a subgroup_reduce adds its operand over
// each subgroup's threads and gives every thread the sum. Threads of a phase
// run one after another, so this checks what each thread computes and how
// the partial results are combined, not the absence of races.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4EMULATEGPULAUNCHES
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {

struct EmulateLaunchesPass
    : mlir::gemma4::impl::Gemma4EmulateGPULaunchesBase<EmulateLaunchesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp l) { launches.push_back(l); });
    // Launches gemma4-merge-gpu-launches merged run as the kernels they
    // were (each half its blocks, in order).
    for (size_t i = 0; i < launches.size(); ++i)
      if (launches[i]->hasAttr("gemma4.merged")) {
        auto [a, b] = split(launches[i]);
        if (!a)
          return signalPassFailure();
        launches.push_back(a);
        launches.push_back(b);
        launches[i] = nullptr;
      }
    for (gpu::LaunchOp l : launches)
      if (l && failed(emulate(l)))
        return signalPassFailure();
    getOperation()->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }

  /// A merged launch (body: bx < gA ? first kernel : second kernel with
  /// block id bx - gA) as the two launches it was made of.
  /// The scf.if of a merged launch's body (bx < gA ? first : second, gA
  /// from above the launch), or null when the body is not one.
  static scf::IfOp mergedSelect(gpu::LaunchOp m) {
    Block &body = m.getBody().front();
    auto ops = body.without_terminator();
    auto it = ops.begin();
    auto cmp = it != ops.end() ? dyn_cast<arith::CmpIOp>(*it) : arith::CmpIOp();
    auto sel = cmp && ++it != ops.end() ? dyn_cast<scf::IfOp>(*it) : scf::IfOp();
    if (!cmp || !sel || ++it != ops.end() || cmp.getLhs() != m.getBlockIds().x ||
        sel.getCondition() != cmp || sel.getElseRegion().empty() ||
        m.getBody().isAncestor(cmp.getRhs().getParentRegion()))
      return {};
    return sel;
  }

  std::pair<gpu::LaunchOp, gpu::LaunchOp> split(gpu::LaunchOp m) {
    scf::IfOp sel = mergedSelect(m);
    if (!sel) {
      m.emitOpError() << "gemma4-emulate-gpu-launches: not a merged launch";
      return {};
    }
    OpBuilder b(m);
    Location loc = m.getLoc();
    Value gA = sel.getCondition().getDefiningOp<arith::CmpIOp>().getRhs();
    Value gB = arith::SubIOp::create(b, loc, m.getGridSizeX(), gA);
    auto make = [&](Value grid, Block *from, bool second) {
      auto l = gpu::LaunchOp::create(b, loc, grid, m.getGridSizeY(), m.getGridSizeZ(),
                                     m.getBlockSizeX(), m.getBlockSizeY(), m.getBlockSizeZ());
      l->setAttrs(m->getAttrs());
      l->removeAttr("gemma4.merged");
      Block &nb = l.getBody().front();
      OpBuilder ib = OpBuilder::atBlockBegin(&nb);
      IRMapping map;
      Value bx = l.getBlockIds().x;
      map.map(m.getBlockIds().x, second ? arith::AddIOp::create(ib, loc, bx, gA).getResult() : bx);
      for (auto [o, n] : llvm::zip(m.getBody().getArguments().drop_front(1),
                                   l.getBody().getArguments().drop_front(1)))
        map.map(o, n);
      for (Operation &op : from->without_terminator())
        ib.clone(op, map);
      gpu::TerminatorOp::create(ib, loc);
      // A half that was itself merged (three or more kernels) splits again.
      if (mergedSelect(l))
        l->setAttr("gemma4.merged", b.getUnitAttr());
      return l;
    };
    gpu::LaunchOp a = make(gA, sel.thenBlock(), false);
    gpu::LaunchOp second = make(gB, sel.elseBlock(), true);
    m.erase();
    return {a, second};
  }

  static bool isSync(Operation &op) { return isa<gpu::BarrierOp, gpu::SubgroupReduceOp>(op); }

  LogicalResult emulate(gpu::LaunchOp launch) {
    OpBuilder b(launch);
    Location loc = launch.getLoc();
    Block &body = launch.getBody().front();
    auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value gx = launch.getGridSizeX(), bx = launch.getBlockSizeX();
    std::optional<int64_t> threads = getConstantIntValue(bx);
    if (!threads)
      return launch.emitOpError() << "gemma4-emulate-gpu-launches: dynamic block size";
    for (Value v : {launch.getGridSizeY(), launch.getGridSizeZ(), launch.getBlockSizeY(),
                    launch.getBlockSizeZ()})
      if (!matchPattern(v, m_One()))
        return launch.emitOpError() << "gemma4-emulate-gpu-launches: expected 1-D launches";

    // prelude ops, then at most one scf.if (the guarded body), then the
    // terminator.
    SmallVector<Operation *> prelude;
    scf::IfOp guard;
    for (Operation &op : body.without_terminator()) {
      if (auto i = dyn_cast<scf::IfOp>(op); i && !guard && i.getNumResults() == 0 &&
                                           i.getElseRegion().empty())
        guard = i;
      else if (guard || !isMemoryEffectFree(&op) || op.getNumRegions())
        return op.emitOpError() << "gemma4-emulate-gpu-launches: unexpected op outside the "
                                   "guarded kernel body";
      else
        prelude.push_back(&op);
    }
    // Phases of the guarded body.
    SmallVector<SmallVector<Operation *>> phases(1);
    SmallVector<Operation *> syncs;
    if (guard)
      for (Operation &op : guard.thenBlock()->without_terminator()) {
        if (isSync(op)) {
          syncs.push_back(&op);
          phases.emplace_back();
          continue;
        }
        phases.back().push_back(&op);
      }
    if (llvm::any_of(body.getOps<gpu::SubgroupReduceOp>(), [](auto) { return true; }))
      return launch.emitOpError() << "gemma4-emulate-gpu-launches: subgroup reduce outside the "
                                     "guarded body";

    // Per-thread buffers of the values crossing phases (and sync results).
    DenseMap<Value, Value> slot;
    int64_t T = *threads;
    Operation *anchor = launch; // the buffers go before the block loop
    auto slotFor = [&](Value v) -> Value {
      auto it = slot.find(v);
      if (it != slot.end())
        return it->second;
      Type t = v.getType();
      if (!t.isIntOrIndexOrFloat() && !isa<VectorType>(t))
        return {};
      auto mt = MemRefType::get({T}, t);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPoint(anchor);
      Value m = memref::AllocaOp::create(b, loc, mt);
      slot[v] = m;
      return m;
    };
    DenseMap<Operation *, unsigned> phaseOf;
    for (auto [i, ph] : llvm::enumerate(phases))
      for (Operation *op : ph)
        phaseOf[op] = i;
    for (auto [i, sync] : llvm::enumerate(syncs))
      phaseOf[sync] = i; // its result exists from phase i + 1 on
    Block *gb = guard ? guard.thenBlock() : nullptr;
    /// The top-level op of the guarded body that defines v, if any.
    auto topDef = [&](Value v) -> Operation * {
      Operation *d = v.getDefiningOp();
      return d && gb && d->getBlock() == gb ? d : nullptr;
    };
    /// Whether op's result r is used by an op of a later phase.
    auto usedLater = [&](Value r, unsigned p) {
      for (Operation *u : r.getUsers()) {
        Operation *top = gb->findAncestorOpInBlock(*u);
        if (top && (phaseOf.lookup(top) > p || (isSync(*top) && phaseOf.lookup(top) == p)))
          return true;
      }
      return false;
    };
    auto blockLoop = scf::ForOp::create(b, loc, c(0), gx, c(1));
    anchor = blockLoop;
    b.setInsertionPoint(blockLoop.getBody()->getTerminator());
    Value blk = blockLoop.getInductionVar();
    for (unsigned p = 0; p < phases.size(); ++p) {
      auto threadLoop = scf::ForOp::create(b, loc, c(0), c(T), c(1));
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(threadLoop.getBody()->getTerminator());
        Value tid = threadLoop.getInductionVar();
        IRMapping map;
        Value zero = c(0);
        map.map(launch.getBlockIds().x, blk);
        map.map(launch.getThreadIds().x, tid);
        for (Value v : {launch.getBlockIds().y, launch.getBlockIds().z, launch.getThreadIds().y,
                        launch.getThreadIds().z})
          map.map(v, zero);
        map.map(launch.getGridSize().x, gx);
        map.map(launch.getBlockSize().x, bx);
        for (Operation *op : prelude)
          b.clone(*op, map);
        if (guard) {
          auto inner = scf::IfOp::create(b, loc, map.lookup(guard.getCondition()), false);
          b.setInsertionPoint(inner.thenBlock()->getTerminator());
          // Values of earlier phases: reloaded, or recomputed (pure ops).
          std::function<LogicalResult(Value)> bring = [&](Value v) -> LogicalResult {
            Operation *d = topDef(v);
            if (!d || map.contains(v))
              return success();
            if (Value m = slot.lookup(v)) {
              map.map(v, memref::LoadOp::create(b, loc, m, ValueRange{tid}));
              return success();
            }
            if (isSync(*d) || !isMemoryEffectFree(d) || d->getNumRegions())
              return d->emitOpError() << "gemma4-emulate-gpu-launches: cannot carry this value "
                                         "across a barrier";
            for (Value o : d->getOperands())
              if (failed(bring(o)))
                return failure();
            b.clone(*d, map);
            return success();
          };
          for (Operation *op : phases[p]) {
            WalkResult w = op->walk([&](Operation *x) {
              for (Value v : x->getOperands())
                if (Operation *d = topDef(v); d && (isSync(*d) || phaseOf.lookup(d) != p))
                  if (failed(bring(v)))
                    return WalkResult::interrupt();
              return WalkResult::advance();
            });
            if (w.wasInterrupted())
              return failure();
          }
          for (Operation *op : phases[p]) {
            b.clone(*op, map);
            for (Value r : op->getResults())
              if (usedLater(r, p))
                if (Value m = slotFor(r))
                  memref::StoreOp::create(b, loc, map.lookup(r), m, ValueRange{tid});
          }
          // A subgroup reduce closing this phase: its operand per thread.
          if (p < syncs.size())
            if (auto red = dyn_cast<gpu::SubgroupReduceOp>(syncs[p])) {
              if (failed(bring(red.getValue())))
                return failure();
              Value m = slotFor(red.getValue());
              if (!m)
                return red.emitOpError() << "gemma4-emulate-gpu-launches: unsupported type";
              memref::StoreOp::create(b, loc, map.lookup(red.getValue()), m, ValueRange{tid});
            }
        }
      }
      // Sum each subgroup's partials into every lane's result.
      if (p < syncs.size())
        if (auto red = dyn_cast<gpu::SubgroupReduceOp>(syncs[p])) {
          bool isMax = red.getOp() == gpu::AllReduceOperation::MAXIMUMF;
          if (red.getOp() != gpu::AllReduceOperation::ADD && !isMax)
            return red.emitOpError() << "gemma4-emulate-gpu-launches: only add and maximumf";
          Value in = slot.lookup(red.getValue()), out = slotFor(red.getResult());
          int64_t sg = subgroupSize;
          auto groups = scf::ForOp::create(b, loc, c(0), c(T), c(sg));
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(groups.getBody()->getTerminator());
          Value base = groups.getInductionVar();
          // Lane 0's value, then the others' folded in.
          Value first = memref::LoadOp::create(b, loc, in, ValueRange{base});
          auto sum = scf::ForOp::create(
              b, loc, c(1), c(std::min<int64_t>(sg, T)), c(1), ValueRange{first},
              [&](OpBuilder &, Location, Value i, ValueRange acc) {
                Value x = memref::LoadOp::create(b, loc, in,
                                                 ValueRange{arith::AddIOp::create(b, loc, base, i)});
                Value r = isMax ? arith::MaximumFOp::create(b, loc, acc[0], x).getResult()
                                : arith::AddFOp::create(b, loc, acc[0], x).getResult();
                scf::YieldOp::create(b, loc, ValueRange{r});
              });
          scf::ForOp::create(b, loc, c(0), c(std::min<int64_t>(sg, T)), c(1), ValueRange{},
                             [&](OpBuilder &, Location, Value i, ValueRange) {
                               memref::StoreOp::create(
                                   b, loc, sum.getResult(0), out,
                                   ValueRange{arith::AddIOp::create(b, loc, base, i)});
                               scf::YieldOp::create(b, loc);
                             });
        }
    }
    launch.erase();
    return success();
  }
};

} // namespace

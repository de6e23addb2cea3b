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
// each subgroup's threads and gives every thread the sum.
//
// Block-cooperative kernels: a workgroup attribution is one stack buffer
// (no memory space) that each block in turn uses. An scf.for at the top
// level of the guarded body that holds syncs (its bounds the same for all
// threads) stays one loop a block, its bounds computed as thread 0 would;
// its body is split into phases the same way (recursively: such loops may
// nest), and its iter_args are per-thread buffers, stored from the inits
// before it and from the yielded values at the end of each iteration, its
// results read from them after it. Syncs anywhere else are refused.
//
// Threads of a phase run one after another, so this checks what each
// thread computes and how the partial results are combined, not the
// absence of races.
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

bool isSync(Operation &op) { return isa<gpu::BarrierOp, gpu::SubgroupReduceOp>(op); }

/// Whether op holds a barrier or subgroup reduce at any depth.
bool holdsSync(Operation &op) {
  return op.walk([](Operation *x) {
             return isSync(*x) ? WalkResult::interrupt() : WalkResult::advance();
           })
      .wasInterrupted();
}

/// One launch as CPU loops. Blocks the threads run together between
/// syncs, "split blocks", are the guarded body and the bodies of the
/// scf.for loops at their top level that hold syncs ("barrier loops",
/// uniform over a block: one loop per block, not per thread). A split
/// block's ops are numbered by phase: a new phase after each sync and
/// around each barrier loop (a sync or a barrier loop has a number of its
/// own), so a value used where the number differs crosses a sync and is
/// kept per thread in a stack buffer (a slot), or recomputed when pure.
/// A barrier loop's iter_args live in slots too: stored before the loop
/// from the inits, read by the phases that use them, the yielded values
/// stored at the end of each iteration, and the loop's results read from
/// them after it.
struct LaunchEmulator {
  gpu::LaunchOp launch;
  int64_t sg;
  OpBuilder b{launch};
  Location loc = launch.getLoc();
  int64_t T = 0;
  SmallVector<Operation *> prelude;
  scf::IfOp guard;
  DenseSet<Block *> split;
  DenseMap<Operation *, unsigned> phaseOf;
  DenseMap<Value, Value> slot;
  Operation *anchor = launch; // the slots go before the block loop
  Value blk;

  LaunchEmulator(gpu::LaunchOp launch, int64_t sg) : launch(launch), sg(sg) {}

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); }

  static LogicalResult fail(Operation *op, const Twine &msg) {
    return op->emitOpError() << "gemma4-emulate-gpu-launches: " << msg;
  }

  /// Numbers blk's ops by phase (see above), its barrier loops' too.
  LogicalResult number(Block *blk, unsigned &next) {
    split.insert(blk);
    unsigned cur = next++;
    for (Operation &op : *blk) {
      if (isSync(op)) {
        phaseOf[&op] = next++;
        cur = next++;
      } else if (op.getNumRegions() && holdsSync(op)) {
        auto f = dyn_cast<scf::ForOp>(op);
        if (!f)
          return fail(&op, "a barrier or subgroup reduce inside this op (only at the top level "
                           "of the guarded body or of an scf.for there)");
        for (Value a : f.getRegionIterArgs())
          if (Type t = a.getType(); !t.isIntOrIndexOrFloat() && !isa<VectorType>(t))
            return fail(f, "a loop with barriers carries a value of unsupported type");
        phaseOf[&op] = next++;
        if (failed(number(f.getBody(), next)))
          return failure();
        cur = next++;
      } else {
        phaseOf[&op] = cur; // the terminator too: the last phase
      }
    }
    return success();
  }

  /// The op of a split block that is op or holds it.
  Operation *phaseOp(Operation *u) {
    for (; u && u != launch; u = u->getParentOp())
      if (split.contains(u->getBlock()))
        return u;
    return nullptr;
  }
  /// The op of a split block that defines v, if any.
  Operation *topDef(Value v) {
    Operation *d = v.getDefiningOp();
    return d && split.contains(d->getBlock()) ? d : nullptr;
  }
  /// A barrier loop's iter_arg (kept in a slot).
  bool isIterArg(Value v) {
    auto a = dyn_cast<BlockArgument>(v);
    return a && split.contains(a.getOwner()) && a.getArgNumber() > 0;
  }
  /// Whether r (defined in phase p) is used in another phase.
  bool usedElsewhere(Value r, unsigned p) {
    for (Operation *u : r.getUsers())
      if (Operation *top = phaseOp(u); top && phaseOf.lookup(top) != p)
        return true;
    return false;
  }
  /// Whether v may differ between a block's threads.
  bool perThread(Value v, DenseSet<Value> &seen) {
    if (!seen.insert(v).second)
      return false;
    if (v == launch.getThreadIds().x || isIterArg(v))
      return true;
    Operation *d = v.getDefiningOp();
    if (!d || !launch->isProperAncestor(d))
      return false;
    if (d->getNumRegions())
      return true; // not looked into
    return llvm::any_of(d->getOperands(), [&](Value o) { return perThread(o, seen); });
  }

  Value slotFor(Value v) {
    auto it = slot.find(v);
    if (it != slot.end())
      return it->second;
    Type t = v.getType();
    if (!t.isIntOrIndexOrFloat() && !isa<VectorType>(t))
      return {};
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(anchor);
    Value m = memref::AllocaOp::create(b, loc, MemRefType::get({T}, t));
    slot[v] = m;
    return m;
  }

  /// base with the thread's ids and sizes, the prelude cloned at tid.
  IRMapping threadMap(const IRMapping &base, Value tid) {
    IRMapping map = base;
    Value zero = c(0);
    map.map(launch.getBlockIds().x, blk);
    map.map(launch.getThreadIds().x, tid);
    for (Value v : {launch.getBlockIds().y, launch.getBlockIds().z, launch.getThreadIds().y,
                    launch.getThreadIds().z})
      map.map(v, zero);
    map.map(launch.getGridSize().x, launch.getGridSizeX());
    map.map(launch.getGridSize().y, launch.getGridSizeY());
    map.map(launch.getGridSize().z, launch.getGridSizeZ());
    map.map(launch.getBlockSize().x, launch.getBlockSizeX());
    map.map(launch.getBlockSize().y, launch.getBlockSizeY());
    map.map(launch.getBlockSize().z, launch.getBlockSizeZ());
    for (Operation *op : prelude)
      b.clone(*op, map);
    return map;
  }

  /// A value of an earlier phase at thread tid: reloaded, or recomputed.
  LogicalResult bring(Value v, IRMapping &map, Value tid) {
    if (map.contains(v))
      return success();
    if (Value m = slot.lookup(v)) {
      map.map(v, memref::LoadOp::create(b, loc, m, ValueRange{tid}));
      return success();
    }
    Operation *d = topDef(v);
    if (!d)
      return success();
    if (isSync(*d) || !isMemoryEffectFree(d) || d->getNumRegions())
      return fail(d, "cannot carry this value across a barrier");
    for (Value o : d->getOperands())
      if (failed(bring(o, map, tid)))
        return failure();
    b.clone(*d, map);
    return success();
  }

  /// A loop over the block's threads, each running fn under the guard.
  LogicalResult forThreads(const IRMapping &base,
                           function_ref<LogicalResult(IRMapping &, Value)> fn) {
    auto loop = scf::ForOp::create(b, loc, c(0), c(T), c(1));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    Value tid = loop.getInductionVar();
    IRMapping map = threadMap(base, tid);
    auto inner = scf::IfOp::create(b, loc, map.lookupOrDefault(guard.getCondition()), false);
    b.setInsertionPoint(inner.thenBlock()->getTerminator());
    return fn(map, tid);
  }

  /// ops (one phase), then what closes it: a sync, or the yield of a
  /// barrier loop's body (its values stored to the iter_args' slots).
  LogicalResult emitPhase(ArrayRef<Operation *> ops, const IRMapping &base, Operation *sync,
                          scf::YieldOp yield) {
    auto red = dyn_cast_or_null<gpu::SubgroupReduceOp>(sync);
    if (ops.empty() && !red && !yield)
      return success();
    if (failed(forThreads(base, [&](IRMapping &map, Value tid) -> LogicalResult {
          for (Operation *op : ops) {
            unsigned p = phaseOf.lookup(op);
            WalkResult w = op->walk([&](Operation *x) {
              for (Value v : x->getOperands()) {
                Operation *d = topDef(v);
                if ((d && phaseOf.lookup(d) != p) || isIterArg(v))
                  if (failed(bring(v, map, tid)))
                    return WalkResult::interrupt();
              }
              return WalkResult::advance();
            });
            if (w.wasInterrupted())
              return failure();
          }
          for (Operation *op : ops) {
            b.clone(*op, map);
            for (Value r : op->getResults())
              if (usedElsewhere(r, phaseOf.lookup(op)))
                if (Value m = slotFor(r))
                  memref::StoreOp::create(b, loc, map.lookup(r), m, ValueRange{tid});
          }
          // A subgroup reduce closing this phase: its operand per thread.
          if (red) {
            if (failed(bring(red.getValue(), map, tid)))
              return failure();
            Value m = slotFor(red.getValue());
            if (!m)
              return fail(red, "unsupported type");
            memref::StoreOp::create(b, loc, map.lookupOrDefault(red.getValue()), m,
                                    ValueRange{tid});
          }
          if (yield) {
            // All read before any is stored (a yield may swap iter_args).
            for (Value v : yield.getOperands())
              if (failed(bring(v, map, tid)))
                return failure();
            SmallVector<Value> vals = llvm::map_to_vector(
                yield.getOperands(), [&](Value v) { return map.lookupOrDefault(v); });
            auto args = cast<scf::ForOp>(yield->getParentOp()).getRegionIterArgs();
            for (auto [v, a] : llvm::zip(vals, args))
              memref::StoreOp::create(b, loc, v, slot.lookup(a), ValueRange{tid});
          }
          return success();
        })))
      return failure();
    return red ? combine(red) : success();
  }

  /// Each subgroup's partials (the reduce's operand slot) into every
  /// lane's result.
  LogicalResult combine(gpu::SubgroupReduceOp red) {
    bool isMax = red.getOp() == gpu::AllReduceOperation::MAXIMUMF;
    if (red.getOp() != gpu::AllReduceOperation::ADD && !isMax)
      return fail(red, "only add and maximumf");
    Value in = slot.lookup(red.getValue()), out = slotFor(red.getResult());
    if (!out)
      return fail(red, "unsupported type");
    auto groups = scf::ForOp::create(b, loc, c(0), c(T), c(sg));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(groups.getBody()->getTerminator());
    Value base = groups.getInductionVar();
    // Lane 0's value, then the others' folded in.
    Value first = memref::LoadOp::create(b, loc, in, ValueRange{base});
    auto sum = scf::ForOp::create(
        b, loc, c(1), c(std::min<int64_t>(sg, T)), c(1), ValueRange{first},
        [&](OpBuilder &, Location, Value i, ValueRange acc) {
          Value x =
              memref::LoadOp::create(b, loc, in, ValueRange{arith::AddIOp::create(b, loc, base, i)});
          Value r = isMax ? arith::MaximumFOp::create(b, loc, acc[0], x).getResult()
                          : arith::AddFOp::create(b, loc, acc[0], x).getResult();
          scf::YieldOp::create(b, loc, ValueRange{r});
        });
    scf::ForOp::create(b, loc, c(0), c(std::min<int64_t>(sg, T)), c(1), ValueRange{},
                       [&](OpBuilder &, Location, Value i, ValueRange) {
                         memref::StoreOp::create(b, loc, sum.getResult(0), out,
                                                 ValueRange{arith::AddIOp::create(b, loc, base, i)});
                         scf::YieldOp::create(b, loc);
                       });
    return success();
  }

  /// A barrier loop: once per block, its bounds taken at thread 0, its
  /// body's phases each a loop over the threads.
  LogicalResult emitLoop(scf::ForOp f, const IRMapping &base) {
    for (auto [a, r] : llvm::zip(f.getRegionIterArgs(), f.getResults()))
      slot[r] = slotFor(a);
    if (f.getNumRegionIterArgs() &&
        failed(forThreads(base, [&](IRMapping &map, Value tid) -> LogicalResult {
          for (Value v : f.getInitArgs())
            if (failed(bring(v, map, tid)))
              return failure();
          for (auto [v, a] : llvm::zip(f.getInitArgs(), f.getRegionIterArgs()))
            memref::StoreOp::create(b, loc, map.lookupOrDefault(v), slot.lookup(a),
                                    ValueRange{tid});
          return success();
        })))
      return failure();
    OpBuilder::InsertionGuard g(b);
    Value t0 = c(0);
    IRMapping map0 = threadMap(base, t0);
    auto in = scf::IfOp::create(b, loc, map0.lookupOrDefault(guard.getCondition()), false);
    b.setInsertionPoint(in.thenBlock()->getTerminator());
    Value bounds[3] = {f.getLowerBound(), f.getUpperBound(), f.getStep()};
    for (Value &v : bounds) {
      if (failed(bring(v, map0, t0)))
        return failure();
      v = map0.lookupOrDefault(v);
    }
    auto loop = scf::ForOp::create(b, loc, bounds[0], bounds[1], bounds[2]);
    loop.setUnsignedCmp(f.getUnsignedCmp());
    b.setInsertionPoint(loop.getBody()->getTerminator());
    IRMapping inner = base;
    inner.map(f.getInductionVar(), loop.getInductionVar());
    return emitBlock(f.getBody(), inner);
  }

  /// A split block: its phases in order, its barrier loops between them.
  LogicalResult emitBlock(Block *blk, const IRMapping &base) {
    SmallVector<Operation *> cur;
    for (Operation &op : blk->without_terminator()) {
      auto f = dyn_cast<scf::ForOp>(op);
      if (isSync(op) || (f && split.contains(f.getBody()))) {
        if (failed(emitPhase(cur, base, isSync(op) ? &op : nullptr, {})))
          return failure();
        cur.clear();
        if (f && failed(emitLoop(f, base)))
          return failure();
        continue;
      }
      cur.push_back(&op);
    }
    auto y = dyn_cast<scf::YieldOp>(blk->getTerminator());
    return emitPhase(cur, base, nullptr, y && y.getNumOperands() ? y : scf::YieldOp());
  }

  LogicalResult run() {
    std::optional<int64_t> threads = getConstantIntValue(launch.getBlockSizeX());
    if (!threads)
      return fail(launch, "dynamic block size");
    T = *threads;
    for (Value v : {launch.getGridSizeY(), launch.getGridSizeZ(), launch.getBlockSizeY(),
                    launch.getBlockSizeZ()})
      if (!matchPattern(v, m_One()))
        return fail(launch, "expected 1-D launches");
    if (launch.getNumPrivateAttributions())
      return fail(launch, "private attributions");
    Block &body = launch.getBody().front();
    // prelude ops, then at most one scf.if (the guarded body), then the
    // terminator.
    for (Operation &op : body.without_terminator()) {
      if (auto i = dyn_cast<scf::IfOp>(op); i && !guard && i.getNumResults() == 0 &&
                                           i.getElseRegion().empty())
        guard = i;
      else if (isSync(op))
        return fail(&op, "a barrier or subgroup reduce outside the guarded body");
      else if (guard || !isMemoryEffectFree(&op) || op.getNumRegions())
        return fail(&op, "unexpected op outside the guarded kernel body");
      else
        prelude.push_back(&op);
    }
    if (!guard) { // nothing with effects
      launch.erase();
      return success();
    }
    unsigned next = 0;
    if (failed(number(guard.thenBlock(), next)))
      return failure();
    // A barrier loop runs once per block, so the guard and its bounds must
    // be the same for all of a block's threads.
    WalkResult uniform = guard.thenBlock()->walk([&](scf::ForOp f) {
      if (!split.contains(f.getBody()))
        return WalkResult::advance();
      for (Value v : {Value(guard.getCondition()), f.getLowerBound(), f.getUpperBound(), f.getStep()}) {
        DenseSet<Value> seen;
        if (perThread(v, seen)) {
          (void)fail(f, "a loop with barriers whose bounds (or the guard) may differ between "
                        "threads");
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (uniform.wasInterrupted())
      return failure();

    // Workgroup memory: one buffer, reused by every block in turn.
    IRMapping base;
    for (BlockArgument a : launch.getWorkgroupAttributions()) {
      auto t = cast<MemRefType>(a.getType());
      base.map(a, memref::AllocaOp::create(b, loc, MemRefType::Builder(t).setMemorySpace({})));
    }
    auto blockLoop = scf::ForOp::create(b, loc, c(0), launch.getGridSizeX(), c(1));
    anchor = blockLoop;
    b.setInsertionPoint(blockLoop.getBody()->getTerminator());
    blk = blockLoop.getInductionVar();
    if (failed(emitBlock(guard.thenBlock(), base)))
      return failure();
    launch.erase();
    return success();
  }
};

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
      auto types = [](ArrayRef<BlockArgument> as) {
        return llvm::map_to_vector(as, [](BlockArgument a) { return a.getType(); });
      };
      auto l = gpu::LaunchOp::create(b, loc, grid, m.getGridSizeY(), m.getGridSizeZ(),
                                     m.getBlockSizeX(), m.getBlockSizeY(), m.getBlockSizeZ(),
                                     m.getDynamicSharedMemorySize(), nullptr, {},
                                     types(m.getWorkgroupAttributions()),
                                     types(m.getPrivateAttributions()));
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

  LogicalResult emulate(gpu::LaunchOp launch) {
    LaunchEmulator e(launch, subgroupSize);
    return e.run();
  }
};

} // namespace

//===- MapToGPU.cpp - entry functions' loop nests -> gpu.launch kernels ---===//
//
// On a GPU target the entry functions' memrefs are device memory: the host
// part of a function only computes addresses, sizes and launch shapes; all
// that touches memory runs in kernels. See Passes.td for the two ways an
// scf.parallel is mapped (an iteration per thread, or an iteration per
// subgroup whose lanes share the marked loops).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "BufferAccess.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <functional>

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4MAPTOGPU
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;
using namespace mlir::gemma4::bufferaccess;
using namespace mlir::gemma4;

namespace {

/// Ops that stay on the host: they compute addresses, sizes or buffers but
/// read and write no memory.
bool isHostOnlyMemrefOp(Operation *op) {
  return isa<memref::AllocOp, memref::DeallocOp, memref::DimOp, memref::ExtractStridedMetadataOp,
             memref::ExtractAlignedPointerAsIndexOp>(op) ||
         isa<ViewLikeOpInterface>(op);
}

/// The loop's lanes mark: "reduce", "map" or empty.
StringRef lanesMark(Operation *op) {
  if (auto s = op->getAttrOfType<StringAttr>(kLanesAttr))
    return s.getValue();
  return {};
}

bool writesMemory(Operation *op) {
  if (auto mem = dyn_cast<MemoryEffectOpInterface>(op)) {
    SmallVector<MemoryEffects::EffectInstance> effects;
    mem.getEffects(effects);
    bool w = llvm::any_of(effects, [](auto &e) {
      return isa<MemoryEffects::Write, MemoryEffects::Free, MemoryEffects::Allocate>(e.getEffect());
    });
    if (w)
      return true;
    if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return false;
  } else if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()) {
    return op->getNumRegions() > 0 || !isMemoryEffectFree(op);
  }
  for (Region &r : op->getRegions())
    for (Operation &inner : r.getOps())
      if (writesMemory(&inner))
        return true;
  return false;
}

/// How the lanes combine a carried value of a lane-shared loop.
enum class LaneCombine { Sum, Max };

/// The combine of every carried value of `f` when each is only summed (the
/// body adds a term that does not depend on it: arith.addf either side, or
/// the accumulator of vector.fma / math.fma) or only maxed (arith.maximumf
/// with such a term) and yielded; nullopt otherwise.
std::optional<SmallVector<LaneCombine>> laneReduction(scf::ForOp f) {
  SmallVector<LaneCombine> kinds;
  auto yield = cast<scf::YieldOp>(f.getBody()->getTerminator());
  for (auto [i, arg] : llvm::enumerate(f.getRegionIterArgs())) {
    if (!arg.hasOneUse())
      return std::nullopt;
    Operation *user = *arg.getUsers().begin();
    if (user->getBlock() != f.getBody() || yield.getOperand(i).getDefiningOp() != user)
      return std::nullopt;
    if (auto a = dyn_cast<arith::AddFOp>(user)) {
      if (a.getLhs() == a.getRhs())
        return std::nullopt;
      kinds.push_back(LaneCombine::Sum);
    } else if (auto fma = dyn_cast<vector::FMAOp>(user)) {
      if (fma.getAcc() != arg || fma.getLhs() == arg || fma.getRhs() == arg)
        return std::nullopt;
      kinds.push_back(LaneCombine::Sum);
    } else if (auto fma = dyn_cast<math::FmaOp>(user)) {
      if (fma.getC() != arg || fma.getA() == arg || fma.getB() == arg)
        return std::nullopt;
      kinds.push_back(LaneCombine::Sum);
    } else if (auto m = dyn_cast<arith::MaximumFOp>(user)) {
      if (m.getLhs() == m.getRhs() || isa<VectorType>(arg.getType()))
        return std::nullopt;
      kinds.push_back(LaneCombine::Max);
    } else {
      return std::nullopt;
    }
    if (!isa<FloatType>(getElementTypeOrSelf(arg.getType())))
      return std::nullopt;
  }
  return kinds;
}

struct MapToGPUPass : mlir::gemma4::impl::Gemma4MapToGPUBase<MapToGPUPass> {
  using Base::Base;

  OpBuilder *b = nullptr;
  Location loc{nullptr};

  Value c(int64_t v) { return arith::ConstantIndexOp::create(*b, loc, v); }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    b = &builder;
    loc = module.getLoc();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), builder.getUnitAttr());
    SmallVector<func::FuncOp> fns;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal() && f->getParentOfType<gpu::GPUModuleOp>() == nullptr)
        fns.push_back(f);
    for (func::FuncOp fn : fns)
      if (failed(mapFunction(fn)))
        return signalPassFailure();
  }

  /// Walks the top level of `fn`: scf.parallel loops become launches, runs
  /// of other device ops become one single-iteration launch each.
  LogicalResult mapFunction(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitOpError() << "gemma4-map-to-gpu: expected a single-block entry function";
    Block &body = fn.getBody().front();
    DenseSet<Operation *> device;
    // Scalars read at the top level from read-only memory (a weight, a
    // token id) and what is computed from them alone: recomputed inside each
    // kernel that uses them instead of being a kernel of their own.
    DenseSet<Operation *> sinkable;
    for (Operation &op : body.without_terminator()) {
      bool fromDevice = llvm::any_of(op.getOperands(), [&](Value v) {
        Operation *d = v.getDefiningOp();
        return d && device.contains(d);
      });
      bool deviceOperandsSinkable = llvm::all_of(op.getOperands(), [&](Value v) {
        Operation *d = v.getDefiningOp();
        return !d || !device.contains(d) || sinkable.contains(d);
      });
      bool pure = isMemoryEffectFree(&op) && op.getNumRegions() == 0;
      if (isa<memref::LoadOp, vector::LoadOp>(op) && readOnly(op.getOperand(0)) &&
          deviceOperandsSinkable)
        sinkable.insert(&op);
      else if (fromDevice && deviceOperandsSinkable && pure)
        sinkable.insert(&op);
      if (sinkable.contains(&op) || fromDevice ||
          (!isHostOnlyMemrefOp(&op) && !pure))
        device.insert(&op);
    }
    device.clear();
    SmallVector<SmallVector<Operation *>> groups;
    SmallVector<Operation *> run;
    auto flush = [&] {
      if (!run.empty())
        groups.push_back(std::move(run));
      run.clear();
    };
    for (Operation &op : body.without_terminator()) {
      if (sinkable.contains(&op))
        continue;
      bool dev = isa<scf::ParallelOp>(op);
      if (!dev && !isHostOnlyMemrefOp(&op))
        dev = !isMemoryEffectFree(&op) || op.getNumRegions() > 0 ||
              llvm::any_of(op.getOperands(), [&](Value v) {
                Operation *d = v.getDefiningOp();
                return d && device.contains(d);
              });
      if (isHostOnlyMemrefOp(&op) &&
          llvm::any_of(op.getOperands(), [&](Value v) {
            Operation *d = v.getDefiningOp();
            return d && device.contains(d);
          }))
        return op.emitOpError() << "gemma4-map-to-gpu: the host needs a value computed in "
                                   "device memory";
      if (!dev) {
        // A host op a later device op of the run uses, or an allocation,
        // ends the run: the launch goes where the run starts.
        if (!isMemoryEffectFree(&op) || !op.use_empty())
          flush();
        continue;
      }
      device.insert(&op);
      if (isa<scf::ParallelOp>(op)) {
        flush();
        groups.push_back({&op});
        flush();
        continue;
      }
      run.push_back(&op);
    }
    flush();
    // Sinkable values go into each kernel that uses them.
    for (auto &g : groups) {
      Operation *first = g.front();
      SetVector<Operation *> chain;
      std::function<void(Value)> collect = [&](Value v) {
        Operation *d = v.getDefiningOp();
        if (!d || !sinkable.contains(d) || chain.contains(d))
          return;
        for (Value o : d->getOperands())
          collect(o);
        chain.insert(d);
      };
      for (Operation *op : g)
        op->walk([&](Operation *inner) {
          for (Value v : inner->getOperands())
            collect(v);
        });
      if (chain.empty())
        continue;
      // A run becomes a parallel body at its first op: clone the chain
      // right before it (the clones are device ops of the group).
      b->setInsertionPoint(first);
      IRMapping map;
      SmallVector<Operation *> clones;
      for (Operation *d : chain) {
        Operation *cl = b->clone(*d, map);
        clones.push_back(cl);
      }
      for (Operation *op : g)
        op->walk([&](Operation *inner) {
          for (OpOperand &use : inner->getOpOperands())
            if (Value nv = map.lookupOrNull(use.get()))
              use.set(nv);
        });
      if (isa<scf::ParallelOp>(first) && g.size() == 1) {
        auto p = cast<scf::ParallelOp>(first);
        for (Operation *cl : llvm::reverse(clones))
          cl->moveBefore(&p.getBody()->front());
      } else {
        g.insert(g.begin(), clones.begin(), clones.end());
      }
    }
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body.getOperations())))
      if (sinkable.contains(&op) && op.use_empty())
        op.erase();
    // Results of device ops must not escape their launch.
    for (auto &g : groups) {
      DenseSet<Operation *> in(g.begin(), g.end());
      for (Operation *op : g)
        for (Value r : op->getResults())
          for (Operation *u : r.getUsers())
            if (!in.contains(u) && !in.contains(body.findAncestorOpInBlock(*u)))
              return op->emitOpError()
                     << "gemma4-map-to-gpu: a value computed on the device is used outside "
                        "its kernel";
    }
    // Loops the CPU lowering leaves serial (a decode step's small vectors:
    // an embedding row, the RoPE table, an activation pass) whose
    // iterations touch disjoint elements: a loop on its own becomes a
    // parallel loop (an iteration per thread), one in a run is shared by
    // the run's subgroup.
    for (auto &g : groups) {
      if (isa<scf::ParallelOp>(g.front()) && g.size() == 1)
        continue;
      for (Operation *&op : g) {
        auto f = dyn_cast<scf::ForOp>(op);
        if (!f || !lanesMark(f).empty() || !independentIterations(f))
          continue;
        if (g.size() == 1)
          op = toParallel(f);
        else
          f->setAttr(kLanesAttr, b->getStringAttr("map"));
      }
    }
    for (auto &g : groups) {
      if (auto p = dyn_cast<scf::ParallelOp>(g.front()); p && g.size() == 1) {
        if (failed(mapParallel(p)))
          return failure();
      } else if (failed(mapSerial(g))) {
        return failure();
      }
    }
    return success();
  }

  /// v as iv * coeff + (a value defined outside `f`): the coefficient, or
  /// nullopt when v is not of that form.
  static std::optional<int64_t> ivCoefficient(Value v, scf::ForOp f) {
    if (v == f.getInductionVar())
      return 1;
    if (!f->isAncestor(v.getParentBlock()->getParentOp()) && v.getParentBlock() != f.getBody())
      return 0; // loop-invariant
    Operation *d = v.getDefiningOp();
    if (!d)
      return std::nullopt; // an inner loop's induction variable
    if (auto a = dyn_cast<arith::AddIOp>(d)) {
      auto x = ivCoefficient(a.getLhs(), f), y = ivCoefficient(a.getRhs(), f);
      if (x && y)
        return *x + *y;
      return std::nullopt;
    }
    if (auto m = dyn_cast<arith::MulIOp>(d)) {
      std::optional<int64_t> cl = getConstantIntValue(m.getLhs()), cr = getConstantIntValue(m.getRhs());
      if (cr)
        if (auto x = ivCoefficient(m.getLhs(), f))
          return *x * *cr;
      if (cl)
        if (auto y = ivCoefficient(m.getRhs(), f))
          return *y * *cl;
      return std::nullopt;
    }
    if (getConstantIntValue(v))
      return 0;
    return std::nullopt;
  }

  /// Whether the iterations of `f` (no results) are independent: every
  /// store's index has a position that is iv * c + invariant with |c| at
  /// least the stored vector's width there, so iterations write disjoint
  /// elements, and a buffer the loop writes is read only at the indices
  /// its one store writes (by the same iteration). Only loads, stores,
  /// views and pure ops (and loops of them) are allowed.
  bool independentIterations(scf::ForOp f) {
    if (f.getNumResults() != 0)
      return false;
    std::optional<int64_t> step = getConstantIntValue(f.getStep());
    if (!step || *step <= 0)
      return false;
    SmallVector<Operation *> stores, loads;
    bool ok = true;
    f.getBody()->walk([&](Operation *op) {
      if (isa<memref::StoreOp, vector::StoreOp>(op))
        stores.push_back(op);
      else if (isa<memref::LoadOp, vector::LoadOp>(op))
        loads.push_back(op);
      else if (isa<scf::ForOp, scf::IfOp, scf::YieldOp>(op) || isHostOnlyMemrefOp(op))
        ok = ok && !isa<memref::AllocOp, memref::DeallocOp>(op);
      else if (!isMemoryEffectFree(op) || op->getNumRegions() > 0)
        ok = false;
    });
    if (!ok || stores.empty())
      return false;
    auto memOf = [](Operation *op) { return op->getOperand(isa<memref::LoadOp, vector::LoadOp>(op) ? 0 : 1); };
    auto indicesOf = [](Operation *op) {
      return op->getOperands().drop_front(isa<memref::LoadOp, vector::LoadOp>(op) ? 1 : 2);
    };
    for (Operation *st : stores) {
      ValueRange idx = indicesOf(st);
      int64_t width = 1;
      if (auto vs = dyn_cast<vector::StoreOp>(st))
        width = vs.getVectorType().getNumElements();
      bool disjoint = false;
      for (auto [i, v] : llvm::enumerate(idx)) {
        std::optional<int64_t> cf = ivCoefficient(v, f);
        if (!cf || *cf == 0)
          continue;
        int64_t stride = std::abs(*cf * *step);
        if (i + 1 == idx.size() ? stride >= width : true) {
          disjoint = true;
          break;
        }
      }
      if (!disjoint)
        return false;
      // Stores to buffers another store may share: the same indices only.
      for (Operation *other : stores)
        if (other != st && mayAlias(memOf(st), memOf(other)) &&
            !(memOf(st) == memOf(other) && llvm::equal(idx, indicesOf(other))))
          return false;
    }
    for (Operation *ld : loads)
      for (Operation *st : stores)
        if (mayAlias(memOf(ld), memOf(st)) &&
            !(memOf(ld) == memOf(st) && llvm::equal(indicesOf(ld), indicesOf(st)) &&
              ld->getResult(0).getType() == st->getOperand(0).getType()))
          return false;
    return true;
  }

  /// `f` (independentIterations) as the scf.parallel loop it is.
  Operation *toParallel(scf::ForOp f) {
    OpBuilder::InsertionGuard g(*b);
    b->setInsertionPoint(f);
    auto p = scf::ParallelOp::create(*b, f.getLoc(), ValueRange{f.getLowerBound()},
                                     ValueRange{f.getUpperBound()}, ValueRange{f.getStep()});
    Block *body = p.getBody();
    f.getInductionVar().replaceAllUsesWith(p.getInductionVars()[0]);
    body->getOperations().splice(body->begin(), f.getBody()->getOperations(),
                                 f.getBody()->begin(), std::prev(f.getBody()->end()));
    f.erase();
    return p;
  }

  /// Whether `m` views a buffer the entry function never writes (the
  /// weights or the token ids).
  static bool readOnly(Value m) {
    while (Operation *d = m.getDefiningOp()) {
      auto view = dyn_cast<ViewLikeOpInterface>(d);
      if (!view)
        return false;
      m = view.getViewSource();
    }
    auto arg = dyn_cast<BlockArgument>(m);
    if (!arg)
      return false;
    auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto role = fn ? fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "gemma4.arg") : nullptr;
    return role && (role.getValue() == "weights" || role.getValue() == "ids");
  }

  // ---- shapes ---------------------------------------------------------------
  /// sum_i iv_i-extents, the parallel loop's iteration count, and its
  /// per-dimension extents.
  Value iterations(scf::ParallelOp p, SmallVectorImpl<Value> &extents) {
    Value total = c(1);
    for (auto [lb, ub, st] : llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
      Value span = arith::SubIOp::create(*b, loc, ub, lb);
      Value n = arith::CeilDivUIOp::create(*b, loc, span, st);
      extents.push_back(n);
      total = arith::MulIOp::create(*b, loc, total, n);
    }
    return total;
  }
  /// The induction variables of linear iteration `lin` (row-major).
  SmallVector<Value> delinearize(scf::ParallelOp p, ArrayRef<Value> extents, Value lin) {
    SmallVector<Value> ivs(extents.size());
    Value rest = lin;
    for (int64_t i = (int64_t)extents.size() - 1; i >= 0; --i) {
      Value idx = i == 0 ? rest : arith::RemUIOp::create(*b, loc, rest, extents[i]).getResult();
      if (i > 0)
        rest = arith::DivUIOp::create(*b, loc, rest, extents[i]);
      Value scaled = arith::MulIOp::create(*b, loc, idx, p.getStep()[i]);
      ivs[i] = arith::AddIOp::create(*b, loc, p.getLowerBound()[i], scaled);
    }
    return ivs;
  }

  /// Nested scf.parallel loops inside a kernel body run their iterations in
  /// order (one thread's work) unless the lanes share them.
  void sequentializeNested(Operation *root) {
    SmallVector<scf::ParallelOp> nested;
    root->walk([&](scf::ParallelOp p) {
      if (p != root)
        nested.push_back(p);
    });
    for (scf::ParallelOp p : llvm::reverse(nested)) {
      OpBuilder::InsertionGuard g(*b);
      b->setInsertionPoint(p);
      IRMapping map;
      SmallVector<Value> ivs;
      Block *inner = nullptr;
      for (auto [lb, ub, st] : llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
        auto f = scf::ForOp::create(*b, p.getLoc(), lb, ub, st);
        ivs.push_back(f.getInductionVar());
        b->setInsertionPoint(f.getBody()->getTerminator());
        inner = f.getBody();
      }
      (void)inner;
      for (auto [old, iv] : llvm::zip(p.getInductionVars(), ivs))
        map.map(old, iv);
      for (Operation &op : p.getBody()->without_terminator())
        b->clone(op, map);
      p.erase();
    }
  }

  // ---- iteration per thread ---------------------------------------------------
  LogicalResult mapParallel(scf::ParallelOp p) {
    if (p.getNumResults() != 0)
      return p.emitOpError() << "gemma4-map-to-gpu: parallel reductions are not supported";
    loc = p.getLoc();
    b->setInsertionPoint(p);
    if (auto t = p->getAttrOfType<IntegerAttr>(kBlockThreadsAttr))
      return mapBlock(p, t.getInt());
    if (subgroupSize > 0 && lanesBody(*p.getBody()))
      return mapWithLanes(p);
    SmallVector<Value> extents;
    Value total = iterations(p, extents);
    int64_t bs = blockSize;
    if (auto n = getConstantIntValue(total))
      bs = std::min<int64_t>(bs, std::max<int64_t>(32, (*n + 31) / 32 * 32));
    Value threads = c(bs);
    Value blocks = arith::CeilDivUIOp::create(*b, loc, total, threads);
    emitLaunch(
        p, total, extents, blocks, bs,
        [&](gpu::LaunchOp l) {
          return arith::AddIOp::create(*b, loc,
                                       arith::MulIOp::create(*b, loc, l.getBlockIds().x, threads),
                                       l.getThreadIds().x);
        },
        [&](IRMapping &map, gpu::LaunchOp) {
          for (Operation &op : p.getBody()->without_terminator())
            b->clone(op, map);
        });
    return success();
  }

  // ---- iteration per block -----------------------------------------------------
  /// A block per iteration of all but the last dimension, whose iterations
  /// (0 to `threads`) are the block's threads (kBlockThreadsAttr): the body
  /// is each thread's code, its workgroup allocas the launch's workgroup
  /// attributions.
  LogicalResult mapBlock(scf::ParallelOp p, int64_t threads) {
    unsigned d = p.getNumLoops() - 1;
    std::optional<int64_t> lb = getConstantIntValue(p.getLowerBound()[d]),
                           ub = getConstantIntValue(p.getUpperBound()[d]),
                           st = getConstantIntValue(p.getStep()[d]);
    if (threads < 1 || threads > 1024 || p.getNumLoops() < 2 || lb != 0 || st != 1 ||
        ub != threads)
      return p.emitOpError() << "gemma4-map-to-gpu: " << kBlockThreadsAttr << " = " << threads
                             << " needs a last dimension from 0 to it (1 to 1024 threads) "
                                "after at least one dimension of blocks";
    SmallVector<memref::AllocaOp> shared;
    WalkResult w = p.getBody()->walk([&](Operation *op) {
      auto a = dyn_cast<memref::AllocaOp>(op);
      if (!a)
        return WalkResult::advance();
      auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(a.getType().getMemorySpace());
      if (!space || space.getValue() != gpu::AddressSpace::Workgroup ||
          !a.getType().hasStaticShape() || a->getBlock() != p.getBody()) {
        a.emitOpError() << "gemma4-map-to-gpu: a block's buffers are static workgroup "
                           "allocas at the top of its body";
        return WalkResult::interrupt();
      }
      shared.push_back(a);
      return WalkResult::advance();
    });
    if (w.wasInterrupted())
      return failure();
    // The blocks: every dimension but the threads'.
    SmallVector<Value> extents;
    Value total = c(1);
    for (unsigned i = 0; i < d; ++i) {
      Value span = arith::SubIOp::create(*b, loc, p.getUpperBound()[i], p.getLowerBound()[i]);
      extents.push_back(arith::CeilDivUIOp::create(*b, loc, span, p.getStep()[i]));
      total = arith::MulIOp::create(*b, loc, total, extents.back());
    }
    emitLaunch(
        p, total, extents, /*blocks=*/total, threads,
        [&](gpu::LaunchOp l) { return l.getBlockIds().x; },
        [&](IRMapping &map, gpu::LaunchOp l) {
          map.map(p.getInductionVars()[d], l.getThreadIds().x);
          for (memref::AllocaOp a : shared)
            map.map(a.getResult(), l.addWorkgroupAttribution(a.getType(), a.getLoc()));
          for (Operation &op : p.getBody()->without_terminator()) {
            if (auto a = dyn_cast<memref::AllocaOp>(op); a && map.contains(a.getResult()))
              continue;
            b->clone(op, map);
          }
        });
    return success();
  }

  /// Replaces `p` by a launch of `blocks` blocks of `threads` threads whose
  /// iteration linear(launch) runs, when below `total`, what body(map,
  /// launch) emits with p's induction variables mapped.
  void emitLaunch(scf::ParallelOp p, Value total, ArrayRef<Value> extents, Value blocks,
                  int64_t threads, function_ref<Value(gpu::LaunchOp)> linear,
                  function_ref<void(IRMapping &, gpu::LaunchOp)> body) {
    Value one = c(1);
    auto launch = gpu::LaunchOp::create(*b, loc, blocks, one, one, c(threads), one, one);
    Block &kb = launch.getBody().front();
    b->setInsertionPointToStart(&kb);
    Value lin = linear(launch);
    Value inRange = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult, lin, total);
    auto guard = scf::IfOp::create(*b, loc, inRange, /*withElse=*/false);
    b->setInsertionPoint(guard.thenBlock()->getTerminator());
    SmallVector<Value> ivs = delinearize(p, extents, lin);
    IRMapping map;
    for (auto [old, iv] : llvm::zip(p.getInductionVars(), ivs))
      map.map(old, iv);
    body(map, launch);
    b->setInsertionPointToEnd(&kb);
    gpu::TerminatorOp::create(*b, loc);
    copyAttrs(p, launch);
    p.erase();
    sequentializeNested(launch);
    sinkConstants(launch);
  }

  /// Constants the kernel uses are rematerialised inside it (vector
  /// constants too, which gpu-kernel-outlining would pass as parameters).
  void sinkConstants(gpu::LaunchOp launch) {
    SetVector<Value> above;
    getUsedValuesDefinedAbove(launch.getBody(), above);
    OpBuilder::InsertionGuard g(*b);
    b->setInsertionPointToStart(&launch.getBody().front());
    for (Value v : above) {
      Operation *def = v.getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>())
        continue;
      Operation *cl = b->clone(*def);
      replaceAllUsesInRegionWith(v, cl->getResult(0), launch.getBody());
    }
  }

  void copyAttrs(Operation *from, gpu::LaunchOp to) {
    to->setAttr("gemma4.kernel_loc", StringAttr::get(to.getContext(), kernelLabel(from->getLoc())));
  }
  /// A short label from a fused/name location (the op the loop came from).
  static std::string kernelLabel(Location l) {
    if (auto n = dyn_cast<NameLoc>(l))
      return n.getName().str();
    if (auto f = dyn_cast<FusedLoc>(l))
      for (Location inner : f.getLocations())
        if (auto s = kernelLabel(inner); !s.empty())
          return s;
    return "";
  }

  // ---- iteration per subgroup --------------------------------------------------
  /// Whether the lanes of a subgroup can share `body`: it has a marked loop
  /// (or nested scf.parallel), marked reduce loops only sum, map loops and
  /// nested parallels have no results, and no op with results writes
  /// memory (it would have to run on one lane and broadcast).
  bool lanesBody(Block &body) {
    bool any = false;
    for (Operation &op : body.without_terminator()) {
      StringRef mark = lanesMark(&op);
      if (auto f = dyn_cast<scf::ForOp>(op); f && mark == "reduce") {
        if (!laneReduction(f) || writesMemory(f))
          return false;
        any = true;
        continue;
      }
      if (auto f = dyn_cast<scf::ForOp>(op); f && mark == "map") {
        if (f.getNumResults() != 0)
          return false;
        any = true;
        continue;
      }
      if (auto p = dyn_cast<scf::ParallelOp>(op)) {
        if (p.getNumResults() != 0)
          return false;
        any = true;
        continue;
      }
      if (op.getNumResults() != 0 && writesMemory(&op))
        return false;
    }
    return any;
  }

  LogicalResult mapWithLanes(scf::ParallelOp p) {
    SmallVector<Value> extents;
    Value total = iterations(p, extents);
    int64_t sg = subgroupSize;
    // A body that writes memory on one lane which other lanes then read
    // needs barriers; a barrier needs the whole block in step, so such
    // bodies get one subgroup per block.
    int64_t spb = needsBarrier(*p.getBody()) ? 1 : subgroupsPerBlock;
    if (auto n = getConstantIntValue(total))
      spb = std::min<int64_t>(spb, std::max<int64_t>(1, *n));
    Value blocks = arith::CeilDivUIOp::create(*b, loc, total, c(spb));
    Value lane;
    emitLaunch(
        p, total, extents, blocks, sg * spb,
        [&](gpu::LaunchOp l) {
          Value tid = l.getThreadIds().x;
          lane = arith::RemUIOp::create(*b, loc, tid, c(sg));
          return arith::AddIOp::create(*b, loc,
                                       arith::MulIOp::create(*b, loc, l.getBlockIds().x, c(spb)),
                                       arith::DivUIOp::create(*b, loc, tid, c(sg)));
        },
        [&](IRMapping &map, gpu::LaunchOp) {
          emitLanesBody(*p.getBody(), map, lane, sg);
          pendingScalarReduce.clear();
        });
    return success();
  }


  bool needsBarrier(Block &body) {
    Access before;
    for (Operation &op : body.without_terminator()) {
      if (conflicts(&op, before))
        return true;
      addAccess(&op, before);
    }
    return false;
  }

  /// Clones `body` for one lane of a subgroup (see Passes.td).
  void emitLanesBody(Block &body, IRMapping &map, Value lane, int64_t sg) {
    Value isLane0 = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::eq, lane, c(0));
    Access before;
    auto barrierIfNeeded = [&](Operation *op) {
      if (conflicts(op, before)) {
        gpu::BarrierOp::create(*b, loc);
        before = Access();
      }
      addAccess(op, before);
    };
    for (Operation &op : body.without_terminator()) {
      barrierIfNeeded(&op);
      StringRef mark = lanesMark(&op);
      if (auto f = dyn_cast<scf::ForOp>(op); f && (mark == "reduce" || mark == "map")) {
        emitSharedFor(f, map, lane, sg, isLane0, mark == "reduce");
        continue;
      }
      if (auto np = dyn_cast<scf::ParallelOp>(op)) {
        emitSharedParallel(np, map, lane, sg);
        continue;
      }
      if (writesMemory(&op)) {
        // Once, on lane 0 (no results: lanesBody checked).
        auto once = scf::IfOp::create(*b, loc, isLane0, /*withElse=*/false);
        OpBuilder::InsertionGuard g(*b);
        b->setInsertionPoint(once.thenBlock()->getTerminator());
        b->clone(op, map);
        continue;
      }
      Operation *cl = b->clone(op, map);
      // (Erased once used: the ops of this body are erased after it, and a
      // later op at a reused address must not match.)
      if (pendingScalarReduce.erase(&op))
        map.map(op.getResult(0),
                gpu::SubgroupReduceOp::create(*b, loc, cl->getResult(0),
                                              gpu::AllReduceOperation::ADD, /*uniform=*/true)
                    .getResult());
    }
  }

  /// An scf.for whose steps are dealt out to the lanes: lane l runs steps
  /// l, l + sg, ...; a reduction's partial sums are added across the
  /// subgroup (lane 0 starts from the init, the others from zero).
  void emitSharedFor(scf::ForOp f, IRMapping &map, Value lane, int64_t sg, Value isLane0,
                     bool reduce) {
    Value lb = map.lookupOrDefault(f.getLowerBound());
    Value ub = map.lookupOrDefault(f.getUpperBound());
    Value st = map.lookupOrDefault(f.getStep());
    Value laneOff = arith::MulIOp::create(*b, loc, lane, st);
    Value nlb = arith::AddIOp::create(*b, loc, lb, laneOff);
    Value nst = arith::MulIOp::create(*b, loc, st, c(sg));
    // When every lane takes as many steps (constant bounds, the span a
    // multiple of sg steps), the loop keeps constant bounds and each step
    // adds the lane's offset: LLVM can then unroll a short loop (a norm's 3
    // steps, a 1536-wide dot's) and issue all its loads at once.
    std::optional<int64_t> clb = getConstantIntValue(lb), cub = getConstantIntValue(ub),
                           cst = getConstantIntValue(st);
    bool even = clb && cub && cst && *cst > 0 && (*cub - *clb) % (*cst * sg) == 0;
    if (even)
      nlb = lb;
    SmallVector<LaneCombine> kinds;
    if (reduce)
      kinds = *laneReduction(f);
    SmallVector<Value> inits;
    for (auto [i, init] : llvm::enumerate(f.getInitArgs())) {
      Value v = map.lookupOrDefault(init);
      if (reduce && kinds[i] == LaneCombine::Max) {
        inits.push_back(v); // every lane may start from the init of a max
        continue;
      }
      Value zero = arith::ConstantOp::create(*b, loc, b->getZeroAttr(v.getType()));
      inits.push_back(arith::SelectOp::create(*b, loc, isLane0, v, zero));
    }
    auto nf = scf::ForOp::create(*b, loc, nlb, ub, nst, inits);
    {
      OpBuilder::InsertionGuard g(*b);
      IRMapping inner = map;
      for (auto [o, n] : llvm::zip(f.getRegionIterArgs(), nf.getRegionIterArgs()))
        inner.map(o, n);
      b->setInsertionPointToStart(nf.getBody());
      if (!nf.getBody()->empty() && isa<scf::YieldOp>(nf.getBody()->back()))
        nf.getBody()->back().erase();
      b->setInsertionPointToEnd(nf.getBody());
      inner.map(f.getInductionVar(),
                even ? arith::AddIOp::create(*b, loc, nf.getInductionVar(), laneOff).getResult()
                     : nf.getInductionVar());
      for (Operation &op : f.getBody()->getOperations())
        b->clone(op, inner);
    }
    if (!reduce)
      return;
    for (auto [i, o, n] : llvm::enumerate(f.getResults(), nf.getResults())) {
      if (kinds[i] == LaneCombine::Max) {
        map.map(o, gpu::SubgroupReduceOp::create(*b, loc, n, gpu::AllReduceOperation::MAXIMUMF,
                                                 /*uniform=*/true));
        continue;
      }
      // A vector partial sum reduced right after: reduce the scalar across
      // the lanes instead of every element.
      if (o.hasOneUse())
        if (auto r = dyn_cast<vector::ReductionOp>(*o.getUsers().begin());
            r && r.getKind() == vector::CombiningKind::ADD && !r.getAcc() &&
            r->getBlock() == f->getBlock()) {
          map.map(o, n);
          pendingScalarReduce.insert(r);
          continue;
        }
      map.map(o, gpu::SubgroupReduceOp::create(*b, loc, n, gpu::AllReduceOperation::ADD,
                                               /*uniform=*/true));
    }
  }
  DenseSet<Operation *> pendingScalarReduce;

  /// A nested scf.parallel (independent iterations by definition) dealt out
  /// to the lanes over its linearised iteration space.
  void emitSharedParallel(scf::ParallelOp p, IRMapping &map, Value lane, int64_t sg) {
    SmallVector<Value> extents;
    Value total = c(1);
    for (auto [lb, ub, st] : llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
      Value span = arith::SubIOp::create(*b, loc, map.lookupOrDefault(ub), map.lookupOrDefault(lb));
      Value n = arith::CeilDivUIOp::create(*b, loc, span, map.lookupOrDefault(st));
      extents.push_back(n);
      total = arith::MulIOp::create(*b, loc, total, n);
    }
    auto f = scf::ForOp::create(*b, loc, lane, total, c(sg));
    OpBuilder::InsertionGuard g(*b);
    b->setInsertionPoint(f.getBody()->getTerminator());
    IRMapping inner = map;
    Value rest = f.getInductionVar();
    for (int64_t i = (int64_t)extents.size() - 1; i >= 0; --i) {
      Value idx = i == 0 ? rest : arith::RemUIOp::create(*b, loc, rest, extents[i]).getResult();
      if (i > 0)
        rest = arith::DivUIOp::create(*b, loc, rest, extents[i]);
      Value iv = arith::AddIOp::create(
          *b, loc, map.lookupOrDefault(p.getLowerBound()[i]),
          arith::MulIOp::create(*b, loc, idx, map.lookupOrDefault(p.getStep()[i])));
      inner.map(p.getInductionVars()[i], iv);
    }
    for (Operation &op : p.getBody()->without_terminator())
      b->clone(op, inner);
  }

  // ---- a run of device ops --------------------------------------------------
  /// The run becomes the body of a one-iteration scf.parallel at its first
  /// op, mapped like any other (so its reductions get a subgroup).
  LogicalResult mapSerial(ArrayRef<Operation *> ops) {
    loc = ops.front()->getLoc();
    b->setInsertionPoint(ops.front());
    Value zero = c(0), one = c(1);
    auto p = scf::ParallelOp::create(*b, loc, ValueRange{zero}, ValueRange{one}, ValueRange{one});
    Operation *term = p.getBody()->getTerminator();
    for (Operation *op : ops)
      op->moveBefore(term);
    return mapParallel(p);
  }
};

} // namespace

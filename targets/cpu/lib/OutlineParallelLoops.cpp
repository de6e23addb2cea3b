//===- OutlineParallelLoops.cpp - scf.parallel -> range functions ---------===//
#include "gemma4c/Target/CPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4OUTLINEPARALLELLOOPS
#include "gemma4c/Target/CPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct OutlineParallelLoopsPass
    : mlir::gemma4::impl::Gemma4OutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> fns(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : fns) {
      if (fn.isExternal() || fn.getName().contains("__par"))
        continue;
      SmallVector<scf::ParallelOp> loops;
      for (Operation &op : fn.getBody().getOps())
        if (auto p = dyn_cast<scf::ParallelOp>(op))
          loops.push_back(p);
      int n = 0;
      for (scf::ParallelOp p : loops)
        if (failed(outline(fn, p, n++)))
          return signalPassFailure();
    }
  }

  /// The scf.for carrying kRangeOuterAttr that, with side-effect-free ops,
  /// makes up the body of `par` and whose bounds are constants or come
  /// from outside `par`, if there is one.
  static scf::ForOp rangeOuterLoop(scf::ParallelOp par) {
    scf::ForOp found;
    for (Operation &op : par.getBody()->without_terminator()) {
      auto f = dyn_cast<scf::ForOp>(op);
      if (f && f->hasAttr(mlir::gemma4::kRangeOuterAttr) && !found) {
        found = f;
        continue;
      }
      if (!isMemoryEffectFree(&op))
        return {};
    }
    if (!found || found.getNumResults() != 0)
      return {};
    for (Value v : {found.getLowerBound(), found.getUpperBound(), found.getStep()}) {
      Operation *def = v.getDefiningOp();
      bool inside = par->isProperAncestor(def ? def : v.getParentBlock()->getParentOp());
      if (inside && !(def && def->hasTrait<OpTrait::ConstantLike>()))
        return {};
    }
    return found;
  }

  LogicalResult outline(func::FuncOp fn, scf::ParallelOp par, int index) {
    Location loc = par.getLoc();
    for (Value lb : par.getLowerBound())
      if (!matchPattern(lb, m_Zero()))
        return par.emitOpError() << "outlining needs zero lower bounds";
    for (Value st : par.getStep())
      if (!matchPattern(st, m_One()))
        return par.emitOpError() << "outlining needs unit steps";
    if (par.getNumResults() != 0)
      return par.emitOpError() << "outlining does not support reductions";

    // Values from above: constants are re-materialised, the rest passed.
    SetVector<Value> above;
    getUsedValuesDefinedAbove(par.getRegion(), above);
    SmallVector<Value> captures;
    SmallVector<Operation *> constants;
    for (Value v : above) {
      Operation *def = v.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>())
        constants.push_back(def);
      else
        captures.push_back(v);
    }
    auto ubs = par.getUpperBound();
    OpBuilder b(fn);
    SmallVector<Type> argTypes{b.getIndexType(), b.getIndexType()};
    for (Value ub : ubs)
      argTypes.push_back(ub.getType());
    for (Value v : captures)
      argTypes.push_back(v.getType());
    std::string name = (fn.getName() + "__par" + Twine(index)).str();
    // A named location (gemma4-to-loops names the loops after their op and
    // weight) becomes a suffix, so profiles say what a body computes.
    if (auto nl = dyn_cast<NameLoc>(loc)) {
      name += "__";
      for (char ch : nl.getName().getValue())
        name += llvm::isAlnum(ch) ? ch : '_';
    }
    b.setInsertionPointAfter(fn);
    auto body = func::FuncOp::create(b, loc, name, b.getFunctionType(argTypes, {}));
    body.setPrivate();
    if (auto grain = par->getAttrOfType<IntegerAttr>(mlir::gemma4::kGrainAttr))
      body->setAttr(mlir::gemma4::kGrainAttr, grain);
    Block *entry = body.addEntryBlock();
    b.setInsertionPointToStart(entry);
    IRMapping map;
    for (Operation *c : constants)
      b.clone(*c, map);
    size_t nd = ubs.size();
    for (size_t i = 0; i < captures.size(); ++i)
      map.map(captures[i], entry->getArgument(2 + nd + i));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    // A range-outer loop (kRangeOuterAttr) goes around the range loop; the
    // body's constants (its bounds among them) are cloned before it.
    scf::ForOp outer = rangeOuterLoop(par);
    scf::ForOp outerClone;
    if (outer) {
      for (Operation &op : par.getBody()->without_terminator())
        if (op.hasTrait<OpTrait::ConstantLike>())
          b.clone(op, map);
      outerClone = scf::ForOp::create(b, loc, map.lookupOrDefault(outer.getLowerBound()),
                                      map.lookupOrDefault(outer.getUpperBound()),
                                      map.lookupOrDefault(outer.getStep()));
      b.setInsertionPoint(outerClone.getBody()->getTerminator());
    }
    auto forOp = scf::ForOp::create(b, loc, entry->getArgument(0), entry->getArgument(1), one);
    if (outer)
      b.setInsertionPointAfter(outerClone);
    func::ReturnOp::create(b, loc);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    // Delinearise: the last dimension varies fastest.
    Value rest = forOp.getInductionVar();
    SmallVector<Value> ivs(nd);
    for (int64_t d = nd - 1; d >= 0; --d) {
      Value ub = entry->getArgument(2 + d);
      if (d == 0) {
        ivs[d] = rest;
      } else {
        ivs[d] = arith::RemUIOp::create(b, loc, rest, ub);
        rest = arith::DivUIOp::create(b, loc, rest, ub);
      }
    }
    for (size_t d = 0; d < nd; ++d)
      map.map(par.getInductionVars()[d], ivs[d]);
    for (Operation &op : par.getBody()->without_terminator()) {
      if (outer && op.hasTrait<OpTrait::ConstantLike>())
        continue; // cloned before the range-outer loop
      if (&op == outer.getOperation()) {
        map.map(outer.getInductionVar(), outerClone.getInductionVar());
        for (Operation &inner : outer.getBody()->without_terminator())
          b.clone(inner, map);
        continue;
      }
      b.clone(op, map);
    }

    // The launch: body(0, total, ubs..., captures...).
    b.setInsertionPoint(par);
    Value total = ubs[0];
    for (size_t d = 1; d < nd; ++d)
      total = arith::MulIOp::create(b, loc, total, ubs[d]);
    SmallVector<Value> args{arith::ConstantIndexOp::create(b, loc, 0), total};
    args.append(ubs.begin(), ubs.end());
    args.append(captures.begin(), captures.end());
    func::CallOp::create(b, loc, body, args);
    par.erase();
    return success();
  }
};
} // namespace

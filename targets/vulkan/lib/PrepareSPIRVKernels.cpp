//===- PrepareSPIRVKernels.cpp - the GPU kernels as Vulkan can run them ---===//
//
// See Passes.td (gemma4-prepare-spirv-kernels). Three rewrites of a clone
// of the kernels, after which gpu-to-spirv's patterns convert every op:
//   1. arguments and device memory through buffer device addresses,
//      workgroup attributions as Workgroup-storage allocations;
//   2. vectors to scalars (a 1:N dialect conversion);
//   3. math, subgroup reductions and barriers.
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4PREPARESPIRVKERNELS
#include "gemma4c/Target/Vulkan/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {

/// Bytes of a scalar as the host stores it (LLVM's ABI size; i1 is a byte).
int64_t scalarBytes(Type t) {
  if (isa<IndexType>(t))
    return 8;
  return std::max<int64_t>(1, (int64_t)t.getIntOrFloatBitWidth() / 8);
}

/// A memref argument, as its descriptor's fields in the parameter block.
struct MemRefArg {
  MemRefType type;
  Value aligned;                  ///< i64 device address
  Value offset;                   ///< index, in elements
  SmallVector<Value> sizes, strides; ///< index
};

class KernelRewriter {
public:
  KernelRewriter(gpu::GPUFuncOp fn) : fn(fn), b(fn.getContext()), ctx(fn.getContext()) {}

  LogicalResult run() {
    if (failed(lowerWorkgroupAttributions()))
      return failure();
    Block &entry = fn.front();
    unsigned nOld = fn.getNumArguments();
    Type i64 = b.getI64Type();
    loc = fn.getLoc();
    if (failed(fn.insertArgument(nOld, i64, DictionaryAttr::get(ctx), loc)))
      return fn.emitError("cannot add the parameter block argument");
    params = fn.getArgument(nOld);
    b.setInsertionPointToStart(&entry);

    // The parameter block: each operand at its ABI alignment, as
    // gemma4-lower-gpu-launches stores it.
    int64_t off = 0;
    auto place = [&](int64_t size, int64_t align) {
      off = llvm::alignTo(off, align);
      int64_t at = off;
      off += size;
      return at;
    };
    SmallVector<std::pair<BlockArgument, MemRefArg>> memrefs;
    for (unsigned i = 0; i < nOld; ++i) {
      BlockArgument arg = fn.getArgument(i);
      Type t = arg.getType();
      if (auto mt = dyn_cast<MemRefType>(t)) {
        if (mt.getMemorySpace()) {
          return fn.emitOpError() << "gemma4-prepare-spirv-kernels: memref argument in memory space "
                                  << mt.getMemorySpace() << " (only device memory is supported)";
        }
        MemRefArg m;
        m.type = mt;
        int64_t rank = mt.getRank();
        place(8, 8); // allocated pointer
        int64_t alignedAt = place(8, 8);
        int64_t offsetAt = place(8, 8);
        SmallVector<int64_t> sizesAt, stridesAt;
        for (int64_t d = 0; d < rank; ++d)
          sizesAt.push_back(place(8, 8));
        for (int64_t d = 0; d < rank; ++d)
          stridesAt.push_back(place(8, 8));
        m.aligned = loadParam(alignedAt, i64);
        SmallVector<int64_t> strides;
        int64_t staticOffset = 0;
        if (failed(mt.getStridesAndOffset(strides, staticOffset)))
          return fn.emitOpError() << "gemma4-prepare-spirv-kernels: memref argument " << mt
                                  << " has no strided layout";
        m.offset = ShapedType::isDynamic(staticOffset) ? toIndex(loadParam(offsetAt, i64))
                                                       : index(staticOffset);
        for (int64_t d = 0; d < rank; ++d) {
          m.sizes.push_back(mt.isDynamicDim(d) ? toIndex(loadParam(sizesAt[d], i64))
                                               : index(mt.getDimSize(d)));
          m.strides.push_back(ShapedType::isDynamic(strides[d])
                                  ? toIndex(loadParam(stridesAt[d], i64))
                                  : index(strides[d]));
        }
        memrefs.push_back({arg, m});
        continue;
      }
      if (auto vt = dyn_cast<VectorType>(t)) {
        if (vt.getRank() != 1)
          return fn.emitOpError() << "gemma4-prepare-spirv-kernels: argument of type " << t;
        int64_t eb = scalarBytes(vt.getElementType());
        int64_t at = place(eb * vt.getNumElements(),
                           (int64_t)llvm::PowerOf2Ceil(eb * vt.getNumElements()));
        SmallVector<Value> elems;
        for (int64_t k = 0; k < vt.getNumElements(); ++k)
          elems.push_back(loadParam(at + k * eb, vt.getElementType()));
        arg.replaceAllUsesWith(vector::FromElementsOp::create(b, loc, vt, elems));
        continue;
      }
      if (!t.isIntOrIndexOrFloat())
        return fn.emitOpError() << "gemma4-prepare-spirv-kernels: argument of type " << t;
      int64_t bytes = scalarBytes(t);
      int64_t at = place(bytes, bytes);
      Value v = isa<IndexType>(t) ? toIndex(loadParam(at, i64)) : loadParam(at, t);
      arg.replaceAllUsesWith(v);
    }
    paramBytes = off;

    for (auto &[arg, m] : memrefs) {
      SmallVector<Operation *> users(arg.getUsers().begin(), arg.getUsers().end());
      for (Operation *u : users)
        if (failed(rewriteAccess(u, arg, m)))
          return failure();
    }
    llvm::BitVector erase(fn.getNumArguments());
    erase.set(0, nOld);
    if (failed(fn.eraseArguments(erase)))
      return failure();
    fn->setAttr("gemma4.param_bytes", b.getI64IntegerAttr(paramBytes));
    return success();
  }

  int64_t paramBytes = 0;

private:
  /// Workgroup memory. gpu-to-spirv's gpu.func conversion keeps only a
  /// kernel's arguments and drops its `workgroup(...)` attributions, so each
  /// becomes a memref.alloc of Workgroup storage at the kernel's entry,
  /// which MemRefToSPIRV turns into a spirv.GlobalVariable of that storage
  /// class (one per attribution, shared by the workgroup, listed in the
  /// entry point's interface). Its accesses are plain element accesses the
  /// memref patterns lower to spirv.AccessChain + Load/Store: vector loads
  /// and stores as one per lane (as device memory's), bf16/f16 held as i16
  /// (as in device memory, so no device needs 16-bit float types). The
  /// barrier that orders them: prepare()'s gpu.barrier.
  LogicalResult lowerWorkgroupAttributions() {
    if (fn.getNumPrivateAttributions())
      return fn.emitOpError() << "gemma4-prepare-spirv-kernels: private attributions are not "
                                 "supported";
    unsigned n = fn.getNumWorkgroupAttributions();
    if (!n)
      return success();
    Block &entry = fn.front();
    b.setInsertionPointToStart(&entry);
    auto workgroup = spirv::StorageClassAttr::get(ctx, spirv::StorageClass::Workgroup);
    for (BlockArgument arg : fn.getWorkgroupAttributions()) {
      auto mt = cast<MemRefType>(arg.getType());
      Type et = mt.getElementType();
      if (!mt.hasStaticShape() || !mt.getLayout().isIdentity() || !et.isIntOrFloat() ||
          et.isInteger(1))
        return fn.emitOpError() << "gemma4-prepare-spirv-kernels: workgroup attribution of type "
                                << mt << " (a static, identity-layout memref of numbers is "
                                         "supported)";
      Type held = et.isBF16() || et.isF16() ? b.getI16Type() : et;
      loc = arg.getLoc();
      Value buf = memref::AllocOp::create(
          b, loc, MemRefType::get(mt.getShape(), held, MemRefLayoutAttrInterface(), workgroup));
      SmallVector<Operation *> users(arg.getUsers().begin(), arg.getUsers().end());
      for (Operation *u : users)
        if (failed(rewriteWorkgroupAccess(u, arg, buf, et)))
          return failure();
    }
    unsigned first = fn.getFirstWorkgroupAttributionIndex();
    entry.eraseArguments(first, n);
    fn->removeAttr(gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName());
    fn.removeWorkgroupAttribAttrsAttr();
    return success();
  }

  /// `u`, an access to attribution `arg` (elements of type `et`), as
  /// scalar accesses to `buf`.
  LogicalResult rewriteWorkgroupAccess(Operation *u, Value arg, Value buf, Type et) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(u);
    loc = u->getLoc();
    Type held = cast<MemRefType>(buf.getType()).getElementType();
    auto load = [&](ValueRange indices) -> Value {
      Value v = memref::LoadOp::create(b, loc, buf, indices);
      return held == et ? v : arith::BitcastOp::create(b, loc, et, v).getResult();
    };
    auto store = [&](Value v, ValueRange indices) {
      if (held != et)
        v = arith::BitcastOp::create(b, loc, held, v);
      memref::StoreOp::create(b, loc, v, buf, indices);
    };
    // The indices of lane k of a vector access at `indices`: the innermost
    // dimension's plus k (a vector access is contiguous in it).
    auto lane = [&](ValueRange indices, int64_t k) {
      SmallVector<Value> at(indices.begin(), indices.end());
      if (k)
        at.back() = arith::AddIOp::create(b, loc, at.back(), index(k));
      return at;
    };
    using Indices = SmallVector<Value>;
    return scalarizeAccess<Indices>(
        u, arg, et, "a workgroup memref",
        [&](ValueRange indices) { return Indices(indices.begin(), indices.end()); },
        [&](const Indices &at, int64_t k) { return load(lane(at, k)); },
        [&](const Indices &at, int64_t k, Value v) { store(v, lane(at, k)); });
  }

  /// `u`, a scalar or 1-D vector load or store of `arg` (elements of type
  /// `et`), as scalar accesses: `at(indices)` locates an access's first
  /// element, `load(at, k)` / `store(at, k, v)` its element k (a vector
  /// access is contiguous in the innermost dimension).
  template <typename At>
  LogicalResult scalarizeAccess(Operation *u, Value arg, Type et, StringRef what,
                                function_ref<At(ValueRange)> at,
                                function_ref<Value(const At &, int64_t)> load,
                                function_ref<void(const At &, int64_t, Value)> store) {
    if (auto l = dyn_cast<memref::LoadOp>(u)) {
      l.replaceAllUsesWith(load(at(l.getIndices()), 0));
      l.erase();
      return success();
    }
    if (auto s = dyn_cast<memref::StoreOp>(u); s && s.getMemRef() == arg) {
      store(at(s.getIndices()), 0, s.getValueToStore());
      s.erase();
      return success();
    }
    if (auto l = dyn_cast<vector::LoadOp>(u)) {
      VectorType vt = l.getVectorType();
      if (vt.getRank() != 1 || vt.getElementType() != et)
        return l.emitOpError() << "gemma4-prepare-spirv-kernels: unsupported vector load";
      At first = at(l.getIndices());
      SmallVector<Value> elems;
      for (int64_t k = 0; k < vt.getNumElements(); ++k)
        elems.push_back(load(first, k));
      l.replaceAllUsesWith(vector::FromElementsOp::create(b, loc, vt, elems).getResult());
      l.erase();
      return success();
    }
    if (auto s = dyn_cast<vector::StoreOp>(u); s && s.getBase() == arg) {
      VectorType vt = s.getVectorType();
      if (vt.getRank() != 1 || vt.getElementType() != et)
        return s.emitOpError() << "gemma4-prepare-spirv-kernels: unsupported vector store";
      At first = at(s.getIndices());
      for (int64_t k = 0; k < vt.getNumElements(); ++k)
        store(first, k, vector::ExtractOp::create(b, loc, s.getValueToStore(), k).getResult());
      s.erase();
      return success();
    }
    return u->emitOpError() << "gemma4-prepare-spirv-kernels: unsupported use of " << what;
  }

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value toIndex(Value i64v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i64v);
  }
  Value toI64(Value idx) { return arith::IndexCastOp::create(b, loc, b.getI64Type(), idx); }

  /// A value of scalar type `t` at device address `addr` (i64).
  Value loadAt(Value addr, Type t) {
    if (t.isInteger(1)) {
      Value byte = loadAt(addr, b.getI8Type());
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, byte,
                                   arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0));
    }
    Type mem = t.isBF16() || t.isF16() ? b.getI16Type() : t;
    auto ptrTy = spirv::PointerType::get(mem, spirv::StorageClass::PhysicalStorageBuffer);
    Value p = spirv::ConvertUToPtrOp::create(b, loc, ptrTy, addr);
    Value v = spirv::LoadOp::create(
        b, loc, mem, p,
        spirv::MemoryAccessAttr::get(ctx, spirv::MemoryAccess::Aligned),
        b.getI32IntegerAttr((int32_t)scalarBytes(t)));
    if (mem != t)
      v = arith::BitcastOp::create(b, loc, t, v);
    return v;
  }
  void storeAt(Value addr, Value v) {
    Type t = v.getType();
    if (t.isInteger(1))
      v = arith::ExtUIOp::create(b, loc, b.getI8Type(), v), t = v.getType();
    if (t.isBF16() || t.isF16())
      v = arith::BitcastOp::create(b, loc, b.getI16Type(), v);
    auto ptrTy = spirv::PointerType::get(v.getType(), spirv::StorageClass::PhysicalStorageBuffer);
    Value p = spirv::ConvertUToPtrOp::create(b, loc, ptrTy, addr);
    spirv::StoreOp::create(b, loc, p, v,
                           spirv::MemoryAccessAttr::get(ctx, spirv::MemoryAccess::Aligned),
                           b.getI32IntegerAttr((int32_t)scalarBytes(t)));
  }
  Value loadParam(int64_t at, Type t) {
    Value addr = params;
    if (at)
      addr = arith::AddIOp::create(b, loc, params,
                                   arith::ConstantIntOp::create(b, loc, b.getI64Type(), at));
    return loadAt(addr, t);
  }

  /// The device address of element `indices` of `m`.
  Value address(const MemRefArg &m, ValueRange indices) {
    Value lin = m.offset;
    for (auto [i, s] : llvm::zip(indices, m.strides))
      lin = arith::AddIOp::create(b, loc, lin, arith::MulIOp::create(b, loc, i, s));
    Value bytes = arith::MulIOp::create(b, loc, toI64(lin),
                                        arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                                                     scalarBytes(m.type.getElementType())));
    return arith::AddIOp::create(b, loc, m.aligned, bytes);
  }
  Value plusBytes(Value addr, int64_t k) {
    if (!k)
      return addr;
    return arith::AddIOp::create(b, loc, addr,
                                 arith::ConstantIntOp::create(b, loc, b.getI64Type(), k));
  }

  LogicalResult rewriteAccess(Operation *u, Value arg, const MemRefArg &m) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(u);
    loc = u->getLoc();
    Type et = m.type.getElementType();
    int64_t eb = scalarBytes(et);
    if (auto d = dyn_cast<memref::DimOp>(u)) {
      std::optional<int64_t> i = d.getConstantIndex();
      if (!i)
        return d.emitOpError() << "gemma4-prepare-spirv-kernels: dynamic dimension index";
      d.replaceAllUsesWith(m.sizes[*i]);
      d.erase();
      return success();
    }
    return scalarizeAccess<Value>(
        u, arg, et, "a device memref", [&](ValueRange indices) { return address(m, indices); },
        [&](const Value &base, int64_t k) { return loadAt(plusBytes(base, k * eb), et); },
        [&](const Value &base, int64_t k, Value v) { storeAt(plusBytes(base, k * eb), v); });
  }

  gpu::GPUFuncOp fn;
  OpBuilder b;
  MLIRContext *ctx;
  Location loc = UnknownLoc::get(ctx);
  Value params;
};

// ---- vectors to scalars ------------------------------------------------------

bool hasVector(Operation *op) {
  auto isVec = [](Type t) { return isa<VectorType>(t); };
  return llvm::any_of(op->getOperandTypes(), isVec) || llvm::any_of(op->getResultTypes(), isVec);
}

/// Any element-wise op (arith, math): one op per lane.
struct ScalarizeElementwise : ConversionPattern {
  ScalarizeElementwise(const TypeConverter &tc, MLIRContext *ctx)
      : ConversionPattern(tc, MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, ArrayRef<ValueRange> operands,
                                ConversionPatternRewriter &rewriter) const override {
    if (!op->hasTrait<OpTrait::Elementwise>() || op->getNumResults() == 0 || !hasVector(op) ||
        op->getNumRegions() != 0)
      return failure();
    auto vt = dyn_cast<VectorType>(op->getResult(0).getType());
    if (!vt || vt.getRank() != 1)
      return failure();
    int64_t n = vt.getNumElements();
    SmallVector<SmallVector<Value>> results(op->getNumResults());
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<Value> ins;
      for (ValueRange r : operands) {
        if ((int64_t)r.size() == n)
          ins.push_back(r[i]);
        else if (r.size() == 1)
          ins.push_back(r[0]);
        else
          return failure();
      }
      SmallVector<Type> types;
      for (Type t : op->getResultTypes())
        types.push_back(getElementTypeOrSelf(t));
      OperationState st(op->getLoc(), op->getName(), ins, types, op->getAttrs());
      Operation *s = rewriter.create(st);
      for (unsigned r = 0; r < s->getNumResults(); ++r)
        results[r].push_back(s->getResult(r));
    }
    rewriter.replaceOpWithMultiple(op, std::move(results));
    return success();
  }
};

struct ScalarizeConstant : OpConversionPattern<arith::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(arith::ConstantOp op, OneToNOpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto vt = dyn_cast<VectorType>(op.getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!vt || !dense || vt.getRank() != 1)
      return failure();
    SmallVector<Value> vals;
    if (dense.isSplat()) {
      Value s = arith::ConstantOp::create(rewriter, op.getLoc(),
                                          cast<TypedAttr>(dense.getSplatValue<Attribute>()));
      vals.assign(vt.getNumElements(), s);
    } else {
      for (Attribute a : dense.getValues<Attribute>())
        vals.push_back(arith::ConstantOp::create(rewriter, op.getLoc(), cast<TypedAttr>(a)));
    }
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

struct ScalarizeBroadcast : OpConversionPattern<vector::BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::BroadcastOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    VectorType vt = op.getResultVectorType();
    ValueRange src = adaptor.getSource();
    if (vt.getRank() != 1)
      return failure();
    SmallVector<Value> vals;
    if (src.size() == 1)
      vals.assign(vt.getNumElements(), src[0]);
    else if ((int64_t)src.size() == vt.getNumElements())
      vals.assign(src.begin(), src.end());
    else
      return failure();
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

struct ScalarizeFMA : OpConversionPattern<vector::FMAOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::FMAOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    ValueRange a = adaptor.getLhs(), bb = adaptor.getRhs(), c = adaptor.getAcc();
    SmallVector<Value> vals;
    for (size_t i = 0; i < a.size(); ++i)
      vals.push_back(math::FmaOp::create(rewriter, op.getLoc(), a[i], bb[i], c[i]));
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

struct ScalarizeReduction : OpConversionPattern<vector::ReductionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::ReductionOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto fm = op.getFastmathAttr();
    auto combine = [&](Value x, Value y) -> Value {
      bool f = isa<FloatType>(x.getType());
      switch (op.getKind()) {
      case vector::CombiningKind::ADD:
        return f ? arith::AddFOp::create(rewriter, loc, x, y, fm).getResult()
                 : arith::AddIOp::create(rewriter, loc, x, y).getResult();
      case vector::CombiningKind::MUL:
        return f ? arith::MulFOp::create(rewriter, loc, x, y, fm).getResult()
                 : arith::MulIOp::create(rewriter, loc, x, y).getResult();
      case vector::CombiningKind::MAXIMUMF:
        return arith::MaximumFOp::create(rewriter, loc, x, y, fm);
      case vector::CombiningKind::MINIMUMF:
        return arith::MinimumFOp::create(rewriter, loc, x, y, fm);
      case vector::CombiningKind::MAXNUMF:
        return arith::MaxNumFOp::create(rewriter, loc, x, y, fm);
      case vector::CombiningKind::MINNUMF:
        return arith::MinNumFOp::create(rewriter, loc, x, y, fm);
      default:
        return nullptr;
      }
    };
    // A pairwise tree, as a vector unit would add.
    SmallVector<Value> v(adaptor.getVector().begin(), adaptor.getVector().end());
    while (v.size() > 1) {
      SmallVector<Value> next;
      for (size_t i = 0; i + 1 < v.size(); i += 2) {
        Value c = combine(v[i], v[i + 1]);
        if (!c)
          return failure();
        next.push_back(c);
      }
      if (v.size() % 2)
        next.push_back(v.back());
      v = std::move(next);
    }
    Value r = v[0];
    if (!adaptor.getAcc().empty()) {
      r = combine(adaptor.getAcc()[0], r);
      if (!r)
        return failure();
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct ScalarizeFromElements : OpConversionPattern<vector::FromElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::FromElementsOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getType().getRank() != 1)
      return failure();
    SmallVector<Value> vals;
    for (ValueRange r : adaptor.getElements())
      vals.append(r.begin(), r.end());
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

struct ScalarizeExtract : OpConversionPattern<vector::ExtractOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::ExtractOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    ValueRange src = adaptor.getSource();
    if (op.getSourceVectorType().getRank() != 1 || op.getNumIndices() != 1)
      return failure();
    OpFoldResult pos = op.getMixedPosition()[0];
    if (auto a = dyn_cast<Attribute>(pos)) {
      rewriter.replaceOp(op, src[cast<IntegerAttr>(a).getInt()]);
      return success();
    }
    // A dynamic lane: a chain of selects.
    Location loc = op.getLoc();
    Value idx = cast<Value>(pos);
    Value r = src[0];
    for (size_t i = 1; i < src.size(); ++i) {
      Value c = arith::ConstantOp::create(rewriter, loc, rewriter.getIntegerAttr(idx.getType(), i));
      Value eq = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, idx, c);
      r = arith::SelectOp::create(rewriter, loc, eq, src[i], r);
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

struct ScalarizeInsert : OpConversionPattern<vector::InsertOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::InsertOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getDestVectorType().getRank() != 1 || op.getNumIndices() != 1 ||
        adaptor.getValueToStore().size() != 1)
      return failure();
    auto a = dyn_cast<Attribute>(op.getMixedPosition()[0]);
    if (!a)
      return failure();
    SmallVector<Value> vals(adaptor.getDest().begin(), adaptor.getDest().end());
    vals[cast<IntegerAttr>(a).getInt()] = adaptor.getValueToStore()[0];
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

struct ScalarizeSubgroupReduce : OpConversionPattern<gpu::SubgroupReduceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(gpu::SubgroupReduceOp op, OneToNOpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (!isa<VectorType>(op.getType()))
      return failure();
    SmallVector<Value> vals;
    for (Value v : adaptor.getValue()) {
      auto r = gpu::SubgroupReduceOp::create(rewriter, op.getLoc(), v, op.getOp(),
                                             op.getUniform());
      if (op.getClusterSize())
        r.setClusterSize(op.getClusterSize());
      vals.push_back(r);
    }
    rewriter.replaceOpWithMultiple(op, {vals});
    return success();
  }
};

LogicalResult scalarize(gpu::GPUModuleOp mod) {
  MLIRContext *ctx = mod.getContext();
  TypeConverter tc;
  tc.addConversion([](Type t) { return t; });
  tc.addConversion([](VectorType vt, SmallVectorImpl<Type> &out) -> std::optional<LogicalResult> {
    if (vt.getRank() != 1 || vt.isScalable())
      return std::nullopt;
    out.append(vt.getNumElements(), vt.getElementType());
    return success();
  });
  tc.addSourceMaterialization([](OpBuilder &b, VectorType vt, ValueRange in, Location loc) -> Value {
    if ((int64_t)in.size() != vt.getNumElements())
      return nullptr;
    return vector::FromElementsOp::create(b, loc, vt, in);
  });
  tc.addTargetMaterialization([](OpBuilder &b, TypeRange types, ValueRange in, Location loc,
                                 Type orig) -> SmallVector<Value> {
    auto vt = dyn_cast<VectorType>(orig);
    if (in.size() != 1 || !vt || vt.getRank() != 1 || (int64_t)types.size() != vt.getNumElements())
      return {};
    SmallVector<Value> out;
    for (int64_t i = 0; i < vt.getNumElements(); ++i)
      out.push_back(vector::ExtractOp::create(b, loc, in[0], i));
    return out;
  });
  ConversionTarget target(*ctx);
  target.markUnknownOpDynamicallyLegal([](Operation *op) { return !hasVector(op); });
  RewritePatternSet patterns(ctx);
  patterns.add<ScalarizeElementwise>(tc, ctx);
  patterns.add<ScalarizeConstant, ScalarizeBroadcast, ScalarizeFMA, ScalarizeReduction,
               ScalarizeFromElements, ScalarizeExtract, ScalarizeInsert, ScalarizeSubgroupReduce>(
      tc, ctx);
  scf::populateSCFStructuralTypeConversionsAndLegality(tc, patterns, target);
  if (failed(applyPartialConversion(mod, target, std::move(patterns))))
    return failure();
  WalkResult r = mod.walk([](Operation *op) {
    if (hasVector(op)) {
      op->emitOpError() << "gemma4-prepare-spirv-kernels: vector op left after scalarization";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

struct PrepareSPIRVKernelsPass
    : mlir::gemma4::impl::Gemma4PrepareSPIRVKernelsBase<PrepareSPIRVKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<gpu::GPUModuleOp> originals;
    for (auto m : module.getOps<gpu::GPUModuleOp>())
      if (!m->hasAttr("gemma4.spirv"))
        originals.push_back(m);
    OpBuilder b(ctx);
    for (gpu::GPUModuleOp orig : originals) {
      b.setInsertionPointAfter(orig);
      auto mod = cast<gpu::GPUModuleOp>(b.clone(*orig));
      mod.setName((orig.getName() + "_spirv").str());
      mod->setAttr("gemma4.spirv", b.getUnitAttr());
      // The host's launches keep the original signatures; nothing runs them.
      for (auto fn : orig.getOps<gpu::GPUFuncOp>()) {
        Block &entry = fn.getBody().front();
        for (Block &blk : llvm::make_early_inc_range(llvm::drop_begin(fn.getBody().getBlocks())))
          blk.dropAllDefinedValueUses(), blk.erase();
        while (!entry.empty())
          entry.back().dropAllUses(), entry.back().erase();
        b.setInsertionPointToEnd(&entry);
        gpu::ReturnOp::create(b, fn.getLoc());
      }
      if (failed(prepare(mod)))
        return signalPassFailure();
    }
  }

  LogicalResult prepare(gpu::GPUModuleOp mod) {
    MLIRContext *ctx = mod.getContext();
    for (auto fn : mod.getOps<gpu::GPUFuncOp>()) {
      if (!fn.isKernel())
        return fn.emitOpError() << "gemma4-prepare-spirv-kernels: a device function that is no "
                                   "kernel";
      if (!fn.getKnownBlockSize())
        return fn.emitOpError() << "gemma4-prepare-spirv-kernels: kernel without a known block "
                                   "size (Vulkan fixes a workgroup's size in the shader)";
      KernelRewriter rw(fn);
      if (failed(rw.run()))
        return failure();
    }
    if (failed(scalarize(mod)))
      return failure();
    // ceildivui (lane loops' trip counts, the attention's folds rounding
    // their key count up to the unroll) has no SPIR-V op: (x + y - 1) / y,
    // not arith's expansion x == 0 ? 0 : (x - 1) / y + 1, whose 64-bit
    // select NVIDIA's Vulkan compiler (580.159) got wrong. Index values
    // here are far from 2^64.
    {
      SmallVector<arith::CeilDivUIOp> divs;
      mod.walk([&](arith::CeilDivUIOp d) { divs.push_back(d); });
      for (arith::CeilDivUIOp d : divs) {
        OpBuilder b(d);
        Location loc = d.getLoc();
        Value one = arith::ConstantOp::create(b, loc, b.getOneAttr(d.getType()));
        Value up = arith::AddIOp::create(b, loc, d.getLhs(),
                                         arith::SubIOp::create(b, loc, d.getRhs(), one));
        d.replaceAllUsesWith(arith::DivUIOp::create(b, loc, up, d.getRhs()).getResult());
        d.erase();
      }
    }
    {
      RewritePatternSet patterns(ctx);
      math::populateExpansionPatterns(patterns, {"powf", "sinh", "cosh", "tan"});
      populateMathF32ExpansionPatterns(patterns, [](StringRef) { return true; });
      populateMathPolynomialApproximationPatterns(
          patterns, [](StringRef name) { return name != "math.rsqrt"; });
      populateGpuLowerSubgroupReduceToShufflePatterns(patterns, (unsigned)subgroupSize, 32);
      populateGpuLowerClusteredSubgroupReduceToShufflePatterns(patterns, (unsigned)subgroupSize, 32);
      arith::populateExpandBFloat16Patterns(patterns);
      arith::populateCeilFloorDivExpandOpsPatterns(patterns); // the signed ones
      if (failed(applyPatternsGreedily(mod, std::move(patterns))))
        return failure();
    }
    // rsqrt as 1 / sqrt (as on NVIDIA); a barrier waits for the workgroup
    // (execution scope Workgroup) and makes its writes visible to it
    // (AcquireRelease at Workgroup scope) in workgroup memory (the
    // attributions' variables) and device memory (UniformMemory covers
    // PhysicalStorageBuffer: gemma4-map-to-gpu's lane-0 writes are to device
    // buffers). Inside scf.for it stays in the loop's structured body.
    // f16 (quantization scales) is only ever loaded and widened: the i16
    // through GLSL's UnpackHalf2x16, so no device needs shaderFloat16.
    SmallVector<Operation *> ops;
    mod.walk([&](Operation *op) {
      if (isa<math::RsqrtOp, gpu::BarrierOp>(op))
        ops.push_back(op);
      if (auto e = dyn_cast<arith::ExtFOp>(op); e && e.getIn().getType().isF16() &&
                                                e.getType().isF32())
        if (auto c = e.getIn().getDefiningOp<arith::BitcastOp>();
            c && c.getIn().getType().isInteger(16))
          ops.push_back(op);
    });
    OpBuilder b(ctx);
    for (Operation *op : ops) {
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto e = dyn_cast<arith::ExtFOp>(op)) {
        auto c = e.getIn().getDefiningOp<arith::BitcastOp>();
        Value w = arith::ExtUIOp::create(b, loc, b.getI32Type(), c.getIn());
        Value two = spirv::GLUnpackHalf2x16Op::create(
            b, loc, VectorType::get({2}, b.getF32Type()), w);
        e.replaceAllUsesWith(spirv::CompositeExtractOp::create(b, loc, two, ArrayRef<int32_t>{0})
                                 .getResult());
        e.erase();
        if (c->use_empty())
          c.erase();
        continue;
      }
      if (auto r = dyn_cast<math::RsqrtOp>(op)) {
        Value s = math::SqrtOp::create(b, loc, r.getOperand());
        Value one = arith::ConstantOp::create(b, loc, b.getFloatAttr(s.getType(), 1.0));
        r.replaceAllUsesWith(arith::DivFOp::create(b, loc, one, s).getResult());
        r.erase();
        continue;
      }
      spirv::ControlBarrierOp::create(
          b, loc, spirv::Scope::Workgroup, spirv::Scope::Workgroup,
          spirv::MemorySemantics::AcquireRelease | spirv::MemorySemantics::UniformMemory |
              spirv::MemorySemantics::WorkgroupMemory);
      op->erase();
    }
    return success();
  }
};

} // namespace

//===- PrepareNVVMKernels.cpp - kernel math without libdevice -------------===//
#include "gemma4c/Target/CUDA/Passes.h"

#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4PREPARENVVMKERNELS
#include "gemma4c/Target/CUDA/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct PrepareNVVMKernelsPass
    : mlir::gemma4::impl::Gemma4PrepareNVVMKernelsBase<PrepareNVVMKernelsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    Operation *root = getOperation();
    // Workgroup buffers: NVPTX's shared address space (3) in every memref
    // type, so the vector-to-LLVM conversion before convert-gpu-to-nvvm
    // knows it, and kWorkgroupAlignment-aligned (gemma4-align-vector-access
    // counted on it: a vector's ld.shared.v4 needs 16 bytes).
    root->walk([&](gpu::GPUFuncOp fn) {
      for (unsigned i = 0; i < fn.getNumWorkgroupAttributions(); ++i)
        fn.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                       IntegerAttr::get(IntegerType::get(ctx, 64),
                                                        mlir::gemma4::kWorkgroupAlignment));
    });
    {
      AttrTypeReplacer shared;
      shared.addReplacement([&](gpu::AddressSpaceAttr a) -> std::optional<Attribute> {
        if (a.getValue() != gpu::AddressSpace::Workgroup)
          return std::nullopt;
        return IntegerAttr::get(IntegerType::get(ctx, 64),
                                int64_t(NVVM::NVVMMemorySpace::Shared));
      });
      shared.recursivelyReplaceElementsIn(root, /*replaceAttrs=*/true, /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
    }
    {
      RewritePatternSet patterns(ctx);
      math::populateExpansionPatterns(patterns, {"powf", "sinh", "cosh", "tan"});
      populateMathF32ExpansionPatterns(patterns, [](StringRef) { return true; });
      populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
        return name != "math.rsqrt"; // LLVM's sqrt + division below: exact
      });
      populateGpuBreakDownSubgroupReducePatterns(patterns, /*maxShuffleBitwidth=*/32);
      populateGpuLowerSubgroupReduceToShufflePatterns(patterns, /*subgroupSize=*/32,
                                                      /*shuffleBitwidth=*/32);
      if (failed(applyPatternsGreedily(root, std::move(patterns))))
        return signalPassFailure();
    }
    // What is left: IEEE operations NVPTX has instructions for, as LLVM
    // intrinsic calls (convert-gpu-to-nvvm would make the llvm.intr.* forms
    // libdevice calls). rsqrt is 1 / sqrt, both correctly rounded.
    SmallVector<Operation *> left;
    root->walk([&](Operation *op) {
      if (isa<math::SqrtOp, math::RsqrtOp, math::AbsFOp, math::FmaOp, math::FloorOp,
              math::CeilOp, math::RoundEvenOp, math::TruncOp, math::CopySignOp>(op))
        left.push_back(op);
    });
    OpBuilder b(ctx);
    for (Operation *op : left) {
      Type t = op->getResult(0).getType();
      Type et = getElementTypeOrSelf(t);
      std::string suffix = et.isF32() ? "f32" : et.isF16() ? "f16" : et.isF64() ? "f64" : "";
      if (auto vt = dyn_cast<VectorType>(t))
        suffix = "v" + std::to_string(vt.getNumElements()) + suffix;
      if (!isa<FloatType>(et)) {
        op->emitOpError() << "gemma4-prepare-nvvm-kernels: unsupported type " << t;
        return signalPassFailure();
      }
      llvm::StringRef name = llvm::TypeSwitch<Operation *, llvm::StringRef>(op)
                                 .Case([](math::SqrtOp) { return "llvm.sqrt."; })
                                 .Case([](math::RsqrtOp) { return "llvm.sqrt."; })
                                 .Case([](math::AbsFOp) { return "llvm.fabs."; })
                                 .Case([](math::FmaOp) { return "llvm.fma."; })
                                 .Case([](math::FloorOp) { return "llvm.floor."; })
                                 .Case([](math::CeilOp) { return "llvm.ceil."; })
                                 .Case([](math::RoundEvenOp) { return "llvm.roundeven."; })
                                 .Case([](math::TruncOp) { return "llvm.trunc."; })
                                 .Case([](math::CopySignOp) { return "llvm.copysign."; });
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      Value r = LLVM::CallIntrinsicOp::create(b, loc, t, b.getStringAttr(name.str() + suffix),
                                              op->getOperands())
                    .getResult(0);
      if (isa<math::RsqrtOp>(op)) {
        TypedAttr one = b.getFloatAttr(et, 1.0);
        if (auto vt = dyn_cast<VectorType>(t))
          one = DenseElementsAttr::get(vt, one);
        r = arith::DivFOp::create(b, loc, arith::ConstantOp::create(b, loc, one), r);
      }
      op->getResult(0).replaceAllUsesWith(r);
      op->erase();
    }
    WalkResult r = root->walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect())) {
        op->emitOpError() << "has no NVVM lowering without libdevice in gemma4c";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

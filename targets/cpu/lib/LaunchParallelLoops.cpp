//===- LaunchParallelLoops.cpp - range functions -> gemma4rt_parallel_for --===//
#include "gemma4c/Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4LAUNCHPARALLELLOOPS
#include "gemma4c/Target/CPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct LaunchParallelLoopsPass
    : mlir::gemma4::impl::Gemma4LaunchParallelLoopsBase<LaunchParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto i64 = b.getI64Type();
    auto voidTy = LLVM::LLVMVoidType::get(ctx);

    SmallVector<LLVM::LLVMFuncOp> bodies;
    for (auto f : module.getOps<LLVM::LLVMFuncOp>())
      if (f.getName().contains("__par") && !f.getName().ends_with("__tramp"))
        bodies.push_back(f);
    if (bodies.empty())
      return;

    b.setInsertionPointToEnd(module.getBody());
    auto launchTy = LLVM::LLVMFunctionType::get(voidTy, {ptrTy, ptrTy, i64, i64});
    auto launch = module.lookupSymbol<LLVM::LLVMFuncOp>("gemma4rt_parallel_for");
    if (!launch)
      launch = LLVM::LLVMFuncOp::create(b, module.getLoc(), "gemma4rt_parallel_for", launchTy);

    llvm::StringMap<LLVM::LLVMFuncOp> tramps;
    for (LLVM::LLVMFuncOp body : bodies) {
      auto fty = body.getFunctionType();
      if (fty.getNumParams() < 2) {
        body.emitOpError() << "is not a range function";
        return signalPassFailure();
      }
      body.setLinkage(LLVM::Linkage::Internal);
      b.setInsertionPointAfter(body);
      auto tty = LLVM::LLVMFunctionType::get(voidTy, {ptrTy, i64, i64});
      auto tramp = LLVM::LLVMFuncOp::create(b, body.getLoc(), (body.getName() + "__tramp").str(),
                                            tty, LLVM::Linkage::Internal);
      Block *entry = tramp.addEntryBlock(b);
      b.setInsertionPointToStart(entry);
      SmallVector<Value> args{entry->getArgument(1), entry->getArgument(2)};
      for (unsigned i = 2; i < fty.getNumParams(); ++i) {
        Value slot = LLVM::GEPOp::create(b, body.getLoc(), ptrTy, i64, entry->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{(int32_t)(i - 2)});
        args.push_back(LLVM::LoadOp::create(b, body.getLoc(), fty.getParamType(i), slot));
      }
      LLVM::CallOp::create(b, body.getLoc(), body, args);
      LLVM::ReturnOp::create(b, body.getLoc(), ValueRange{});
      tramps[body.getName()] = tramp;
    }

    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      if (auto callee = call.getCallee(); callee && tramps.count(*callee) &&
                                          !call->getParentOfType<LLVM::LLVMFuncOp>().getName().ends_with("__tramp"))
        calls.push_back(call);
    });
    for (LLVM::CallOp call : calls) {
      Location loc = call.getLoc();
      auto fn = call->getParentOfType<LLVM::LLVMFuncOp>();
      unsigned nCaps = call.getNumOperands() - 2;
      // Context slots live in the caller's entry block (a static alloca).
      b.setInsertionPointToStart(&fn.getBody().front());
      Value count = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(std::max(1u, nCaps)));
      Value slots = LLVM::AllocaOp::create(b, loc, ptrTy, i64, count, 8);
      b.setInsertionPoint(call);
      for (unsigned i = 0; i < nCaps; ++i) {
        Value slot = LLVM::GEPOp::create(b, loc, ptrTy, i64, slots, ArrayRef<LLVM::GEPArg>{(int32_t)i});
        LLVM::StoreOp::create(b, loc, call.getOperand(2 + i), slot);
      }
      auto tramp = tramps[*call.getCallee()];
      Value fnPtr = LLVM::AddressOfOp::create(b, loc, ptrTy, tramp.getName());
      int64_t g = 1;
      if (auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(*call.getCallee()))
        if (auto attr = body->getAttrOfType<IntegerAttr>(mlir::gemma4::kGrainAttr))
          g = std::max<int64_t>(1, attr.getInt());
      Value grain = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(g));
      LLVM::CallOp::create(b, loc, launch, ValueRange{fnPtr, slots, call.getOperand(1), grain});
      call.erase();
    }
  }
};
} // namespace

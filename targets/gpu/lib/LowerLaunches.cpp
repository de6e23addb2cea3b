//===- LowerLaunches.cpp - gpu.launch_func -> gemma4rt_gpu_launch --------===//
//
// The host side of every GPU target: a launch is a call into the runtime's
// device layer (runtime/include/gemma4rt/abi.h), which owns the loaded
// kernels, the stream and the device memory. Each function gets one
// parameter buffer (each operand at its ABI alignment, as large as its
// largest launch needs) and one array of pointers into it: a launch stores
// its operands and their addresses and passes the pointer array, as
// cuLaunchKernel's kernelParams (the driver copies the parameters when the
// launch is queued, so the buffer is reused).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4LOWERGPULAUNCHES
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct LowerLaunchesPass : mlir::gemma4::impl::Gemma4LowerGPULaunchesBase<LowerLaunchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    auto names = module->getAttrOfType<ArrayAttr>("gemma4.gpu_kernels");
    if (!names) {
      module.emitError() << "gemma4-lower-gpu-launches: no gemma4.gpu_kernels attribute "
                            "(run gemma4-gather-gpu-kernels first)";
      return signalPassFailure();
    }
    llvm::StringMap<int32_t> index;
    for (auto [i, n] : llvm::enumerate(names))
      index[cast<StringAttr>(n).getValue()] = static_cast<int32_t>(i);

    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64), i32 = IntegerType::get(ctx, 32);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);
    b.setInsertionPointToStart(module.getBody());
    auto launchFnTy = LLVM::LLVMFunctionType::get(
        voidTy, {i32, i64, i64, i64, i64, i64, i64, i32, ptrTy});
    auto launchFn = module.lookupSymbol<LLVM::LLVMFuncOp>("gemma4rt_gpu_launch");
    if (!launchFn)
      launchFn = LLVM::LLVMFuncOp::create(b, module.getLoc(), "gemma4rt_gpu_launch", launchFnTy);

    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      if (fn.isExternal())
        continue;
      SmallVector<gpu::LaunchFuncOp> launches;
      fn.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
      if (launches.empty())
        continue;
      // Each operand's slot at its ABI alignment (vector parameters are
      // wider than 8 bytes); one buffer of the largest launch's size.
      DataLayout dl = DataLayout::closest(fn);
      size_t maxArgs = 1;
      uint64_t maxBytes = 8;
      auto layout = [&](gpu::LaunchFuncOp l) {
        SmallVector<uint64_t> offsets;
        uint64_t off = 0;
        for (Value v : l.getKernelOperands()) {
          uint64_t align = std::max<uint64_t>(1, dl.getTypeABIAlignment(v.getType()));
          off = (off + align - 1) / align * align;
          offsets.push_back(off);
          off += dl.getTypeSize(v.getType());
        }
        maxBytes = std::max(maxBytes, off);
        return offsets;
      };
      for (auto l : launches) {
        maxArgs = std::max<size_t>(maxArgs, l.getKernelOperands().size());
        layout(l);
      }
      Location loc = fn.getLoc();
      b.setInsertionPointToStart(&fn.getBody().front());
      Value one = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(1));
      auto i8 = IntegerType::get(ctx, 8);
      auto slotsTy = LLVM::LLVMArrayType::get(i8, maxBytes);
      auto ptrsTy = LLVM::LLVMArrayType::get(ptrTy, maxArgs);
      Value slots = LLVM::AllocaOp::create(b, loc, ptrTy, slotsTy, one, 64);
      Value ptrs = LLVM::AllocaOp::create(b, loc, ptrTy, ptrsTy, one, 16);
      for (gpu::LaunchFuncOp l : launches) {
        auto it = index.find(l.getKernelName().getValue());
        if (it == index.end()) {
          l.emitOpError() << "gemma4-lower-gpu-launches: kernel '" << l.getKernelName()
                          << "' is not in gemma4.gpu_kernels";
          return signalPassFailure();
        }
        SmallVector<uint64_t> offsets = layout(l);
        b.setInsertionPoint(l);
        Location lloc = l.getLoc();
        for (auto [i, v] : llvm::enumerate(l.getKernelOperands())) {
          Value slot = LLVM::GEPOp::create(b, lloc, ptrTy, slotsTy, slots,
                                           ArrayRef<LLVM::GEPArg>{0, (int32_t)offsets[i]});
          LLVM::StoreOp::create(b, lloc, v, slot,
                                /*alignment=*/dl.getTypeABIAlignment(v.getType()));
          Value at = LLVM::GEPOp::create(b, lloc, ptrTy, ptrsTy, ptrs,
                                         ArrayRef<LLVM::GEPArg>{0, (int32_t)i});
          LLVM::StoreOp::create(b, lloc, slot, at, /*alignment=*/8);
        }
        auto toI64 = [&](Value v) -> Value {
          if (v.getType() == i64)
            return v;
          if (isa<IndexType>(v.getType()))
            return UnrealizedConversionCastOp::create(b, lloc, i64, v).getResult(0);
          return LLVM::ZExtOp::create(b, lloc, i64, v);
        };
        Value smem = l.getDynamicSharedMemorySize();
        if (!smem)
          smem = LLVM::ConstantOp::create(b, lloc, i32, b.getI32IntegerAttr(0));
        Value k = LLVM::ConstantOp::create(b, lloc, i32, b.getI32IntegerAttr(it->second));
        LLVM::CallOp::create(b, lloc, launchFn,
                             ValueRange{k, toI64(l.getGridSizeX()), toI64(l.getGridSizeY()),
                                        toI64(l.getGridSizeZ()), toI64(l.getBlockSizeX()),
                                        toI64(l.getBlockSizeY()), toI64(l.getBlockSizeZ()), smem,
                                        ptrs});
        l.erase();
      }
    }
    // The serialized kernels go to the driver, which embeds them.
    SmallVector<Operation *> dead;
    SmallVector<NamedAttribute> objects;
    for (Operation &op : module.getBody()->getOperations()) {
      if (auto bin = dyn_cast<gpu::BinaryOp>(op)) {
        for (Attribute a : bin.getObjects()) {
          auto obj = cast<gpu::ObjectAttr>(a);
          objects.push_back(b.getNamedAttr(stringifyCompilationTarget(obj.getFormat()),
                                           obj.getObject()));
        }
        dead.push_back(&op);
      } else if (isa<gpu::GPUModuleOp>(op)) {
        dead.push_back(&op);
      }
    }
    for (Operation *op : dead)
      op->erase();
    module->setAttr("gemma4.gpu_objects", b.getDictionaryAttr(objects));
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};
} // namespace

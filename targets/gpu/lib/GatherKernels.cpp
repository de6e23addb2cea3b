//===- GatherKernels.cpp - every kernel in one gpu.module -----------------===//
#include "gemma4c/Target/GPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4GATHERGPUKERNELS
#include "gemma4c/Target/GPU/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct GatherKernelsPass : mlir::gemma4::impl::Gemma4GatherGPUKernelsBase<GatherKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    SmallVector<gpu::GPUModuleOp> old(module.getOps<gpu::GPUModuleOp>());
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto all = gpu::GPUModuleOp::create(b, module.getLoc(), "gemma4_kernels");
    SymbolTable table(all);
    SmallVector<Attribute> names;
    llvm::StringMap<std::string> seen;
    for (auto fn : module.getOps<func::FuncOp>()) {
      int n = 0;
      WalkResult r = fn.walk([&](gpu::LaunchFuncOp launch) {
        auto kmod = module.lookupSymbol<gpu::GPUModuleOp>(launch.getKernelModuleName());
        auto kfn = kmod ? kmod.lookupSymbol<gpu::GPUFuncOp>(launch.getKernelName()) : nullptr;
        if (!kfn) {
          launch.emitOpError() << "gemma4-gather-gpu-kernels: kernel not found";
          return WalkResult::interrupt();
        }
        // Kernels that differ only in name (a layer's, run again for the
        // next layer with other pointers) are one kernel.
        auto moved = cast<gpu::GPUFuncOp>(kfn->clone());
        moved.setName("k");
        std::string text;
        {
          llvm::raw_string_ostream os(text);
          moved->print(os, OpPrintingFlags().useLocalScope());
        }
        std::string name;
        if (auto it = seen.find(text); it != seen.end()) {
          name = it->second;
          moved->erase();
        } else {
          name = (fn.getName() + "_k" + Twine(n++)).str();
          moved.setName(name);
          table.insert(moved);
          names.push_back(b.getStringAttr(name));
          seen[text] = name;
        }
        launch.setKernelAttr(SymbolRefAttr::get(ctx, all.getName(),
                                                {FlatSymbolRefAttr::get(ctx, name)}));
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        return signalPassFailure();
    }
    for (auto m : old)
      m.erase();
    module->setAttr("gemma4.gpu_kernels", b.getArrayAttr(names));
  }
};
} // namespace

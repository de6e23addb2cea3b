//===- GridDependency.cpp - programmatic dependent launch for sm_90 -------===//
//
// See Passes.td (gemma4-cuda-grid-dependency).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Target/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::gemma4 {
#define GEN_PASS_DEF_GEMMA4CUDAGRIDDEPENDENCY
#include "gemma4c/Target/CUDA/Passes.h.inc"
} // namespace mlir::gemma4

using namespace mlir;

namespace {
struct GridDependencyPass
    : mlir::gemma4::impl::Gemma4CUDAGridDependencyBase<GridDependencyPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<gpu::GPUFuncOp>()) {
      if (!fn.isKernel() || fn.getBody().empty())
        continue;
      OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
      Location loc = fn.getLoc();
      NVVM::GriddepcontrolOp::create(b, loc, NVVM::GridDepActionKind::launch_dependents);
      NVVM::GriddepcontrolOp::create(b, loc, NVVM::GridDepActionKind::wait);
    }
  }
};
} // namespace

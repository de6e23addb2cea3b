//===- Pipeline.cpp - gemma4 -> NVVM kernels (PTX) + LLVM host code -------===//
#include "gemma4c/Target/CUDA/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

std::string mlir::gemma4::defaultPTXFeatures(llvm::StringRef chip) {
  // The oldest PTX ISA with the chip (CUDA 11.4 knows sm_87, 11.8 sm_89/90).
  int sm = 0;
  chip.drop_front(3).getAsInteger(10, sm);
  if (sm >= 100)
    return "+ptx86";
  if (sm >= 90)
    return "+ptx78";
  if (sm >= 87)
    return "+ptx74";
  return "+ptx70";
}

void mlir::gemma4::buildCUDALoweringPipeline(OpPassManager &pm, const CUDAPipelineOptions &opts) {
  registerCUDALoweringStrategy();
  buildGPUKernelPipeline(pm, opts.gpu);

  // Kernels: NVVM, then PTX.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  if (opts.gridDependency)
    kernels.addPass(createGemma4CUDAGridDependency());
  kernels.addPass(createGemma4PrepareNVVMKernels());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createConvertVectorToLLVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = opts.chip;
  target.features = opts.features.empty() ? defaultPTXFeatures(opts.chip) : opts.features;
  target.optLevel = opts.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  GpuModuleToBinaryPassOptions bin;
  bin.compilationTarget = "isa"; // PTX; the cubin is ptxas's (Toolkit.cpp)
  pm.addPass(createGpuModuleToBinaryPass(bin));

  // Host: as every GPU target's (targets/gpu).
  buildGPUHostPipeline(pm);
}

void mlir::gemma4::registerCUDACompilerInterfaces(DialectRegistry &registry) {
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

void mlir::gemma4::registerCUDAPipeline() {
  PassPipelineRegistration<>("gemma4-cuda-pipeline",
                             "lower a gemma4 module (after the graph passes) to PTX kernels and "
                             "LLVM-dialect host code (sm_90)",
                             [](OpPassManager &pm) { buildCUDALoweringPipeline(pm); });
}

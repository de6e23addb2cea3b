//===- gemma4c-opt.cpp - mlir-opt with the gemma4 dialect and passes ------===//
#include "gemma4/IR/Gemma4Dialect.h"
#include "gemma4c/Target/CPU/Passes.h"
#include "gemma4c/Target/CUDA/Passes.h"
#include "gemma4c/Target/GPU/Passes.h"
#include "gemma4c/Target/Vulkan/Passes.h"
#include "gemma4c/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::gemma4::registerVulkanCompilerInterfaces(registry);
  mlir::registerAllPasses();
  registry.insert<mlir::gemma4::Gemma4Dialect>();
  mlir::gemma4::registerGemma4Passes();
  mlir::gemma4::registerGemma4Pipelines();
  mlir::gemma4::registerGemma4CPUPasses();
  mlir::gemma4::registerCPUPipeline();
  mlir::gemma4::registerCPULoweringStrategy();
  mlir::gemma4::registerGemma4GPUPasses();
  mlir::gemma4::registerGPUPipeline();
  mlir::gemma4::registerGPULoweringStrategy();
  mlir::gemma4::registerGemma4CUDAPasses();
  mlir::gemma4::registerCUDAPipeline();
  mlir::gemma4::registerCUDALoweringStrategy();
  mlir::gemma4::registerGemma4VulkanPasses();
  mlir::gemma4::registerVulkanPipeline();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "gemma4c optimizer driver\n", registry));
}

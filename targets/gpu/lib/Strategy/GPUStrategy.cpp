//===- GPUStrategy.cpp - the "gpu" lowering strategy's registration -------===//
//
// Registers the GPU's LoweringStrategy as "gpu" (convert-gemma4-to-loops
// strategy=gpu, which buildGPUMappingPipeline uses). It takes no options:
// the cpu strategy's (int-dot, weight-prefetch, ...) are ignored.
//
//===----------------------------------------------------------------------===//
#include "GPUStrategy.h"

#include "gemma4c/Target/GPU/Passes.h"

#include <mutex>

using namespace mlir;
using namespace mlir::gemma4;

void mlir::gemma4::registerGPULoweringStrategy() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerLoweringStrategy("gpu", [](const StrategyOptions &, std::string &) -> std::unique_ptr<LoweringStrategy> {
      return std::make_unique<gpu::GPUStrategy>();
    });
  });
}

//===- Pipelines.cpp - named gemma4 pass pipelines ------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlir::gemma4::registerGemma4Pipelines() {
  PassPipelineRegistration<>(
      "gemma4-graph-pipeline",
      "target-neutral gemma4 graph rewrites (MoE dispatch, weight layout)",
      [](OpPassManager &pm) {
        pm.addPass(createGemma4MoEDispatch());
        pm.addPass(createGemma4LayoutWeights());
      });
}

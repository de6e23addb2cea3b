//===- Pipelines.cpp - the target-neutral gemma4 pass pipelines -----------===//
//
// The graph pipeline every target runs before its own lowering (the
// targets' pipelines live in targets/<name>/lib/Pipeline.cpp).
//
//===----------------------------------------------------------------------===//
#include "gemma4c/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlir::gemma4::buildGraphPipeline(OpPassManager &pm, const GraphPipelineOptions &opts) {
  pm.addPass(createGemma4MoEDispatch());
  if (opts.fuseAttention)
    pm.addPass(createGemma4FuseAttention());
  Gemma4QuantizeWeightsOptions q;
  q.schemeName = opts.quant;
  q.kPanel = opts.kPanel;
  q.rowTile = opts.rowTile;
  q.int4Interleave = opts.int4Interleave;
  pm.addPass(createGemma4QuantizeWeights(q));
  pm.addPass(createGemma4LayoutWeights());
}

void mlir::gemma4::registerGemma4Pipelines() {
  PassPipelineRegistration<>(
      "gemma4-graph-pipeline",
      "target-neutral gemma4 graph rewrites (MoE dispatch, attention fusion, weight "
      "quantization (bf16: none) and layout), as gemma4c compile runs them",
      [](OpPassManager &pm) { buildGraphPipeline(pm); });
}

//===- Passes.td - gemma4 passes ---------------------------*- tablegen -*-===//
#ifndef GEMMA4C_TRANSFORMS_PASSES
#define GEMMA4C_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4MoEDispatch : Pass<"gemma4-moe-dispatch", "ModuleOp"> {
  let summary = "split gemma4.moe into router (softmax/top-k/renormalise/"
                "per-expert scale) and selected-experts-only expert_ffn";
  let dependentDialects = ["::mlir::gemma4::Gemma4Dialect"];
}

def Gemma4LayoutWeights : Pass<"gemma4-layout-weights", "ModuleOp"> {
  let summary = "assign every gemma4.weight a byte offset in the weight blob";
  let description = [{
    Weights are laid out in first-use order, each aligned to `alignment`
    bytes, one entry per distinct tensor name. The total size is recorded
    on the module as `gemma4.weights_size`.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "byte alignment of each tensor in the blob">
  ];
}

#endif

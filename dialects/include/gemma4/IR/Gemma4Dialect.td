//===- Gemma4Dialect.td - gemma4 dialect definition --------*- tablegen -*-===//
//
// The gemma4 dialect models a Gemma 4 text decoder at the level of its
// building blocks (embedding, RMS norm, linear, RoPE, attention, GeGLU MLP,
// MoE, per-layer embeddings, logit soft-cap). Activations are ranked f32
// tensors whose leading dimension is the token block; weights are tensors of
// the checkpoint's dtype referenced symbolically by name (never inlined).
// The KV cache lives in a caller-provided byte arena and is addressed through
// memref views, the only side-effecting state.
//
//===----------------------------------------------------------------------===//

#ifndef GEMMA4_DIALECT
#define GEMMA4_DIALECT

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Gemma4_Dialect : Dialect {
  let name = "gemma4";
  let summary = "Gemma 4 text decoder building blocks";
  let description = [{
    Ops of the gemma4 dialect are target-neutral: the CPU, NVPTX and SPIR-V
    backends share them and the fusion passes that rewrite them, and differ
    only in the final lowering steps.
  }];
  let cppNamespace = "::mlir::gemma4";
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Gemma4_LayerType : I32EnumAttr<"LayerType", "attention layer type", [
    I32EnumAttrCase<"sliding", 0>,
    I32EnumAttrCase<"full", 1>
  ]> {
  let cppNamespace = "::mlir::gemma4";
  let genSpecializedAttr = 0;
}

def Gemma4_LayerTypeAttr : EnumAttr<Gemma4_Dialect, Gemma4_LayerType, "layer_type"> {
  let assemblyFormat = "`<` $value `>`";
}

def Gemma4_RopeAttr : AttrDef<Gemma4_Dialect, "Rope"> {
  let mnemonic = "rope";
  let summary = "rotary position embedding parameters";
  let description = [{
    `theta` is the RoPE base; `rotary_dims` is the number of leading
    frequency pairs that rotate (head_dim/2 for "default" RoPE,
    int(partial_rotary_factor * head_dim / 2) for "proportional"); the
    remaining pairs have zero frequency. Frequencies are
    theta^(-2i/head_dim) with the full head_dim in the exponent.
  }];
  let parameters = (ins "::mlir::FloatAttr":$theta, "int64_t":$rotary_dims);
  let assemblyFormat = "`<` `theta` `=` $theta `,` `rotary_dims` `=` $rotary_dims `>`";
  let genVerifyDecl = 1;
}

#endif // GEMMA4_DIALECT

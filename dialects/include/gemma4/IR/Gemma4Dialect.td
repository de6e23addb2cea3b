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

def Gemma4_QuantAttr : AttrDef<Gemma4_Dialect, "Quant"> {
  let mnemonic = "quant";
  let summary = "quantized-weight encoding of a weight tensor type";
  let description = [{
    Attached as the encoding of a weight tensor type whose element type is
    the quantized integer (i8 or i4) and whose shape is the logical
    [..., N, K] shape of the original weight:

    ```mlir
    tensor<256x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
    tensor<256x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
    ```

    Rows are quantized along K, the last (input-feature) dimension: `group`
    consecutive elements share a scale (`per_channel`: one scale per row).
    `sym`: w = q * s (int4 stores q + 8); `asym`: w = q * s + m with a
    per-group minimum m. The bytes (data, scales, mins) are packed at
    compile time in the layout of gemma4/IR/QuantLayout.h, which the loop
    lowering reads directly: no full-precision copy exists at run time.

    `panel = P` (interleaved int4 only) stores the weight as K/P panels of
    P input features each, panel-major, so a matrix-vector product streams
    one panel at a time against an activation slice that stays in L1:

    ```mlir
    tensor<1536x12288xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 3072>>
    ```

    `tile = T` (interleaved int4 only, without panels) stores each T rows
    as one stream of tile super-blocks holding their data, scales and mins
    side by side, so a matrix-vector step computing a tile's T rows reads
    one sequential stream:

    ```mlir
    tensor<2048x1536xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
    ```

    `plain` (int4 only, without panels or tiles) keeps the blocks in order
    where K would otherwise take the interleaved super-blocks of the CPU's
    8-lane integer dot products: a GPU's lanes each take whole blocks of a
    row (gemma4-quantize-weights int4-interleave=false):

    ```mlir
    tensor<2048x1536xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, plain>>
    ```
  }];
  let parameters = (ins "int64_t":$bits, "int64_t":$group_size,
                        "::mlir::Type":$scale_type, "bool":$symmetric,
                        DefaultValuedParameter<"int64_t", "0">:$panel,
                        DefaultValuedParameter<"int64_t", "0">:$tile,
                        DefaultValuedParameter<"bool", "false">:$plain);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The packing spec of QuantLayout.h, and the attribute of a spec.
    ::gemma4::quant::Spec getSpec() const;
    static QuantAttr get(::mlir::MLIRContext *ctx, const ::gemma4::quant::Spec &spec);
  }];
}

#endif // GEMMA4_DIALECT

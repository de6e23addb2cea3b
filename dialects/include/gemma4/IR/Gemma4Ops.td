//===- Gemma4Ops.td - gemma4 dialect ops -------------------*- tablegen -*-===//
//
// Shape conventions: S is the token block (dynamic in prefill, 1 in decode),
// H the hidden size, N/K output/input features, heads x head_dim for
// attention, E experts, L layers, P per-layer-input width.
//
//===----------------------------------------------------------------------===//

#ifndef GEMMA4_OPS
#define GEMMA4_OPS

include "gemma4/IR/Gemma4Dialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/OpBase.td"

class Gemma4_Op<string mnemonic, list<Trait> traits = []>
    : Op<Gemma4_Dialect, mnemonic, traits>;

def Gemma4_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Gemma4_F32Tensor : RankedTensorOf<[F32]>;
def Gemma4_IdTensor : RankedTensorOf<[I32]>;
def Gemma4_WeightTensor : RankedTensorOf<[F32, F16, BF16, I8, I<4>, I32, I64, UI8]>;
def Gemma4_ByteArena : MemRefRankOf<[I8], [1]>;
def Gemma4_Cache : MemRefRankOf<[F32, F16, BF16], [3]>;

//===----------------------------------------------------------------------===//
// Weights and state
//===----------------------------------------------------------------------===//

def Gemma4_WeightOp : Gemma4_Op<"weight", [Pure]> {
  let summary = "a checkpoint tensor, referenced by name";
  let description = [{
    Refers to the checkpoint tensor `name` without copying its data into the
    IR. The weight-layout step assigns `offset`, the byte offset of the
    tensor in the weight blob the compiled program maps at start-up.

    ```mlir
    %w = gemma4.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x64xbf16>
    ```

    After gemma4-quantize-weights a weight may be quantized: its type has
    the quantized element type and a `#gemma4.quant` encoding, and the blob
    holds the packed bytes derived from the checkpoint tensor `name`.

    ```mlir
    %w = gemma4.weight "model.layers.0.mlp.down_proj.weight"
           : tensor<64x256xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<I64Attr>:$offset);
  let results = (outs Gemma4_WeightTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Gemma4_KVCacheViewOp : Gemma4_Op<"kv_cache_view", [Pure]> {
  let summary = "a view of one layer's K or V cache in the KV arena";
  let description = [{
    Returns the [capacity, kv_heads, head_dim] cache that starts at byte
    `offset + offset_per_context * context` of `arena`. `capacity` is fixed
    for sliding-window layers (a ring buffer) or -1 for "context" (full
    attention layers). Positions map to rows modulo the capacity.

    With `base` (a batched decode entry, gemma4.batch_sequence), the view
    starts `base` bytes further: the cache of one sequence of the batch.
  }];
  let arguments = (ins Gemma4_ByteArena:$arena, Index:$context,
                       Optional<Index>:$base,
                       I64Attr:$capacity, I64Attr:$offset,
                       I64Attr:$offset_per_context);
  let results = (outs Gemma4_Cache:$result);
  let assemblyFormat = [{
    $arena `[` $context `]` (`base` $base^)? attr-dict `:` type($arena) `to` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

def Gemma4_EmbeddingLookupOp : Gemma4_Op<"embedding_lookup", [Pure]> {
  let summary = "gather embedding rows and scale them";
  let description = [{
    result[s, :] = f32(table[ids[s], :]) * scale. Ids outside the table are
    clamped by the runtime before they reach compiled code.
  }];
  let arguments = (ins Gemma4_WeightTensor:$table, Gemma4_IdTensor:$ids,
                       F32Attr:$scale);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_RMSNormOp : Gemma4_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalisation over the last dimension";
  let description = [{
    y = x * (mean(x^2) + epsilon)^(-1/2) * weight, computed in f32. Without
    `weight` the scale is omitted (Gemma 4's "RMSNorm without scale"). The
    weight multiplies directly (not 1 + w as in Gemma 1-3).
  }];
  let arguments = (ins Gemma4_F32Tensor:$input,
                       Optional<Gemma4_FloatTensor>:$weight, F32Attr:$epsilon);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input (`,` $weight^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_LinearOp : Gemma4_Op<"linear", [Pure]> {
  let summary = "y = x W^T with W in PyTorch [out, in] layout";
  let arguments = (ins Gemma4_F32Tensor:$input, Gemma4_WeightTensor:$weight);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_RopeOp : Gemma4_Op<"rope", [Pure]> {
  let summary = "rotary position embedding (rotate-half pairing)";
  let description = [{
    Rotates [S, heads, head_dim] at positions position_base + s. Pairs are
    (i, i + head_dim/2); pairs at or beyond `rope.rotary_dims` are left as is.
  }];
  let arguments = (ins Gemma4_F32Tensor:$input, Index:$position_base,
                       Gemma4_RopeAttr:$rope);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input `at` $position_base attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_KVCacheUpdateOp : Gemma4_Op<"kv_cache_update"> {
  let summary = "write a block of keys and values into a layer's cache";
  let arguments = (ins Gemma4_F32Tensor:$key, Gemma4_F32Tensor:$value,
                       Arg<Gemma4_Cache, "key cache", [MemWrite]>:$key_cache,
                       Arg<Gemma4_Cache, "value cache", [MemWrite]>:$value_cache,
                       Index:$position_base);
  let assemblyFormat = [{
    $key `,` $value `into` $key_cache `,` $value_cache `at` $position_base attr-dict
    `:` type($key) `,` type($value) `,` type($key_cache) `,` type($value_cache)
  }];
  let hasVerifier = 1;
}

def Gemma4_AttentionOp : Gemma4_Op<"attention"> {
  let summary = "causal (optionally sliding-window) GQA attention over a KV cache";
  let description = [{
    Query s (at position position_base + s) attends to cached keys at
    positions j <= position_base + s, and j > position_base + s -
    sliding_window when sliding_window > 0. Scores are scaled by `scale`
    (1.0 in Gemma 4: QK-norm replaces 1/sqrt(d)), softmax in f32. Query
    head h reads KV head h / (heads / kv_heads).
  }];
  let arguments = (ins Gemma4_F32Tensor:$query,
                       Arg<Gemma4_Cache, "key cache", [MemRead]>:$key_cache,
                       Arg<Gemma4_Cache, "value cache", [MemRead]>:$value_cache,
                       Index:$position_base, I64Attr:$sliding_window,
                       F32Attr:$scale);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key_cache `,` $value_cache `at` $position_base attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Gemma4_FusedAttentionOp : Gemma4_Op<"fused_attention", [AttrSizedOperandSegments]> {
  let summary = "QK-norm + RoPE + KV-cache write + flash attention in one op";
  let description = [{
    Produced by the attention-fusion pass. Takes the raw projections
    q [S, heads, d] and, unless the layer reuses another layer's KV
    (KV-shared layers), k and v [S, kv_heads, d]. Applies q_norm/k_norm
    (RMS norm over d), RoPE, the scale-free RMS norm of v, writes k and v
    into the caches and computes attention with an online softmax (no
    S x S score matrix).
  }];
  let arguments = (ins Gemma4_F32Tensor:$query,
                       Optional<Gemma4_F32Tensor>:$key,
                       Optional<Gemma4_F32Tensor>:$value,
                       Gemma4_FloatTensor:$query_norm,
                       Optional<Gemma4_FloatTensor>:$key_norm,
                       Arg<Gemma4_Cache, "key cache", [MemRead, MemWrite]>:$key_cache,
                       Arg<Gemma4_Cache, "value cache", [MemRead, MemWrite]>:$value_cache,
                       Index:$position_base,
                       Gemma4_LayerTypeAttr:$layer_type, Gemma4_RopeAttr:$rope,
                       I64Attr:$sliding_window, F32Attr:$scale, F32Attr:$epsilon);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = [{
    `q` `(` $query `:` type($query) `)`
    (`k` `(` $key^ `:` type($key) `)`)?
    (`v` `(` $value^ `:` type($value) `)`)?
    `q_norm` `(` $query_norm `:` type($query_norm) `)`
    (`k_norm` `(` $key_norm^ `:` type($key_norm) `)`)?
    `cache` `(` $key_cache `,` $value_cache `:` type($key_cache) `,` type($value_cache) `)`
    `at` $position_base attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
}

def Gemma4_GeluMulOp : Gemma4_Op<"gelu_mul", [Pure, AllTypesMatch<["gate", "up", "result"]>]> {
  let summary = "gelu_tanh(gate) * up, elementwise";
  let arguments = (ins Gemma4_F32Tensor:$gate, Gemma4_F32Tensor:$up);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Gemma4_MLPOp : Gemma4_Op<"mlp", [Pure]> {
  let summary = "GeGLU MLP: W_down(gelu_tanh(W_gate x) * W_up x)";
  let arguments = (ins Gemma4_F32Tensor:$input, Gemma4_WeightTensor:$gate_weight,
                       Gemma4_WeightTensor:$up_weight, Gemma4_WeightTensor:$down_weight);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gate_weight `,` $up_weight `,` $down_weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_MoEOp : Gemma4_Op<"moe", [Pure]> {
  let summary = "mixture-of-experts block (router + top-k GeGLU experts)";
  let description = [{
    Router: z = rms_norm(router_input) * router_scale * hidden^-1/2;
    probs = softmax(W_router z); top-k, renormalised, times
    per_expert_scale. Each selected expert e computes
    W_down[e](gelu_tanh(g) * u) with [g; u] = W_gate_up[e] expert_input.
    The MoE-dispatch pass splits this op into gemma4.router and
    gemma4.expert_ffn.
  }];
  let arguments = (ins Gemma4_F32Tensor:$router_input, Gemma4_F32Tensor:$expert_input,
                       Gemma4_WeightTensor:$router_weight, Gemma4_WeightTensor:$router_scale,
                       Gemma4_WeightTensor:$per_expert_scale,
                       Gemma4_WeightTensor:$gate_up_weight, Gemma4_WeightTensor:$down_weight,
                       I64Attr:$top_k, F32Attr:$epsilon);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = [{
    $router_input `,` $expert_input `,` $router_weight `,` $router_scale `,`
    $per_expert_scale `,` $gate_up_weight `,` $down_weight attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Gemma4_RouterOp : Gemma4_Op<"router", [Pure]> {
  let summary = "MoE router: softmax, top-k, renormalise, per-expert scale";
  let arguments = (ins Gemma4_F32Tensor:$input, Gemma4_WeightTensor:$router_weight,
                       Gemma4_WeightTensor:$router_scale,
                       Gemma4_WeightTensor:$per_expert_scale,
                       I64Attr:$top_k, F32Attr:$epsilon);
  let results = (outs Gemma4_IdTensor:$experts, Gemma4_F32Tensor:$weights);
  let assemblyFormat = [{
    $input `,` $router_weight `,` $router_scale `,` $per_expert_scale attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Gemma4_ExpertFFNOp : Gemma4_Op<"expert_ffn", [Pure]> {
  let summary = "run only the selected experts and scatter-add their outputs";
  let arguments = (ins Gemma4_F32Tensor:$input, Gemma4_IdTensor:$experts,
                       Gemma4_F32Tensor:$weights,
                       Gemma4_WeightTensor:$gate_up_weight, Gemma4_WeightTensor:$down_weight);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $experts `,` $weights `,` $gate_up_weight `,` $down_weight attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Gemma4_PerLayerInputsOp : Gemma4_Op<"per_layer_inputs", [Pure]> {
  let summary = "per-layer embeddings (PLE) for all layers at once";
  let description = [{
    tok = f32(table[ids]) * table_scale reshaped [S, L, P];
    ctx = rms_norm_P((W_proj h) * projection_scale; norm_weight) reshaped [S, L, P];
    result = (ctx + tok) * 2^-1/2.
  }];
  let arguments = (ins Gemma4_IdTensor:$ids, Gemma4_F32Tensor:$hidden,
                       Gemma4_WeightTensor:$table, Gemma4_WeightTensor:$projection_weight,
                       Gemma4_FloatTensor:$norm_weight,
                       F32Attr:$table_scale, F32Attr:$projection_scale, F32Attr:$epsilon);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = [{
    $ids `,` $hidden `,` $table `,` $projection_weight `,` $norm_weight attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Gemma4_LayerSliceOp : Gemma4_Op<"layer_slice", [Pure]> {
  let summary = "take layer `layer` of a [S, L, P] per-layer input";
  let arguments = (ins Gemma4_F32Tensor:$input, I64Attr:$layer);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input `[` $layer `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_OutputRowsOp : Gemma4_Op<"output_rows", [Pure]> {
  let summary = "the last rows of a [S, N] block whose logits the caller asked for";
  let description = [{
    The last `rows` token rows of `input`, where `rows` (1 <= rows <= S) is
    the row count of the entry point's logits buffer, chosen by the caller
    on each call: a prefill that only samples from its last token asks for
    one row, `--dump-logits` for all of them. Only what follows it (the
    final norm, the output projection, soft-capping) runs on fewer rows, so
    a prefill call does not project every token onto the vocabulary.
    Valid in a prefill entry point (dynamic token count); the lowering
    makes it a view of the input's last rows, no copy.
  }];
  let arguments = (ins Gemma4_F32Tensor:$input);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_AddOp : Gemma4_Op<"add", [Pure, Commutative, AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "elementwise addition (residual connections)";
  let arguments = (ins Gemma4_F32Tensor:$lhs, Gemma4_F32Tensor:$rhs);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Gemma4_ScaleOp : Gemma4_Op<"scale", [Pure]> {
  let summary = "multiply by a constant and, optionally, a stored scalar";
  let description = [{
    result = input * factor * f32(scalar[0]). Used for layer_scalar.
  }];
  let arguments = (ins Gemma4_F32Tensor:$input, Optional<Gemma4_FloatTensor>:$scalar,
                       F32Attr:$factor);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input (`,` $scalar^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Gemma4_ReshapeOp : Gemma4_Op<"reshape", [Pure]> {
  let summary = "reshape keeping the leading (token) dimension";
  let arguments = (ins Gemma4_F32Tensor:$input);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Gemma4_SoftcapOp : Gemma4_Op<"softcap", [Pure, SameOperandsAndResultType]> {
  let summary = "final logit soft-capping: cap * tanh(x / cap)";
  let arguments = (ins Gemma4_F32Tensor:$input, F32Attr:$cap);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Batched decoding (@gemma4_decode_batch)
//===----------------------------------------------------------------------===//

def Gemma4_BatchIdsOp : Gemma4_Op<"batch_ids", [Pure]> {
  let summary = "the token ids of a batched decode call";
  let description = [{
    A batched decode entry (@gemma4_decode_batch, B sequences) takes 3 * B
    int32: B token ids, then the B sequences' positions, then the B
    sequences' slots (which KV region of the arena each one uses). This
    is the first part, [B].
  }];
  let arguments = (ins Gemma4_IdTensor:$packed);
  let results = (outs Gemma4_IdTensor:$result);
  let assemblyFormat = "$packed attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_BatchSequenceOp : Gemma4_Op<"batch_sequence", [Pure]> {
  let summary = "the position and KV region of one sequence of a batched decode call";
  let description = [{
    For row `row` of a batched decode call's packed ids (gemma4.batch_ids):
    `position`, that sequence's position (packed[B + row]), and `base`, the
    byte offset of its KV region in the arena: slot * stride with slot =
    packed[2 B + row] and stride = kv_bytes_fixed + kv_bytes_per_context *
    context rounded up to 64 KiB (a page on every CPU target, so the
    runtime can hand one slot's pages back without touching another's).
  }];
  let arguments = (ins Gemma4_IdTensor:$packed, Index:$context, I64Attr:$row,
                       I64Attr:$kv_bytes_fixed, I64Attr:$kv_bytes_per_context);
  let results = (outs Index:$position, Index:$base);
  let assemblyFormat = [{
    $packed `[` $row `]` `,` $context attr-dict `:` type($packed)
  }];
  let hasVerifier = 1;
}

def Gemma4_TakeRowOp : Gemma4_Op<"take_row", [Pure]> {
  let summary = "token row `row` of a [B, ...] block, as a [1, ...] block";
  let description = [{
    A batched decode entry runs every weight product on all B tokens at
    once and each token's attention on its own sequence: this takes one
    token's row for that.
  }];
  let arguments = (ins Gemma4_F32Tensor:$input, I64Attr:$row);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$input `[` $row `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Gemma4_StackRowsOp : Gemma4_Op<"stack_rows", [Pure]> {
  let summary = "B one-token blocks [1, ...] stacked into [B, ...]";
  let arguments = (ins Variadic<Gemma4_F32Tensor>:$inputs);
  let results = (outs Gemma4_F32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // GEMMA4_OPS

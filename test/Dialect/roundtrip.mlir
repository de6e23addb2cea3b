// Every gemma4 op and attribute survives print -> parse -> print, both in the
// custom assembly form and through the generic form.
//
// RUN: gemma4c-opt %s -split-input-file | gemma4c-opt -split-input-file | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file --mlir-print-op-generic | gemma4c-opt -split-input-file | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
//
// Shapes follow Gemma 4 E2B (hidden 1536, 8 query heads over 1 KV head,
// head_dim 256 on sliding layers and 512 on full ones, sliding window 512,
// PLE width 256 over 35 layers, vocabulary 262144) and 26B-A4B for the MoE
// block (hidden 2816, 128 experts, top-8, expert intermediate 704). The token
// dimension is dynamic (prefill) unless a test is about decode.

// CHECK-LABEL: func.func @weight
// CHECK: gemma4.weight "model.language_model.layers.0.self_attn.q_proj.weight" : tensor<2048x1536xbf16>
// CHECK: gemma4.weight "model.language_model.layers.0.self_attn.q_norm.weight" {offset = 6291456 : i64} : tensor<256xbf16>
// CHECK: gemma4.weight "model.language_model.layers.0.layer_scalar" {offset = 0 : i64} : tensor<1xbf16>
// CHECK: gemma4.weight "model.language_model.norm.weight" : tensor<1536xf32>
// CHECK: gemma4.weight "lm_head.weight" : tensor<262144x1536xf16>
// GENERIC-LABEL: sym_name = "weight"
// GENERIC: "gemma4.weight"() <{name = "model.language_model.layers.0.self_attn.q_proj.weight"}> : () -> tensor<2048x1536xbf16>
// GENERIC: "gemma4.weight"() <{name = "model.language_model.layers.0.self_attn.q_norm.weight", offset = 6291456 : i64}> : () -> tensor<256xbf16>
func.func @weight() -> (tensor<2048x1536xbf16>, tensor<256xbf16>, tensor<1xbf16>, tensor<1536xf32>, tensor<262144x1536xf16>) {
  %q = gemma4.weight "model.language_model.layers.0.self_attn.q_proj.weight" : tensor<2048x1536xbf16>
  %n = gemma4.weight "model.language_model.layers.0.self_attn.q_norm.weight" {offset = 6291456 : i64} : tensor<256xbf16>
  %s = gemma4.weight "model.language_model.layers.0.layer_scalar" {offset = 0 : i64} : tensor<1xbf16>
  %f = gemma4.weight "model.language_model.norm.weight" : tensor<1536xf32>
  %h = gemma4.weight "lm_head.weight" : tensor<262144x1536xf16>
  return %q, %n, %s, %f, %h : tensor<2048x1536xbf16>, tensor<256xbf16>, tensor<1xbf16>, tensor<1536xf32>, tensor<262144x1536xf16>
}

// -----

// A sliding layer's ring buffer (window 512 + prefill chunk 16 rows) and a
// full layer's cache that grows with the context.
// CHECK-LABEL: func.func @kv_cache_view
// CHECK-SAME: (%[[ARENA:[^:]+]]: memref<?xi8>, %[[CTX:[^:]+]]: index)
// CHECK: gemma4.kv_cache_view %[[ARENA]][%[[CTX]]] {capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
// CHECK: gemma4.kv_cache_view %[[ARENA]][%[[CTX]]] {capacity = -1 : i64, offset = 1081344 : i64, offset_per_context = 4096 : i64} : memref<?xi8> to memref<?x1x512xf32>
// CHECK: gemma4.kv_cache_view %[[ARENA]][%[[CTX]]] {capacity = 1024 : i64, offset = 64 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<1024x8x256xbf16>
// GENERIC-LABEL: sym_name = "kv_cache_view"
// GENERIC: "gemma4.kv_cache_view"(%{{.*}}, %{{.*}}) <{capacity = -1 : i64, offset = 1081344 : i64, offset_per_context = 4096 : i64}> : (memref<?xi8>, index) -> memref<?x1x512xf32>
func.func @kv_cache_view(%arena: memref<?xi8>, %ctx: index) -> (memref<528x1x256xf32>, memref<?x1x512xf32>, memref<1024x8x256xbf16>) {
  %s = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
  %f = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 1081344 : i64, offset_per_context = 4096 : i64} : memref<?xi8> to memref<?x1x512xf32>
  %b = gemma4.kv_cache_view %arena[%ctx] {capacity = 1024 : i64, offset = 64 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<1024x8x256xbf16>
  return %s, %f, %b : memref<528x1x256xf32>, memref<?x1x512xf32>, memref<1024x8x256xbf16>
}

// -----

// A batched decode entry: the packed ids (tokens, positions, slots), one
// sequence's position and KV region, its caches at that base, one row of a
// block and the rows stacked back.
// CHECK-LABEL: func.func @decode_batch
// CHECK: %[[IDS:.*]] = gemma4.batch_ids %{{.*}} : (tensor<6xi32>) -> tensor<2xi32>
// CHECK: %[[POS:.*]], %[[BASE:.*]] = gemma4.batch_sequence %{{.*}}[1], %{{.*}} {kv_bytes_fixed = 4096 : i64, kv_bytes_per_context = 128 : i64} : tensor<6xi32>
// CHECK: gemma4.kv_cache_view %{{.*}}[%{{.*}}] base %[[BASE]] {capacity = -1 : i64, offset = 4096 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x16xf32>
// CHECK: %[[R:.*]] = gemma4.take_row %{{.*}}[1] : (tensor<2x4x16xf32>) -> tensor<1x4x16xf32>
// CHECK: gemma4.stack_rows %[[R]], %[[R]] : (tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> tensor<2x4x16xf32>
// GENERIC-LABEL: sym_name = "decode_batch"
// GENERIC: "gemma4.batch_sequence"(%{{.*}}, %{{.*}}) <{kv_bytes_fixed = 4096 : i64, kv_bytes_per_context = 128 : i64, row = 1 : i64}> : (tensor<6xi32>, index) -> (index, index)
// GENERIC: "gemma4.kv_cache_view"(%{{.*}}, %{{.*}}, %{{.*}}) <{capacity = -1 : i64, offset = 4096 : i64, offset_per_context = 0 : i64}> : (memref<?xi8>, index, index) -> memref<?x1x16xf32>
func.func @decode_batch(%packed: tensor<6xi32>, %arena: memref<?xi8>, %ctx: index, %x: tensor<2x4x16xf32>) -> (tensor<2xi32>, index, memref<?x1x16xf32>, tensor<2x4x16xf32>) {
  %ids = gemma4.batch_ids %packed : (tensor<6xi32>) -> tensor<2xi32>
  %pos, %base = gemma4.batch_sequence %packed[1], %ctx {kv_bytes_fixed = 4096 : i64, kv_bytes_per_context = 128 : i64} : tensor<6xi32>
  %k = gemma4.kv_cache_view %arena[%ctx] base %base {capacity = -1 : i64, offset = 4096 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x16xf32>
  %r = gemma4.take_row %x[1] : (tensor<2x4x16xf32>) -> tensor<1x4x16xf32>
  %s = gemma4.stack_rows %r, %r : (tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> tensor<2x4x16xf32>
  return %ids, %pos, %k, %s : tensor<2xi32>, index, memref<?x1x16xf32>, tensor<2x4x16xf32>
}

// -----

// h = E[ids] * bf16(sqrt(1536)) = 39.25.
// CHECK-LABEL: func.func @embedding_lookup
// CHECK-SAME: (%[[IDS:[^:]+]]: tensor<?xi32>, %[[ONE:[^:]+]]: tensor<1xi32>)
// CHECK: %[[E:.+]] = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
// CHECK: gemma4.embedding_lookup %[[E]][%[[IDS]]] {scale = 3.925000e+01 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
// CHECK: gemma4.embedding_lookup %[[E]][%[[ONE]]] {scale = 1.000000e+00 : f32} : (tensor<262144x1536xbf16>, tensor<1xi32>) -> tensor<1x1536xf32>
// GENERIC-LABEL: sym_name = "embedding_lookup"
// GENERIC: "gemma4.embedding_lookup"(%{{.*}}, %{{.*}}) <{scale = 3.925000e+01 : f32}> : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
func.func @embedding_lookup(%ids: tensor<?xi32>, %one: tensor<1xi32>) -> (tensor<?x1536xf32>, tensor<1x1536xf32>) {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  %d = gemma4.embedding_lookup %e[%one] {scale = 1.0 : f32} : (tensor<262144x1536xbf16>, tensor<1xi32>) -> tensor<1x1536xf32>
  return %h, %d : tensor<?x1536xf32>, tensor<1x1536xf32>
}

// -----

// With a weight (input_layernorm, q_norm) and without one (the scale-free
// norm of v).
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x1536xf32>, %[[Q:[^:]+]]: tensor<?x8x256xf32>, %[[V:[^:]+]]: tensor<?x1x256xf32>)
// CHECK: %[[W:.+]] = gemma4.weight "layers.0.input_layernorm.weight" : tensor<1536xbf16>
// CHECK: %[[QN:.+]] = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<256xf32>
// CHECK: gemma4.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x1536xf32>, tensor<1536xbf16>) -> tensor<?x1536xf32>
// CHECK: gemma4.rms_norm %[[Q]], %[[QN]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x8x256xf32>, tensor<256xf32>) -> tensor<?x8x256xf32>
// CHECK: gemma4.rms_norm %[[V]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x1x256xf32>) -> tensor<?x1x256xf32>
// GENERIC-LABEL: sym_name = "rms_norm"
// GENERIC: "gemma4.rms_norm"(%{{[^,]*}}, %{{[^,]*}}) <{epsilon = 9.99999997E-7 : f32}> : (tensor<?x1536xf32>, tensor<1536xbf16>) -> tensor<?x1536xf32>
// GENERIC: "gemma4.rms_norm"(%{{[^,]*}}, %{{[^,]*}}) <{epsilon = 9.99999997E-7 : f32}> : (tensor<?x8x256xf32>, tensor<256xf32>) -> tensor<?x8x256xf32>
// GENERIC: "gemma4.rms_norm"(%{{[^,]*}}) <{epsilon = 9.99999997E-7 : f32}> : (tensor<?x1x256xf32>) -> tensor<?x1x256xf32>
func.func @rms_norm(%x: tensor<?x1536xf32>, %q: tensor<?x8x256xf32>, %v: tensor<?x1x256xf32>) -> (tensor<?x1536xf32>, tensor<?x8x256xf32>, tensor<?x1x256xf32>) {
  %w = gemma4.weight "layers.0.input_layernorm.weight" : tensor<1536xbf16>
  %qn = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<256xf32>
  %y = gemma4.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x1536xf32>, tensor<1536xbf16>) -> tensor<?x1536xf32>
  %qy = gemma4.rms_norm %q, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x8x256xf32>, tensor<256xf32>) -> tensor<?x8x256xf32>
  %vy = gemma4.rms_norm %v {epsilon = 1.0e-6 : f32} : (tensor<?x1x256xf32>) -> tensor<?x1x256xf32>
  return %y, %qy, %vy : tensor<?x1536xf32>, tensor<?x8x256xf32>, tensor<?x1x256xf32>
}

// -----

// q_proj is [heads * head_dim, hidden] = [2048, 1536] (PyTorch layout).
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x1536xf32>, %[[T:[^:]+]]: tensor<1x1536xf32>)
// CHECK: %[[W:.+]] = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<2048x1536xbf16>
// CHECK: gemma4.linear %[[X]], %[[W]] : (tensor<?x1536xf32>, tensor<2048x1536xbf16>) -> tensor<?x2048xf32>
// CHECK: gemma4.linear %[[T]], %[[W]] : (tensor<1x1536xf32>, tensor<2048x1536xbf16>) -> tensor<1x2048xf32>
func.func @linear(%x: tensor<?x1536xf32>, %t: tensor<1x1536xf32>) -> (tensor<?x2048xf32>, tensor<1x2048xf32>) {
  %w = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<2048x1536xbf16>
  %y = gemma4.linear %x, %w : (tensor<?x1536xf32>, tensor<2048x1536xbf16>) -> tensor<?x2048xf32>
  %d = gemma4.linear %t, %w : (tensor<1x1536xf32>, tensor<2048x1536xbf16>) -> tensor<1x2048xf32>
  return %y, %d : tensor<?x2048xf32>, tensor<1x2048xf32>
}

// -----

// Sliding layers: default RoPE, theta 10000, all 128 pairs rotate.
// Full layers: proportional RoPE, theta 1e6, 0.25 * 512 / 2 = 64 pairs.
// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x256xf32>, %[[G:[^:]+]]: tensor<?x8x512xf32>, %[[POS:[^:]+]]: index)
// CHECK: gemma4.rope %[[Q]] at %[[POS]] {rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 128>} : (tensor<?x8x256xf32>, index) -> tensor<?x8x256xf32>
// CHECK: gemma4.rope %[[G]] at %[[POS]] {rope = #gemma4.rope<theta = 1.000000e+06 : f64, rotary_dims = 64>} : (tensor<?x8x512xf32>, index) -> tensor<?x8x512xf32>
// CHECK: gemma4.rope %[[G]] at %[[POS]] {rope = #gemma4.rope<theta = 1.000000e+06 : f32, rotary_dims = 0>} : (tensor<?x8x512xf32>, index) -> tensor<?x8x512xf32>
// GENERIC-LABEL: sym_name = "rope"
// GENERIC: "gemma4.rope"(%{{.*}}, %{{.*}}) <{rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 128>}> : (tensor<?x8x256xf32>, index) -> tensor<?x8x256xf32>
func.func @rope(%q: tensor<?x8x256xf32>, %g: tensor<?x8x512xf32>, %pos: index) -> (tensor<?x8x256xf32>, tensor<?x8x512xf32>, tensor<?x8x512xf32>) {
  %a = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>} : (tensor<?x8x256xf32>, index) -> tensor<?x8x256xf32>
  %b = gemma4.rope %g at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 64>} : (tensor<?x8x512xf32>, index) -> tensor<?x8x512xf32>
  // rotary_dims = 0: no pair rotates (edge case the verifier accepts).
  %c = gemma4.rope %g at %pos {rope = #gemma4.rope<theta = 1.0e6 : f32, rotary_dims = 0>} : (tensor<?x8x512xf32>, index) -> tensor<?x8x512xf32>
  return %a, %b, %c : tensor<?x8x256xf32>, tensor<?x8x512xf32>, tensor<?x8x512xf32>
}

// -----

// Both attributes on their own, outside any op that requires them.
// CHECK-LABEL: func.func @attributes
// CHECK-SAME: gemma4.full = #gemma4.layer_type<full>
// CHECK-SAME: gemma4.rope = #gemma4.rope<theta = 1.000000e+06 : f64, rotary_dims = 64>
// CHECK-SAME: gemma4.sliding = #gemma4.layer_type<sliding>
func.func @attributes() attributes {
    gemma4.sliding = #gemma4.layer_type<sliding>,
    gemma4.full = #gemma4.layer_type<full>,
    gemma4.rope = #gemma4.rope<theta = 1000000.0, rotary_dims = 64>} {
  return
}

// -----

// CHECK-LABEL: func.func @kv_cache_update
// CHECK-SAME: (%[[K:[^:]+]]: tensor<?x1x256xf32>, %[[V:[^:]+]]: tensor<?x1x256xf32>, %[[KC:[^:]+]]: memref<528x1x256xf32>, %[[VC:[^:]+]]: memref<528x1x256xf32>, %[[POS:[^:]+]]: index)
// CHECK: gemma4.kv_cache_update %[[K]], %[[V]] into %[[KC]], %[[VC]] at %[[POS]] : tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
// CHECK: gemma4.kv_cache_update %[[K]], %[[K]] into %[[KC]], %[[VC]] at %[[POS]] : tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
// GENERIC-LABEL: sym_name = "kv_cache_update"
// GENERIC: "gemma4.kv_cache_update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> ()
func.func @kv_cache_update(%k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  // attention_k_eq_v: the value is the key projection.
  gemma4.kv_cache_update %k, %k into %kc, %vc at %pos : tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// A sliding layer (window 512 over a 528-row ring) and a full layer in decode
// (one token, a context-sized cache).
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x256xf32>, %[[KC:[^:]+]]: memref<528x1x256xf32>, %[[VC:[^:]+]]: memref<528x1x256xf32>, %[[D:[^:]+]]: tensor<1x8x512xf32>, %[[GK:[^:]+]]: memref<?x1x512xf32>, %[[GV:[^:]+]]: memref<?x1x512xf32>, %[[POS:[^:]+]]: index)
// CHECK: gemma4.attention %[[Q]], %[[KC]], %[[VC]] at %[[POS]] {scale = 1.000000e+00 : f32, sliding_window = 512 : i64} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
// CHECK: gemma4.attention %[[D]], %[[GK]], %[[GV]] at %[[POS]] {scale = 1.000000e+00 : f32, sliding_window = 0 : i64} : (tensor<1x8x512xf32>, memref<?x1x512xf32>, memref<?x1x512xf32>, index) -> tensor<1x8x512xf32>
// GENERIC-LABEL: sym_name = "attention"
// GENERIC: "gemma4.attention"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{scale = 1.000000e+00 : f32, sliding_window = 512 : i64}> : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
func.func @attention(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>,
                     %d: tensor<1x8x512xf32>, %gk: memref<?x1x512xf32>, %gv: memref<?x1x512xf32>,
                     %pos: index) -> (tensor<?x8x256xf32>, tensor<1x8x512xf32>) {
  %s = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
  %f = gemma4.attention %d, %gk, %gv at %pos {sliding_window = 0 : i64, scale = 1.0 : f32} : (tensor<1x8x512xf32>, memref<?x1x512xf32>, memref<?x1x512xf32>, index) -> tensor<1x8x512xf32>
  return %s, %f : tensor<?x8x256xf32>, tensor<1x8x512xf32>
}

// -----

// A sliding layer that computes its own K/V (26B-A4B: 16 heads over 8 KV
// heads), and a KV-shared full layer (E2B) that only reads another layer's
// cache: no k, v or k_norm.
// CHECK-LABEL: func.func @fused_attention
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x16x256xf32>, %[[K:[^:]+]]: tensor<?x8x256xf32>, %[[V:[^:]+]]: tensor<?x8x256xf32>, %[[KC:[^:]+]]: memref<1040x8x256xbf16>, %[[VC:[^:]+]]: memref<1040x8x256xbf16>, %[[G:[^:]+]]: tensor<?x8x512xf32>, %[[GK:[^:]+]]: memref<?x1x512xf32>, %[[GV:[^:]+]]: memref<?x1x512xf32>, %[[POS:[^:]+]]: index)
// CHECK: %[[QN:.+]] = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<256xbf16>
// CHECK: %[[KN:.+]] = gemma4.weight "layers.0.self_attn.k_norm.weight" : tensor<256xbf16>
// CHECK: %[[GN:.+]] = gemma4.weight "layers.34.self_attn.q_norm.weight" : tensor<512xbf16>
// CHECK: gemma4.fused_attention q(%[[Q]] : tensor<?x16x256xf32>) k(%[[K]] : tensor<?x8x256xf32>) v(%[[V]] : tensor<?x8x256xf32>) q_norm(%[[QN]] : tensor<256xbf16>) k_norm(%[[KN]] : tensor<256xbf16>) cache(%[[KC]], %[[VC]] : memref<1040x8x256xbf16>, memref<1040x8x256xbf16>) at %[[POS]]
// CHECK-SAME: {epsilon = 9.99999997E-7 : f32, layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 128>, scale = 1.000000e+00 : f32, sliding_window = 1024 : i64} -> tensor<?x16x256xf32>
// CHECK: gemma4.fused_attention q(%[[G]] : tensor<?x8x512xf32>) q_norm(%[[GN]] : tensor<512xbf16>) cache(%[[GK]], %[[GV]] : memref<?x1x512xf32>, memref<?x1x512xf32>) at %[[POS]]
// CHECK-SAME: {epsilon = 9.99999997E-7 : f32, layer_type = #gemma4.layer_type<full>, rope = #gemma4.rope<theta = 1.000000e+06 : f64, rotary_dims = 64>, scale = 1.000000e+00 : f32, sliding_window = 0 : i64} -> tensor<?x8x512xf32>
// GENERIC-LABEL: sym_name = "fused_attention"
// GENERIC: "gemma4.fused_attention"({{.*}}) <{{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1>{{.*}}}>
// GENERIC: "gemma4.fused_attention"({{.*}}) <{{{.*}}operandSegmentSizes = array<i32: 1, 0, 0, 1, 0, 1, 1, 1>{{.*}}}>
func.func @fused_attention(%q: tensor<?x16x256xf32>, %k: tensor<?x8x256xf32>, %v: tensor<?x8x256xf32>,
                           %kc: memref<1040x8x256xbf16>, %vc: memref<1040x8x256xbf16>,
                           %g: tensor<?x8x512xf32>, %gk: memref<?x1x512xf32>, %gv: memref<?x1x512xf32>,
                           %pos: index) -> (tensor<?x16x256xf32>, tensor<?x8x512xf32>) {
  %qn = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "layers.0.self_attn.k_norm.weight" : tensor<256xbf16>
  %gn = gemma4.weight "layers.34.self_attn.q_norm.weight" : tensor<512xbf16>
  %s = gemma4.fused_attention q(%q : tensor<?x16x256xf32>) k(%k : tensor<?x8x256xf32>) v(%v : tensor<?x8x256xf32>)
         q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>)
         cache(%kc, %vc : memref<1040x8x256xbf16>, memref<1040x8x256xbf16>) at %pos
         {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>,
          sliding_window = 1024 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x16x256xf32>
  %f = gemma4.fused_attention q(%g : tensor<?x8x512xf32>) q_norm(%gn : tensor<512xbf16>)
         cache(%gk, %gv : memref<?x1x512xf32>, memref<?x1x512xf32>) at %pos
         {layer_type = #gemma4.layer_type<full>, rope = #gemma4.rope<theta = 1000000.0, rotary_dims = 64>,
          sliding_window = 0 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x512xf32>
  return %s, %f : tensor<?x16x256xf32>, tensor<?x8x512xf32>
}

// -----

// CHECK-LABEL: func.func @gelu_mul
// CHECK-SAME: (%[[G:[^:]+]]: tensor<?x256xf32>, %[[P:[^:]+]]: tensor<?x256xf32>)
// CHECK: gemma4.gelu_mul %[[G]], %[[P]] : tensor<?x256xf32>
// GENERIC-LABEL: sym_name = "gelu_mul"
// GENERIC: "gemma4.gelu_mul"(%{{.*}}, %{{.*}}) : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
func.func @gelu_mul(%g: tensor<?x256xf32>, %p: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %t = gemma4.gelu_mul %g, %p : tensor<?x256xf32>
  return %t : tensor<?x256xf32>
}

// -----

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x1536xf32>)
// CHECK: %[[G:.+]] = gemma4.weight "layers.0.mlp.gate_proj.weight" : tensor<6144x1536xbf16>
// CHECK: %[[U:.+]] = gemma4.weight "layers.0.mlp.up_proj.weight" : tensor<6144x1536xbf16>
// CHECK: %[[D:.+]] = gemma4.weight "layers.0.mlp.down_proj.weight" : tensor<1536x6144xbf16>
// CHECK: gemma4.mlp %[[X]], %[[G]], %[[U]], %[[D]] : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
// GENERIC-LABEL: sym_name = "mlp"
// GENERIC: "gemma4.mlp"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
func.func @mlp(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "layers.0.mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "layers.0.mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "layers.0.mlp.down_proj.weight" : tensor<1536x6144xbf16>
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// CHECK-LABEL: func.func @moe
// CHECK-SAME: (%[[R:[^:]+]]: tensor<?x2816xf32>, %[[X:[^:]+]]: tensor<?x2816xf32>)
// CHECK: %[[RW:.+]] = gemma4.weight "layers.0.router.proj.weight" : tensor<128x2816xbf16>
// CHECK: %[[RS:.+]] = gemma4.weight "layers.0.router.scale" : tensor<2816xbf16>
// CHECK: %[[PES:.+]] = gemma4.weight "layers.0.router.per_expert_scale" : tensor<128xbf16>
// CHECK: %[[GU:.+]] = gemma4.weight "layers.0.experts.gate_up_proj" : tensor<128x1408x2816xbf16>
// CHECK: %[[DN:.+]] = gemma4.weight "layers.0.experts.down_proj" : tensor<128x2816x704xbf16>
// CHECK: gemma4.moe %[[R]], %[[X]], %[[RW]], %[[RS]], %[[PES]], %[[GU]], %[[DN]] {epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
// GENERIC-LABEL: sym_name = "moe"
// GENERIC: "gemma4.moe"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}>
func.func @moe(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "layers.0.router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "layers.0.router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "layers.0.router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "layers.0.experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "layers.0.experts.down_proj" : tensor<128x2816x704xbf16>
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// The dispatch form gemma4-moe-dispatch produces.
// CHECK-LABEL: func.func @router_expert_ffn
// CHECK-SAME: (%[[R:[^:]+]]: tensor<?x2816xf32>, %[[X:[^:]+]]: tensor<?x2816xf32>)
// CHECK: %[[RW:.+]] = gemma4.weight "layers.0.router.proj.weight"
// CHECK: %[[RS:.+]] = gemma4.weight "layers.0.router.scale"
// CHECK: %[[PES:.+]] = gemma4.weight "layers.0.router.per_expert_scale"
// CHECK: %[[GU:.+]] = gemma4.weight "layers.0.experts.gate_up_proj"
// CHECK: %[[DN:.+]] = gemma4.weight "layers.0.experts.down_proj"
// CHECK: %[[E:[^,]+]], %[[W:.+]] = gemma4.router %[[R]], %[[RW]], %[[RS]], %[[PES]] {epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
// CHECK: gemma4.expert_ffn %[[X]], %[[E]], %[[W]], %[[GU]], %[[DN]]
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
// GENERIC-LABEL: sym_name = "router_expert_ffn"
// GENERIC: "gemma4.router"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}>
// GENERIC: "gemma4.expert_ffn"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) :
func.func @router_expert_ffn(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "layers.0.router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "layers.0.router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "layers.0.router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "layers.0.experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "layers.0.experts.down_proj" : tensor<128x2816x704xbf16>
  %e, %w = gemma4.router %r, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn
       : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// tok scale bf16(sqrt(256)) = 16, projection scale 1536^-1/2, L x P = 35 x 256.
// CHECK-LABEL: func.func @per_layer_inputs
// CHECK-SAME: (%[[IDS:[^:]+]]: tensor<?xi32>, %[[H:[^:]+]]: tensor<?x1536xf32>)
// CHECK: %[[T:.+]] = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
// CHECK: %[[PW:.+]] = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
// CHECK: %[[NW:.+]] = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
// CHECK: %[[PLE:.+]] = gemma4.per_layer_inputs %[[IDS]], %[[H]], %[[T]], %[[PW]], %[[NW]] {epsilon = 9.99999997E-7 : f32, projection_scale = 0.0255155545 : f32, table_scale = 1.600000e+01 : f32}
// CHECK-SAME: : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
// CHECK: gemma4.layer_slice %[[PLE]][0] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
// CHECK: gemma4.layer_slice %[[PLE]][34] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
// GENERIC-LABEL: sym_name = "per_layer_inputs"
// GENERIC: "gemma4.per_layer_inputs"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{epsilon = 9.99999997E-7 : f32, projection_scale = 0.0255155545 : f32, table_scale = 1.600000e+01 : f32}>
// GENERIC: "gemma4.layer_slice"(%{{.*}}) <{layer = 34 : i64}> : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
func.func @per_layer_inputs(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  %ple = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32}
         : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  %first = gemma4.layer_slice %ple[0] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
  %last = gemma4.layer_slice %ple[34] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
  return %first, %last : tensor<?x256xf32>, tensor<?x256xf32>
}

// -----

// The rows whose logits the caller asked for (a prefill entry point).
// CHECK-LABEL: func.func @output_rows
// CHECK: gemma4.output_rows %{{.+}} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
// GENERIC: "gemma4.output_rows"(%{{.*}}) : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
func.func @output_rows(%h: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %r = gemma4.output_rows %h : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %r : tensor<?x1536xf32>
}

// -----

// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[A:[^:]+]]: tensor<?x1536xf32>, %[[B:[^:]+]]: tensor<?x1536xf32>)
// CHECK: gemma4.add %[[A]], %[[B]] : tensor<?x1536xf32>
// GENERIC-LABEL: sym_name = "add"
// GENERIC: "gemma4.add"(%{{.*}}, %{{.*}}) : (tensor<?x1536xf32>, tensor<?x1536xf32>) -> tensor<?x1536xf32>
func.func @add(%a: tensor<?x1536xf32>, %b: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %c = gemma4.add %a, %b : tensor<?x1536xf32>
  return %c : tensor<?x1536xf32>
}

// -----

// With the stored layer_scalar and with a constant factor alone.
// CHECK-LABEL: func.func @scale
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x1536xf32>)
// CHECK: %[[LS:.+]] = gemma4.weight "layers.0.layer_scalar" : tensor<1xbf16>
// CHECK: %[[S:.+]] = gemma4.scale %[[H]], %[[LS]] {factor = 1.000000e+00 : f32} : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<?x1536xf32>
// CHECK: gemma4.scale %[[S]] {factor = 0.707106769 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
// GENERIC-LABEL: sym_name = "scale"
// GENERIC: "gemma4.scale"(%{{[^,]*}}, %{{[^,]*}}) <{factor = 1.000000e+00 : f32}> : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<?x1536xf32>
// GENERIC: "gemma4.scale"(%{{[^,]*}}) <{factor = 0.707106769 : f32}> : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
func.func @scale(%h: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %ls = gemma4.weight "layers.0.layer_scalar" : tensor<1xbf16>
  %s = gemma4.scale %h, %ls {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<?x1536xf32>
  %t = gemma4.scale %s {factor = 0.707106769 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %t : tensor<?x1536xf32>
}

// -----

// Split the q projection into heads and merge attention heads back.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2048xf32>)
// CHECK: %[[H:.+]] = gemma4.reshape %[[X]] : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
// CHECK: gemma4.reshape %[[H]] : (tensor<?x8x256xf32>) -> tensor<?x2048xf32>
// GENERIC-LABEL: sym_name = "reshape"
// GENERIC: "gemma4.reshape"(%{{.*}}) : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
func.func @reshape(%x: tensor<?x2048xf32>) -> tensor<?x2048xf32> {
  %h = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %y = gemma4.reshape %h : (tensor<?x8x256xf32>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// CHECK-LABEL: func.func @softcap
// CHECK-SAME: (%[[L:[^:]+]]: tensor<?x262144xf32>)
// CHECK: gemma4.softcap %[[L]] {cap = 3.000000e+01 : f32} : tensor<?x262144xf32>
// GENERIC-LABEL: sym_name = "softcap"
// GENERIC: "gemma4.softcap"(%{{.*}}) <{cap = 3.000000e+01 : f32}> : (tensor<?x262144xf32>) -> tensor<?x262144xf32>
func.func @softcap(%l: tensor<?x262144xf32>) -> tensor<?x262144xf32> {
  %c = gemma4.softcap %l {cap = 30.0 : f32} : tensor<?x262144xf32>
  return %c : tensor<?x262144xf32>
}

// -----

// Dynamic extents the verifiers must accept: an expert count known only at
// run time (top_k is then only checked against 1), an unknown expert
// intermediate size (gate_up rows 2 x ? stay unknown), and a scalar of
// shape [1, 1].
// CHECK-LABEL: func.func @dynamic_extents
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2816xf32>, %[[RW:[^:]+]]: tensor<?x2816xbf16>, %[[RS:[^:]+]]: tensor<2816xbf16>, %[[PES:[^:]+]]: tensor<?xbf16>, %[[GU:[^:]+]]: tensor<128x1408x2816xbf16>, %[[DN:[^:]+]]: tensor<128x2816x?xbf16>, %[[S:[^:]+]]: tensor<1x1xbf16>)
// CHECK: %[[E:[^,]+]], %[[W:.+]] = gemma4.router %[[X]], %[[RW]], %[[RS]], %[[PES]] {epsilon = 9.99999997E-7 : f32, top_k = 8 : i64}
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<?x2816xbf16>, tensor<2816xbf16>, tensor<?xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
// CHECK: %[[Y:.+]] = gemma4.expert_ffn %[[X]], %[[E]], %[[W]], %[[GU]], %[[DN]]
// CHECK-SAME: : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x?xbf16>) -> tensor<?x2816xf32>
// CHECK: gemma4.scale %[[Y]], %[[S]] {factor = 2.000000e+00 : f32} : (tensor<?x2816xf32>, tensor<1x1xbf16>) -> tensor<?x2816xf32>
func.func @dynamic_extents(%x: tensor<?x2816xf32>, %rw: tensor<?x2816xbf16>, %rs: tensor<2816xbf16>, %pes: tensor<?xbf16>,
                           %gu: tensor<128x1408x2816xbf16>, %dn: tensor<128x2816x?xbf16>, %s: tensor<1x1xbf16>) -> tensor<?x2816xf32> {
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32}
       : (tensor<?x2816xf32>, tensor<?x2816xbf16>, tensor<2816xbf16>, tensor<?xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn
       : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x?xbf16>) -> tensor<?x2816xf32>
  %z = gemma4.scale %y, %s {factor = 2.0 : f32} : (tensor<?x2816xf32>, tensor<1x1xbf16>) -> tensor<?x2816xf32>
  return %z : tensor<?x2816xf32>
}

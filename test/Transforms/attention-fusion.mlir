// gemma4-fuse-attention replaces, per attention layer,
//   q = rope(rms_norm(q_raw, q_norm)); k = rope(rms_norm(k_raw, k_norm));
//   v = rms_norm(v_raw); kv_cache_update k, v; attention q, caches
// by one gemma4.fused_attention taking the raw projections. The norms, ropes
// and the cache update disappear (the fused op writes K/V itself). Layers
// that read another layer's caches (KV-shared) fuse without k/v. Anything
// off the pattern is left alone.
//
// RUN: gemma4c-opt %s -split-input-file -gemma4-fuse-attention | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file | FileCheck %s --check-prefix=BEFORE
// The fused form round-trips and is a fixed point.
// RUN: gemma4c-opt %s -split-input-file -gemma4-fuse-attention | gemma4c-opt -split-input-file -gemma4-fuse-attention | FileCheck %s

// A sliding-window prefill layer with the e2b-mini shapes trimmed down:
// 2 query heads, 1 KV head, head_dim 8, ring-buffer caches of 16 rows.
// BEFORE-LABEL: func.func @sliding_layer
// BEFORE-COUNT-3: gemma4.rms_norm
// BEFORE-COUNT-2: = gemma4.rope
// BEFORE: gemma4.kv_cache_update
// BEFORE: gemma4.attention
// BEFORE-NOT: gemma4.fused_attention
// CHECK-LABEL: func.func @sliding_layer
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x32xf32>, %[[POS:[^:]+]]: index, %[[ARENA:[^:]+]]: memref<?xi8>, %[[CTX:[^:]+]]: index)
// CHECK: %[[KC:.+]] = gemma4.kv_cache_view %[[ARENA]][%[[CTX]]] {capacity = 16 : i64, offset = 0 : i64
// CHECK: %[[VC:.+]] = gemma4.kv_cache_view %[[ARENA]][%[[CTX]]] {capacity = 16 : i64, offset = 512 : i64
// CHECK: %[[Q:.+]] = gemma4.reshape %{{.+}} : (tensor<?x16xf32>) -> tensor<?x2x8xf32>
// CHECK: %[[QN:.+]] = gemma4.weight "layers.0.self_attn.q_norm.weight"
// CHECK-NOT: {{gemma4\.(rms_norm|rope|kv_cache_update|attention) }}
// CHECK: %[[K:.+]] = gemma4.reshape %{{.+}} : (tensor<?x8xf32>) -> tensor<?x1x8xf32>
// CHECK-NOT: {{gemma4\.(rms_norm|rope|kv_cache_update|attention) }}
// CHECK: %[[V:.+]] = gemma4.reshape %{{.+}} : (tensor<?x8xf32>) -> tensor<?x1x8xf32>
// CHECK: %[[KN:.+]] = gemma4.weight "layers.0.self_attn.k_norm.weight"
// CHECK-NOT: {{gemma4\.(rms_norm|rope|kv_cache_update|attention) }}
// CHECK: %[[O:.+]] = gemma4.fused_attention q(%[[Q]] : tensor<?x2x8xf32>) k(%[[K]] : tensor<?x1x8xf32>) v(%[[V]] : tensor<?x1x8xf32>)
// CHECK-SAME: q_norm(%[[QN]] : tensor<8xbf16>) k_norm(%[[KN]] : tensor<8xbf16>)
// CHECK-SAME: cache(%[[KC]], %[[VC]] : memref<16x1x8xf32>, memref<16x1x8xf32>) at %[[POS]]
// CHECK-SAME: {epsilon = 9.99999997E-7 : f32, layer_type = #gemma4.layer_type<sliding>,
// CHECK-SAME: rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 4>, scale = 1.000000e+00 : f32, sliding_window = 8 : i64}
// CHECK-SAME: -> tensor<?x2x8xf32>
// CHECK-NOT: {{gemma4\.(rms_norm|rope|kv_cache_update|attention) }}
// CHECK: return %[[O]] : tensor<?x2x8xf32>
func.func @sliding_layer(%x: tensor<?x32xf32>, %pos: index, %arena: memref<?xi8>, %ctx: index) -> tensor<?x2x8xf32> {
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 16 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<16x1x8xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 16 : i64, offset = 512 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<16x1x8xf32>
  %wq = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<16x32xbf16>
  %q0 = gemma4.linear %x, %wq : (tensor<?x32xf32>, tensor<16x32xbf16>) -> tensor<?x16xf32>
  %q1 = gemma4.reshape %q0 : (tensor<?x16xf32>) -> tensor<?x2x8xf32>
  %qn = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<8xbf16>
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xbf16>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %wk = gemma4.weight "layers.0.self_attn.k_proj.weight" : tensor<8x32xbf16>
  %k0 = gemma4.linear %x, %wk : (tensor<?x32xf32>, tensor<8x32xbf16>) -> tensor<?x8xf32>
  %k1 = gemma4.reshape %k0 : (tensor<?x8xf32>) -> tensor<?x1x8xf32>
  %wv = gemma4.weight "layers.0.self_attn.v_proj.weight" : tensor<8x32xbf16>
  %v0 = gemma4.linear %x, %wv : (tensor<?x32xf32>, tensor<8x32xbf16>) -> tensor<?x8xf32>
  %v1 = gemma4.reshape %v0 : (tensor<?x8xf32>) -> tensor<?x1x8xf32>
  %kn = gemma4.weight "layers.0.self_attn.k_norm.weight" : tensor<8xbf16>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xbf16>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// A full-attention decode layer: context-sized caches (capacity -1), no
// window. It fuses with layer_type full and sliding_window 0.
// CHECK-LABEL: func.func @full_layer_decode
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8xf32>, %[[K:[^:]+]]: tensor<1x1x8xf32>, %[[V:[^:]+]]: tensor<1x1x8xf32>, %[[QN:[^:]+]]: tensor<8xbf16>, %[[KN:[^:]+]]: tensor<8xbf16>, %[[KC:[^:]+]]: memref<?x1x8xf32>, %[[VC:[^:]+]]: memref<?x1x8xf32>, %[[POS:[^:]+]]: index)
// CHECK-NEXT: %[[O:.+]] = gemma4.fused_attention q(%[[Q]] : tensor<1x2x8xf32>) k(%[[K]] : tensor<1x1x8xf32>) v(%[[V]] : tensor<1x1x8xf32>)
// CHECK-SAME: q_norm(%[[QN]] : tensor<8xbf16>) k_norm(%[[KN]] : tensor<8xbf16>)
// CHECK-SAME: cache(%[[KC]], %[[VC]] : memref<?x1x8xf32>, memref<?x1x8xf32>) at %[[POS]]
// CHECK-SAME: {epsilon = 9.99999997E-7 : f32, layer_type = #gemma4.layer_type<full>,
// CHECK-SAME: rope = #gemma4.rope<theta = 1.000000e+06 : f64, rotary_dims = 1>, scale = 1.000000e+00 : f32, sliding_window = 0 : i64}
// CHECK-NEXT: return %[[O]] : tensor<1x2x8xf32>
func.func @full_layer_decode(%q1: tensor<1x2x8xf32>, %k1: tensor<1x1x8xf32>, %v1: tensor<1x1x8xf32>, %qn: tensor<8xbf16>, %kn: tensor<8xbf16>,
                             %kc: memref<?x1x8xf32>, %vc: memref<?x1x8xf32>, %pos: index) -> tensor<1x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<1x2x8xf32>, tensor<8xbf16>) -> tensor<1x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 1>} : (tensor<1x2x8xf32>, index) -> tensor<1x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<1x1x8xf32>, tensor<8xbf16>) -> tensor<1x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 1>} : (tensor<1x1x8xf32>, index) -> tensor<1x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<1x1x8xf32>, tensor<1x1x8xf32>, memref<?x1x8xf32>, memref<?x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 0 : i64} : (tensor<1x2x8xf32>, memref<?x1x8xf32>, memref<?x1x8xf32>, index) -> tensor<1x2x8xf32>
  return %o : tensor<1x2x8xf32>
}

// -----

// KV sharing: layer 1 owns the caches (update + attention); layer 2 only
// reads them. Layer 1 fuses with its k/v; layer 2 fuses with q alone, and
// layer 1's cache write is not attributed to layer 2.
// BEFORE-LABEL: func.func @kv_shared
// BEFORE-COUNT-1: gemma4.kv_cache_update
// BEFORE-COUNT-2: gemma4.attention
// CHECK-LABEL: func.func @kv_shared
// CHECK-SAME: (%[[Q1:[^:]+]]: tensor<?x2x8xf32>, %[[Q2:[^:]+]]: tensor<?x2x8xf32>, %[[K:[^:]+]]: tensor<?x1x8xf32>, %[[V:[^:]+]]: tensor<?x1x8xf32>, %[[QN1:[^:]+]]: tensor<8xbf16>, %[[QN2:[^:]+]]: tensor<8xbf16>, %[[KN:[^:]+]]: tensor<8xbf16>, %[[KC:[^:]+]]: memref<16x1x8xf32>, %[[VC:[^:]+]]: memref<16x1x8xf32>, %[[POS:[^:]+]]: index)
// CHECK-NEXT: %[[O1:.+]] = gemma4.fused_attention q(%[[Q1]] : tensor<?x2x8xf32>) k(%[[K]] : tensor<?x1x8xf32>) v(%[[V]] : tensor<?x1x8xf32>) q_norm(%[[QN1]] : tensor<8xbf16>) k_norm(%[[KN]] : tensor<8xbf16>) cache(%[[KC]], %[[VC]] : memref<16x1x8xf32>, memref<16x1x8xf32>) at %[[POS]]
// CHECK-SAME: layer_type = #gemma4.layer_type<sliding>
// CHECK-NEXT: %[[O2:.+]] = gemma4.fused_attention q(%[[Q2]] : tensor<?x2x8xf32>) q_norm(%[[QN2]] : tensor<8xbf16>) cache(%[[KC]], %[[VC]] : memref<16x1x8xf32>, memref<16x1x8xf32>) at %[[POS]]
// CHECK-SAME: {epsilon = 9.99999997E-7 : f32, layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 4>, scale = 1.000000e+00 : f32, sliding_window = 8 : i64}
// CHECK-NEXT: %[[S:.+]] = gemma4.add %[[O1]], %[[O2]]
// CHECK-NEXT: return %[[S]]
func.func @kv_shared(%q1a: tensor<?x2x8xf32>, %q1b: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>,
                     %qna: tensor<8xbf16>, %qnb: tensor<8xbf16>, %kn: tensor<8xbf16>,
                     %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  // layer 1: owner
  %qa2 = gemma4.rms_norm %q1a, %qna {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xbf16>) -> tensor<?x2x8xf32>
  %qa3 = gemma4.rope %qa2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xbf16>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %oa = gemma4.attention %qa3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  // layer 2: shares layer 1's KV
  %qb2 = gemma4.rms_norm %q1b, %qnb {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xbf16>) -> tensor<?x2x8xf32>
  %qb3 = gemma4.rope %qb2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %ob = gemma4.attention %qb3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  %s = gemma4.add %oa, %ob : tensor<?x2x8xf32>
  return %s : tensor<?x2x8xf32>
}

// -----

// attention_k_eq_v (full layers of the large models): the value is the
// scale-free norm of the same raw key projection, so the fused op takes
// that one tensor as both k and v.
// CHECK-LABEL: func.func @k_eq_v
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x2x8xf32>, %[[K:[^:]+]]: tensor<?x1x8xf32>, %[[QN:[^:]+]]: tensor<8xf32>, %[[KN:[^:]+]]: tensor<8xf32>, %[[KC:[^:]+]]: memref<?x1x8xf32>, %[[VC:[^:]+]]: memref<?x1x8xf32>, %[[POS:[^:]+]]: index)
// CHECK-NEXT: %[[O:.+]] = gemma4.fused_attention q(%[[Q]] : tensor<?x2x8xf32>) k(%[[K]] : tensor<?x1x8xf32>) v(%[[K]] : tensor<?x1x8xf32>) q_norm(%[[QN]] : tensor<8xf32>) k_norm(%[[KN]] : tensor<8xf32>) cache(%[[KC]], %[[VC]] :
// CHECK-SAME: layer_type = #gemma4.layer_type<full>
// CHECK-SAME: sliding_window = 0 : i64
// CHECK-NEXT: return %[[O]]
func.func @k_eq_v(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                  %kc: memref<?x1x8xf32>, %vc: memref<?x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 1>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 1>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %k1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<?x1x8xf32>, memref<?x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 0 : i64} : (tensor<?x2x8xf32>, memref<?x1x8xf32>, memref<?x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// Not fused: the key is rotated at another position than the attention's.
// CHECK-LABEL: func.func @no_fuse_key_position
// CHECK: gemma4.rms_norm
// CHECK: = gemma4.rope %{{.+}} at %arg7
// CHECK: = gemma4.rope %{{.+}} at %arg8
// CHECK: gemma4.rms_norm
// CHECK: gemma4.kv_cache_update
// CHECK: gemma4.attention
// CHECK-NOT: gemma4.fused_attention
// CHECK: return
func.func @no_fuse_key_position(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                                %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index, %pos2: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos2 {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// Not fused: the query is rotated at another position than the attention's
// (and a KV-shared layer in that form stays unfused too).
// CHECK-LABEL: func.func @no_fuse_query_position
// CHECK: gemma4.rms_norm
// CHECK: = gemma4.rope %{{.+}} at %arg5
// CHECK: gemma4.attention %{{.+}} at %arg4
// CHECK-NOT: gemma4.fused_attention
// CHECK: return
func.func @no_fuse_query_position(%q1: tensor<?x2x8xf32>, %qn: tensor<8xf32>, %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>,
                                  %pos: index, %pos2: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos2 {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// Not fused: the value norm has a weight (the fused op only applies the
// scale-free V norm).
// CHECK-LABEL: func.func @no_fuse_value_norm_weight
// CHECK: = gemma4.rope
// CHECK: = gemma4.rope
// CHECK: gemma4.rms_norm %arg2, %arg5
// CHECK: gemma4.kv_cache_update
// CHECK: gemma4.attention
// CHECK-NOT: gemma4.fused_attention
// CHECK: return
func.func @no_fuse_value_norm_weight(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                                     %vn: tensor<8xf32>, %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1, %vn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// Not fused: q and k are rotated with different RoPE parameters (here
// rotary_dims), or normalised with different epsilons.
// CHECK-LABEL: func.func @no_fuse_rope_mismatch
// CHECK: = gemma4.rope %{{.+}} {rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 4>}
// CHECK: = gemma4.rope %{{.+}} {rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 2>}
// CHECK: gemma4.kv_cache_update
// CHECK: gemma4.attention
// CHECK-NOT: gemma4.fused_attention
// CHECK-LABEL: func.func @no_fuse_theta_mismatch
// CHECK: = gemma4.rope %{{.+}} {rope = #gemma4.rope<theta = 1.000000e+04 : f64, rotary_dims = 4>}
// CHECK: = gemma4.rope %{{.+}} {rope = #gemma4.rope<theta = 1.000000e+06 : f64, rotary_dims = 4>}
// CHECK: gemma4.kv_cache_update
// CHECK: gemma4.attention
// CHECK-NOT: gemma4.fused_attention
// CHECK-LABEL: func.func @no_fuse_epsilon_mismatch
// CHECK: gemma4.rms_norm %arg1, %arg4 {epsilon = 9.99999974E-6 : f32}
// CHECK: gemma4.kv_cache_update
// CHECK: gemma4.attention
// CHECK-NOT: gemma4.fused_attention
// CHECK: return
func.func @no_fuse_rope_mismatch(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                                 %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 2>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}
func.func @no_fuse_theta_mismatch(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                                  %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}
func.func @no_fuse_epsilon_mismatch(%q1: tensor<?x2x8xf32>, %k1: tensor<?x1x8xf32>, %v1: tensor<?x1x8xf32>, %qn: tensor<8xf32>, %kn: tensor<8xf32>,
                                    %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>, %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-5 : f32} : (tensor<?x1x8xf32>, tensor<8xf32>) -> tensor<?x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x1x8xf32>, index) -> tensor<?x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<?x1x8xf32>) -> tensor<?x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<?x1x8xf32>, tensor<?x1x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  return %o : tensor<?x2x8xf32>
}

// -----

// Not fused: the rotated query is also used elsewhere, so it must be
// materialised anyway.
// CHECK-LABEL: func.func @no_fuse_query_escapes
// CHECK: %[[QR:.+]] = gemma4.rope
// CHECK: %[[O:.+]] = gemma4.attention %[[QR]]
// CHECK-NOT: gemma4.fused_attention
// CHECK: gemma4.add %[[O]], %[[QR]]
func.func @no_fuse_query_escapes(%q1: tensor<?x2x8xf32>, %qn: tensor<8xf32>, %kc: memref<16x1x8xf32>, %vc: memref<16x1x8xf32>,
                                 %pos: index) -> tensor<?x2x8xf32> {
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<?x2x8xf32>, tensor<8xf32>) -> tensor<?x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<?x2x8xf32>, index) -> tensor<?x2x8xf32>
  %o = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 8 : i64} : (tensor<?x2x8xf32>, memref<16x1x8xf32>, memref<16x1x8xf32>, index) -> tensor<?x2x8xf32>
  %s = gemma4.add %o, %q3 : tensor<?x2x8xf32>
  return %s : tensor<?x2x8xf32>
}

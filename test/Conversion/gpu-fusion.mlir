// Elementwise ops folded into their producer's loops (compiler/lib/Conversion/
// Fusion.cpp) by a strategy that fuses (the gpu one: each op's loops are a
// kernel launch): a norm's residual add, the layer scale and the next norm
// of the sum are one row pass; a matmul's GELU gating is applied to its rows
// as they are stored; the per-layer slice is a view. The cpu strategy lowers
// the same ops one by one.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=strategy=gpu | FileCheck %s --check-prefix=GPU
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops | FileCheck %s --check-prefix=CPU

// GPU-LABEL: func.func @norm_chain
// GPU: scf.parallel
// GPU: scf.reduce
// The post-norm's row: sum of squares, then norm * weight + residual,
// scaled, stored as the sum; then the next norm of that sum. No loops of
// their own for the add and the scale.
// GPU-NOT: scf.parallel
// GPU: %[[SUM:.*]] = memref.alloc() {{.*}} : memref<1x64xf32>
// GPU-NOT: scf.parallel
// GPU: %[[NEXT:.*]] = memref.alloc() {{.*}} : memref<1x64xf32>
// GPU-NOT: scf.parallel
// GPU: } {gemma4.lanes = "reduce"}
// GPU-NOT: scf.parallel
// GPU: math.rsqrt
// GPU-NOT: scf.parallel
// GPU: arith.addf {{.*}} : vector<16xf32>
// GPU-NEXT: vector.broadcast
// GPU-NEXT: arith.mulf {{.*}} : vector<16xf32>
// GPU-NEXT: vector.store %{{.*}}, %[[SUM]]
// GPU: } {gemma4.lanes = "map"}
// GPU-NOT: scf.parallel
// GPU: vector.load %[[SUM]]
// GPU: } {gemma4.lanes = "reduce"}
// GPU-NOT: scf.parallel
// GPU: vector.store %{{.*}}, %[[NEXT]]
// GPU: } {gemma4.lanes = "map"}
// The next linear reads the next norm.
// GPU: scf.parallel
// GPU: vector.load %[[NEXT]]
// The cpu strategy: both linears, the add, the scale and the last add are
// loops of their own (the one-row norms are serial).
// CPU-LABEL: func.func @norm_chain
// CPU-COUNT-5: scf.parallel
// CPU-NOT: scf.parallel
func.func @norm_chain(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x64xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %aw = gemma4.weight "a.weight" {offset = 8192 : i64} : tensor<64x64xf32>
  %a = gemma4.linear %h, %aw : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %n1w = gemma4.weight "post.weight" {offset = 24576 : i64} : tensor<64xf32>
  %n1 = gemma4.rms_norm %a, %n1w {epsilon = 1.0e-6 : f32} : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %s = gemma4.add %h, %n1 : tensor<1x64xf32>
  %lw = gemma4.weight "layer_scalar" {offset = 24832 : i64} : tensor<1xf32>
  %sc = gemma4.scale %s, %lw {factor = 1.0 : f32} : (tensor<1x64xf32>, tensor<1xf32>) -> tensor<1x64xf32>
  %n2w = gemma4.weight "pre.weight" {offset = 24896 : i64} : tensor<64xf32>
  %n2 = gemma4.rms_norm %sc, %n2w {epsilon = 1.0e-6 : f32} : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %bw = gemma4.weight "b.weight" {offset = 25152 : i64} : tensor<64x64xf32>
  %b = gemma4.linear %n2, %bw : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %r = gemma4.add %sc, %b : tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}

// -----

// GPU-LABEL: func.func @gelu_gate
// The slice is a view of the per-layer inputs, read by the matmul's rows.
// GPU: %[[PLI:.*]] = memref.subview %{{.*}}[0, 1, 0] [1, 1, 16] [1, 1, 1]
// GPU: scf.parallel
// GPU: } {gemma4.lanes = "reduce"}
// GPU: memref.load %[[PLI]]
// GPU: math.tanh
// GPU: memref.store
// GPU-NEXT: scf.reduce
// GPU: scf.parallel
// GPU-NOT: math.tanh
// GPU: return
// CPU-LABEL: func.func @gelu_gate
// CPU-NOT: memref.subview
// CPU: scf.reduce
// CPU-NOT: math.tanh
// CPU: scf.reduce
// CPU: math.tanh
func.func @gelu_gate(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x64xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %tw = gemma4.weight "embed_tokens_per_layer.weight" {offset = 8192 : i64} : tensor<32x32xf32>
  %pw = gemma4.weight "per_layer_model_projection.weight" {offset = 12288 : i64} : tensor<32x64xf32>
  %nw = gemma4.weight "per_layer_projection_norm.weight" {offset = 20480 : i64} : tensor<16xf32>
  %p = gemma4.per_layer_inputs %ids, %h, %tw, %pw, %nw {epsilon = 1.0e-6 : f32, projection_scale = 0.125 : f32, table_scale = 4.0 : f32} : (tensor<1xi32>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32x64xf32>, tensor<16xf32>) -> tensor<1x2x16xf32>
  %sl = gemma4.layer_slice %p[1] : (tensor<1x2x16xf32>) -> tensor<1x16xf32>
  %gw = gemma4.weight "per_layer_input_gate.weight" {offset = 20544 : i64} : tensor<16x64xf32>
  %g = gemma4.linear %h, %gw : (tensor<1x64xf32>, tensor<16x64xf32>) -> tensor<1x16xf32>
  %m = gemma4.gelu_mul %g, %sl : tensor<1x16xf32>
  %ow = gemma4.weight "per_layer_projection.weight" {offset = 24640 : i64} : tensor<64x16xf32>
  %o = gemma4.linear %m, %ow : (tensor<1x16xf32>, tensor<64x16xf32>) -> tensor<1x64xf32>
  return %o : tensor<1x64xf32>
}

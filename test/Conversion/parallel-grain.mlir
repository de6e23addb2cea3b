// convert-gemma4-to-loops names the loops of each op after the op and its
// first weight (a NameLoc), which gemma4-outline-parallel-loops turns into
// the body function's name, and marks loops with cheap iterations with
// gemma4.grain, the fewest iterations worth a fork-join: elementwise ops
// 16384 elements, row-wise ops (norms, embedding rows) 16384 / row length
// rows. Prefill matmul tiles carry no grain; decode matrix-vector steps
// enough that a chunk streams 16 KB of weights.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s

// CHECK-LABEL: func.func @grain
// CHECK: scf.parallel
// CHECK: } {gemma4.grain = 256 : i64} loc("embedding_lookup:embed_tokens.weight"(
// CHECK: scf.parallel
// CHECK: } {gemma4.grain = 256 : i64} loc("rms_norm:norm.weight"(
// CHECK: scf.parallel
// CHECK: } {gemma4.grain = 16384 : i64} loc("add"(
// CHECK: scf.parallel
// CHECK-NOT: gemma4.grain
// CHECK: } loc("linear:proj.weight"(
func.func @grain(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %nw = gemma4.weight "norm.weight" {offset = 8192 : i64} : tensor<64xf32>
  %n = gemma4.rms_norm %h, %nw {epsilon = 1.0e-6 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %s = gemma4.add %n, %h : tensor<?x64xf32>
  %pw = gemma4.weight "proj.weight" {offset = 8448 : i64} : tensor<48x64xf32>
  %y = gemma4.linear %s, %pw : (tensor<?x64xf32>, tensor<48x64xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

// -----

// Decode matrix-vector loops: a grain of enough 4-row steps that a chunk
// streams at least 16 KB of weights. f32 [128 x 64]: a step reads 4 x 64 x 4
// = 1 KB, so 16 steps; bf16 [64 x 128]: also 1 KB a step, 16 steps.
// CHECK-LABEL: func.func @decode_grain
// CHECK: scf.parallel
// CHECK: } {gemma4.grain = 16 : i64} loc("linear:a.weight"(
// CHECK: scf.parallel
// CHECK: } {gemma4.grain = 16 : i64} loc("linear:b.weight"(
func.func @decode_grain(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x64xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %aw = gemma4.weight "a.weight" {offset = 8192 : i64} : tensor<128x64xf32>
  %a = gemma4.linear %h, %aw : (tensor<1x64xf32>, tensor<128x64xf32>) -> tensor<1x128xf32>
  %bw = gemma4.weight "b.weight" {offset = 40960 : i64} : tensor<64x128xbf16>
  %y = gemma4.linear %a, %bw : (tensor<1x128xf32>, tensor<64x128xbf16>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

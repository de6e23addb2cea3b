// convert-gemma4-to-loops names the loops of each op after the op and its
// first weight (a NameLoc), which gemma4-outline-parallel-loops turns into
// the body function's name, and marks loops with cheap iterations with
// gemma4.grain, the fewest iterations worth a fork-join: elementwise ops
// 16384 elements, row-wise ops (norms, embedding rows) 16384 / row length
// rows. Matmul rows carry no grain (each row streams a weight row).
//
// RUN: gemma4c-opt %s -convert-gemma4-to-loops -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s

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

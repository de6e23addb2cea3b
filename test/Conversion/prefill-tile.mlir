// Prefill matmuls of plain (float) weights are register-tiled over 4 weight
// rows x 4 tokens: scf.parallel over (N / 4 row tiles, token tiles); each k
// step loads 4 activation vectors and 4 weight vectors (bf16 widened by a
// 16-bit shift) and issues their 16 FMAs into 16 accumulators. A partial
// last token tile runs the same 4 rows one token at a time.
//
// RUN: gemma4c-opt %s -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s

// CHECK-LABEL: func.func @prefill_linear
// CHECK: scf.parallel (%[[NG:[^,]+]], %[[TT:[^)]+]]) = (%c0, %c0) to (%c2, %{{.+}})
// CHECK: scf.if
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-4: vector.load %{{.+}} : memref<?x64xf32>, vector<16xf32>
// CHECK: vector.load %{{.+}} : memref<8x64xbf16>, vector<16xbf16>
// CHECK: arith.shli
// CHECK-COUNT-4: vector.fma
// CHECK: vector.load %{{.+}} : memref<8x64xbf16>, vector<16xbf16>
// CHECK-COUNT-12: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-16: vector.reduction <add>
// CHECK: } else {
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
func.func @prefill_linear(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %p = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<8x64xbf16>
  %y = gemma4.linear %h, %p : (tensor<?x64xf32>, tensor<8x64xbf16>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Prefill matmuls of plain (float) weights are register-tiled over 4 weight
// rows x 4 tokens, cache-blocked over tokens: scf.parallel over (token
// blocks, N / 4 row tiles), the row tiles varying fastest, so consecutive
// iterations stream weight rows past one block of at most 32 token tiles
// (here 64 x 4 bytes of f32 activations a token: the cap) that stays in
// L2; each iteration runs its 4 rows over the block's token tiles. Each k
// step loads 4 activation vectors and 4 weight vectors (bf16 widened by a
// 16-bit shift) and issues their 16 FMAs into 16 accumulators. The last
// tile of a prompt 4 does not divide repeats the last token (indices
// clamped to S - 1): no scalar tail.
//
// RUN: gemma4c-opt %s -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s

// CHECK-LABEL: func.func @prefill_linear
// CHECK: %[[S:.+]] = memref.dim %arg0, %c0 : memref<?xi32>
// CHECK: %[[S3:.+]] = arith.addi %[[S]], %c3 : index
// CHECK: %[[TILES:.+]] = arith.divui %[[S3]], %c4 : index
// CHECK: %[[T31:.+]] = arith.addi %[[TILES]], %c31 : index
// CHECK: %[[BLOCKS:.+]] = arith.divui %[[T31]], %c32 : index
// CHECK: scf.parallel (%[[TB:[^,]+]], %[[NG:[^)]+]]) = (%c0, %c0) to (%[[BLOCKS]], %c2)
// CHECK: %[[T0:.+]] = arith.muli %[[TB]], %c32 : index
// CHECK: %[[T1A:.+]] = arith.addi %[[T0]], %c32 : index
// CHECK: %[[T1:.+]] = arith.minui %[[T1A]], %[[TILES]] : index
// CHECK: %[[LAST:.+]] = arith.subi %[[S]], %c1 : index
// CHECK: scf.for %[[TT:.+]] = %[[T0]] to %[[T1]] step %c1 {
// CHECK: %[[S0:.+]] = arith.muli %[[TT]], %c4 : index
// CHECK: %[[S1:.+]] = arith.addi %[[S0]], %c1 : index
// CHECK: arith.minui %[[S1]], %[[LAST]] : index
// CHECK-NOT: scf.if
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
// CHECK-NOT: scf.for
// CHECK: scf.reduce
func.func @prefill_linear(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %p = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<8x64xbf16>
  %y = gemma4.linear %h, %p : (tensor<?x64xf32>, tensor<8x64xbf16>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

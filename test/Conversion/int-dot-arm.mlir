// int-dot=arm-dotprod: the same int8 activation blocks as x86-vnni
// (int-dot.mlir), but each 32-byte block product is two NEON sdot
// (llvm.aarch64.neon.sdot, signed x signed bytes) on the 16-byte halves,
// concatenated back into the 8 int32 lanes the scaling code expects.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=arm-dotprod -canonicalize -cse | FileCheck %s

// int4 g32, K = 512 (interleaved super-blocks): the nibbles 0..15 are valid
// signed bytes, so the -8 offset is removed with the activation block sums
// exactly as on x86.
// CHECK-LABEL: func.func @int4_k512
// CHECK: scf.parallel
// CHECK: %[[W:.+]] = vector.load {{.*}} : memref<48x256xi8>, vector<32xi8>
// CHECK: %[[LO:.+]] = arith.andi %[[W]], %{{.+}} : vector<32xi8>
// CHECK: vector.extract_strided_slice %[[LO]] {offsets = [0], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// CHECK: %[[D0:.+]] = llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"({{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// CHECK: vector.extract_strided_slice %[[LO]] {offsets = [16], sizes = [16], strides = [1]}
// CHECK: %[[D1:.+]] = llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// CHECK: vector.shuffle %[[D0]], %[[D1]] [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xi32>, vector<4xi32>
// CHECK-NOT: vpdpbusd
// CHECK: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK: scf.yield
func.func @int4_k512(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x512xf32>, tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// int8 per channel: sdot takes the signed weight bytes as they are (no xor
// to unsigned as for vpdpbusd) and no offset correction is subtracted.
// CHECK-LABEL: func.func @int8_k64
// CHECK: scf.parallel
// CHECK: %[[Q:.+]] = vector.load {{.*}} : memref<48x64xi8>, vector<32xi8>
// CHECK-NOT: arith.xori
// CHECK: vector.extract_strided_slice %[[Q]]
// CHECK: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// CHECK: vector.reduction <add>
// CHECK-NOT: arith.subf
// CHECK: return
func.func @int8_k64(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

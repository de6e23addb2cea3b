// The decode MLP (one token): the gate/up matrix-vector loop stores the raw
// gate and up dot products; the tanh-GELU and the product run after it on
// 16-lane vectors, fused into the down projection's int8 activation
// quantization (one pass that also stores the activation). A scalar GELU
// per row at the end of each step cost a one-core decode a fifth of the
// gate/up time. Without integer dot products (f32 path) the activation is a
// separate 16-lane loop.
//
// RUN: gemma4c-opt %s -convert-gemma4-to-loops=int-dot=x86-vnni -canonicalize -cse | FileCheck %s
// RUN: gemma4c-opt %s -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s --check-prefix=F32

// CHECK-LABEL: func.func @mlp_decode
// CHECK: %[[GB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// CHECK: %[[UB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// CHECK: scf.parallel
// CHECK-NOT: math.tanh
// CHECK: memref.store %{{.+}}, %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>
// CHECK: memref.store %{{.+}}, %[[UB]][%c0, %{{.+}}] : memref<1x64xf32>
// CHECK: scf.reduce
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1 {
// CHECK: vector.load %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: vector.load %[[UB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: math.tanh %{{.+}} : vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: math.roundeven %{{.+}} : vector<16xf32>

// F32-LABEL: func.func @mlp_decode
// F32: %[[GB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// F32: %[[UB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// F32: scf.parallel
// F32-NOT: math.tanh
// F32: scf.reduce
// F32: scf.for %{{.+}} = %c0 to %c4 step %c1 {
// F32: math.tanh %{{.+}} : vector<16xf32>
// F32: vector.store %{{.+}}, %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
func.func @mlp_decode(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x512xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %g = gemma4.weight "mlp.gate_proj.weight" {offset = 65536 : i64} : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %u = gemma4.weight "mlp.up_proj.weight" {offset = 83968 : i64} : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %d = gemma4.weight "mlp.down_proj.weight" {offset = 102400 : i64} : tensor<512x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<1x512xf32>, tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<512x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x512xf32>
  return %m : tensor<1x512xf32>
}

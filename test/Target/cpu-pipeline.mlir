// The whole CPU pipeline (gemma4-cpu-pipeline: MoE dispatch, attention
// fusion, weight layout, loops, outlining, polynomial math, LLVM lowering,
// thread-pool launches) on a tiny one-layer decode entry point ends in the
// LLVM dialect only: no gemma4, scf, memref, arith, math, cf, func, vector
// or index op and no unrealized cast survives (checked on every line).
//
// RUN: gemma4c-opt %s -gemma4-cpu-pipeline | FileCheck %s --implicit-check-not='{{(= |^ *)(gemma4|scf|memref|arith|math|cf|func|vector|index|tensor)\.}}' --implicit-check-not=unrealized_conversion_cast --implicit-check-not='{{(= |^ *)(call|return)( |$)}}' --implicit-check-not=llvm.intr.exp --implicit-check-not=tanh
// RUN: gemma4c-opt %s -gemma4-cpu-pipeline-serial | FileCheck %s --check-prefix=SERIAL --implicit-check-not='{{(= |^ *)(gemma4|scf|memref|arith|math|cf|func|vector|index|tensor)\.}}' --implicit-check-not=unrealized_conversion_cast --implicit-check-not='{{(= |^ *)(call|return)( |$)}}' --implicit-check-not=__par --implicit-check-not=gemma4rt_parallel_for

// CHECK-NOT: gemma4.
// CHECK-NOT: scf.
// CHECK-NOT: memref.
// CHECK: module attributes {gemma4.quant = "bf16", gemma4.weights_size = {{[0-9]+}} : i64} {
// CHECK-DAG: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG: llvm.func @free(!llvm.ptr)
// CHECK-LABEL: llvm.func @gemma4_decode(
// CHECK-SAME: {gemma4.arg = "position"}
// CHECK-SAME: {gemma4.arg = "context"}
// CHECK: llvm.alloca %{{.+}} x i64 {alignment = 8 : i64}
// CHECK: llvm.call @malloc
// CHECK: llvm.call @gemma4rt_parallel_for(
// CHECK: llvm.call @free
// CHECK: llvm.return
// The attention runs an online softmax (maximum + polynomial exp), the
// GeLU/soft-cap tanh is polynomial too: no exp/tanh intrinsic or call.
// Bodies are named after their op (and weight), e.g. __par3__fused_attention_...
// CHECK: llvm.func internal @gemma4_decode__par{{[0-9]+}}__{{[A-Za-z0-9_]+}}(
// CHECK: llvm.intr.maximum
// CHECK: llvm.intr.floor
// CHECK: llvm.func internal @gemma4_decode__par{{[0-9]+}}__{{[A-Za-z0-9_]+}}__tramp(%{{.+}}: !llvm.ptr, %{{.+}}: i64, %{{.+}}: i64)
// CHECK: llvm.func @gemma4rt_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64)

// SERIAL: module attributes {gemma4.quant = "bf16", gemma4.weights_size = {{[0-9]+}} : i64} {
// SERIAL-LABEL: llvm.func @gemma4_decode(
// SERIAL: llvm.intr.maximum
// SERIAL: llvm.return
module {
func.func @gemma4_decode(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x32xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<32x16xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 4.0 : f32} : (tensor<32x16xbf16>, tensor<1xi32>) -> tensor<1x16xf32>
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 12 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<12x1x8xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 12 : i64, offset = 384 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<12x1x8xf32>
  %nw = gemma4.weight "layers.0.input_layernorm.weight" : tensor<16xbf16>
  %x = gemma4.rms_norm %h, %nw {epsilon = 1.0e-6 : f32} : (tensor<1x16xf32>, tensor<16xbf16>) -> tensor<1x16xf32>
  %wq = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<16x16xbf16>
  %q0 = gemma4.linear %x, %wq : (tensor<1x16xf32>, tensor<16x16xbf16>) -> tensor<1x16xf32>
  %q1 = gemma4.reshape %q0 : (tensor<1x16xf32>) -> tensor<1x2x8xf32>
  %qn = gemma4.weight "layers.0.self_attn.q_norm.weight" : tensor<8xbf16>
  %q2 = gemma4.rms_norm %q1, %qn {epsilon = 1.0e-6 : f32} : (tensor<1x2x8xf32>, tensor<8xbf16>) -> tensor<1x2x8xf32>
  %q3 = gemma4.rope %q2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<1x2x8xf32>, index) -> tensor<1x2x8xf32>
  %wk = gemma4.weight "layers.0.self_attn.k_proj.weight" : tensor<8x16xbf16>
  %k0 = gemma4.linear %x, %wk : (tensor<1x16xf32>, tensor<8x16xbf16>) -> tensor<1x8xf32>
  %k1 = gemma4.reshape %k0 : (tensor<1x8xf32>) -> tensor<1x1x8xf32>
  %wv = gemma4.weight "layers.0.self_attn.v_proj.weight" : tensor<8x16xbf16>
  %v0 = gemma4.linear %x, %wv : (tensor<1x16xf32>, tensor<8x16xbf16>) -> tensor<1x8xf32>
  %v1 = gemma4.reshape %v0 : (tensor<1x8xf32>) -> tensor<1x1x8xf32>
  %kn = gemma4.weight "layers.0.self_attn.k_norm.weight" : tensor<8xbf16>
  %k2 = gemma4.rms_norm %k1, %kn {epsilon = 1.0e-6 : f32} : (tensor<1x1x8xf32>, tensor<8xbf16>) -> tensor<1x1x8xf32>
  %k3 = gemma4.rope %k2 at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>} : (tensor<1x1x8xf32>, index) -> tensor<1x1x8xf32>
  %v2 = gemma4.rms_norm %v1 {epsilon = 1.0e-6 : f32} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  gemma4.kv_cache_update %k3, %v2 into %kc, %vc at %pos : tensor<1x1x8xf32>, tensor<1x1x8xf32>, memref<12x1x8xf32>, memref<12x1x8xf32>
  %a = gemma4.attention %q3, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 4 : i64} : (tensor<1x2x8xf32>, memref<12x1x8xf32>, memref<12x1x8xf32>, index) -> tensor<1x2x8xf32>
  %a2 = gemma4.reshape %a : (tensor<1x2x8xf32>) -> tensor<1x16xf32>
  %wo = gemma4.weight "layers.0.self_attn.o_proj.weight" : tensor<16x16xbf16>
  %o = gemma4.linear %a2, %wo : (tensor<1x16xf32>, tensor<16x16xbf16>) -> tensor<1x16xf32>
  %r = gemma4.add %h, %o : tensor<1x16xf32>
  %g = gemma4.weight "layers.0.mlp.gate_proj.weight" : tensor<24x16xbf16>
  %u = gemma4.weight "layers.0.mlp.up_proj.weight" : tensor<24x16xbf16>
  %d = gemma4.weight "layers.0.mlp.down_proj.weight" : tensor<16x24xbf16>
  %m = gemma4.mlp %r, %g, %u, %d : (tensor<1x16xf32>, tensor<24x16xbf16>, tensor<24x16xbf16>, tensor<16x24xbf16>) -> tensor<1x16xf32>
  %r2 = gemma4.add %r, %m : tensor<1x16xf32>
  %fw = gemma4.weight "norm.weight" : tensor<16xbf16>
  %f = gemma4.rms_norm %r2, %fw {epsilon = 1.0e-6 : f32} : (tensor<1x16xf32>, tensor<16xbf16>) -> tensor<1x16xf32>
  %lm = gemma4.weight "embed_tokens.weight" : tensor<32x16xbf16>
  %l = gemma4.linear %f, %lm : (tensor<1x16xf32>, tensor<32x16xbf16>) -> tensor<1x32xf32>
  %sc = gemma4.softcap %l {cap = 30.0 : f32} : tensor<1x32xf32>
  return %sc : tensor<1x32xf32>
}
}

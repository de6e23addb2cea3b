// A decode step's fused attention on a GPU: the query rows' norm and RoPE
// are made inside the attention kernel (each (head, chunk) iteration its
// own copy), so the layer launches three kernels: K/V norm + RoPE + cache
// write, the chunks, their combine. q, k and v projections of one input
// share one launch (gemma4-merge-gpu-launches).
// RUN: gemma4c-opt %s --gemma4-gpu-kernel-pipeline | FileCheck %s

// Seven launches: the embedding, q + k + v (one grid), the RoPE table,
// K/V norm + RoPE + cache write, the chunks, their combine, the output
// projection. No query-norm kernel.
// CHECK-LABEL: func.func @gemma4_decode(
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} args({{.*}}memref<32x32xf32>
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gemma4_kernels::@[[QKV:[a-z0-9_]+]] {{.*}}memref<32x32xf32>{{.*}}memref<16x32xf32>{{.*}}memref<16x32xf32>
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gemma4_kernels::@[[KSIDE:[a-z0-9_]+]] {{.*}}memref<64x1x16xf32>
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gemma4_kernels::@[[ATT:[a-z0-9_]+]] blocks
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func
// CHECK-NOT: gpu.launch_func
// CHECK: return
// The merged projection: blocks below q's grid run q, the others k + v.
// CHECK: gpu.func @[[QKV]](
// CHECK: arith.cmpi ult, %block_id_x
// CHECK: scf.if
// CHECK: } else {
// CHECK: arith.subi %block_id_x
// The attention kernel makes its query row: the norm (rsqrt), RoPE after a
// barrier, then the scores and their subgroup max.
// CHECK: gpu.func @[[ATT]](
// CHECK: math.rsqrt
// CHECK: gpu.barrier
// CHECK: gpu.subgroup_reduce maximumf
// CHECK: gpu.return
func.func @gemma4_decode(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x32xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x32xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x32xf32>, tensor<1xi32>) -> tensor<1x32xf32>
  %wq = gemma4.weight "q.weight" {offset = 4096 : i64} : tensor<32x32xf32>
  %q0 = gemma4.linear %h, %wq : (tensor<1x32xf32>, tensor<32x32xf32>) -> tensor<1x32xf32>
  %q = gemma4.reshape %q0 : (tensor<1x32xf32>) -> tensor<1x2x16xf32>
  %wk = gemma4.weight "k.weight" {offset = 8192 : i64} : tensor<16x32xf32>
  %k0 = gemma4.linear %h, %wk : (tensor<1x32xf32>, tensor<16x32xf32>) -> tensor<1x16xf32>
  %k = gemma4.reshape %k0 : (tensor<1x16xf32>) -> tensor<1x1x16xf32>
  %wv = gemma4.weight "v.weight" {offset = 10240 : i64} : tensor<16x32xf32>
  %v0 = gemma4.linear %h, %wv : (tensor<1x32xf32>, tensor<16x32xf32>) -> tensor<1x16xf32>
  %v = gemma4.reshape %v0 : (tensor<1x16xf32>) -> tensor<1x1x16xf32>
  %qn = gemma4.weight "q_norm.weight" {offset = 12288 : i64} : tensor<16xbf16>
  %kn = gemma4.weight "k_norm.weight" {offset = 12352 : i64} : tensor<16xbf16>
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 64 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<64x1x16xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 64 : i64, offset = 4096 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<64x1x16xf32>
  %o = gemma4.fused_attention q(%q : tensor<1x2x16xf32>) k(%k : tensor<1x1x16xf32>) v(%v : tensor<1x1x16xf32>) q_norm(%qn : tensor<16xbf16>) k_norm(%kn : tensor<16xbf16>) cache(%kc, %vc : memref<64x1x16xf32>, memref<64x1x16xf32>) at %pos {epsilon = 1.0e-6 : f32, layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 8>, scale = 1.0 : f32, sliding_window = 32 : i64} -> tensor<1x2x16xf32>
  %o2 = gemma4.reshape %o : (tensor<1x2x16xf32>) -> tensor<1x32xf32>
  %y = gemma4.linear %o2, %wq : (tensor<1x32xf32>, tensor<32x32xf32>) -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

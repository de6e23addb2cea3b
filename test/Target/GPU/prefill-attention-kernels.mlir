// A prefill's attention on a GPU (targets/gpu/lib/Strategy/Attention.cpp):
// flash attention by tiles. A block of 256 threads per (32 query rows: 4
// tokens x the 8 query heads of the KV head, KV head) walks the keys its
// tokens see 64 at a time: the scores from Q and K slices of 32 elements of
// D in workgroup memory (32 x (32 + 4) and 64 x (32 + 4) f32), between two
// barriers; the scaled scores into a 32 x (64 + 4) tile; a thread per query
// row for the online softmax (the running max, exp of the correction,
// p = exp(s - m) in place); then P V from V slices of 64 elements
// (64 x (64 + 4)), the accumulators rescaled by the row's correction. A
// head dim of 512 takes twice as many V slices, not more workgroup memory.
// RUN: gemma4c-opt %s --gemma4-gpu-kernel-pipeline | FileCheck %s
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu attn-tile=16x16x8})' | FileCheck %s --check-prefix=SMALL
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu attn-tile=0 block-tile=0})' | FileCheck %s --check-prefix=OFF

// The embedding, q's product, the attention, ..., the full attention.
// CHECK-LABEL: func.func @gemma4_prefill(
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} threads in (%c256
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} threads in (%c32
// CHECK: gpu.launch_func @gemma4_kernels::@[[SWA:[a-z0-9_]+]] blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.launch_func @gemma4_kernels::@[[FULL:[a-z0-9_]+]] blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.func @[[SWA]]({{.*}}) workgroup(%[[QS:.*]] : memref<32x36xf32, #gpu.address_space<workgroup>>, %[[KS:.*]] : memref<64x36xf32, #gpu.address_space<workgroup>>, %[[VS:.*]] : memref<64x68xf32, #gpu.address_space<workgroup>>, %[[SS:.*]] : memref<32x68xf32, #gpu.address_space<workgroup>>, %[[RC:.*]] : memref<1x32xf32, #gpu.address_space<workgroup>>) kernel
// The key tiles, then the slices of D: Q and K staged, a barrier, the
// scores' FMAs from workgroup memory, a barrier.
// CHECK: scf.for {{.*}} iter_args(
// CHECK: scf.for {{.*}} iter_args(
// CHECK: vector.store %{{.*}}, %[[QS]]
// CHECK: vector.store %{{.*}}, %[[KS]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load %[[QS]]
// CHECK: vector.load %[[KS]]
// CHECK: math.fma
// CHECK: gpu.barrier
// The scores into their tile, a barrier, the online softmax of each row.
// CHECK: memref.store %{{.*}}, %[[SS]]
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: scf.for
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %[[SS]]
// CHECK: memref.store %{{.*}}, %[[RC]]
// CHECK: gpu.barrier
// P V: the correction, each V slice staged between barriers.
// CHECK: memref.load %[[RC]]
// CHECK: arith.mulf
// CHECK: vector.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load %[[VS]]
// CHECK: vector.load %[[SS]]
// CHECK: vector.fma
// CHECK: gpu.barrier
// CHECK: vector.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: vector.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: vector.store %{{.*}}, %[[VS]]
// CHECK: gpu.barrier
// CHECK: scf.yield
// After the keys: 1 / l per row, a barrier, the normalised rows out.
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %[[RC]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[RC]]
// CHECK: vector.store
// CHECK: gpu.return
// The full-attention layer (D = 512): the same workgroup buffers.
// CHECK: gpu.func @[[FULL]]({{.*}}) workgroup(%{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x68xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x68xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1x32xf32, #gpu.address_space<workgroup>>) kernel

// attn-tile=16x16x8: 16 query rows (2 tokens), 16 keys a step, slices of
// 8 (Q, K) and 16 (V) elements of D.
// SMALL-LABEL: func.func @gemma4_prefill(
// SMALL: scf.parallel {{.*}} {
// SMALL: memref.alloca() : memref<16x12xf32, #gpu.address_space<workgroup>>
// SMALL: memref.alloca() : memref<16x12xf32, #gpu.address_space<workgroup>>
// SMALL: memref.alloca() : memref<16x20xf32, #gpu.address_space<workgroup>>
// SMALL: memref.alloca() : memref<16x20xf32, #gpu.address_space<workgroup>>
// SMALL: memref.alloca() : memref<1x16xf32, #gpu.address_space<workgroup>>
// SMALL: } {gemma4.block_threads = 256 : i64}

// attn-tile=0: the flash-decoding kernels per token, no workgroup memory.
// OFF-LABEL: func.func @gemma4_prefill(
// OFF-NOT: gpu.barrier
// OFF-NOT: #gpu.address_space<workgroup>
func.func @gemma4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x64xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<64x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<64x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %wq = gemma4.weight "q.weight" {offset = 16384 : i64} : tensor<2048x64xbf16>
  %q0 = gemma4.linear %h, %wq : (tensor<?x64xf32>, tensor<2048x64xbf16>) -> tensor<?x2048xf32>
  %q = gemma4.reshape %q0 : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 1024 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<1024x1x256xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 1024 : i64, offset = 1048576 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<1024x1x256xf32>
  %a = gemma4.attention %q, %kc, %vc at %pos {scale = 1.0 : f32, sliding_window = 512 : i64} : (tensor<?x8x256xf32>, memref<1024x1x256xf32>, memref<1024x1x256xf32>, index) -> tensor<?x8x256xf32>
  %a2 = gemma4.reshape %a : (tensor<?x8x256xf32>) -> tensor<?x2048xf32>
  %wf = gemma4.weight "qf.weight" {offset = 282624 : i64} : tensor<4096x2048xbf16>
  %f0 = gemma4.linear %a2, %wf : (tensor<?x2048xf32>, tensor<4096x2048xbf16>) -> tensor<?x4096xf32>
  %f = gemma4.reshape %f0 : (tensor<?x4096xf32>) -> tensor<?x8x512xf32>
  %gk = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 2097152 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x512xf32>
  %gv = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 2097152 : i64, offset_per_context = 2048 : i64} : memref<?xi8> to memref<?x1x512xf32>
  %b = gemma4.attention %f, %gk, %gv at %pos {scale = 1.0 : f32, sliding_window = 0 : i64} : (tensor<?x8x512xf32>, memref<?x1x512xf32>, memref<?x1x512xf32>, index) -> tensor<?x8x512xf32>
  %b2 = gemma4.reshape %b : (tensor<?x8x512xf32>) -> tensor<?x4096xf32>
  %wo = gemma4.weight "o.weight" {offset = 17059840 : i64} : tensor<64x4096xbf16>
  %y = gemma4.linear %b2, %wo : (tensor<?x4096xf32>, tensor<64x4096xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

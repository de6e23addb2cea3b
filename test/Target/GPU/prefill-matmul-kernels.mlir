// A prefill's products on a GPU (targets/gpu/lib/Strategy/Matmul.cpp): block
// tiles in workgroup memory. Each K step the block's 64 threads copy 64
// token rows and 64 weight rows (bf16 widened to f32) into two padded
// workgroup tiles, 16 bytes a thread a copy, then, after a barrier, take
// 4 elements of K of their 8 tokens and 8 rows at a time from there, 8 x 8
// scalar FMAs a step. The MLP's gate and up share a tile (two weight
// tiles, 32 rows each, 8 x 4 outputs of each a thread). A narrow product
// (fewer than 48 tiles of rows) takes narrower tiles. A K that is no
// multiple of the tile's k, or tile=0, keeps the subgroup tiles.
// RUN: gemma4c-opt %s --gemma4-gpu-kernel-pipeline | FileCheck %s
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu block-tile=0})' | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: func.func @gemma4_prefill(
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} threads in (%c256
// CHECK: gpu.launch_func @gemma4_kernels::@[[MM:[a-z0-9_]+]] blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c64{{.*}}, %c1{{.*}}, %c1{{.*}})
// CHECK: gpu.launch_func @gemma4_kernels::@[[MLP:[a-z0-9_]+]] blocks {{.*}} threads in (%c64
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} threads in (%c64
// A 128-row product: 16-row tiles, 16 threads a block.
// CHECK: gpu.launch_func @gemma4_kernels::@{{.*}} threads in (%c16
// The product: tiles of 64 x (32 + 4) f32, the copies, a barrier, the
// tiles' 16-byte loads and FMAs, a barrier, then the guarded stores.
// CHECK: gpu.func @[[MM]]({{.*}}) workgroup(%[[XS:.*]] : memref<64x36xf32, #gpu.address_space<workgroup>>, %[[WS:.*]] : memref<64x36xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: scf.for
// CHECK: vector.load %{{.*}} : memref<?x128xf32>, vector<4xf32>
// CHECK: vector.store %{{.*}}, %[[XS]]
// CHECK: vector.load %{{.*}} : memref<3072x128xbf16>, vector<4xbf16>
// CHECK: vector.store %{{.*}}, %[[WS]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load %[[XS]]
// CHECK: vector.load %[[WS]]
// CHECK: math.fma
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: memref.store
// CHECK: gpu.return
// CHECK: gpu.func @[[MLP]]({{.*}}) workgroup(%{{.*}} : memref<64x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<32x36xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: math.tanh
// OFF-LABEL: func.func @gemma4_prefill(
// OFF-NOT: gpu.barrier
// OFF-NOT: #gpu.address_space<workgroup>
func.func @gemma4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x128xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<64x128xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<64x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
  %wq = gemma4.weight "q.weight" {offset = 32768 : i64} : tensor<3072x128xbf16>
  %q = gemma4.linear %h, %wq : (tensor<?x128xf32>, tensor<3072x128xbf16>) -> tensor<?x3072xf32>
  %wg = gemma4.weight "gate.weight" {offset = 819200 : i64} : tensor<64x3072xbf16>
  %wu = gemma4.weight "up.weight" {offset = 1212416 : i64} : tensor<64x3072xbf16>
  %wd = gemma4.weight "down.weight" {offset = 1605632 : i64} : tensor<3072x64xbf16>
  %y = gemma4.mlp %q, %wg, %wu, %wd : (tensor<?x3072xf32>, tensor<64x3072xbf16>, tensor<64x3072xbf16>, tensor<3072x64xbf16>) -> tensor<?x3072xf32>
  %wo = gemma4.weight "o.weight" {offset = 2002944 : i64} : tensor<128x3072xbf16>
  %z = gemma4.linear %y, %wo : (tensor<?x3072xf32>, tensor<128x3072xbf16>) -> tensor<?x128xf32>
  return %z : tensor<?x128xf32>
}

// The cuda strategy (targets/cuda/lib/Strategy/Matmul.cpp): with bf16
// activations (--compute=bf16) a prefill product runs on the tensor cores:
// bf16 tiles in workgroup memory (rows padded by 8 elements), each warp's
// m16n8k16 nvvm.mma.sync (bf16 x bf16 + f32) over 32-bit fragment pairs.
// 4 warps a block, 2 x 2 over a 64 x 64 tile: each warp 2 x 4 mma tiles a
// 16 of K, 2 such steps a tile of K = 32. f32 activations keep the FMA
// tiles unless mma=on; mma=off keeps them always.
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=cuda bf16-activations=1})' | FileCheck %s
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=cuda})' | FileCheck %s --check-prefix=F32
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=cuda mma=on})' | FileCheck %s --check-prefix=ON
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=cuda bf16-activations=1 mma=off})' | FileCheck %s --check-prefix=F32
// RUN: not gemma4c-opt %s --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=cuda mma=maybe})' 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @gemma4_prefill(
// CHECK: scf.parallel
// CHECK-DAG: memref.alloca() : memref<64x40xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG: memref.alloca() : memref<64x40xbf16, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store
// CHECK: gpu.barrier
// CHECK: vector.load %{{.*}} : memref<64x40xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK-COUNT-8: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: gpu.barrier
// CHECK: } {gemma4.block_threads = 128 : i64}
// F32-LABEL: func.func @gemma4_prefill(
// F32-NOT: nvvm.mma.sync
// F32: gemma4.block_threads = 64
// ON-LABEL: func.func @gemma4_prefill(
// ON: nvvm.mma.sync
// BAD: mma must be auto, on or off, got maybe
func.func @gemma4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x3072xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<64x128xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<64x128xf32>, tensor<?xi32>) -> tensor<?x128xf32>
  %wq = gemma4.weight "q.weight" {offset = 32768 : i64} : tensor<3072x128xbf16>
  %q = gemma4.linear %h, %wq : (tensor<?x128xf32>, tensor<3072x128xbf16>) -> tensor<?x3072xf32>
  return %q : tensor<?x3072xf32>
}

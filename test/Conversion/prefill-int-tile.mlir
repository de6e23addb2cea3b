// Prefill (a dynamic number of tokens) of quantized weights on the integer
// dot path (int-dot=x86-vnni-512): register tiles of 4 weight rows x 3
// tokens over blocks of tokens, as float weights (prefill-tile.mlir):
// scf.parallel over (token blocks, N / 4 row tiles), then the block's
// token tiles, the last tile's token indices clamped to S - 1.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=x86-vnni-512" -canonicalize -cse | FileCheck %s
// With 256-bit vpdpbusd a tile is 2 rows (8-lane accumulators), on NEON 1
// (an 8-lane accumulator takes two of its registers), so its int32 and f32
// accumulators stay in registers:
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=x86-vnni" -canonicalize -cse | FileCheck %s --check-prefix=YMM
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=arm-dotprod" -canonicalize -cse | FileCheck %s --check-prefix=ARM
// YMM-LABEL: func.func @int4_prefill
// YMM: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c24)
// YMM: scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// YMM-COUNT-64: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// ARM-LABEL: func.func @int4_prefill
// ARM: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c48)
// ARM: scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// ARM-COUNT-64: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"

// int4 (interleaved super-blocks): per super-block, each 64-byte load of a
// weight row is split once into low and high nibbles and meets the 3 tokens'
// int8 activations, each activation load the 4 rows: 48 vpdpbusd into 12
// int32 accumulators a super-block (the symmetric offset their initial
// value), then per pair one conversion and one FMA with the lane-duplicated
// block scales (lanes j and j + 8 hold block j: no fold), into 12 f32
// accumulators of 16 lanes (24 of the 32 zmm with the nibble vectors
// spared: a 4 x 4 tile spilled its f32 accumulators every super-block).
// CHECK-LABEL: func.func @int4_prefill
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c12)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 {
// CHECK-COUNT-2: arith.minui
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-3: vector.load %{{.+}} : memref<?x32xi32>, vector<16xi32>
// CHECK: vector.load %{{.+}} : memref<48x256xi8>, vector<64xi8>
// CHECK-NEXT: arith.andi
// CHECK-NEXT: arith.shrui
// CHECK-COUNT-3: vector.load %{{.+}} : memref<48x256xi8>, vector<64xi8>
// CHECK: vector.load %{{.+}} : memref<?x512xi8>, vector<64xi8>
// CHECK-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: vector.load %{{.+}} : memref<?x512xi8>, vector<64xi8>
// CHECK-COUNT-44: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7] : vector<8xf32>, vector<8xf32>
// CHECK-COUNT-12: arith.sitofp %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT: arith.sitofp
// CHECK: scf.yield
// CHECK-COUNT-12: vector.reduction <add>
func.func @int4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<?x512xf32>, tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}


// -----

// int8 (per-channel scales): two 32-element blocks a step, one 64-byte load
// per weight row (flipped to unsigned) and per token, one vpdpbusd, one
// conversion and one FMA a pair, lanes 0-7 scaled by the first block's
// activation scale and 8-15 by the second's; 12 f32 accumulators of 16
// lanes, and 12 of the block sums for the +128 offset.
// CHECK-LABEL: func.func @int8_prefill
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c12)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 {
// CHECK: scf.for %{{.+}} = %c0 to %c16 step %c8 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<8xf32>,
// CHECK: vector.load %{{.+}} : memref<48x512xi8>, vector<64xi8>
// CHECK-NEXT: arith.xori
// CHECK: vector.load %{{.+}} : memref<?x512xi8>, vector<64xi8>
// CHECK-NEXT: vector.shuffle %{{.+}}, %{{.+}} [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] : vector<8xf32>, vector<8xf32>
// CHECK: %[[D:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NEXT: %[[F:.+]] = arith.sitofp %[[D]] : vector<16xi32> to vector<16xf32>
// CHECK-NEXT: vector.fma %[[F]], %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-COUNT-11: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]
// CHECK: scf.yield
// CHECK-COUNT-12: vector.reduction <add>

func.func @int8_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %h, %q : (tensor<?x512xf32>, tensor<48x512xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}


// -----

// The MLP's gate and up: both weights' tiles for the same rows and tokens,
// then the activation, stored per (token, row).
// CHECK-LABEL: func.func @mlp_int4_prefill
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c6)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 {
// CHECK-COUNT-2: scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args
// CHECK: math.tanh

func.func @mlp_int4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x512xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  %g = gemma4.weight "mlp.gate_proj.weight" {offset = 65536 : i64} : tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %u = gemma4.weight "mlp.up_proj.weight" {offset = 73728 : i64} : tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %d = gemma4.weight "mlp.down_proj.weight" {offset = 81920 : i64} : tensor<512x24xf32>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<?x512xf32>, tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<512x24xf32>) -> tensor<?x512xf32>
  return %m : tensor<?x512xf32>
}

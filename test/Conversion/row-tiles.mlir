// Row tiles (QuantLayout.h, #gemma4.quant<..., tile = 4>): an interleaved
// int4 weight stored as tiles of 4 rows, each 256-element super-block of a
// tile being the 4 rows' 128 data bytes then their 8 f16 block scales
// (576 bytes). The weight is one i8 view [rows / 4, K / 256 * 576]; a
// decode step computes tile i (rows 4i .. 4i + 3) from that one stream:
// data of row r at sb * 576 + 128 r + 32 l, scales at sb * 576 + 512 + 16 r
// (bitcast to f16). The MLP's gate and up tiles form one 8-row register
// tile; its GELU runs after the loop on 16-lane vectors, inside the down
// projection's activation quantization.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni -canonicalize -cse | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni-512 -canonicalize -cse | FileCheck %s --check-prefix=WIDE
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s --check-prefix=F32

// CHECK-LABEL: func.func @linear_tiled
// CHECK: %[[V:.+]] = memref.view %{{.+}}[%c65536][] : memref<?xi8> to memref<2x1152xi8>
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c2) step (%c1) {
// CHECK-NEXT: %[[N0:.+]] = arith.muli %[[T]], %c4 : index
// CHECK: scf.for %[[SB:.+]] = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: %[[B:.+]] = arith.muli %[[SB]], %c576 : index
// CHECK-NEXT: vector.load %[[V]][%[[T]], %[[B]]] : memref<2x1152xi8>, vector<32xi8>
// CHECK: %[[R1:.+]] = arith.addi %[[B]], %c128 : index
// CHECK-NEXT: vector.load %[[V]][%[[T]], %[[R1]]] : memref<2x1152xi8>, vector<32xi8>
// CHECK: %[[R2:.+]] = arith.addi %[[B]], %c256 : index
// CHECK-NEXT: vector.load %[[V]][%[[T]], %[[R2]]] : memref<2x1152xi8>, vector<32xi8>
// CHECK: %[[R3:.+]] = arith.addi %[[B]], %c384 : index
// CHECK-NEXT: vector.load %[[V]][%[[T]], %[[R3]]] : memref<2x1152xi8>, vector<32xi8>
// CHECK-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: %[[S0:.+]] = arith.addi %[[B]], %c512 : index
// CHECK-NEXT: %[[SV:.+]] = vector.load %[[V]][%[[T]], %[[S0]]] : memref<2x1152xi8>, vector<16xi8>
// CHECK-NEXT: vector.bitcast %[[SV]] : vector<16xi8> to vector<8xf16>
// CHECK: arith.addi %[[B]], %c528 : index
// CHECK: arith.addi %[[B]], %c544 : index
// CHECK: arith.addi %[[B]], %c560 : index
// CHECK: scf.yield
// CHECK: memref.store %{{.+}}, %{{.+}}[%c0, %[[N0]]] : memref<1x8xf32>
// CHECK-NOT: arith.divui

// WIDE-LABEL: func.func @linear_tiled
// WIDE: scf.parallel (%[[T:.+]]) = (%c0) to (%c2) step (%c1) {
// WIDE: %[[B:.+]] = arith.muli %{{.+}}, %c576 : index
// WIDE-NEXT: vector.load %{{.+}}[%[[T]], %[[B]]] : memref<2x1152xi8>, vector<64xi8>
// WIDE-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"

// Without integer dot products a row is computed at a time, still from the
// tile's bytes (dequantised in f32).
// F32-LABEL: func.func @linear_tiled
// F32: scf.parallel (%[[N:.+]]) = (%c0) to (%c8) step (%c1) {
// F32: %[[T:.+]] = arith.divui %[[N]], %c4 : index
// F32: %[[R:.+]] = arith.remui %[[N]], %c4 : index
// F32: vector.load %{{.+}}[%[[T]], %{{.+}}] : memref<2x1152xi8>, vector<32xi8>
// F32: vector.bitcast %{{.+}} : vector<16xi8> to vector<8xf16>
func.func @linear_tiled(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %q = gemma4.weight "q.weight" {offset = 65536 : i64} : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  %y = gemma4.linear %h, %q : (tensor<1x512xf32>, tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @mlp_tiled
// CHECK: %[[G:.+]] = memref.view %{{.+}}[%c65536][] : memref<?xi8> to memref<16x1152xi8>
// CHECK: %[[U:.+]] = memref.view %{{.+}}[%c83968][] : memref<?xi8> to memref<16x1152xi8>
// CHECK: %[[GB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// CHECK: %[[UB:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
// CHECK: scf.parallel (%[[T:.+]]) = (%c0) to (%c16) step (%c1) {
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: vector.load %[[G]][%[[T]], %{{.+}}] : memref<16x1152xi8>, vector<32xi8>
// CHECK-COUNT-3: vector.load %[[G]]
// CHECK-COUNT-4: vector.load %[[U]][%[[T]], %{{.+}}] : memref<16x1152xi8>, vector<32xi8>
// CHECK-COUNT-8: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: scf.yield
// CHECK-NOT: math.tanh
// CHECK: memref.store %{{.+}}, %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>
// CHECK: memref.store %{{.+}}, %[[UB]][%c0, %{{.+}}] : memref<1x64xf32>
// CHECK: scf.reduce
// The activation, 16 lanes at a time, then its int8 quantization.
// CHECK: scf.for %[[BLK:.+]] = %c0 to %c2 step %c1 {
// CHECK: vector.load %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: vector.load %[[UB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: math.tanh %{{.+}} : vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[GB]][%c0, %{{.+}}] : memref<1x64xf32>, vector<16xf32>
// CHECK: math.roundeven %{{.+}} : vector<16xf32>
func.func @mlp_tiled(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x512xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %g = gemma4.weight "mlp.gate_proj.weight" {offset = 65536 : i64} : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  %u = gemma4.weight "mlp.up_proj.weight" {offset = 83968 : i64} : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  %d = gemma4.weight "mlp.down_proj.weight" {offset = 102400 : i64} : tensor<512x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<1x512xf32>, tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>, tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>, tensor<512x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x512xf32>
  return %m : tensor<1x512xf32>
}

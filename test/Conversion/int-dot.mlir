// int-dot=x86-vnni: quantized matmuls quantize their activation rows to
// int8 once per op (per 32-element block: d = max|x|/127, q = round(x/d),
// cs = d * sum(q)), then take one vpdpbusd per 32-weight block of unsigned
// weight bytes (int4 nibbles, int8 + 128) with those int8 activations.
//
// The CHECK, WIDE and PF runs show one weight row per decode step
// (decode-row-tile=1); TILE shows the default, 4 rows per step.
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=x86-vnni decode-row-tile=1" -canonicalize -cse | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=x86-vnni-512 decode-row-tile=1" -canonicalize -cse | FileCheck %s --check-prefix=WIDE
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="int-dot=x86-vnni weight-prefetch=2048 decode-row-tile=1" -canonicalize -cse | FileCheck %s --check-prefix=PF
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni | FileCheck %s --check-prefix=NOPF
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni -canonicalize -cse | FileCheck %s --check-prefix=TILE
// RUN: not gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=decode-row-tile=0 2>&1 | FileCheck %s --check-prefix=BADTILE
// RUN: not gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=decode-row-tile=17 2>&1 | FileCheck %s --check-prefix=BADTILE17
// BADTILE: error: convert-gemma4-to-loops: decode-row-tile must be in 1..16, got 0
// BADTILE17: error: convert-gemma4-to-loops: decode-row-tile must be in 1..16, got 17
// RUN: not gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=weight-prefetch=-1 2>&1 | FileCheck %s --check-prefix=BADPF
// BADPF: error: convert-gemma4-to-loops: weight-prefetch must be >= 0, got -1
// NOPF-NOT: memref.prefetch
// weight-prefetch=N: a one-token product prefetches its weight row N bytes
// ahead of every 64 bytes it loads (int4 super-block: 128 bytes, two
// prefetches at sb * 128 + 2048 and + 2112; bf16: in elements, 1024 and
// 1056).
// PF-LABEL: func.func @int4_k512
// PF: scf.for %[[SB:.+]] = %c0 to %c2 step %c1 iter_args
// PF: %[[O0:.+]] = arith.addi %{{.+}}, %c2048 : index
// PF-NEXT: memref.prefetch %{{.+}}[%{{.+}}, %[[O0]]], read, locality<3>, data : memref<48x256xi8>
// PF-NEXT: %[[O1:.+]] = arith.addi %{{.+}}, %c2112 : index
// PF-NEXT: memref.prefetch %{{.+}}[%{{.+}}, %[[O1]]], read, locality<3>, data : memref<48x256xi8>
// PF-LABEL: func.func @bf16_unchanged
// PF: memref.prefetch %{{.+}}[%{{.+}}, %c1024], read, locality<3>, data : memref<48x64xbf16>
// PF-NEXT: memref.prefetch %{{.+}}[%{{.+}}, %c1056], read, locality<3>, data : memref<48x64xbf16>
// RUN: not gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=avx9 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: convert-gemma4-to-loops: unknown int-dot 'avx9' (expected none, x86-vnni, x86-vnni-512 or arm-dotprod)

// int4 g32 with K = 512: two interleaved super-blocks (QuantLayout.h). The
// activation row is quantized into the matching permuted order (runs of 4
// bytes at stride 32). Per super-block, each 32-byte weight load splits into
// low and high nibbles whose 4-byte lane j belongs to block j, and vpdpbusd
// accumulates the 8 blocks side by side in int32 lanes (4 accumulators in
// decode, chained across the 4 loads); the symmetric offset is the first
// accumulator's initial value, the integer -8 * sum(q) per block (stored
// with the quantized activations); then one conversion and one FMA with the
// 8 block scales (f16 scales x activation scales) as a vector.
// CHECK-LABEL: func.func @int4_k512
// CHECK: %[[XQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xi8>
// CHECK: %[[DX:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x16xf32>
// CHECK: %[[NS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x16xi32>
// CHECK: vector.reduction <maxnumf>
// CHECK: math.roundeven
// CHECK: arith.fptosi {{.*}} : vector<16xf32> to vector<16xi32>
// CHECK-COUNT-4: vector.store {{.*}}, %[[XQ]]{{.*}} : memref<1x512xi8>, vector<4xi8>
// CHECK: scf.parallel
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>) {
// CHECK: %[[OFF:.+]] = vector.load %[[NS]]{{.*}} : memref<1x16xi32>, vector<8xi32>
// CHECK: %[[W:.+]] = vector.load {{.*}} : memref<48x256xi8>, vector<32xi8>
// CHECK: %[[LO:.+]] = arith.andi %[[W]], %{{.+}} : vector<32xi8>
// CHECK: %[[HI:.+]] = arith.shrui %[[W]], %{{.+}} : vector<32xi8>
// CHECK: %[[X0:.+]] = vector.load %[[XQ]]{{.*}} : memref<1x512xi8>, vector<32xi8>
// CHECK: %[[A0:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[OFF]], %[[LO]], %[[X0]]) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// CHECK: %[[X1:.+]] = vector.load %[[XQ]]{{.*}} : memref<1x512xi8>, vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.+}}, %[[HI]], %[[X1]])
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A0]],
// CHECK: vector.load {{.*}} : memref<48x16xf16>, vector<8xf16>
// CHECK: arith.extf {{.*}} : vector<8xf16> to vector<8xf32>
// CHECK-COUNT-3: arith.addi %{{.+}}, %{{.+}} : vector<8xi32>
// CHECK-NOT: %[[NS]]
// CHECK: vector.load %[[DX]]{{.*}} : memref<1x16xf32>, vector<8xf32>
// CHECK: arith.sitofp %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: vector.fma
// CHECK-NEXT: scf.yield
// CHECK: vector.reduction <add>
// CHECK-NEXT: memref.store
//
// x86-vnni-512: 64-byte weight loads and 512-bit vpdpbusd (2 loads per
// super-block); the activations are stored with chunks 1 and 2 of every 4
// swapped (offsets 0, 64, 32, 96, then 128, 192, 160, 224), so the low
// nibbles' partners of one 64-byte load are contiguous; of the two
// accumulator chains per super-block, one starts at the 16-lane offsets
// (-4 * sum(q) in both lanes of block j); lanes j and j + 8 are folded
// before the scaling.
// WIDE-LABEL: func.func @int4_k512
// WIDE: %[[XQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xi8>
// WIDE: %[[NS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x32xi32>
// WIDE: arith.addi %[[BASE:.+]], %c128 : index
// WIDE-NEXT: vector.store {{.*}}, %[[XQ]]{{.*}} : memref<1x512xi8>, vector<4xi8>
// WIDE: arith.addi %[[BASE]], %c192 : index
// WIDE: arith.addi %[[BASE]], %c160 : index
// WIDE: arith.addi %[[BASE]], %c224 : index
// WIDE: vector.store %{{.+}}, %[[XQ]][%c0, %[[BASE]]] : memref<1x512xi8>, vector<4xi8>
// WIDE: arith.addi %[[BASE]], %c64 : index
// WIDE: arith.addi %[[BASE]], %c32 : index
// WIDE: arith.addi %[[BASE]], %c96 : index
// WIDE: arith.muli %{{.+}}, %c-4_i32 : i32
// WIDE: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>)
// WIDE: %[[OFF:.+]] = vector.load %[[NS]]{{.*}} : memref<1x32xi32>, vector<16xi32>
// WIDE: %[[W:.+]] = vector.load {{.*}} : memref<48x256xi8>, vector<64xi8>
// WIDE: %[[LO:.+]] = arith.andi %[[W]], %{{.+}} : vector<64xi8>
// WIDE: %[[HI:.+]] = arith.shrui %[[W]], %{{.+}} : vector<64xi8>
// WIDE: %[[X0:.+]] = vector.load %[[XQ]]{{.*}} : memref<1x512xi8>, vector<64xi8>
// WIDE: %[[A0:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[OFF]], %[[LO]], %[[X0]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// WIDE: %[[A1:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.+}}, %[[HI]],
// WIDE: vector.load {{.*}} : memref<48x256xi8>, vector<64xi8>
// WIDE: %[[A2:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A0]],
// WIDE: %[[A3:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A1]],
// WIDE: %[[ACC:.+]] = arith.addi %[[A2]], %[[A3]] : vector<16xi32>
// WIDE-DAG: %[[LOW8:.+]] = vector.shuffle %[[ACC]], %[[ACC]] [0, 1, 2, 3, 4, 5, 6, 7]
// WIDE-DAG: %[[HIGH8:.+]] = vector.shuffle %[[ACC]], %[[ACC]] [8, 9, 10, 11, 12, 13, 14, 15]
// WIDE: arith.addi %[[LOW8]], %[[HIGH8]] : vector<8xi32>
// WIDE-NOT: %[[NS]]
// WIDE: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
// WIDE: vector.fma
// WIDE-NEXT: scf.yield
// decode-row-tile=4 (default): a step computes rows i, i + 12, i + 24 and
// i + 36 of the 48, each its own sequential stream; per 32-byte load of the
// four rows, one activation load feeds their four vpdpbusd (which start from
// the same -8 sum(q) offsets), and the step keeps four scaled accumulators.
// TILE-LABEL: func.func @int4_k512
// TILE: %[[XQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xi8>
// TILE: %[[NS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x16xi32>
// TILE: scf.parallel (%[[I:.+]]) = (%c0) to (%c12) step (%c1) {
// TILE-NEXT: %[[R1:.+]] = arith.addi %[[I]], %c12 : index
// TILE-NEXT: %[[R2:.+]] = arith.addi %[[I]], %c24 : index
// TILE-NEXT: %[[R3:.+]] = arith.addi %[[I]], %c36 : index
// TILE-NEXT: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// TILE: %[[OFF:.+]] = vector.load %[[NS]]{{.*}} : memref<1x16xi32>, vector<8xi32>
// TILE: %[[W0:.+]] = vector.load %[[WV:.+]][%[[I]], %[[K:.+]]] : memref<48x256xi8>, vector<32xi8>
// TILE-NEXT: %[[L0:.+]] = arith.andi %[[W0]]
// TILE: vector.load %[[WV]][%[[R1]], %[[K]]] : memref<48x256xi8>, vector<32xi8>
// TILE-NEXT: %[[L1:.+]] = arith.andi
// TILE: vector.load %[[WV]][%[[R2]], %[[K]]] : memref<48x256xi8>, vector<32xi8>
// TILE-NEXT: %[[L2:.+]] = arith.andi
// TILE: vector.load %[[WV]][%[[R3]], %[[K]]] : memref<48x256xi8>, vector<32xi8>
// TILE-NEXT: %[[L3:.+]] = arith.andi
// TILE: %[[X0:.+]] = vector.load %[[XQ]]{{.*}} : memref<1x512xi8>, vector<32xi8>
// TILE-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[OFF]], %[[L0]], %[[X0]])
// TILE-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[OFF]], %[[L1]], %[[X0]])
// TILE-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[OFF]], %[[L2]], %[[X0]])
// TILE-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[OFF]], %[[L3]], %[[X0]])
// TILE-COUNT-4: vector.fma
// TILE-NEXT: scf.yield
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[I]]] : memref<1x48xf32>
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[R1]]] : memref<1x48xf32>
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[R2]]] : memref<1x48xf32>
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[R3]]] : memref<1x48xf32>
func.func @int4_k512(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x512xf32>, tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// int8 per channel: the weight bytes are flipped to unsigned (xor 0x80) and
// the 128 * sum(q_x) offset is removed with the block sums at the end.
// CHECK-LABEL: func.func @int8_k64
// CHECK: scf.parallel
// CHECK: vector.load {{.*}} : memref<48x64xi8>, vector<32xi8>
// CHECK: arith.xori {{.*}} : vector<32xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: vector.reduction <add>
// CHECK: arith.mulf %{{.+}}, %cst{{.*}} : f32
// CHECK: arith.subf
// TILE-LABEL: func.func @int8_k64
// TILE: scf.parallel (%{{.+}}) = (%c0) to (%c12) step (%c1) {
// TILE-COUNT-4: vector.load {{.*}} : memref<48x64xi8>, vector<32xi8>
// TILE: %[[X:.+]] = vector.load {{.*}} : memref<1x64xi8>, vector<32xi8>
// TILE-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.+}}, %{{.+}}, %[[X]])
func.func @int8_k64(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// int4 g32 with K = 96 (not a multiple of 256): natural layout, one
// vpdpbusd per 32-element block, scaled per block.
// CHECK-LABEL: func.func @int4_k96
// CHECK: scf.parallel
// CHECK: vector.load {{.*}} : memref<48x48xi8>, vector<16xi8>
// CHECK: vector.shuffle
// CHECK: arith.andi {{.*}} : vector<32xi8>
// CHECK: vector.broadcast
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// CHECK: vector.fma
func.func @int4_k96(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x96xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x96xf32>, tensor<1xi32>) -> tensor<1x96xf32>
  %q = gemma4.weight "proj.weight" {offset = 16384 : i64} : tensor<48x96xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x96xf32>, tensor<48x96xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// Plain bf16 weights never take the integer path: no activation quantization.
// CHECK-LABEL: func.func @bf16_unchanged
// CHECK-NOT: llvm.call_intrinsic
// CHECK-NOT: math.roundeven
// CHECK: return
// TILE-LABEL: func.func @bf16_unchanged
// TILE: scf.parallel (%{{.+}}) = (%c0) to (%c12) step (%c1) {
// TILE: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// TILE: %[[X:.+]] = vector.load {{.*}} : memref<1x64xf32>, vector<16xf32>
// TILE-COUNT-4: vector.load {{.*}} : memref<48x64xbf16>, vector<16xbf16>
func.func @bf16_unchanged(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xbf16>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xbf16>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// gemma4.mlp decode with int4 gate and up: a step computes outputs i and
// i + 12 of the 24 and reads the gate's two rows and the up's two rows as
// one register tile, line by line side by side (4 weight streams at once,
// like one matrix's 4 parts), each activation load feeding all four
// vpdpbusd; then GELU(gate) * up per output.
// TILE-LABEL: func.func @mlp_int4_gate_up
// TILE: %[[XQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xi8>
// TILE: scf.parallel (%[[I:.+]]) = (%c0) to (%c12) step (%c1) {
// TILE-NEXT: %[[R1:.+]] = arith.addi %[[I]], %c12 : index
// TILE-NEXT: scf.for {{.*}} to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// TILE: %[[G0:.+]] = vector.load %[[GV:.+]][%[[I]], %[[K:.+]]] : memref<24x256xi8>, vector<32xi8>
// TILE: vector.load %[[GV]][%[[R1]], %[[K]]] : memref<24x256xi8>, vector<32xi8>
// TILE: vector.load %[[UV:.+]][%[[I]], %[[K]]] : memref<24x256xi8>, vector<32xi8>
// TILE: vector.load %[[UV]][%[[R1]], %[[K]]] : memref<24x256xi8>, vector<32xi8>
// TILE: %[[X0:.+]] = vector.load %[[XQ]]{{.*}} : memref<1x512xi8>, vector<32xi8>
// TILE-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"({{.*}}, %[[X0]])
// TILE-COUNT-4: vector.fma
// TILE-NEXT: scf.yield
// TILE: math.tanh
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[I]]] : memref<1x24xf32>
// TILE: math.tanh
// TILE: memref.store %{{.+}}, %{{.+}}[%c0, %[[R1]]] : memref<1x24xf32>
func.func @mlp_int4_gate_up(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x512xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %g = gemma4.weight "mlp.gate_proj.weight" {offset = 65536 : i64} : tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %u = gemma4.weight "mlp.up_proj.weight" {offset = 73728 : i64} : tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %d = gemma4.weight "mlp.down_proj.weight" {offset = 81920 : i64} : tensor<512x24xf32>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<1x512xf32>, tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<24x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>, tensor<512x24xf32>) -> tensor<1x512xf32>
  return %m : tensor<1x512xf32>
}

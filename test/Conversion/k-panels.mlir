// K panels (QuantLayout.h): an int4 weight with `panel = 256` and K = 512 is
// viewed as [2 panels, 48 rows, 128 bytes] (scales [2, 48, 8]). The decode
// product loops over the panels inside each parallel row step, in a loop
// marked gemma4.range_outer (gemma4-outline-parallel-loops runs it outside
// each chunk's rows), each panel against its slice of the activations (the
// second panel's activation blocks start at super-block 1), and adds the
// panel's sums to the output after the first. Prefill sums the panels in
// registers.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni -canonicalize -cse | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s --check-prefix=F32
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=int-dot=x86-vnni -canonicalize -cse -gemma4-outline-parallel-loops | FileCheck %s --check-prefix=OUTLINE

// CHECK-LABEL: func.func @int4_panels
// CHECK: %[[WV:.+]] = memref.view %{{.+}}[%c65536][] : memref<?xi8> to memref<2x48x128xi8>
// CHECK: %[[SV:.+]] = memref.view %{{.+}}[%c77824][] : memref<?xi8> to memref<2x48x8xf16>
// CHECK: %[[XQ:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xi8>
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c12) step (%c1) {
// CHECK-NEXT: scf.for %[[PC:.+]] = %c0 to %c2 step %c1 {
// CHECK: vector.load %[[WV]][%[[PC]], %[[I]], %c0] : memref<2x48x128xi8>, vector<32xi8>
// CHECK: %[[XO:.+]] = arith.muli %[[PC]], %c256 : index
// CHECK-NEXT: vector.load %[[XQ]][%c0, %[[XO]]] : memref<1x512xi8>, vector<32xi8>
// CHECK: vector.load %[[SV]][%[[PC]], %[[I]], %c0] : memref<2x48x8xf16>, vector<8xf16>
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[PC]], %c0 : index
// CHECK-NEXT: %[[PREV:.+]] = memref.load %[[OUT:.+]][%c0, %[[I]]] : memref<1x48xf32>
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[PREV]], %[[PART:.+]] fastmath<reassoc,contract> : f32
// CHECK-NEXT: %[[NEW:.+]] = arith.select %[[FIRST]], %[[PART]], %[[SUM]] : f32
// CHECK-NEXT: memref.store %[[NEW]], %[[OUT]][%c0, %[[I]]] : memref<1x48xf32>
// CHECK: } {gemma4.range_outer}

// F32-LABEL: func.func @int4_panels
// F32: memref.view %{{.+}}[%c65536][] : memref<?xi8> to memref<2x48x128xi8>
// F32: scf.parallel
// F32-NEXT: scf.for %[[PC:.+]] = %c0 to %c2 step %c1 {
// F32: vector.load %{{.+}}[%[[PC]], %{{.+}}, %c0] : memref<2x48x128xi8>, vector<32xi8>
// F32: arith.select
// F32: } {gemma4.range_outer}

// Outlined, the panel loop runs around the chunk's rows.
// OUTLINE-LABEL: func.func private @int4_panels__par{{[0-9]+}}__linear_proj_weight
// OUTLINE-SAME: (%[[LO:[a-z0-9]+]]: index, %[[HI:[a-z0-9]+]]: index,
// OUTLINE: scf.for %[[PC:.+]] = %c0 to %c2 step %c1 {
// OUTLINE-NEXT: scf.for %[[I:.+]] = %[[LO]] to %[[HI]] step %{{.+}} {
// OUTLINE: vector.load %{{.+}}[%[[PC]], %[[I]], %c0] : memref<2x48x128xi8>, vector<32xi8>
// OUTLINE: arith.select
// OUTLINE: }
// OUTLINE-NEXT: }
// OUTLINE-NEXT: return
func.func @int4_panels(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<1xi32>) -> tensor<1x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>
  %y = gemma4.linear %h, %q : (tensor<1x512xf32>, tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// Prefill (a token tile): the panels' sums accumulate in registers.
// CHECK-LABEL: func.func @int4_panels_prefill
// CHECK: %[[WV:.+]] = memref.view %{{.+}}[%c65536][] : memref<?xi8> to memref<2x48x128xi8>
// CHECK: memref.view %{{.+}}[%c79360][] : memref<?xi8> to memref<2x48x8xf16>
// CHECK: scf.for %[[PC:.+]] = %c0 to %c2 step %c1 iter_args(
// CHECK: vector.load %[[WV]][%[[PC]], %{{.+}}, %c0] : memref<2x48x128xi8>, vector<32xi8>
// CHECK-NOT: range_outer
func.func @int4_panels_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x512xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  %q = gemma4.weight "proj.weight" {offset = 65536 : i64} : tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>
  %y = gemma4.linear %h, %q : (tensor<?x512xf32>, tensor<48x512xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

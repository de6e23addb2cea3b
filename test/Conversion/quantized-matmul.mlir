// Matmuls over quantized weights read the packed bytes and dequantise in
// registers, fused with the multiply: no dequantised copy of a weight is
// ever materialised. Plain bf16 weights take the same 16-lane vector path.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s

// int4, group 32, symmetric, f16 scales (decode: one row per output).
// Views: data 48 rows x 32 bytes at 8192; scales 48 x 2 f16 after the
// 64-aligned data (8192 + 1536 = 9728). Per group: one 16-byte load holds
// 32 weights (low nibbles: elements 0-15, high: 16-31), unpacked with
// and/shift, converted, re-centred (q - 8), FMA'd with the activations,
// then scaled once per group; one horizontal reduction per output.
// CHECK-LABEL: func.func @int4_sym
// CHECK-DAG: %[[DATA:.+]] = memref.view %arg4[%c8192][] : memref<?xi8> to memref<48x32xi8>
// CHECK-DAG: %[[SCALES:.+]] = memref.view %arg4[%c9728][] : memref<?xi8> to memref<48x2xf16>
// CHECK: scf.parallel (%[[N:.+]]) =
// CHECK: %[[ACC:.+]] = scf.for %[[G:.+]] = %c0 to %c2 step %c1 iter_args(%{{.+}} = %{{.+}}) -> (vector<16xf32>) {
// CHECK: %[[B:.+]] = vector.load %[[DATA]][%[[N]], %{{.+}}] : memref<48x32xi8>, vector<16xi8>
// CHECK: %[[LO:.+]] = arith.andi %[[B]], %{{.+}} : vector<16xi8>
// CHECK: %[[HI:.+]] = arith.shrui %[[B]], %{{.+}} : vector<16xi8>
// CHECK: %[[LOF:.+]] = arith.uitofp %[[LO]] : vector<16xi8> to vector<16xf32>
// CHECK: %[[HIF:.+]] = arith.uitofp %[[HI]] : vector<16xi8> to vector<16xf32>
// CHECK: arith.subf %[[LOF]]
// CHECK: arith.subf %[[HIF]]
// CHECK: vector.load %{{.+}} : memref<1x64xf32>, vector<16xf32>
// CHECK: vector.load %{{.+}} : memref<1x64xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK: %[[GS:.+]] = vector.fma
// CHECK: %[[S:.+]] = memref.load %[[SCALES]][%[[N]], %[[G]]] : memref<48x2xf16>
// CHECK: %[[SF:.+]] = arith.extf %[[S]] : f16 to f32
// CHECK: %[[SV:.+]] = vector.broadcast %[[SF]] : f32 to vector<16xf32>
// CHECK: vector.fma %[[GS]], %[[SV]], %{{.+}} : vector<16xf32>
// CHECK: vector.reduction <add>, %[[ACC]] fastmath<reassoc,contract> : vector<16xf32> into f32
// CHECK-NOT: memref.alloc
// CHECK: return
func.func @int4_sym(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// int4 asymmetric (w = q * s + m), group 64 = two 32-element blocks per
// group: per group, sum(x * q) and sum(x) accumulate separately, then
// acc += s * sum(x q) + m * sum(x). Mins follow the scales.
// CHECK-LABEL: func.func @int4_asym
// CHECK-DAG: memref.view %arg4[%c8192][] : memref<?xi8> to memref<48x64xi8>
// CHECK-DAG: %[[SCALES:.+]] = memref.view %arg4[%c11264][] : memref<?xi8> to memref<48x2xbf16>
// CHECK-DAG: %[[MINS:.+]] = memref.view %arg4[%c11456][] : memref<?xi8> to memref<48x2xbf16>
// CHECK: scf.for %[[G:.+]] = %c0 to %c2 step %c1 iter_args(%{{.+}}) -> (vector<16xf32>) {
// CHECK: %[[INNER:.+]]:2 = scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args(%{{.+}}, %{{.+}}) -> (vector<16xf32>, vector<16xf32>) {
// CHECK: arith.andi
// CHECK-NOT: arith.subf
// CHECK: arith.addf {{.+}} : vector<16xf32>
// CHECK: memref.load %[[SCALES]]
// CHECK: memref.load %[[MINS]]
// CHECK: %[[T:.+]] = vector.fma %[[INNER]]#0
// CHECK: vector.fma %[[INNER]]#1, %{{.+}}, %[[T]]
// CHECK: vector.reduction <add>
func.func @int4_asym(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x128xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x128xf32>, tensor<1xi32>) -> tensor<1x128xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x128xi4, #gemma4.quant<int4, group = 64, scale = bf16, asym>>
  %y = gemma4.linear %h, %q : (tensor<1x128xf32>, tensor<48x128xi4, #gemma4.quant<int4, group = 64, scale = bf16, asym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// int8 per output channel: 16 signed bytes per load, converted and FMA'd;
// the row's single f32 scale multiplies the reduced sum.
// CHECK-LABEL: func.func @int8
// CHECK-DAG: %[[DATA:.+]] = memref.view %arg4[%c8192][] : memref<?xi8> to memref<48x64xi8>
// CHECK-DAG: %[[SCALES:.+]] = memref.view %arg4[%c11264][] : memref<?xi8> to memref<48x1xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16 iter_args(%{{.+}}) -> (vector<16xf32>) {
// CHECK: %[[B:.+]] = vector.load %[[DATA]]{{.+}} : memref<48x64xi8>, vector<16xi8>
// CHECK: %[[F:.+]] = arith.sitofp %[[B]] : vector<16xi8> to vector<16xf32>
// CHECK: vector.fma %{{.+}}, %[[F]], %{{.+}} : vector<16xf32>
// CHECK-DAG: %[[R:.+]] = vector.reduction <add>
// CHECK-DAG: %[[S:.+]] = memref.load %[[SCALES]][%{{.+}}, %c0] : memref<48x1xf32>
// CHECK: arith.mulf %[[R]], %[[S]]
func.func @int8(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// Quantized embedding tables are gathered row by row with scalar
// dequantisation (one row per token): int8 value times the row's scale.
// CHECK-LABEL: func.func @int8_embedding
// CHECK: scf.for
// CHECK: %[[Q:.+]] = memref.load %{{.+}} : memref<32x64xi8>
// CHECK: %[[QF:.+]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK: arith.mulf %[[QF]]
func.func @int8_embedding(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x64xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>, tensor<1xi32>) -> tensor<1x64xf32>
  return %h : tensor<1x64xf32>
}

// -----

// Prefill: each dequantised weight vector feeds 4 token rows (4 FMAs).
// CHECK-LABEL: func.func @int4_prefill
// CHECK: scf.if
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK: vector.load %{{.+}} : memref<48x32xi8>, vector<16xi8>
// CHECK-COUNT-8: vector.fma
// CHECK-COUNT-4: vector.reduction <add>
func.func @int4_prefill(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<?x64xf32>, tensor<48x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

// -----

// Plain bf16 weights: 16 per vector load, widened by a 16-bit shift.
// CHECK-LABEL: func.func @bf16
// CHECK: %[[W:.+]] = vector.load %{{.+}} : memref<48x64xbf16>, vector<16xbf16>
// CHECK: %[[I:.+]] = arith.bitcast %[[W]] : vector<16xbf16> to vector<16xi16>
// CHECK: %[[X:.+]] = arith.extui %[[I]] : vector<16xi16> to vector<16xi32>
// CHECK: %[[SH:.+]] = arith.shli %[[X]]
// CHECK: %[[F:.+]] = arith.bitcast %[[SH]] : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma %{{.+}}, %[[F]]
func.func @bf16(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xbf16>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xbf16>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

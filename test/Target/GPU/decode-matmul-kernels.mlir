// A decode step's products on a GPU (targets/gpu/lib/Strategy/Matmul.cpp
// laneDot): one subgroup per decode-rows output rows, the lanes sharing one
// K loop, 4 weight bytes of every row a lane a step (int4: elements 4p..4p+3
// and 16+4p.. of a 16-byte block; int8: 4 elements; bf16: 4 elements), all
// the rows' loads issued before their multiplies and the activations loaded
// once for every row. The MLP's gate and up rows share the loop.
// decode-rows=0 keeps one row a subgroup (the encoding's 16-element kernel).
// The default (AUTO) takes two rows a subgroup where that leaves at least
// 512 subgroups, else one row through the same 4-byte lane steps.
//
// RUN: gemma4c-opt %s -split-input-file --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu decode-rows=2},canonicalize,cse)' | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu decode-rows=0},canonicalize,cse)' | FileCheck %s --check-prefix=OFF
// RUN: gemma4c-opt %s -split-input-file --pass-pipeline='builtin.module(convert-gemma4-to-loops{strategy=gpu},canonicalize,cse)' | FileCheck %s --check-prefix=AUTO

// int4, group 32: 1024 rows, two a subgroup (512 subgroups); K = 64 is 8
// lane steps of 8 elements.
// CHECK-LABEL: func.func @int4_rows
// CHECK: scf.parallel (%[[P:.+]]) = (%c0) to (%c512) step (%c1)
// CHECK: %[[R0:.+]] = arith.muli %[[P]], %c2
// CHECK: %[[R1:.+]] = arith.addi %[[R0]], %c1
// CHECK: scf.for %[[Q:.+]] = %c0 to %c8 step %c1 iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (vector<4xf32>, vector<4xf32>)
// CHECK: %[[B0:.+]] = vector.load %{{.+}}[%[[R0]], %{{.+}}] : memref<1024x32xi8>, vector<4xi8>
// CHECK: %[[B1:.+]] = vector.load %{{.+}}[%[[R1]], %{{.+}}] : memref<1024x32xi8>, vector<4xi8>
// CHECK: vector.load %{{.+}} : memref<1x64xf32>, vector<4xf32>
// CHECK: vector.load %{{.+}} : memref<1x64xf32>, vector<4xf32>
// CHECK: arith.andi %[[B0]]
// CHECK: arith.shrui %[[B0]]
// CHECK: memref.load %{{.+}}[%[[R0]], %{{.+}}] : memref<1024x2xf16>
// CHECK: vector.fma
// CHECK: arith.andi %[[B1]]
// CHECK: memref.load %{{.+}}[%[[R1]], %{{.+}}] : memref<1024x2xf16>
// CHECK: vector.fma
// CHECK: gemma4.lanes = "reduce"
// CHECK: vector.reduction <add>
// CHECK: vector.reduction <add>
// AUTO-LABEL: func.func @int4_rows
// AUTO: scf.parallel (%{{.+}}) = (%c0) to (%c512) step (%c1)
// AUTO: vector<4xi8>
// OFF-LABEL: func.func @int4_rows
// OFF: scf.parallel (%{{.+}}) = (%c0) to (%c1024) step (%c1)
// OFF: vector<16xi8>
func.func @int4_rows(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x1024xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<1024x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<1024x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<1x1024xf32>
  return %y : tensor<1x1024xf32>
}

// -----

// int8 (48 rows, two a subgroup): 4 elements a lane a step, each row's scale
// once, after the loop.
// AUTO-LABEL: func.func @int8_rows
// AUTO: scf.parallel (%{{.+}}) = (%c0) to (%c48) step (%c1)
// AUTO: vector.load %{{.+}} : memref<48x64xi8>, vector<4xi8>
// CHECK-LABEL: func.func @int8_rows
// CHECK: scf.parallel (%[[P:.+]]) = (%c0) to (%c24) step (%c1)
// CHECK: scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (vector<4xf32>, vector<4xf32>)
// CHECK: vector.load %{{.+}} : memref<48x64xi8>, vector<4xi8>
// CHECK: vector.load %{{.+}} : memref<48x64xi8>, vector<4xi8>
// CHECK: arith.sitofp %{{.+}} : vector<4xi8> to vector<4xf32>
// CHECK: vector.fma
// CHECK: gemma4.lanes = "reduce"
// CHECK: vector.reduction <add>
// CHECK: memref.load %{{.+}}[%{{.+}}, %c0] : memref<48x1xf32>
func.func @int8_rows(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x48xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %q = gemma4.weight "proj.weight" {offset = 8192 : i64} : tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %h, %q : (tensor<1x64xf32>, tensor<48x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

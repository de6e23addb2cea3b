// convert-gemma4-to-loops lowers a gemma4 entry function from tensors to
// buffers and scf/arith/math/memref loops: the ids tensor becomes a memref,
// the logits result an out-parameter (abi.h), weights typed views into the
// weight blob at their assigned offsets, KV caches views into the arena,
// activations 64-byte-aligned heap buffers freed before the return.
// Independent outputs are scf.parallel, reductions scf.for with
// reassociation allowed.
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -convert-gemma4-to-loops | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -convert-gemma4-to-loops | FileCheck %s --check-prefix=LOWERED --implicit-check-not='tensor<' --implicit-check-not='{{= gemma4\.|^ *gemma4\.}}'
// The lowered form must stay valid through cleanup.
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s --check-prefix=CANON

// LOWERED (implicit): no gemma4 op and no tensor survives anywhere.

// gemma4.weight -> memref.view of the weights argument at the offset the
// layout pass assigned; the embedding gathers clamped ids, widens bf16 and
// scales. Its result is the returned value, so it is written straight into
// the logits out-parameter: no allocation, no dealloc, no result.
// CHECK-LABEL: func.func @embedding_weights
// CHECK-SAME: (%[[IDS:[^:]+]]: memref<?xi32> {gemma4.arg = "ids"}, %{{[^:]+}}: index {gemma4.arg = "position"},
// CHECK-SAME: %{{[^:]+}}: memref<?xi8> {gemma4.arg = "kv_arena"}, %{{[^:]+}}: index {gemma4.arg = "context"},
// CHECK-SAME: %[[W:[^:]+]]: memref<?xi8> {gemma4.arg = "weights"}, %[[OUT:[^:]+]]: memref<?x8xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[S:.+]] = memref.dim %[[IDS]], %{{.+}} : memref<?xi32>
// CHECK: %[[C128:.+]] = arith.constant 128 : index
// CHECK: %[[TABLE:.+]] = memref.view %[[W]][%[[C128]]][] : memref<?xi8> to memref<32x8xbf16>
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel (%[[T:.+]]) = (%{{.+}}) to (%[[S]]) step (%{{.+}}) {
// CHECK: %[[ID:.+]] = memref.load %[[IDS]][%[[T]]] : memref<?xi32>
// CHECK: %[[IDX:.+]] = arith.index_cast %[[ID]] : i32 to index
// CHECK: %[[LAST:.+]] = arith.constant 31 : index
// CHECK: %[[ROW:.+]] = arith.minui %[[IDX]], %[[LAST]] : index
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[E:.+]] = memref.load %[[TABLE]][%[[ROW]], %[[J]]] : memref<32x8xbf16>
// CHECK: %[[F:.+]] = arith.extf %[[E]] : bf16 to f32
// CHECK: %[[Y:.+]] = arith.mulf %[[F]], %{{.+}} fastmath<reassoc,contract> : f32
// CHECK: memref.store %[[Y]], %[[OUT]][%[[T]], %[[J]]] : memref<?x8xf32>
// CHECK-NOT: memref.dealloc
// CHECK: return{{$}}
// CANON-LABEL: func.func @embedding_weights
// CANON: memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<32x8xbf16>
func.func @embedding_weights(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 128 : i64} : tensor<32x8xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 2.0 : f32} : (tensor<32x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  return %h : tensor<?x8xf32>
}

// -----

// gemma4.linear (prefill) -> scf.parallel over (output feature, 4-token
// tile), output features outermost so consecutive iterations share a weight
// row; a full tile runs one scf.for reduction over input features carrying
// 4 accumulators (each widened weight element feeds 4 multiply-adds), a
// partial last tile falls back to one dot product per token. Every
// multiply-add carries fastmath<reassoc,contract> so LLVM may vectorise the
// sums. The activation buffer feeding it is allocated (aligned) and freed
// before the return.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: %[[W:[^:]+]]: memref<?xi8> {gemma4.arg = "weights"}, %[[OUT:[^:]+]]: memref<?x16xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[S:.+]] = memref.dim %arg0
// CHECK: %[[X:.+]] = memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK: %[[C512:.+]] = arith.constant 512 : index
// CHECK: %[[WQ:.+]] = memref.view %[[W]][%[[C512]]][] : memref<?xi8> to memref<16x8xbf16>
// CHECK: %[[TILES:.+]] = arith.divui %{{.+}}, %{{.+}} : index
// CHECK: %[[N:.+]] = arith.constant 16 : index
// CHECK: scf.parallel (%[[O:[^,]+]], %[[TI:[^)]+]]) = (%[[Z:[^,]+]], %[[Z]]) to (%[[N]], %[[TILES]]) step (%[[ONE:[^,]+]], %[[ONE]]) {
// CHECK: %[[S0:.+]] = arith.muli %[[TI]], %{{.+}} : index
// CHECK: %[[END:.+]] = arith.addi %[[S0]], %{{.+}} : index
// CHECK: %[[FULL:.+]] = arith.cmpi ule, %[[END]], %[[S]] : index
// CHECK: scf.if %[[FULL]] {
// CHECK: %[[ACC:.+]]:4 = scf.for %[[K:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A0:[^ ]+]] = %[[ZERO:[^,]+]], %{{[^ ]+}} = %[[ZERO]], %{{[^ ]+}} = %[[ZERO]], %{{[^ ]+}} = %[[ZERO]]) -> (f32, f32, f32, f32) {
// CHECK: %[[WV:.+]] = memref.load %[[WQ]][%[[O]], %[[K]]] : memref<16x8xbf16>
// CHECK: %[[WF:.+]] = arith.extf %[[WV]] : bf16 to f32
// CHECK: %[[XV:.+]] = memref.load %[[X]][%{{.+}}, %[[K]]] : memref<?x8xf32>
// CHECK: %[[P:.+]] = arith.mulf %[[XV]], %[[WF]] fastmath<reassoc,contract> : f32
// CHECK: %[[NA:.+]] = arith.addf %[[A0]], %[[P]] fastmath<reassoc,contract> : f32
// CHECK-COUNT-3: arith.mulf %{{.+}}, %[[WF]] fastmath<reassoc,contract> : f32
// CHECK: scf.yield %[[NA]], %{{.+}}, %{{.+}}, %{{.+}} : f32, f32, f32, f32
// CHECK-COUNT-4: memref.store %[[ACC]]#{{[0-3]}}, %[[OUT]][%{{.+}}, %[[O]]] : memref<?x16xf32>
// CHECK: } else {
// CHECK: scf.for %[[T:[^ ]+]] = %[[S0]] to %[[S]] step
// CHECK: %[[DOT:.+]] = scf.for {{.+}} -> (f32) {
// CHECK: arith.addf {{.+}} fastmath<reassoc,contract> : f32
// CHECK: memref.store %[[DOT]], %[[OUT]][%[[T]], %[[O]]] : memref<?x16xf32>
// CHECK: scf.reduce
// CHECK: memref.dealloc %[[X]] : memref<?x8xf32>
// CHECK-NEXT: return{{$}}
func.func @linear(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %wq = gemma4.weight "layers.0.self_attn.q_proj.weight" {offset = 512 : i64} : tensor<16x8xbf16>
  %y = gemma4.linear %h, %wq : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// gemma4.output_rows -> a view of the last R rows, R the logits buffer's
// row count (the caller's choice): the projection after it runs over R
// tokens, not over every token of the call.
// CHECK-LABEL: func.func @output_rows
// CHECK-SAME: %[[OUT:[^:]+]]: memref<?x16xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[S:.+]] = memref.dim %arg0
// CHECK: %[[X:.+]] = memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x8xf32>
// CHECK: %[[R:.+]] = memref.dim %[[OUT]], %{{.+}} : memref<?x16xf32>
// CHECK: %[[FIRST:.+]] = arith.subi %[[S]], %[[R]] : index
// CHECK: %[[LAST:.+]] = memref.subview %[[X]][%[[FIRST]], 0] [%[[R]], 8] [1, 1] : memref<?x8xf32> to memref<?x8xf32, strided<[8, 1], offset: ?>>
// CHECK: arith.addi %[[R]], %{{.+}} : index
// CHECK: scf.parallel
// CHECK: memref.load %[[LAST]][%{{.+}}, %{{.+}}] : memref<?x8xf32, strided<[8, 1], offset: ?>>
// CHECK: memref.dealloc %[[X]] : memref<?x8xf32>
func.func @output_rows(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %r = gemma4.output_rows %h : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %wq = gemma4.weight "lm_head.weight" {offset = 512 : i64} : tensor<16x8xbf16>
  %y = gemma4.linear %r, %wq : (tensor<?x8xf32>, tensor<16x8xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// gemma4.linear (decode, one token) -> one dot product per output feature,
// parallel over the output features only.
// CHECK-LABEL: func.func @linear_decode
// CHECK-SAME: %[[OUT:[^:]+]]: memref<1x16xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[X:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x8xf32>
// CHECK: %[[WQ:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<16x8xbf16>
// CHECK: %[[N:.+]] = arith.constant 16 : index
// CHECK: scf.parallel (%[[O:[^)]+]]) = (%{{.+}}) to (%[[N]]) step (%{{.+}}) {
// CHECK-NOT: scf.if
// CHECK: %[[DOT:.+]] = scf.for %[[K:[^ ]+]] = {{.+}} iter_args(%[[A:[^ ]+]] = %{{.+}}) -> (f32) {
// CHECK-DAG: memref.load %[[WQ]][%[[O]], %[[K]]] : memref<16x8xbf16>
// CHECK-DAG: memref.load %[[X]][%{{.+}}, %[[K]]] : memref<1x8xf32>
// CHECK: arith.addf %[[A]], %{{.+}} fastmath<reassoc,contract> : f32
// CHECK: memref.store %[[DOT]], %[[OUT]][%{{.+}}, %[[O]]] : memref<1x16xf32>
// CHECK: scf.reduce
// CHECK: memref.dealloc %[[X]]
// CHECK-NEXT: return
func.func @linear_decode(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<1xi32>) -> tensor<1x8xf32>
  %wq = gemma4.weight "layers.0.self_attn.q_proj.weight" {offset = 512 : i64} : tensor<16x8xbf16>
  %y = gemma4.linear %h, %wq : (tensor<1x8xf32>, tensor<16x8xbf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// gemma4.kv_cache_view -> memref.view into the KV arena at
// offset + offset_per_context * context; a context-sized (capacity -1) cache
// gets the context as its dynamic extent, a ring buffer a static one.
// gemma4.kv_cache_update stores each token's K/V row at (position + s) mod
// capacity.
// CHECK-LABEL: func.func @kv_cache_view
// CHECK-SAME: (%{{[^:]+}}: memref<1xi32> {gemma4.arg = "ids"}, %[[POS:[^:]+]]: index {gemma4.arg = "position"},
// CHECK-SAME: %[[ARENA:[^:]+]]: memref<?xi8> {gemma4.arg = "kv_arena"}, %[[CTX:[^:]+]]: index {gemma4.arg = "context"},
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[M0:.+]] = arith.muli %[[C0]], %[[CTX]] : index
// CHECK: %[[C1024:.+]] = arith.constant 1024 : index
// CHECK: %[[OFF0:.+]] = arith.addi %[[C1024]], %[[M0]] : index
// CHECK: %[[KC:.+]] = memref.view %[[ARENA]][%[[OFF0]]][%[[CTX]]] : memref<?xi8> to memref<?x1x8xf32>
// CHECK: %[[C32:.+]] = arith.constant 32 : index
// CHECK: %[[M1:.+]] = arith.muli %[[C32]], %[[CTX]] : index
// CHECK: %[[C1024B:.+]] = arith.constant 1024 : index
// CHECK: %[[OFF1:.+]] = arith.addi %[[C1024B]], %[[M1]] : index
// CHECK: %[[VC:.+]] = memref.view %[[ARENA]][%[[OFF1]]][%[[CTX]]] : memref<?xi8> to memref<?x1x8xf32>
// CHECK: %[[C4096:.+]] = arith.constant 4096 : index
// CHECK: %[[RING:.+]] = memref.view %[[ARENA]][%{{.+}}][] : memref<?xi8> to memref<16x1x8xf32>
// CHECK: %[[CAP:.+]] = memref.dim %[[KC]], %{{.+}} : memref<?x1x8xf32>
// One token, one head: the unit dimensions leave no loop.
// CHECK-NOT: scf.parallel
// CHECK: %[[P:.+]] = arith.addi %[[POS]], %{{.+}} : index
// CHECK: %[[ROW:.+]] = arith.remui %[[P]], %[[CAP]] : index
// CHECK: scf.for %[[D:[^ ]+]] =
// CHECK: memref.store %{{.+}}, %[[KC]][%[[ROW]], %{{.+}}, %[[D]]] : memref<?x1x8xf32>
// CHECK: memref.store %{{.+}}, %[[VC]][%[[ROW]], %{{.+}}, %[[D]]] : memref<?x1x8xf32>
// CHECK: return
func.func @kv_cache_view(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x8xf32> {
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 1024 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x8xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 1024 : i64, offset_per_context = 32 : i64} : memref<?xi8> to memref<?x1x8xf32>
  %ring = gemma4.kv_cache_view %arena[%ctx] {capacity = 16 : i64, offset = 4096 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<16x1x8xf32>
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<1xi32>) -> tensor<1x8xf32>
  %k = gemma4.reshape %h : (tensor<1x8xf32>) -> tensor<1x1x8xf32>
  gemma4.kv_cache_update %k, %k into %kc, %vc at %pos : tensor<1x1x8xf32>, tensor<1x1x8xf32>, memref<?x1x8xf32>, memref<?x1x8xf32>
  %y = gemma4.add %h, %h : tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// gemma4.rms_norm -> sum of squares (16-lane scf.for reduction), rsqrt,
// scale by the widened weight 16 lanes at a time; written in place over its
// input, whose buffer dies here. gemma4.rope -> a table of cos/sin of
// position * theta^(-2i/d), built once for the function, then the first
// rotary_dims pairs (i, i + d/2) of every head rotated with it.
// gemma4.softcap -> cap * tanh(x / cap) into the logits.
// CHECK-LABEL: func.func @rms_norm_rope_softcap
// CHECK-SAME: %[[OUT:[^:]+]]: memref<1x16xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[H:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x16xf32>
// CHECK: %[[NW:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<16xbf16>
// CHECK-NOT: scf.parallel
// CHECK: %[[SS:.+]] = scf.for {{.+}} -> (vector<16xf32>) {
// CHECK: vector.fma
// CHECK: %[[SUM:.+]] = vector.reduction <add>, %[[SS]]
// CHECK: %[[MEAN:.+]] = arith.divf %[[SUM]], %{{.+}} : f32
// CHECK: %[[ME:.+]] = arith.addf %[[MEAN]], %{{.+}} fastmath<reassoc,contract> : f32
// CHECK: %[[INV:.+]] = math.rsqrt %[[ME]] : f32
// CHECK: %[[VINV:.+]] = vector.broadcast %[[INV]] : f32 to vector<16xf32>
// CHECK: scf.for %[[I:[^ ]+]] =
// CHECK: arith.mulf %{{.+}}, %[[VINV]]
// CHECK: vector.load %[[NW]][%[[I]]] : memref<16xbf16>, vector<16xbf16>
// CHECK: vector.store %{{.+}}, %[[H]][%{{.+}}, %[[I]]] : memref<1x16xf32>, vector<16xf32>
// CHECK: %[[Q:.+]] = memref.expand_shape %[[H]] {{\[}}[0], [1, 2]] output_shape [1, 2, 8] : memref<1x16xf32> into memref<1x2x8xf32>
// CHECK: %[[R:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8xf32>
// CHECK: %[[COS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xf32>
// CHECK: %[[SIN:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xf32>
// CHECK-NOT: scf.parallel
// CHECK: math.powf
// CHECK: math.cos
// CHECK: memref.store %{{.+}}, %[[COS]]
// CHECK: math.sin
// CHECK: memref.store %{{.+}}, %[[SIN]]
// CHECK: scf.parallel
// CHECK-NOT: math.cos
// CHECK: memref.load %[[COS]]
// CHECK: memref.load %[[SIN]]
// CHECK: %[[R2:.+]] = memref.collapse_shape %[[R]] {{\[}}[0], [1, 2]] : memref<1x2x8xf32> into memref<1x16xf32>
// The soft-cap, 16 logits at a time (one token, one vector: no loop).
// CHECK: vector.load %[[R2]]
// CHECK: math.tanh %{{.+}} : vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[OUT]]
// CHECK: memref.dealloc %[[H]] : memref<1x16xf32>
// CHECK-NEXT: memref.dealloc %[[R]] : memref<1x2x8xf32>
// CHECK-NEXT: memref.dealloc %[[COS]] : memref<1x2xf32>
// CHECK-NEXT: memref.dealloc %[[SIN]] : memref<1x2xf32>
// CHECK-NEXT: return{{$}}
func.func @rms_norm_rope_softcap(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x16xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x16xf32>, tensor<1xi32>) -> tensor<1x16xf32>
  %nw = gemma4.weight "norm.weight" {offset = 2048 : i64} : tensor<16xbf16>
  %n = gemma4.rms_norm %h, %nw {epsilon = 1.0e-6 : f32} : (tensor<1x16xf32>, tensor<16xbf16>) -> tensor<1x16xf32>
  %r = gemma4.reshape %n : (tensor<1x16xf32>) -> tensor<1x2x8xf32>
  %p = gemma4.rope %r at %pos {rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 2>} : (tensor<1x2x8xf32>, index) -> tensor<1x2x8xf32>
  %r2 = gemma4.reshape %p : (tensor<1x2x8xf32>) -> tensor<1x16xf32>
  %y = gemma4.softcap %r2 {cap = 30.0 : f32} : tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// gemma4.fused_attention (sliding, 2 query heads on 1 KV head) lowers to
//  1. one scf.parallel over (token, kv head) that normalises and rotates K
//     straight into its ring-buffer row (position + s) mod 16 and writes the
//     scale-free-normalised V row;
//  2. one scf.parallel over (token, query head) that normalises and rotates
//     q, then runs an online softmax over the visible keys
//     [max(0, p + 1 - window), p + 1): running max (arith.maximumf), the
//     rescale factor and the new weight (math.exp), then 1/sum.
// No S x S (or S x keys) score buffer is ever allocated.
// CHECK-LABEL: func.func @fused_attention(
// CHECK-SAME: %{{[^:]+}}: memref<?xi32> {gemma4.arg = "ids"}, %[[POS:[^:]+]]: index
// CHECK: %[[KC:.+]] = memref.view %arg2[%{{.+}}][] : memref<?xi8> to memref<16x1x8xf32>
// CHECK: %[[VC:.+]] = memref.view %arg2[%{{.+}}][] : memref<?xi8> to memref<16x1x8xf32>
// CHECK: %[[COS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x4xf32>
// CHECK: %[[SIN:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x4xf32>
// CHECK: scf.parallel
// CHECK: math.powf
// CHECK: math.cos
// CHECK: math.sin
// CHECK: %[[CAP:.+]] = arith.constant 16 : index
// CHECK: scf.parallel (%[[T:[^)]+]]) = (%{{.+}}) to (%{{.+}}) step
// CHECK: %[[P:.+]] = arith.addi %[[POS]], %[[T]] : index
// CHECK: %[[ROW:.+]] = arith.remui %[[P]], %[[CAP]] : index
// CHECK: math.rsqrt
// CHECK: memref.store %{{.+}}, %[[KC]][%[[ROW]], %{{.+}}, %{{.+}}] : memref<16x1x8xf32>
// CHECK: memref.load %[[COS]][%[[T]], %{{.+}}]
// CHECK: memref.load %[[SIN]][%[[T]], %{{.+}}]
// CHECK: memref.store %{{.+}}, %[[KC]][%[[ROW]], %{{.+}}, %{{.+}}] : memref<16x1x8xf32>
// CHECK: math.rsqrt
// CHECK: memref.store %{{.+}}, %[[VC]][%[[ROW]], %{{.+}}, %{{.+}}] : memref<16x1x8xf32>
// CHECK: scf.reduce
// CHECK: %[[QN:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x2x8xf32>
// CHECK: %[[O:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x2x8xf32>
// CHECK: scf.parallel (%[[S:[^,]+]], %[[QH:[^)]+]]) =
// CHECK: math.rsqrt
// CHECK-NOT: math.cos
// CHECK: memref.load %[[COS]][%[[S]], %{{.+}}]
// CHECK: memref.load %[[SIN]][%[[S]], %{{.+}}]
// CHECK: %[[QP:.+]] = arith.addi %[[POS]], %[[S]] : index
// CHECK: %[[G:.+]] = arith.divui %[[QH]], %{{.+}} : index
// CHECK: %[[P1:.+]] = arith.addi %[[QP]], %{{.+}} : index
// CHECK: %[[UP:.+]] = arith.maxui %[[P1]], %{{.+}} : index
// CHECK: %[[LO:.+]] = arith.subi %[[UP]], %{{.+}} : index
// CHECK: %[[NEGINF:.+]] = arith.constant -1.000000e+30 : f32
// CHECK: %[[HI:.+]] = arith.addi %[[QP]], %{{.+}} : index
// CHECK: %[[RES:.+]]:2 = scf.for %[[J:[^ ]+]] = %[[LO]] to %[[HI]] step %{{.+}} iter_args(%[[M:[^ ]+]] = %[[NEGINF]], %[[L:[^ ]+]] = %{{.+}}) -> (f32, f32) {
// CHECK: %[[JR:.+]] = arith.remui %[[J]], %{{.+}} : index
// CHECK: %[[SC:.+]] = scf.for {{.+}} -> (f32) {
// CHECK-DAG: memref.load %[[KC]][%[[JR]], %[[G]], %{{.+}}] : memref<16x1x8xf32>
// CHECK-DAG: memref.load %[[QN]][%[[S]], %[[QH]], %{{.+}}] : memref<?x2x8xf32>
// CHECK: %[[MN:.+]] = arith.maximumf %[[M]], %[[SC]] : f32
// CHECK: %[[DM:.+]] = arith.subf %[[M]], %[[MN]]
// CHECK: %[[CORR:.+]] = math.exp %[[DM]] : f32
// CHECK: %[[DS:.+]] = arith.subf %[[SC]], %[[MN]]
// CHECK: %[[PE:.+]] = math.exp %[[DS]] : f32
// CHECK: scf.for
// CHECK-DAG: memref.load %[[VC]][%[[JR]], %[[G]], %{{.+}}] : memref<16x1x8xf32>
// CHECK-DAG: memref.load %[[O]][%[[S]], %[[QH]], %{{.+}}] : memref<?x2x8xf32>
// CHECK: memref.store %{{.+}}, %[[O]][%[[S]], %[[QH]], %{{.+}}] : memref<?x2x8xf32>
// CHECK: %[[LC:.+]] = arith.mulf %[[L]], %[[CORR]]
// CHECK: %[[LN:.+]] = arith.addf %[[LC]], %[[PE]]
// CHECK: scf.yield %[[MN]], %[[LN]] : f32, f32
// CHECK: arith.divf %{{.+}}, %[[RES]]#1 : f32
// CHECK: memref.dealloc %[[QN]]
// CHECK: memref.dealloc %[[O]]
// CHECK-NEXT: return
// No score matrix: every buffer has at most one token-sized extent.
// LOWERED-LABEL: func.func @fused_attention(
// LOWERED-NOT: memref.alloc{{.*}}memref<?x{{([0-9]+x)*}}?x
// LOWERED: return
func.func @fused_attention(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x16xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %wq = gemma4.weight "q.weight" {offset = 2048 : i64} : tensor<16x16xf32>
  %q0 = gemma4.linear %h, %wq : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %q = gemma4.reshape %q0 : (tensor<?x16xf32>) -> tensor<?x2x8xf32>
  %wk = gemma4.weight "k.weight" {offset = 3072 : i64} : tensor<8x16xf32>
  %k0 = gemma4.linear %h, %wk : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %k = gemma4.reshape %k0 : (tensor<?x8xf32>) -> tensor<?x1x8xf32>
  %qn = gemma4.weight "q_norm.weight" {offset = 3584 : i64} : tensor<8xbf16>
  %kn = gemma4.weight "k_norm.weight" {offset = 3648 : i64} : tensor<8xbf16>
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 16 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<16x1x8xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 16 : i64, offset = 512 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<16x1x8xf32>
  %o = gemma4.fused_attention q(%q : tensor<?x2x8xf32>) k(%k : tensor<?x1x8xf32>) v(%k : tensor<?x1x8xf32>) q_norm(%qn : tensor<8xbf16>) k_norm(%kn : tensor<8xbf16>) cache(%kc, %vc : memref<16x1x8xf32>, memref<16x1x8xf32>) at %pos {epsilon = 1.0e-6 : f32, layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 1.0e4 : f64, rotary_dims = 4>, scale = 1.0 : f32, sliding_window = 4 : i64} -> tensor<?x2x8xf32>
  %o2 = gemma4.reshape %o : (tensor<?x2x8xf32>) -> tensor<?x16xf32>
  %y = gemma4.linear %o2, %wq : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A KV-shared full-attention layer (no k/v): nothing is written to the
// caches; the keys run from 0 (no window) to position + s, the ring row is
// taken modulo the context-sized cache's extent.
// CHECK-LABEL: func.func @fused_attention_kv_shared
// CHECK: %[[KC:.+]] = memref.view %arg2[%{{.+}}][%arg3] : memref<?xi8> to memref<?x1x8xf32>
// CHECK: %[[VC:.+]] = memref.view %arg2[%{{.+}}][%arg3] : memref<?xi8> to memref<?x1x8xf32>
// CHECK-NOT: memref.store %{{.+}}, %[[KC]]
// CHECK-NOT: memref.store %{{.+}}, %[[VC]]
// CHECK-NOT: arith.cmpi
// CHECK: %[[CAP:.+]] = memref.dim %[[KC]], %{{.+}} : memref<?x1x8xf32>
// CHECK-NOT: memref.store %{{.+}}, %[[KC]]
// CHECK-NOT: memref.store %{{.+}}, %[[VC]]
// CHECK: scf.for %[[J:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (f32, f32) {
// CHECK: arith.remui %[[J]], %[[CAP]] : index
// CHECK: arith.maximumf
// CHECK-COUNT-2: math.exp
// CHECK-NOT: memref.store %{{.+}}, %[[KC]]
// CHECK-NOT: memref.store %{{.+}}, %[[VC]]
// CHECK: return
func.func @fused_attention_kv_shared(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x16xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x16xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x16xf32>, tensor<1xi32>) -> tensor<1x16xf32>
  %q = gemma4.reshape %h : (tensor<1x16xf32>) -> tensor<1x2x8xf32>
  %qn = gemma4.weight "q_norm.weight" {offset = 2048 : i64} : tensor<8xf32>
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x8xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 32 : i64} : memref<?xi8> to memref<?x1x8xf32>
  %o = gemma4.fused_attention q(%q : tensor<1x2x8xf32>) q_norm(%qn : tensor<8xf32>) cache(%kc, %vc : memref<?x1x8xf32>, memref<?x1x8xf32>) at %pos {epsilon = 1.0e-6 : f32, layer_type = #gemma4.layer_type<full>, rope = #gemma4.rope<theta = 1.0e6 : f64, rotary_dims = 1>, scale = 1.0 : f32, sliding_window = 0 : i64} -> tensor<1x2x8xf32>
  %o2 = gemma4.reshape %o : (tensor<1x2x8xf32>) -> tensor<1x16xf32>
  %y = gemma4.add %o2, %h : tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// gemma4.mlp -> gate and up projections (K = 8 is below one 16-lane
// vector, so scalar reductions), gelu_tanh(g) * u, then the down projection
// into the output; in prefill both are register-tiled over 4 tokens (each
// weight element feeds 4 accumulators), with a per-token tail.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: %[[OUT:[^:]+]]: memref<?x8xf32> {gemma4.arg = "logits"}) {
// CHECK-DAG: %[[WG:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<12x8xbf16>
// CHECK-DAG: %[[WD:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<8x12xbf16>
// CHECK: %[[ACT:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x12xf32>
// CHECK: scf.parallel (%[[I:[^,]+]], %[[T:[^)]+]]) =
// CHECK: scf.if
// CHECK: %[[G:.+]]:4 = scf.for {{.+}} iter_args({{.+}}) -> (f32, f32, f32, f32) {
// CHECK: %[[U:.+]]:4 = scf.for {{.+}} iter_args({{.+}}) -> (f32, f32, f32, f32) {
// CHECK: math.tanh
// CHECK: %[[Y:.+]] = arith.mulf %{{.+}}, %[[U]]#0 fastmath<reassoc,contract> : f32
// CHECK: memref.store %[[Y]], %[[ACT]][%{{.+}}, %[[I]]] : memref<?x12xf32>
// CHECK-COUNT-3: math.tanh
// CHECK: } else {
// CHECK: math.tanh
// CHECK: scf.parallel
// CHECK: scf.for {{.+}} -> (f32) {
// CHECK: memref.load %[[WD]]
// CHECK: memref.store %{{.+}}, %[[OUT]]
// CHECK: return
func.func @mlp(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %g = gemma4.weight "mlp.gate_proj.weight" {offset = 1024 : i64} : tensor<12x8xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" {offset = 1280 : i64} : tensor<12x8xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" {offset = 1536 : i64} : tensor<8x12xbf16>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<?x8xf32>, tensor<12x8xbf16>, tensor<12x8xbf16>, tensor<8x12xbf16>) -> tensor<?x8xf32>
  return %m : tensor<?x8xf32>
}

// -----

// MoE in dispatch form (6 experts, top-2), prefill.
// gemma4.router -> per token: scale-free norm, softmax over experts (max,
// exp, 1/sum), then top-k by repeated argmax (cmpf ogt + select over the
// experts; the winner's probability set to -1), expert ids stored as i32,
// renormalised weights times the per-expert scale.
// gemma4.expert_ffn (prefill) -> expert-major: parallel over (expert, row),
// each expert computes only the (token, slot) pairs routed to it
// (scf.if experts[s, k] == e), streaming its own [2*I, H] gate_up and
// [H, I] down slices; per-slot partials are then summed into the output.
// CHECK-LABEL: func.func @router_expert_ffn
// CHECK-SAME: %[[OUT:[^:]+]]: memref<?x8xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[S:.+]] = memref.dim %arg0
// CHECK: %[[PES:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<6xbf16>
// CHECK: %[[GUW:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<6x10x8xbf16>
// CHECK: %[[DNW:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<6x8x5xbf16>
// CHECK: %[[PROBS:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x6xf32>
// CHECK: %[[EX:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x2xi32>
// CHECK: %[[WT:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x2xf32>
// CHECK: scf.parallel (%[[T:[^)]+]]) =
// CHECK: math.rsqrt
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[KSUM:.+]] = scf.for %[[KK:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (f32) {
// CHECK: %[[BEST:.+]]:2 = scf.for %[[E:[^ ]+]] = {{.+}} iter_args({{.+}}) -> (f32, index) {
// CHECK: %[[GT:.+]] = arith.cmpf ogt
// CHECK: arith.select %[[GT]]
// CHECK: arith.select %[[GT]], %[[E]]
// CHECK: memref.store %{{.+}}, %[[PROBS]][%[[T]], %[[BEST]]#1] : memref<?x6xf32>
// CHECK: %[[ID:.+]] = arith.index_cast %[[BEST]]#1 : index to i32
// CHECK: memref.store %[[ID]], %[[EX]][%[[T]], %[[KK]]] : memref<?x2xi32>
// CHECK: memref.store %[[BEST]]#0, %[[WT]][%[[T]], %[[KK]]] : memref<?x2xf32>
// CHECK: arith.divf %{{.+}}, %[[KSUM]] : f32
// CHECK: scf.for
// CHECK: memref.load %[[PES]]
// CHECK: %[[ACT:.+]] = memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x2x5xf32>
// CHECK: %[[PART:.+]] = memref.alloc(%[[S]]) {alignment = 64 : i64} : memref<?x2x8xf32>
// CHECK: %[[NE:.+]] = arith.constant 6 : index
// CHECK: scf.parallel (%[[EE:[^,]+]], %[[I:[^)]+]]) = (%{{.+}}, %{{.+}}) to (%[[NE]], %{{.+}})
// CHECK: scf.for %[[ST:[^ ]+]] = %{{.+}} to %[[S]]
// CHECK: scf.for %[[SL:[^ ]+]] =
// CHECK: %[[EID:.+]] = memref.load %[[EX]][%[[ST]], %[[SL]]] : memref<?x2xi32>
// CHECK: %[[EIX:.+]] = arith.index_cast %[[EID]] : i32 to index
// CHECK: %[[HIT:.+]] = arith.cmpi eq, %[[EIX]], %[[EE]] : index
// CHECK: scf.if %[[HIT]] {
// CHECK: memref.load %[[GUW]][%[[EE]], %[[I]], %{{.+}}] : memref<6x10x8xbf16>
// CHECK: memref.load %[[GUW]][%[[EE]], %{{.+}}, %{{.+}}] : memref<6x10x8xbf16>
// CHECK: math.tanh
// CHECK: memref.store %{{.+}}, %[[ACT]][%[[ST]], %[[SL]], %[[I]]] : memref<?x2x5xf32>
// CHECK: scf.parallel (%[[EE2:[^,]+]], %[[J:[^)]+]]) =
// CHECK: arith.cmpi eq, %{{.+}}, %[[EE2]] : index
// CHECK: scf.if
// CHECK: memref.load %[[DNW]][%[[EE2]], %[[J]], %{{.+}}] : memref<6x8x5xbf16>
// CHECK: memref.load %[[WT]]
// CHECK: memref.store %{{.+}}, %[[PART]][%{{.+}}, %{{.+}}, %[[J]]] : memref<?x2x8xf32>
// CHECK: scf.parallel (%[[S3:[^,]+]], %[[J3:[^)]+]]) =
// CHECK: %[[Y:.+]] = scf.for
// CHECK: memref.load %[[PART]][%[[S3]], %{{.+}}, %[[J3]]] : memref<?x2x8xf32>
// CHECK: memref.store %[[Y]], %[[OUT]][%[[S3]], %[[J3]]] : memref<?x8xf32>
// CHECK: memref.dealloc %[[ACT]]
// CHECK: memref.dealloc %[[PART]]
// CHECK-NEXT: return
func.func @router_expert_ffn(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %rw = gemma4.weight "router.proj.weight" {offset = 1024 : i64} : tensor<6x8xbf16>
  %rs = gemma4.weight "router.scale" {offset = 1152 : i64} : tensor<8xbf16>
  %pes = gemma4.weight "router.per_expert_scale" {offset = 1216 : i64} : tensor<6xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" {offset = 1280 : i64} : tensor<6x10x8xbf16>
  %dn = gemma4.weight "experts.down_proj" {offset = 2304 : i64} : tensor<6x8x5xbf16>
  %ex, %wt = gemma4.router %h, %rw, %rs, %pes {top_k = 2 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x8xf32>, tensor<6x8xbf16>, tensor<8xbf16>, tensor<6xbf16>) -> (tensor<?x2xi32>, tensor<?x2xf32>)
  %y = gemma4.expert_ffn %h, %ex, %wt, %gu, %dn : (tensor<?x8xf32>, tensor<?x2xi32>, tensor<?x2xf32>, tensor<6x10x8xbf16>, tensor<6x8x5xbf16>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// gemma4.expert_ffn (decode, one token): parallel over the token's k
// choices and expert rows, the expert id loaded from the router's output
// indexing the weights directly; then each output sums its k weighted
// expert rows. No loop over all 6 experts, no scf.if.
// CHECK-LABEL: func.func @expert_ffn_decode
// CHECK-SAME: %[[OUT:[^:]+]]: memref<1x8xf32> {gemma4.arg = "logits"}) {
// CHECK: %[[GUW:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<6x10x8xbf16>
// CHECK: %[[DNW:.+]] = memref.view %arg4[%{{.+}}][] : memref<?xi8> to memref<6x8x5xbf16>
// CHECK: %[[EX:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xi32>
// CHECK: %[[WT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2xf32>
// CHECK: %[[ACT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x5xf32>
// CHECK-NOT: arith.constant 6 : index
// CHECK-NOT: scf.if
// CHECK: scf.parallel (%[[K:[^,]+]], %[[I:[^)]+]]) =
// CHECK: %[[EID:.+]] = memref.load %[[EX]][%{{.+}}, %[[K]]] : memref<1x2xi32>
// CHECK: %[[E:.+]] = arith.index_cast %[[EID]] : i32 to index
// CHECK: memref.load %[[GUW]][%[[E]], %[[I]], %{{.+}}] : memref<6x10x8xbf16>
// CHECK: memref.store %{{.+}}, %[[ACT]][%{{.+}}, %[[K]], %[[I]]] : memref<1x2x5xf32>
// CHECK-NOT: arith.constant 6 : index
// CHECK-NOT: scf.if
// CHECK: scf.parallel (%[[J:[^)]+]]) =
// CHECK: %[[Y:.+]] = scf.for %[[K2:[^ ]+]] =
// CHECK: %[[EID2:.+]] = memref.load %[[EX]][%{{.+}}, %[[K2]]] : memref<1x2xi32>
// CHECK: %[[E2:.+]] = arith.index_cast %[[EID2]] : i32 to index
// CHECK: memref.load %[[DNW]][%[[E2]], %[[J]], %{{.+}}] : memref<6x8x5xbf16>
// CHECK: memref.load %[[WT]][%{{.+}}, %[[K2]]] : memref<1x2xf32>
// CHECK: memref.store %[[Y]], %[[OUT]][%{{.+}}, %[[J]]] : memref<1x8xf32>
// CHECK-NOT: arith.constant 6 : index
// CHECK-NOT: scf.if
// CHECK: return
func.func @expert_ffn_decode(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<1xi32>) -> tensor<1x8xf32>
  %rw = gemma4.weight "router.proj.weight" {offset = 1024 : i64} : tensor<6x8xbf16>
  %rs = gemma4.weight "router.scale" {offset = 1152 : i64} : tensor<8xbf16>
  %pes = gemma4.weight "router.per_expert_scale" {offset = 1216 : i64} : tensor<6xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" {offset = 1280 : i64} : tensor<6x10x8xbf16>
  %dn = gemma4.weight "experts.down_proj" {offset = 2304 : i64} : tensor<6x8x5xbf16>
  %ex, %wt = gemma4.router %h, %rw, %rs, %pes {top_k = 2 : i64, epsilon = 1.0e-6 : f32} : (tensor<1x8xf32>, tensor<6x8xbf16>, tensor<8xbf16>, tensor<6xbf16>) -> (tensor<1x2xi32>, tensor<1x2xf32>)
  %y = gemma4.expert_ffn %h, %ex, %wt, %gu, %dn : (tensor<1x8xf32>, tensor<1x2xi32>, tensor<1x2xf32>, tensor<6x10x8xbf16>, tensor<6x8x5xbf16>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// Diagnostics.

func.func @weight_without_offset(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  // expected-error @+1 {{'gemma4.weight' op has no offset: run gemma4-layout-weights first}}
  %e = gemma4.weight "embed_tokens.weight" : tensor<32x8xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  return %h : tensor<?x8xf32>
}

// -----

// gemma4.moe must be split by gemma4-moe-dispatch first.
func.func @moe_not_dispatched(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %rw = gemma4.weight "router.proj.weight" {offset = 1024 : i64} : tensor<6x8xbf16>
  %rs = gemma4.weight "router.scale" {offset = 1152 : i64} : tensor<8xbf16>
  %pes = gemma4.weight "router.per_expert_scale" {offset = 1216 : i64} : tensor<6xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" {offset = 1280 : i64} : tensor<6x10x8xbf16>
  %dn = gemma4.weight "experts.down_proj" {offset = 2304 : i64} : tensor<6x8x5xbf16>
  // expected-error @+1 {{'gemma4.moe' op has no lowering to loops}}
  %y = gemma4.moe %h, %h, %rw, %rs, %pes, %gu, %dn {top_k = 2 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<6x8xbf16>, tensor<8xbf16>, tensor<6xbf16>, tensor<6x10x8xbf16>, tensor<6x8x5xbf16>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// After gemma4.output_rows, only its rows: a value of every token is an error.
func.func @output_rows_then_all(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x8xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %r = gemma4.output_rows %h : (tensor<?x8xf32>) -> tensor<?x8xf32>
  // expected-error @+1 {{'gemma4.add' op uses a value of every token after gemma4.output_rows chose the rows}}
  %y = gemma4.add %r, %h : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// expected-error @+1 {{'func.func' op is not a gemma4 entry point (ids, position, kv_arena, context, weights) -> logits}}
func.func @two_results(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xbf16>, tensor<?xi32>) -> tensor<?x8xf32>
  return %h, %h : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// The returned value only aliases another buffer (a reshape): it would
// never reach the logits out-parameter.
// expected-error @+1 {{'func.func' op returned logits were not written to the output buffer}}
func.func @returns_alias(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x2x4xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x8xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %r = gemma4.reshape %h : (tensor<?x8xf32>) -> tensor<?x2x4xf32>
  return %r : tensor<?x2x4xf32>
}

// -----

// Functions that are not entry points (no gemma4.arg on the ids) are left
// alone.
// CHECK-LABEL: func.func @helper
// CHECK-SAME: (%{{.+}}: memref<?xi32>, %{{.+}}: index, %{{.+}}: memref<?xi8>, %{{.+}}: index, %{{.+}}: memref<?xi8>) -> f32 {
// CHECK-NEXT: arith.constant
// CHECK-NEXT: return
func.func @helper(%ids: memref<?xi32>, %pos: index, %arena: memref<?xi8>, %ctx: index, %w: memref<?xi8>) -> f32 {
  %c = arith.constant 1.0 : f32
  return %c : f32
}

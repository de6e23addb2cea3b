// Decode attention (one query token) is split over the keys, flash-decoding
// style: scf.parallel over (KV head, chunk of keys), the chunk length
// max(64, ceil(visible / 32)) so at most 32 chunks; each work item scores
// its keys for all the query heads of its KV group (one K vector load feeds
// one FMA per head), takes the chunk max and exp-sum 16 scores at a time,
// and accumulates V vector-outer for every head, writing (m, l, o)
// partials; a second
// scf.parallel over query heads combines the chunks. Prefill keeps one
// attention row per (token, head).
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops -canonicalize -cse | FileCheck %s
// The gpu strategy splits the keys the same way, without the V prefetch.
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=strategy=gpu -canonicalize -cse | FileCheck %s --check-prefix=GPU --implicit-check-not=memref.prefetch
// GPU-LABEL: func.func @decode_global
// GPU: scf.parallel
// GPU: math.exp
// GPU-LABEL: func.func @decode_sliding
// GPU-LABEL: func.func @prefill_sliding

// Global layer: a context-sized cache (dynamic capacity: the context,
// %arg3), 4 query heads sharing one KV head (the unit KV-head dimension of
// the parallel loop folds away), head dim 32.
// CHECK-LABEL: func.func @decode_global
// CHECK: %[[PART:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x32x32xf32>
// CHECK: %[[PM:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x32xf32>
// CHECK: %[[PL:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x32xf32>
// CHECK: %[[SC:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<1x32x4x?xf32>
// CHECK: %[[CLEN:.+]] = arith.maxui %{{.+}}, %c64 : index
// CHECK: %[[NCH:.+]] = arith.divui %{{.+}}, %[[CLEN]] : index
// CHECK: scf.parallel (%[[CI:[^)]+]]) = (%c0) to (%[[NCH]])
// The chunk's first ring row is found once; its keys run up to the wrap of
// the ring, then on from row 0, with no division per key.
// CHECK: %[[J0:.+]] = arith.muli %[[CI]], %[[CLEN]] : index
// CHECK: %[[R0:.+]] = arith.remui %[[J0]], %arg3 : index
// CHECK: scf.for %[[J:[^ ]+]] = %[[J0]] to %[[JW:[^ ]+]] step
// CHECK-NOT: arith.remui
// CHECK: %[[OFF:.+]] = arith.subi %[[J]], %[[J0]] : index
// CHECK: %[[ROW:.+]] = arith.addi %[[R0]], %[[OFF]] : index
// Scores: one K vector, four FMAs (one per head).
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: %[[K:.+]] = vector.load %{{.+}}[%[[ROW]], %c0, %[[D:arg[0-9]+]]] : memref<?x1x32xf32>, vector<16xf32>
// The V line at the same place is prefetched for step 3.
// CHECK: memref.prefetch %[[VC:view_[0-9]+]][%[[ROW]], %c0, %[[D]]], read, locality<3>, data : memref<?x1x32xf32>
// CHECK-COUNT-4: vector.fma %{{.+}}, %[[K]], %{{.+}} : vector<16xf32>
// CHECK: memref.store %{{.+}}, %[[SC]]
// CHECK: scf.for %[[J2:[^ ]+]] = %[[JW]] to
// CHECK: %[[ROW2:.+]] = arith.subi %[[J2]], %[[JW]] : index
// CHECK: vector.load %{{.+}}[%[[ROW2]], %c0, %{{.+}}] : memref<?x1x32xf32>, vector<16xf32>
// Chunk max and exp-sum per head, 16 scores at a time (the tail masked in
// registers).
// CHECK: vector.create_mask
// CHECK: arith.select
// CHECK: arith.maximumf {{.+}} : vector<16xf32>
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp %{{.+}} : vector<16xf32>
// CHECK: memref.store %{{.+}}, %[[PM]][%{{.+}}, %[[CI]]]
// CHECK: memref.store %{{.+}}, %[[PL]][%{{.+}}, %[[CI]]]
// Partials: two V vectors (D = 32) per key, each weight broadcast once and
// used for both; 4 heads x 2 accumulators.
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: %[[V:.+]] = vector.load %[[VC]][%{{.+}}, %c0, %c0] : memref<?x1x32xf32>, vector<16xf32>
// CHECK: %[[V2:.+]] = vector.load %[[VC]][%{{.+}}, %c0, %c16] : memref<?x1x32xf32>, vector<16xf32>
// CHECK: %[[P:.+]] = vector.broadcast
// CHECK: vector.fma %[[P]], %[[V]]
// CHECK: vector.fma %[[P]], %[[V2]]
// CHECK: vector.store %{{.+}}, %[[PART]]
// CHECK: scf.reduce
// Combine per query head.
// CHECK: scf.parallel (%[[H:[^)]+]]) = (%c0) to (%c4)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: vector.load %[[PART]][%[[H]], %{{.+}}, %{{.+}}] : memref<4x32x32xf32>, vector<16xf32>
// CHECK: vector.store
func.func @decode_global(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x4x32xf32> {
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x32xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 128 : i64} : memref<?xi8> to memref<?x1x32xf32>
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x128xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x128xf32>, tensor<1xi32>) -> tensor<1x128xf32>
  %q = gemma4.reshape %h : (tensor<1x128xf32>) -> tensor<1x4x32xf32>
  %a = gemma4.attention %q, %kc, %vc at %pos {scale = 1.000000e+00 : f32, sliding_window = 0 : i64} : (tensor<1x4x32xf32>, memref<?x1x32xf32>, memref<?x1x32xf32>, index) -> tensor<1x4x32xf32>
  return %a : tensor<1x4x32xf32>
}

// -----

// Sliding layer: a static ring cache of 80 rows (2 KV heads, 2 query heads),
// window 64: 2 chunks at
// most, the visible keys start at max(pos + 1, 64) - 64 (no select).
// CHECK-LABEL: func.func @decode_sliding
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x2x16xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x2x1x64xf32>
// CHECK: %[[UP:.+]] = arith.maxui %{{.+}}, %c64 : index
// CHECK: arith.subi %[[UP]], %c64 : index
// CHECK: scf.parallel
// CHECK: arith.remui %{{.+}}, %c80 : index
// CHECK: scf.parallel

// The same attention in prefill (a dynamic token count) keeps one row per
// (token, head) with online softmax.
// CHECK-LABEL: func.func @prefill_sliding
// CHECK-NOT: memref<2x2x16xf32>
// CHECK: scf.parallel (%{{[^,]+}}, %{{[^)]+}}) = (%c0, %c0) to (%{{.+}}, %c2)
func.func @decode_sliding(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x2x16xf32> {
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 80 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<80x2x16xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 80 : i64, offset = 10240 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<80x2x16xf32>
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x32xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x32xf32>, tensor<1xi32>) -> tensor<1x32xf32>
  %q = gemma4.reshape %h : (tensor<1x32xf32>) -> tensor<1x2x16xf32>
  %a = gemma4.attention %q, %kc, %vc at %pos {scale = 1.000000e+00 : f32, sliding_window = 64 : i64} : (tensor<1x2x16xf32>, memref<80x2x16xf32>, memref<80x2x16xf32>, index) -> tensor<1x2x16xf32>
  return %a : tensor<1x2x16xf32>
}

func.func @prefill_sliding(%ids: tensor<?xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<?x2x16xf32> {
  %kc = gemma4.kv_cache_view %arena[%ctx] {capacity = 80 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<80x2x16xf32>
  %vc = gemma4.kv_cache_view %arena[%ctx] {capacity = 80 : i64, offset = 10240 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<80x2x16xf32>
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x32xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = gemma4.reshape %h : (tensor<?x32xf32>) -> tensor<?x2x16xf32>
  %a = gemma4.attention %q, %kc, %vc at %pos {scale = 1.000000e+00 : f32, sliding_window = 64 : i64} : (tensor<?x2x16xf32>, memref<80x2x16xf32>, memref<80x2x16xf32>, index) -> tensor<?x2x16xf32>
  return %a : tensor<?x2x16xf32>
}

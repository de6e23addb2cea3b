// gemma4-layout-weights gives every gemma4.weight the byte offset of its
// tensor in the weight blob: first-use order over the whole module, one slot
// per distinct name, each slot aligned (64 bytes by default). The blob size
// lands on the module as gemma4.weights_size. Running it twice changes
// nothing.
//
// RUN: gemma4c-opt %s -split-input-file | FileCheck %s --check-prefix=BEFORE
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-layout-weights | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-layout-weights -gemma4-layout-weights | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-layout-weights=alignment=1 | FileCheck %s --check-prefix=PACKED
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics -gemma4-layout-weights=alignment=4096 | FileCheck %s --check-prefix=PAGE
// RUN: not gemma4c-opt %s -split-input-file -gemma4-layout-weights=alignment=48 2>&1 | FileCheck %s --check-prefix=BADALIGN
// RUN: not gemma4c-opt %s -split-input-file -gemma4-layout-weights=alignment=0 2>&1 | FileCheck %s --check-prefix=BADALIGN

// BADALIGN: error: weight alignment must be a power of two, got

// The dense-mini shapes (vocabulary 384, hidden 64, bf16), with the tied
// lm head reading embed_tokens again. Sizes: 384*64*2 = 49152, 64*2 = 128,
// 1*2 = 2, 64*4 = 256 bytes.
// BEFORE-LABEL: func.func @tied_embeddings
// BEFORE-NOT: offset =
// BEFORE: return
// CHECK: module attributes {gemma4.weights_size = 49600 : i64}
// CHECK-LABEL: func.func @tied_embeddings
// CHECK: gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<384x64xbf16>
// CHECK: gemma4.weight "layers.0.input_layernorm.weight" {offset = 49152 : i64} : tensor<64xbf16>
// CHECK: gemma4.weight "layers.0.layer_scalar" {offset = 49280 : i64} : tensor<1xbf16>
// CHECK: gemma4.weight "norm.weight" {offset = 49344 : i64} : tensor<64xf32>
// CHECK: gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<384x64xbf16>
// PACKED: module attributes {gemma4.weights_size = 49538 : i64}
// PACKED-LABEL: func.func @tied_embeddings
// PACKED: gemma4.weight "embed_tokens.weight" {offset = 0 : i64}
// PACKED: gemma4.weight "layers.0.input_layernorm.weight" {offset = 49152 : i64}
// PACKED: gemma4.weight "layers.0.layer_scalar" {offset = 49280 : i64}
// PACKED: gemma4.weight "norm.weight" {offset = 49282 : i64}
// PACKED: gemma4.weight "embed_tokens.weight" {offset = 0 : i64}
// PAGE: module attributes {gemma4.weights_size = 57600 : i64}
// PAGE-LABEL: func.func @tied_embeddings
// PAGE: gemma4.weight "embed_tokens.weight" {offset = 0 : i64}
// PAGE: gemma4.weight "layers.0.input_layernorm.weight" {offset = 49152 : i64}
// PAGE: gemma4.weight "layers.0.layer_scalar" {offset = 53248 : i64}
// PAGE: gemma4.weight "norm.weight" {offset = 57344 : i64}
// PAGE: gemma4.weight "embed_tokens.weight" {offset = 0 : i64}
func.func @tied_embeddings(%ids: tensor<?xi32>) -> tensor<?x384xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<384x64xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 8.0 : f32} : (tensor<384x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
  %nw = gemma4.weight "layers.0.input_layernorm.weight" : tensor<64xbf16>
  %x = gemma4.rms_norm %h, %nw {epsilon = 1.0e-6 : f32} : (tensor<?x64xf32>, tensor<64xbf16>) -> tensor<?x64xf32>
  %ls = gemma4.weight "layers.0.layer_scalar" : tensor<1xbf16>
  %s = gemma4.scale %x, %ls {factor = 1.0 : f32} : (tensor<?x64xf32>, tensor<1xbf16>) -> tensor<?x64xf32>
  %fw = gemma4.weight "norm.weight" : tensor<64xf32>
  %f = gemma4.rms_norm %s, %fw {epsilon = 1.0e-6 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %lm = gemma4.weight "embed_tokens.weight" : tensor<384x64xbf16>
  %l = gemma4.linear %f, %lm : (tensor<?x64xf32>, tensor<384x64xbf16>) -> tensor<?x384xf32>
  return %l : tensor<?x384xf32>
}

// -----

// Prefill and decode entry points share one blob: the second function's
// weights reuse the first one's slots; a weight only decode uses comes after.
// Offsets written before the pass (here a stale one) are replaced.
// CHECK: module attributes {gemma4.weights_size = 32896 : i64}
// CHECK-LABEL: func.func @gemma4_prefill
// CHECK: gemma4.weight "layers.0.self_attn.q_proj.weight" {offset = 0 : i64} : tensor<128x64xbf16>
// CHECK: gemma4.weight "layers.0.self_attn.o_proj.weight" {offset = 16384 : i64} : tensor<64x128xbf16>
// CHECK-LABEL: func.func @gemma4_decode
// CHECK: gemma4.weight "layers.0.self_attn.o_proj.weight" {offset = 16384 : i64} : tensor<64x128xbf16>
// CHECK: gemma4.weight "layers.0.self_attn.q_proj.weight" {offset = 0 : i64} : tensor<128x64xbf16>
// CHECK: gemma4.weight "layers.0.post_attention_layernorm.weight" {offset = 32768 : i64} : tensor<64xbf16>
func.func @gemma4_prefill(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<128x64xbf16>
  %a = gemma4.linear %x, %q : (tensor<?x64xf32>, tensor<128x64xbf16>) -> tensor<?x128xf32>
  %o = gemma4.weight "layers.0.self_attn.o_proj.weight" {offset = 12345 : i64} : tensor<64x128xbf16>
  %y = gemma4.linear %a, %o : (tensor<?x128xf32>, tensor<64x128xbf16>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
func.func @gemma4_decode(%x: tensor<1x128xf32>) -> (tensor<1x64xf32>, tensor<1x128xf32>, tensor<64xbf16>) {
  %o = gemma4.weight "layers.0.self_attn.o_proj.weight" : tensor<64x128xbf16>
  %y = gemma4.linear %x, %o : (tensor<1x128xf32>, tensor<64x128xbf16>) -> tensor<1x64xf32>
  %q = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<128x64xbf16>
  %a = gemma4.linear %y, %q : (tensor<1x64xf32>, tensor<128x64xbf16>) -> tensor<1x128xf32>
  %n = gemma4.weight "layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  return %y, %a, %n : tensor<1x64xf32>, tensor<1x128xf32>, tensor<64xbf16>
}

// -----

// Slot sizes follow the element width: f16 [3] = 6, i8 [5] = 5, i64 [2] = 16,
// ui8 [3] = 3, f32 [1] = 4 bytes.
// CHECK: module attributes {gemma4.weights_size = 260 : i64}
// CHECK-LABEL: func.func @element_widths
// CHECK: gemma4.weight "a" {offset = 0 : i64} : tensor<3xf16>
// CHECK: gemma4.weight "b" {offset = 64 : i64} : tensor<5xi8>
// CHECK: gemma4.weight "c" {offset = 128 : i64} : tensor<2xi64>
// CHECK: gemma4.weight "d" {offset = 192 : i64} : tensor<3xui8>
// CHECK: gemma4.weight "e" {offset = 256 : i64} : tensor<1xf32>
// PACKED: module attributes {gemma4.weights_size = 34 : i64}
// PACKED-LABEL: func.func @element_widths
// PACKED: gemma4.weight "a" {offset = 0 : i64}
// PACKED: gemma4.weight "b" {offset = 6 : i64}
// PACKED: gemma4.weight "c" {offset = 11 : i64}
// PACKED: gemma4.weight "d" {offset = 27 : i64}
// PACKED: gemma4.weight "e" {offset = 30 : i64}
func.func @element_widths() -> (tensor<3xf16>, tensor<5xi8>, tensor<2xi64>, tensor<3xui8>, tensor<1xf32>) {
  %a = gemma4.weight "a" : tensor<3xf16>
  %b = gemma4.weight "b" : tensor<5xi8>
  %c = gemma4.weight "c" : tensor<2xi64>
  %d = gemma4.weight "d" : tensor<3xui8>
  %e = gemma4.weight "e" : tensor<1xf32>
  return %a, %b, %c, %d, %e : tensor<3xf16>, tensor<5xi8>, tensor<2xi64>, tensor<3xui8>, tensor<1xf32>
}

// -----

// No weights: an empty blob.
// CHECK: module attributes {gemma4.weights_size = 0 : i64}
// CHECK-LABEL: func.func @no_weights
func.func @no_weights(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  return %x : tensor<?x64xf32>
}

// -----

// One checkpoint tensor cannot have two sizes.
func.func @two_sizes(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x256xf32>) {
  %a = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<128x64xbf16>
  %y = gemma4.linear %x, %a : (tensor<?x64xf32>, tensor<128x64xbf16>) -> tensor<?x128xf32>
  // expected-error @+1 {{'gemma4.weight' op tensor 'layers.0.self_attn.q_proj.weight' is used with two different sizes}}
  %b = gemma4.weight "layers.0.self_attn.q_proj.weight" : tensor<256x64xbf16>
  %z = gemma4.linear %x, %b : (tensor<?x64xf32>, tensor<256x64xbf16>) -> tensor<?x256xf32>
  return %y, %z : tensor<?x128xf32>, tensor<?x256xf32>
}

// -----

// The same bytes under two element types also disagree in size.
func.func @two_dtypes() -> (tensor<64xbf16>, tensor<64xf32>) {
  %a = gemma4.weight "norm.weight" : tensor<64xbf16>
  // expected-error @+1 {{'gemma4.weight' op tensor 'norm.weight' is used with two different sizes}}
  %b = gemma4.weight "norm.weight" : tensor<64xf32>
  return %a, %b : tensor<64xbf16>, tensor<64xf32>
}

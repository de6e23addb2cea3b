// Folders of gemma4.scale and gemma4.reshape.
//
// RUN: gemma4c-opt %s -split-input-file -canonicalize | FileCheck %s

// A scale by 1.0 without a stored scalar is the identity.
// CHECK-LABEL: func.func @scale_by_one_folds
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x1536xf32>)
// CHECK-NOT: gemma4.scale
// CHECK: return %[[H]] : tensor<?x1536xf32>
func.func @scale_by_one_folds(%h: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %s = gemma4.scale %h {factor = 1.0 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %s : tensor<?x1536xf32>
}

// -----

// Chains of identity scales fold all the way back to the input.
// CHECK-LABEL: func.func @scale_chain_folds
// CHECK-SAME: (%[[H:[^:]+]]: tensor<1x1536xf32>)
// CHECK-NOT: gemma4.scale
// CHECK: return %[[H]], %[[H]] : tensor<1x1536xf32>, tensor<1x1536xf32>
func.func @scale_chain_folds(%h: tensor<1x1536xf32>) -> (tensor<1x1536xf32>, tensor<1x1536xf32>) {
  %a = gemma4.scale %h {factor = 1.0 : f32} : (tensor<1x1536xf32>) -> tensor<1x1536xf32>
  %b = gemma4.scale %a {factor = 1.0 : f32} : (tensor<1x1536xf32>) -> tensor<1x1536xf32>
  return %a, %b : tensor<1x1536xf32>, tensor<1x1536xf32>
}

// -----

// The stored layer_scalar still multiplies when the factor is 1.0.
// CHECK-LABEL: func.func @scale_with_scalar_kept
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x1536xf32>)
// CHECK: %[[LS:.+]] = gemma4.weight "layers.0.layer_scalar" : tensor<1xbf16>
// CHECK: %[[S:.+]] = gemma4.scale %[[H]], %[[LS]] {factor = 1.000000e+00 : f32}
// CHECK: return %[[S]]
func.func @scale_with_scalar_kept(%h: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %ls = gemma4.weight "layers.0.layer_scalar" : tensor<1xbf16>
  %s = gemma4.scale %h, %ls {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<?x1536xf32>
  return %s : tensor<?x1536xf32>
}

// -----

// Any other factor is real work.
// CHECK-LABEL: func.func @scale_by_other_factor_kept
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x1536xf32>)
// CHECK: %[[S:.+]] = gemma4.scale %[[H]] {factor = 0.707106769 : f32}
// CHECK: %[[N:.+]] = gemma4.scale %[[S]] {factor = -1.000000e+00 : f32}
// CHECK: return %[[N]]
func.func @scale_by_other_factor_kept(%h: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %s = gemma4.scale %h {factor = 0.707106769 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  %n = gemma4.scale %s {factor = -1.0 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %n : tensor<?x1536xf32>
}

// -----

// A reshape to its own type is the identity.
// CHECK-LABEL: func.func @reshape_same_type_folds
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x256xf32>)
// CHECK-NOT: gemma4.reshape
// CHECK: return %[[Q]] : tensor<?x8x256xf32>
func.func @reshape_same_type_folds(%q: tensor<?x8x256xf32>) -> tensor<?x8x256xf32> {
  %r = gemma4.reshape %q : (tensor<?x8x256xf32>) -> tensor<?x8x256xf32>
  return %r : tensor<?x8x256xf32>
}

// -----

// Split into heads and merged back (the attention output path when nothing
// happens in between) folds to the original value.
// CHECK-LABEL: func.func @reshape_round_trip_folds
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2048xf32>)
// CHECK-NOT: gemma4.reshape
// CHECK: return %[[X]] : tensor<?x2048xf32>
func.func @reshape_round_trip_folds(%x: tensor<?x2048xf32>) -> tensor<?x2048xf32> {
  %h = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %y = gemma4.reshape %h : (tensor<?x8x256xf32>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// The round trip folds even when the intermediate value has other users; the
// intermediate reshape stays for them.
// CHECK-LABEL: func.func @reshape_round_trip_with_other_use
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2048xf32>)
// CHECK: %[[H:.+]] = gemma4.reshape %[[X]] : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
// CHECK-NOT: gemma4.reshape
// CHECK: return %[[X]], %[[H]] : tensor<?x2048xf32>, tensor<?x8x256xf32>
func.func @reshape_round_trip_with_other_use(%x: tensor<?x2048xf32>) -> (tensor<?x2048xf32>, tensor<?x8x256xf32>) {
  %h = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %y = gemma4.reshape %h : (tensor<?x8x256xf32>) -> tensor<?x2048xf32>
  return %y, %h : tensor<?x2048xf32>, tensor<?x8x256xf32>
}

// -----

// Two reshapes that end in a third shape do not fold to the input.
// CHECK-LABEL: func.func @reshape_to_other_shape_kept
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2048xf32>)
// CHECK: %[[H:.+]] = gemma4.reshape %[[X]] : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
// CHECK: %[[P:.+]] = gemma4.reshape %[[H]] : (tensor<?x8x256xf32>) -> tensor<?x16x128xf32>
// CHECK: return %[[P]] : tensor<?x16x128xf32>
func.func @reshape_to_other_shape_kept(%x: tensor<?x2048xf32>) -> tensor<?x16x128xf32> {
  %h = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %p = gemma4.reshape %h : (tensor<?x8x256xf32>) -> tensor<?x16x128xf32>
  return %p : tensor<?x16x128xf32>
}

// -----

// Going back to a type that differs only in the static token count is not
// the input's type, so it does not fold.
// CHECK-LABEL: func.func @reshape_refined_token_dim_kept
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x2048xf32>)
// CHECK: %[[H:.+]] = gemma4.reshape %[[X]] : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
// CHECK: %[[Y:.+]] = gemma4.reshape %[[H]] : (tensor<?x8x256xf32>) -> tensor<1x2048xf32>
// CHECK: return %[[Y]] : tensor<1x2048xf32>
func.func @reshape_refined_token_dim_kept(%x: tensor<?x2048xf32>) -> tensor<1x2048xf32> {
  %h = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x8x256xf32>
  %y = gemma4.reshape %h : (tensor<?x8x256xf32>) -> tensor<1x2048xf32>
  return %y : tensor<1x2048xf32>
}

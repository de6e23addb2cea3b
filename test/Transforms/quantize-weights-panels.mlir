// K panels (QuantLayout.h): an interleaved int4 weight of a linear or of an
// MLP's down projection with more than k-panel input features is stored as
// panels of the largest multiple of 256 dividing K, up to k-panel. The MLP's
// gate and up (read side by side in decode), gathers (the embedding) and
// weights at most k-panel wide keep one panel; so do int8 and int4-g128.
// (Row tiles are off here: quantize-weights-tiles.mlir.)
//
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int4 k-panel=512" | FileCheck %s
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int4-asym k-panel=256" | FileCheck %s --check-prefix=P256
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int4 k-panel=0" | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int4-g128" | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int8 k-panel=256" | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -gemma4-quantize-weights="row-tile=0 scheme=int4" | FileCheck %s --check-prefix=NONE
// The GPU targets' layout (int4-interleave=false): every int4 weight plain,
// no panels (nor tiles, with row-tile left at its default).
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int4 int4-interleave=false" | FileCheck %s --check-prefix=PLAIN
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int8 int4-interleave=false" | FileCheck %s --check-prefix=NONE --implicit-check-not=plain

// CHECK-LABEL: func.func @panels
// CHECK: gemma4.weight "embed" : tensor<384x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// CHECK: gemma4.weight "wide" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 512>>
// CHECK: gemma4.weight "gate" : tensor<768x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// CHECK: gemma4.weight "up" : tensor<768x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// CHECK: gemma4.weight "down" : tensor<1024x768xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>
// CHECK: gemma4.weight "narrow" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>

// P256: gemma4.weight "wide" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>
// P256: gemma4.weight "down" : tensor<1024x768xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>
// P256: gemma4.weight "narrow" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>

// PLAIN-LABEL: func.func @panels
// PLAIN-COUNT-6: group = 32, scale = f16, sym, plain>>
// PLAIN-NOT: panel =
// PLAIN-NOT: tile =

// NONE-LABEL: func.func @panels
// NONE-NOT: panel =
func.func @panels(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
  %e = gemma4.weight "embed" : tensor<384x1024xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 8.0 : f32} : (tensor<384x1024xbf16>, tensor<?xi32>) -> tensor<?x1024xf32>
  %w = gemma4.weight "wide" : tensor<64x1024xbf16>
  %y = gemma4.linear %h, %w : (tensor<?x1024xf32>, tensor<64x1024xbf16>) -> tensor<?x64xf32>
  %g = gemma4.weight "gate" : tensor<768x1024xbf16>
  %u = gemma4.weight "up" : tensor<768x1024xbf16>
  %d = gemma4.weight "down" : tensor<1024x768xbf16>
  %m = gemma4.mlp %h, %g, %u, %d : (tensor<?x1024xf32>, tensor<768x1024xbf16>, tensor<768x1024xbf16>, tensor<1024x768xbf16>) -> tensor<?x1024xf32>
  %n = gemma4.weight "narrow" : tensor<64x512xbf16>
  %s = gemma4.weight "narrow_in" : tensor<512x1024xbf16>
  %t = gemma4.linear %m, %s : (tensor<?x1024xf32>, tensor<512x1024xbf16>) -> tensor<?x512xf32>
  %z = gemma4.linear %t, %n : (tensor<?x512xf32>, tensor<64x512xbf16>) -> tensor<?x64xf32>
  return %z : tensor<?x64xf32>
}

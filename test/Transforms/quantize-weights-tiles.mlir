// Row tiles (QuantLayout.h): a 2-D interleaved int4 weight without K panels
// whose only readers are linears, MLPs and embedding lookups, and whose rows
// row-tile divides, is stored as tiles of row-tile rows. Panelled weights
// (the MLP's down projection here), the per-layer input projection, rows
// the tile does not divide, int8 and int4-g128 stay untiled.
//
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int4 k-panel=512" | FileCheck %s
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int4-asym k-panel=0 row-tile=8" | FileCheck %s --check-prefix=T8
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int4 row-tile=0" | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int4-g128" | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -gemma4-quantize-weights="scheme=int8" | FileCheck %s --check-prefix=NONE
// RUN: not gemma4c-opt %s -gemma4-quantize-weights="scheme=int4 row-tile=1" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not gemma4c-opt %s -gemma4-quantize-weights="scheme=int4 row-tile=17" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @tiles
// CHECK: gemma4.weight "embed" : tensor<384x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
// CHECK: gemma4.weight "wide" : tensor<128x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 512>>
// CHECK: gemma4.weight "gate" : tensor<768x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
// CHECK: gemma4.weight "up" : tensor<768x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
// CHECK: gemma4.weight "down" : tensor<512x768xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>
// CHECK: gemma4.weight "ple_proj" : tensor<256x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// CHECK: gemma4.weight "odd" : tensor<66x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>

// With no K panels the down projection is tiled too; 66 rows are not 8s.
// T8: gemma4.weight "embed" : tensor<384x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, tile = 8>>
// T8: gemma4.weight "wide" : tensor<128x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, tile = 8>>
// T8: gemma4.weight "down" : tensor<512x768xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, tile = 8>>
// T8: gemma4.weight "odd" : tensor<66x512xi4, #gemma4.quant<int4, group = 32, scale = f16, asym>>

// NONE-LABEL: func.func @tiles
// NONE-NOT: tile =

// BAD: row-tile must be 0 or 2 to 16
func.func @tiles(%ids: tensor<?xi32>) -> tensor<?x66xf32> {
  %e = gemma4.weight "embed" : tensor<384x1024xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 8.0 : f32} : (tensor<384x1024xbf16>, tensor<?xi32>) -> tensor<?x1024xf32>
  %w = gemma4.weight "wide" : tensor<128x1024xbf16>
  %y = gemma4.linear %h, %w : (tensor<?x1024xf32>, tensor<128x1024xbf16>) -> tensor<?x128xf32>
  %n = gemma4.weight "in" : tensor<512x128xbf16>
  %x = gemma4.linear %y, %n : (tensor<?x128xf32>, tensor<512x128xbf16>) -> tensor<?x512xf32>
  %g = gemma4.weight "gate" : tensor<768x512xbf16>
  %u = gemma4.weight "up" : tensor<768x512xbf16>
  %d = gemma4.weight "down" : tensor<512x768xbf16>
  %m = gemma4.mlp %x, %g, %u, %d : (tensor<?x512xf32>, tensor<768x512xbf16>, tensor<768x512xbf16>, tensor<512x768xbf16>) -> tensor<?x512xf32>
  %pt = gemma4.weight "ple_table" : tensor<384x256xbf16>
  %pp = gemma4.weight "ple_proj" : tensor<256x512xbf16>
  %pn = gemma4.weight "ple_norm" : tensor<128xbf16>
  %ple = gemma4.per_layer_inputs %ids, %x, %pt, %pp, %pn {table_scale = 16.0 : f32, projection_scale = 0.04 : f32, epsilon = 1.0e-6 : f32}
         : (tensor<?xi32>, tensor<?x512xf32>, tensor<384x256xbf16>, tensor<256x512xbf16>, tensor<128xbf16>) -> tensor<?x2x128xf32>
  %o = gemma4.weight "odd" : tensor<66x512xbf16>
  %z = gemma4.linear %m, %o : (tensor<?x512xf32>, tensor<66x512xbf16>) -> tensor<?x66xf32>
  return %z : tensor<?x66xf32>
}

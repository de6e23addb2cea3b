// #gemma4.quant: the encoding of quantized weight types. It round-trips in
// custom form, and the weight verifier checks that element type, bit width,
// group size and the K dimension agree with the packed layout.
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics | gemma4c-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @quantized_weights
// CHECK: gemma4.weight "a" : tensor<256x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// CHECK: gemma4.weight "b" : tensor<4x256x128xi4, #gemma4.quant<int4, group = 128, scale = bf16, asym>>
// CHECK: gemma4.weight "c" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
// CHECK: gemma4.linear %{{.+}}, %{{.+}} : (tensor<?x64xf32>, tensor<256x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<?x256xf32>
func.func @quantized_weights(%x: tensor<?x64xf32>) -> tensor<?x256xf32> {
  %a = gemma4.weight "a" : tensor<256x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  %b = gemma4.weight "b" : tensor<4x256x128xi4, #gemma4.quant<int4, group = 128, scale = bf16, asym>>
  %c = gemma4.weight "c" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  %y = gemma4.linear %x, %a : (tensor<?x64xf32>, tensor<256x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

func.func @group_does_not_divide() {
  // expected-error @+1 {{group size 32 does not divide the input dimension 48 of 'w'}}
  %a = gemma4.weight "w" : tensor<8x48xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  return
}

// -----

func.func @int4_per_channel_needs_blocks() {
  // expected-error @+1 {{int4 packing needs the input dimension to be a multiple of 32, 'w' has 16}}
  %b = gemma4.weight "w" : tensor<8x16xi4, #gemma4.quant<int4, per_channel, scale = f16, sym>>
  return
}

// -----

func.func @element_type_mismatch() {
  // expected-error @+1 {{int4 quantized weight must have element type i4, got 'i8'}}
  %a = gemma4.weight "w" : tensor<8x64xi8, #gemma4.quant<int4, group = 32, scale = f16, sym>>
  return
}

// -----

func.func @rank_one() {
  // expected-error @+1 {{quantized weights must have rank >= 2 (rows x K), got rank 1}}
  %a = gemma4.weight "w" : tensor<64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
  return
}

// -----

func.func @i4_without_encoding() {
  // expected-error @+1 {{i4 weights need a #gemma4.quant encoding}}
  %a = gemma4.weight "w" : tensor<8x64xi4>
  return
}

// -----

func.func @bad_bits() {
  // expected-error @+1 {{expected int4 or int8, got 'int3'}}
  %a = gemma4.weight "w" : tensor<8x64xi4, #gemma4.quant<int3, group = 32, scale = f16, sym>>
  return
}

// -----

func.func @bad_group() {
  // expected-error @+1 {{int4 group size must be a multiple of 32, got 48}}
  %a = gemma4.weight "w" : tensor<8x96xi4, #gemma4.quant<int4, group = 48, scale = f16, sym>>
  return
}

// -----

func.func @bad_scale() {
  // expected-error @+1 {{quantization scales must be f16, bf16 or f32}}
  %a = gemma4.weight "w" : tensor<8x64xi4, #gemma4.quant<int4, group = 32, scale = i8, sym>>
  return
}

// -----

func.func @int8_asym() {
  // expected-error @+1 {{int8 quantization is symmetric only}}
  %a = gemma4.weight "w" : tensor<8x64xi8, #gemma4.quant<int8, per_channel, scale = f32, asym>>
  return
}

// -----

func.func @bad_sym_keyword() {
  // expected-error @+1 {{expected sym or asym, got 'symmetric'}}
  %a = gemma4.weight "w" : tensor<8x64xi4, #gemma4.quant<int4, group = 32, scale = f16, symmetric>>
  return
}

// -----

// K panels: printed last, omitted when 0.
// CHECK-LABEL: func.func @k_panels
// CHECK: gemma4.weight "p" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>
// CHECK: gemma4.weight "q" : tensor<64x768xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>
// CHECK: gemma4.weight "r" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
func.func @k_panels() {
  %p = gemma4.weight "p" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256>>
  %q = gemma4.weight "q" : tensor<64x768xi4, #gemma4.quant<int4, group = 32, scale = f16, asym, panel = 256>>
  %r = gemma4.weight "r" : tensor<64x1024xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 0>>
  return
}

// -----

func.func @panel_does_not_divide() {
  // expected-error @+1 {{K panel 512 of 'w' must divide its input dimension 768 into interleaved int4 panels (multiples of 256)}}
  %a = gemma4.weight "w" : tensor<8x768xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 512>>
  return
}

// -----

func.func @panel_not_smaller() {
  // expected-error @+1 {{K panel 512 of 'w' must divide its input dimension 512}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 512>>
  return
}

// -----

func.func @panel_not_superblocks() {
  // expected-error @+1 {{K panels are for int4 with group size 32 and a multiple of 256 elements, got panel 128}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 128>>
  return
}

// -----

func.func @panel_int8() {
  // expected-error @+1 {{K panels are for int4 with group size 32 and a multiple of 256 elements, got panel 256}}
  %a = gemma4.weight "w" : tensor<8x512xi8, #gemma4.quant<int8, per_channel, scale = f32, sym, panel = 256>>
  return
}

// -----

func.func @panel_g128() {
  // expected-error @+1 {{K panels are for int4 with group size 32 and a multiple of 256 elements, got panel 256}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 128, scale = f16, sym, panel = 256>>
  return
}

// -----

func.func @panel_not_a_keyword() {
  // expected-error @+1 {{expected panel, tile or plain, got 'tiles'}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tiles = 4>>
  return
}

// -----

// Row tiles (QuantLayout.h): 2-D interleaved int4 weights without K panels
// whose rows the tile divides.
// CHECK-LABEL: func.func @row_tiles
// CHECK: gemma4.weight "t" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
// CHECK: gemma4.weight "u" : tensor<24x256xi4, #gemma4.quant<int4, group = 32, scale = f32, asym, tile = 8>>
func.func @row_tiles() {
  %a = gemma4.weight "t" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  %b = gemma4.weight "u" : tensor<24x256xi4, #gemma4.quant<int4, group = 32, scale = f32, asym, tile = 8>>
  return
}

// -----

func.func @tile_one() {
  // expected-error @+1 {{row tiles are for int4 with group size 32 and no K panels, of 2 to 16 rows, got tile 1}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 1>>
  return
}

// -----

func.func @tile_too_big() {
  // expected-error @+1 {{got tile 256}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 256>>
  return
}

// -----

func.func @tile_int8() {
  // expected-error @+1 {{row tiles are for int4 with group size 32}}
  %a = gemma4.weight "w" : tensor<8x512xi8, #gemma4.quant<int8, per_channel, scale = f32, sym, tile = 4>>
  return
}

// -----

func.func @tile_g128() {
  // expected-error @+1 {{row tiles are for int4 with group size 32}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 128, scale = f16, sym, tile = 4>>
  return
}

// -----

func.func @tile_with_panel() {
  // expected-error @+1 {{got tile 4 with a panel}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, panel = 256, tile = 4>>
  return
}

// -----

func.func @tile_not_dividing_rows() {
  // expected-error @+1 {{row tile 4 of 'w' needs a 2-D interleaved int4 weight (input dimension a multiple of 256) whose 6 rows it divides}}
  %a = gemma4.weight "w" : tensor<6x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  return
}

// -----

func.func @tile_not_superblocks() {
  // expected-error @+1 {{row tile 4 of 'w' needs a 2-D interleaved int4 weight}}
  %a = gemma4.weight "w" : tensor<8x224xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  return
}

// -----

func.func @tile_3d() {
  // expected-error @+1 {{row tile 4 of 'w' needs a 2-D interleaved int4 weight}}
  %a = gemma4.weight "w" : tensor<2x8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4>>
  return
}

// -----

// `plain`: int4 blocks in order where K (a multiple of 256, group 32) would
// take the interleaved super-blocks (the GPU targets' int4 layout).
// CHECK-LABEL: func.func @plain_int4
// CHECK: gemma4.weight "p" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, plain>>
func.func @plain_int4() {
  %a = gemma4.weight "p" : tensor<64x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, plain>>
  return
}

// -----

func.func @plain_int8() {
  // expected-error @+1 {{plain is for int4 without K panels or row tiles}}
  %a = gemma4.weight "w" : tensor<8x512xi8, #gemma4.quant<int8, per_channel, scale = f32, sym, plain>>
  return
}

// -----

func.func @plain_tiled() {
  // expected-error @+1 {{plain is for int4 without K panels or row tiles}}
  %a = gemma4.weight "w" : tensor<8x512xi4, #gemma4.quant<int4, group = 32, scale = f16, sym, tile = 4, plain>>
  return
}

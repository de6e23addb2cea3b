// gemma4-quantize-weights gives each matrix weight the encoding of its role
// under the scheme; vectors (norm weights) are kept; every use of a name
// gets the same type (the tied embedding is also the lm-head, and its
// embedding role decides). The scheme lands on the module as gemma4.quant.
//
// RUN: gemma4c-opt %s -split-input-file -gemma4-quantize-weights | FileCheck %s --check-prefix=NONE
// RUN: gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=int8 | FileCheck %s --check-prefix=INT8
// RUN: gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=int4-g32-asym-bf16 | FileCheck %s --check-prefix=INT4
// RUN: gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=mixed | FileCheck %s --check-prefix=MIXED
// RUN: gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=mixed -gemma4-layout-weights | FileCheck %s --check-prefix=LAYOUT
// RUN: not gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=int4-g128 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not gemma4c-opt %s -split-input-file -gemma4-quantize-weights=scheme=q4_k 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// NONE: module attributes {gemma4.quant = "bf16"}
// NONE-NOT: #gemma4.quant

// INT8: module attributes {gemma4.quant = "int8"}
// INT8-LABEL: func.func @tied
// INT8: gemma4.weight "embed_tokens.weight" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
// INT8: gemma4.weight "norm.weight" : tensor<64xbf16>
// INT8: gemma4.weight "o_proj.weight" : tensor<64x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
// INT8: gemma4.weight "embed_tokens.weight" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>

// INT4: gemma4.weight "embed_tokens.weight" : tensor<384x64xi4, #gemma4.quant<int4, group = 32, scale = bf16, asym>>
// INT4: gemma4.weight "o_proj.weight" : tensor<64x64xi4, #gemma4.quant<int4, group = 32, scale = bf16, asym>>

// The mixed scheme keeps the embedding/lm-head at int8 and puts layers at int4.
// MIXED: gemma4.weight "embed_tokens.weight" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>
// MIXED: gemma4.weight "o_proj.weight" : tensor<64x64xi4, #gemma4.quant<int4, group = 32, scale = f16, sym>>
// MIXED: gemma4.weight "embed_tokens.weight" : tensor<384x64xi8, #gemma4.quant<int8, per_channel, scale = f32, sym>>

// Layout sizes the packed form: embedding 384*64 + 384*4 scales = 26112;
// norm 128 (at 26112); o_proj int4: 64*32 data + 64*2*2 scales = 2304 at 26240.
// LAYOUT: module attributes {gemma4.quant = "mixed", gemma4.weights_size = 28544 : i64}
// LAYOUT: gemma4.weight "embed_tokens.weight" {offset = 0 : i64}
// LAYOUT: gemma4.weight "norm.weight" {offset = 26112 : i64}
// LAYOUT: gemma4.weight "o_proj.weight" {offset = 26240 : i64}

// DIVIDE: error: cannot quantize '{{.+}}' with --quant=int4-g128: group size 128 does not divide the input dimension 64 (--quant=mixed falls back to int8 for such tensors)
// UNKNOWN: error: unknown --quant scheme 'q4_k'
func.func @tied(%ids: tensor<?xi32>) -> tensor<?x384xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<384x64xbf16>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 8.0 : f32} : (tensor<384x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
  %nw = gemma4.weight "norm.weight" : tensor<64xbf16>
  %n = gemma4.rms_norm %h, %nw {epsilon = 1.0e-6 : f32} : (tensor<?x64xf32>, tensor<64xbf16>) -> tensor<?x64xf32>
  %o = gemma4.weight "o_proj.weight" : tensor<64x64xbf16>
  %y = gemma4.linear %n, %o : (tensor<?x64xf32>, tensor<64x64xbf16>) -> tensor<?x64xf32>
  %lm = gemma4.weight "embed_tokens.weight" : tensor<384x64xbf16>
  %l = gemma4.linear %y, %lm : (tensor<?x64xf32>, tensor<384x64xbf16>) -> tensor<?x384xf32>
  return %l : tensor<?x384xf32>
}

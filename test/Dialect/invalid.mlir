// Verifier coverage for the gemma4 dialect: at least one negative case per
// check of every op and attribute verifier, plus the ODS constraints that
// guard element types and required attributes. Every diagnostic is matched
// in full.
//
// One case per split; each names the check it exercises.
//
// RUN: gemma4c-opt %s -split-input-file -verify-diagnostics

// weight: empty name
func.func @weight_empty_name() -> tensor<4xf32> {
  // expected-error @+1 {{'gemma4.weight' op needs a non-empty tensor name}}
  %w = gemma4.weight "" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// weight: dynamic shape
func.func @weight_dynamic_shape() -> tensor<?x1536xbf16> {
  // expected-error @+1 {{'gemma4.weight' op weight shapes must be static}}
  %w = gemma4.weight "embed_tokens.weight" : tensor<?x1536xbf16>
  return %w : tensor<?x1536xbf16>
}

// -----

// weight: negative offset (I64Attr reads back as uint64_t; the check must be signed)
func.func @weight_negative_offset() -> tensor<1536xbf16> {
  // expected-error @+1 {{'gemma4.weight' op offset must be non-negative, got -64}}
  %w = gemma4.weight "norm.weight" {offset = -64 : i64} : tensor<1536xbf16>
  return %w : tensor<1536xbf16>
}

// -----

// weight: element type outside the ODS constraint
func.func @weight_f64() -> tensor<1536xf64> {
  // expected-error @+1 {{'gemma4.weight' op result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer or 4-bit signless integer or 32-bit signless integer or 64-bit signless integer or 8-bit unsigned integer values, but got 'tensor<1536xf64>'}}
  %w = gemma4.weight "norm.weight" : tensor<1536xf64>
  return %w : tensor<1536xf64>
}

// -----

// weight: missing name
func.func @weight_no_name() -> tensor<4xf32> {
  // expected-error @+1 {{'gemma4.weight' op requires attribute 'name'}}
  %w = "gemma4.weight"() : () -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// kv_cache_view: capacity_zero
func.func @kv_cache_view_capacity_zero(%arena: memref<?xi8>, %ctx: index) -> memref<528x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op capacity must be positive or -1 (context), got 0}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 0 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
  return %c : memref<528x1x256xf32>
}

// -----

// kv_cache_view: capacity_minus_two
func.func @kv_cache_view_capacity_minus_two(%arena: memref<?xi8>, %ctx: index) -> memref<?x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op capacity must be positive or -1 (context), got -2}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = -2 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x256xf32>
  return %c : memref<?x1x256xf32>
}

// -----

// kv_cache_view: negative_offset
func.func @kv_cache_view_negative_offset(%arena: memref<?xi8>, %ctx: index) -> memref<528x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op offsets must be non-negative}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = -4 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
  return %c : memref<528x1x256xf32>
}

// -----

// kv_cache_view: negative_offset_per_context
func.func @kv_cache_view_negative_offset_per_context(%arena: memref<?xi8>, %ctx: index) -> memref<?x1x512xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op offsets must be non-negative}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = -4096 : i64} : memref<?xi8> to memref<?x1x512xf32>
  return %c : memref<?x1x512xf32>
}

// -----

// kv_cache_view: capacity_mismatch
func.func @kv_cache_view_capacity_mismatch(%arena: memref<?xi8>, %ctx: index) -> memref<528x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op result capacity 528 disagrees with capacity attribute 512}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 512 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
  return %c : memref<528x1x256xf32>
}

// -----

// kv_cache_view: fixed_capacity_dynamic_result
func.func @kv_cache_view_fixed_capacity_dynamic_result(%arena: memref<?xi8>, %ctx: index) -> memref<?x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op result capacity ? disagrees with capacity attribute 528}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<?x1x256xf32>
  return %c : memref<?x1x256xf32>
}

// -----

// kv_cache_view: context_capacity_static_result
func.func @kv_cache_view_context_capacity_static_result(%arena: memref<?xi8>, %ctx: index) -> memref<4096x1x512xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op capacity -1 (context) needs a dynamic result capacity, got 4096}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 4096 : i64} : memref<?xi8> to memref<4096x1x512xf32>
  return %c : memref<4096x1x512xf32>
}

// -----

// kv_cache_view: dynamic_kv_heads
func.func @kv_cache_view_dynamic_kv_heads(%arena: memref<?xi8>, %ctx: index) -> memref<528x?x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op kv_heads and head_dim must be static}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x?x256xf32>
  return %c : memref<528x?x256xf32>
}

// -----

// kv_cache_view: dynamic_head_dim
func.func @kv_cache_view_dynamic_head_dim(%arena: memref<?xi8>, %ctx: index) -> memref<?x1x?xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op kv_heads and head_dim must be static}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 4096 : i64} : memref<?xi8> to memref<?x1x?xf32>
  return %c : memref<?x1x?xf32>
}

// -----

// kv_cache_view: misaligned_offset
func.func @kv_cache_view_misaligned_offset(%arena: memref<?xi8>, %ctx: index) -> memref<528x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op offsets must be multiples of the element size (4 bytes)}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = 2 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x1x256xf32>
  return %c : memref<528x1x256xf32>
}

// -----

// kv_cache_view: misaligned_offset_per_context
func.func @kv_cache_view_misaligned_offset_per_context(%arena: memref<?xi8>, %ctx: index) -> memref<?x1x512xbf16> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op offsets must be multiples of the element size (2 bytes)}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = -1 : i64, offset = 0 : i64, offset_per_context = 1025 : i64} : memref<?xi8> to memref<?x1x512xbf16>
  return %c : memref<?x1x512xbf16>
}

// -----

// kv_cache_view: cache must be rank 3
func.func @kv_cache_view_rank2(%arena: memref<?xi8>, %ctx: index) -> memref<528x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op result #0 must be 3D memref of 32-bit float or 16-bit float or bfloat16 type values, but got 'memref<528x256xf32>'}}
  %c = gemma4.kv_cache_view %arena[%ctx] {capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64} : memref<?xi8> to memref<528x256xf32>
  return %c : memref<528x256xf32>
}

// -----

// kv_cache_view: arena must be a byte buffer
func.func @kv_cache_view_arena_f32(%arena: memref<?xf32>, %ctx: index) -> memref<528x1x256xf32> {
  // expected-error @+1 {{'gemma4.kv_cache_view' op operand #0 must be 1D memref of 8-bit signless integer values, but got 'memref<?xf32>'}}
  %c = "gemma4.kv_cache_view"(%arena, %ctx) <{capacity = 528 : i64, offset = 0 : i64, offset_per_context = 0 : i64}> : (memref<?xf32>, index) -> memref<528x1x256xf32>
  return %c : memref<528x1x256xf32>
}

// -----

// embedding_lookup: table_rank
func.func @embedding_lookup_table_rank(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op expects table of rank 2, got rank 1}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: ids_rank
func.func @embedding_lookup_ids_rank(%ids: tensor<?x1xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op expects ids of rank 1, got rank 2}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?x1xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: result_rank
func.func @embedding_lookup_result_rank(%ids: tensor<?xi32>) -> tensor<?x1x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op expects result of rank 2, got rank 3}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1x1536xf32>
  return %h : tensor<?x1x1536xf32>
}

// -----

// embedding_lookup: integer_table
func.func @embedding_lookup_integer_table(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xi8>
  // expected-error @+1 {{'gemma4.embedding_lookup' op table must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xi8>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: zero_scale
func.func @embedding_lookup_zero_scale(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op scale must be positive and finite}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 0.0 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: negative_scale
func.func @embedding_lookup_negative_scale(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op scale must be positive and finite}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = -39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: infinite_scale
func.func @embedding_lookup_infinite_scale(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op scale must be positive and finite}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 0x7F800000 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: token_dim
func.func @embedding_lookup_token_dim(%ids: tensor<4xi32>) -> tensor<5x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op result token dimension is 5, expected 4}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<4xi32>) -> tensor<5x1536xf32>
  return %h : tensor<5x1536xf32>
}

// -----

// embedding_lookup: width
func.func @embedding_lookup_width(%ids: tensor<?xi32>) -> tensor<?x2048xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op result width is 2048, expected 1536}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x2048xf32>
  return %h : tensor<?x2048xf32>
}

// -----

// embedding_lookup: i64_ids
func.func @embedding_lookup_i64_ids(%ids: tensor<?xi64>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op operand #1 must be ranked tensor of 32-bit signless integer values, but got 'tensor<?xi64>'}}
  %h = gemma4.embedding_lookup %e[%ids] {scale = 39.25 : f32} : (tensor<262144x1536xbf16>, tensor<?xi64>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// embedding_lookup: missing scale
func.func @embedding_lookup_no_scale(%ids: tensor<?xi32>) -> tensor<?x1536xf32> {
  %e = gemma4.weight "embed_tokens.weight" : tensor<262144x1536xbf16>
  // expected-error @+1 {{'gemma4.embedding_lookup' op requires attribute 'scale'}}
  %h = gemma4.embedding_lookup %e[%ids] : (tensor<262144x1536xbf16>, tensor<?xi32>) -> tensor<?x1536xf32>
  return %h : tensor<?x1536xf32>
}

// -----

// rms_norm: rank0
func.func @rms_norm_rank0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'gemma4.rms_norm' op expects an input of rank >= 1}}
  %y = gemma4.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<f32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// rms_norm: result_shape
func.func @rms_norm_result_shape(%x: tensor<?x1536xf32>) -> tensor<?x2048xf32> {
  %w = gemma4.weight "input_layernorm.weight" : tensor<1536xbf16>
  // expected-error @+1 {{'gemma4.rms_norm' op result shape must equal the input shape}}
  %y = gemma4.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x1536xf32>, tensor<1536xbf16>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// rms_norm: result_static_token
func.func @rms_norm_result_static_token(%x: tensor<?x1536xf32>) -> tensor<4x1536xf32> {
  // expected-error @+1 {{'gemma4.rms_norm' op result shape must equal the input shape}}
  %y = gemma4.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<?x1536xf32>) -> tensor<4x1536xf32>
  return %y : tensor<4x1536xf32>
}

// -----

// rms_norm: zero_epsilon
func.func @rms_norm_zero_epsilon(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %w = gemma4.weight "input_layernorm.weight" : tensor<1536xbf16>
  // expected-error @+1 {{'gemma4.rms_norm' op epsilon must be positive and finite}}
  %y = gemma4.rms_norm %x, %w {epsilon = 0.0 : f32} : (tensor<?x1536xf32>, tensor<1536xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// rms_norm: negative_epsilon
func.func @rms_norm_negative_epsilon(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.rms_norm' op epsilon must be positive and finite}}
  %y = gemma4.rms_norm %x {epsilon = -1.0e-6 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// rms_norm: nan_epsilon
func.func @rms_norm_nan_epsilon(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.rms_norm' op epsilon must be positive and finite}}
  %y = gemma4.rms_norm %x {epsilon = 0x7FC00000 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// rms_norm: weight_rank
func.func @rms_norm_weight_rank(%x: tensor<?x8x256xf32>) -> tensor<?x8x256xf32> {
  %w = gemma4.weight "input_layernorm.weight" : tensor<8x256xbf16>
  // expected-error @+1 {{'gemma4.rms_norm' op expects weight of rank 1, got rank 2}}
  %y = gemma4.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x8x256xf32>, tensor<8x256xbf16>) -> tensor<?x8x256xf32>
  return %y : tensor<?x8x256xf32>
}

// -----

// rms_norm: weight_size
func.func @rms_norm_weight_size(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %w = gemma4.weight "input_layernorm.weight" : tensor<2048xbf16>
  // expected-error @+1 {{'gemma4.rms_norm' op weight size is 2048, expected 1536}}
  %y = gemma4.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x1536xf32>, tensor<2048xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// rms_norm: integer_weight
func.func @rms_norm_integer_weight(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %w = gemma4.weight "input_layernorm.weight" : tensor<1536xi8>
  // expected-error @+1 {{'gemma4.rms_norm' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1536xi8>'}}
  %y = gemma4.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x1536xf32>, tensor<1536xi8>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// rms_norm: bf16_input
func.func @rms_norm_bf16_input(%x: tensor<?x1536xbf16>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.rms_norm' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x1536xbf16>'}}
  %y = gemma4.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<?x1536xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// linear: weight_rank
func.func @linear_weight_rank(%x: tensor<?x1536xf32>) -> tensor<?x2048xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<8x256x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op expects weight of rank 2, got rank 3}}
  %y = gemma4.linear %x, %w : (tensor<?x1536xf32>, tensor<8x256x1536xbf16>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// linear: integer_weight
func.func @linear_integer_weight(%x: tensor<?x1536xf32>) -> tensor<?x2048xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xi8>
  // expected-error @+1 {{'gemma4.linear' op weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %y = gemma4.linear %x, %w : (tensor<?x1536xf32>, tensor<2048x1536xi8>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// linear: input_rank
func.func @linear_input_rank(%x: tensor<?x1x1536xf32>) -> tensor<?x2048xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op expects rank-2 input and result}}
  %y = gemma4.linear %x, %w : (tensor<?x1x1536xf32>, tensor<2048x1536xbf16>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// linear: result_rank
func.func @linear_result_rank(%x: tensor<?x1536xf32>) -> tensor<?x8x256xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op expects rank-2 input and result}}
  %y = gemma4.linear %x, %w : (tensor<?x1536xf32>, tensor<2048x1536xbf16>) -> tensor<?x8x256xf32>
  return %y : tensor<?x8x256xf32>
}

// -----

// linear: input_features
func.func @linear_input_features(%x: tensor<?x2048xf32>) -> tensor<?x2048xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op input features is 2048, expected 1536}}
  %y = gemma4.linear %x, %w : (tensor<?x2048xf32>, tensor<2048x1536xbf16>) -> tensor<?x2048xf32>
  return %y : tensor<?x2048xf32>
}

// -----

// linear: result_features
func.func @linear_result_features(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op result features is 1536, expected 2048}}
  %y = gemma4.linear %x, %w : (tensor<?x1536xf32>, tensor<2048x1536xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// linear: token_dim
func.func @linear_token_dim(%x: tensor<4x1536xf32>) -> tensor<1x2048xf32> {
  %w = gemma4.weight "q_proj.weight" : tensor<2048x1536xbf16>
  // expected-error @+1 {{'gemma4.linear' op result token dimension is 1, expected 4}}
  %y = gemma4.linear %x, %w : (tensor<4x1536xf32>, tensor<2048x1536xbf16>) -> tensor<1x2048xf32>
  return %y : tensor<1x2048xf32>
}

// -----

// rope: input_rank
func.func @rope_input_rank(%q: tensor<?x2048xf32>, %pos: index) -> tensor<?x2048xf32> {
  // expected-error @+1 {{'gemma4.rope' op expects input of rank 3, got rank 2}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>} : (tensor<?x2048xf32>, index) -> tensor<?x2048xf32>
  return %r : tensor<?x2048xf32>
}

// -----

// rope: result_shape
func.func @rope_result_shape(%q: tensor<?x8x256xf32>, %pos: index) -> tensor<?x1x256xf32> {
  // expected-error @+1 {{'gemma4.rope' op result shape must equal the input shape}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>} : (tensor<?x8x256xf32>, index) -> tensor<?x1x256xf32>
  return %r : tensor<?x1x256xf32>
}

// -----

// rope: dynamic_head_dim
func.func @rope_dynamic_head_dim(%q: tensor<?x8x?xf32>, %pos: index) -> tensor<?x8x?xf32> {
  // expected-error @+1 {{'gemma4.rope' op head_dim must be static and even}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>} : (tensor<?x8x?xf32>, index) -> tensor<?x8x?xf32>
  return %r : tensor<?x8x?xf32>
}

// -----

// rope: odd_head_dim
func.func @rope_odd_head_dim(%q: tensor<?x8x255xf32>, %pos: index) -> tensor<?x8x255xf32> {
  // expected-error @+1 {{'gemma4.rope' op head_dim must be static and even}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>} : (tensor<?x8x255xf32>, index) -> tensor<?x8x255xf32>
  return %r : tensor<?x8x255xf32>
}

// -----

// rope: rotary_dims_too_large
func.func @rope_rotary_dims_too_large(%q: tensor<?x8x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.rope' op rotary_dims 129 exceeds head_dim/2 = 128}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 10000.0, rotary_dims = 129>} : (tensor<?x8x256xf32>, index) -> tensor<?x8x256xf32>
  return %r : tensor<?x8x256xf32>
}

// -----

// rope: full_rotary_dims_too_large
func.func @rope_full_rotary_dims_too_large(%q: tensor<?x8x512xf32>, %pos: index) -> tensor<?x8x512xf32> {
  // expected-error @+1 {{'gemma4.rope' op rotary_dims 257 exceeds head_dim/2 = 256}}
  %r = gemma4.rope %q at %pos {rope = #gemma4.rope<theta = 1000000.0, rotary_dims = 257>} : (tensor<?x8x512xf32>, index) -> tensor<?x8x512xf32>
  return %r : tensor<?x8x512xf32>
}

// -----

// #gemma4.rope: theta_one
func.func @rope_attr_theta_one() attributes {
    // expected-error @+1 {{rope theta must be finite and greater than 1}}
    gemma4.rope = #gemma4.rope<theta = 1.0, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.rope: theta_fraction
func.func @rope_attr_theta_fraction() attributes {
    // expected-error @+1 {{rope theta must be finite and greater than 1}}
    gemma4.rope = #gemma4.rope<theta = 0.5 : f32, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.rope: theta_negative
func.func @rope_attr_theta_negative() attributes {
    // expected-error @+1 {{rope theta must be finite and greater than 1}}
    gemma4.rope = #gemma4.rope<theta = -10000.0, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.rope: theta_nan
func.func @rope_attr_theta_nan() attributes {
    // expected-error @+1 {{rope theta must be finite and greater than 1}}
    gemma4.rope = #gemma4.rope<theta = 0x7FF8000000000000 : f64, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.rope: theta_inf
func.func @rope_attr_theta_inf() attributes {
    // expected-error @+1 {{rope theta must be finite and greater than 1}}
    gemma4.rope = #gemma4.rope<theta = 0x7FF0000000000000 : f64, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.rope: negative_rotary_dims
func.func @rope_attr_negative_rotary_dims() attributes {
    // expected-error @+1 {{rope rotary_dims must be non-negative, got -1}}
    gemma4.rope = #gemma4.rope<theta = 10000.0, rotary_dims = -1>} {
  return
}

// -----

// #gemma4.rope: theta must be a float
func.func @rope_attr_integer_theta() attributes {
    // expected-error @+2 {{invalid kind of attribute specified}}
    // expected-error @+1 {{failed to parse Gemma4_RopeAttr parameter 'theta' which is to be a `::mlir::FloatAttr`}}
    gemma4.rope = #gemma4.rope<theta = 10000 : i64, rotary_dims = 128>} {
  return
}

// -----

// #gemma4.layer_type: unknown case
func.func @layer_type_unknown() attributes {
    // expected-error @+2 {{expected ::mlir::gemma4::LayerType to be one of: sliding, full}}
    // expected-error @+1 {{failed to parse Gemma4_LayerTypeAttr parameter 'value' which is to be a `::mlir::gemma4::LayerType`}}
    gemma4.layer_type = #gemma4.layer_type<global>} {
  return
}

// -----

// kv_cache_update: key_rank
func.func @kv_cache_update_key_rank(%k: tensor<?x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op expects key of rank 3, got rank 2}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// kv_cache_update: value_rank
func.func @kv_cache_update_value_rank(%k: tensor<?x1x256xf32>, %v: tensor<?x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op expects value of rank 3, got rank 2}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x256xf32>, tensor<?x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// kv_cache_update: key_value_shapes
func.func @kv_cache_update_key_value_shapes(%k: tensor<?x1x256xf32>, %v: tensor<4x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op key and value shapes differ}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x256xf32>, tensor<4x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// kv_cache_update: cache_shapes
func.func @kv_cache_update_cache_shapes(%k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<512x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op key and value cache shapes differ}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x256xf32>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<512x1x256xf32>
  return
}

// -----

// kv_cache_update: cache_kv_heads
func.func @kv_cache_update_cache_kv_heads(%k: tensor<?x2x256xf32>, %v: tensor<?x2x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op cache kv_heads is 1, expected 2}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x2x256xf32>, tensor<?x2x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// kv_cache_update: cache_head_dim
func.func @kv_cache_update_cache_head_dim(%k: tensor<?x1x512xf32>, %v: tensor<?x1x512xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op cache head_dim is 256, expected 512}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x512xf32>, tensor<?x1x512xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// kv_cache_update: bf16_key
func.func @kv_cache_update_bf16_key(%k: tensor<?x1x256xbf16>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) {
  // expected-error @+1 {{'gemma4.kv_cache_update' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x1x256xbf16>'}}
  gemma4.kv_cache_update %k, %v into %kc, %vc at %pos : tensor<?x1x256xbf16>, tensor<?x1x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>
  return
}

// -----

// attention: cache_shapes
func.func @attention_cache_shapes(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<512x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op key and value cache shapes differ}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<512x1x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// attention: query_rank
func.func @attention_query_rank(%q: tensor<?x2048xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x2048xf32> {
  // expected-error @+1 {{'gemma4.attention' op expects query of rank 3, got rank 2}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x2048xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x2048xf32>
  return %o : tensor<?x2048xf32>
}

// -----

// attention: result_shape
func.func @attention_result_shape(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x512xf32> {
  // expected-error @+1 {{'gemma4.attention' op result shape must equal the query shape}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x512xf32>
  return %o : tensor<?x8x512xf32>
}

// -----

// attention: cache_head_dim
func.func @attention_cache_head_dim(%q: tensor<?x8x512xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x512xf32> {
  // expected-error @+1 {{'gemma4.attention' op cache head_dim is 256, expected 512}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x512xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x512xf32>
  return %o : tensor<?x8x512xf32>
}

// -----

// attention: gqa_heads
func.func @attention_gqa_heads(%q: tensor<?x8x256xf32>, %kc: memref<528x3x256xf32>, %vc: memref<528x3x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op query heads (8) must be a multiple of kv heads (3)}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x3x256xf32>, memref<528x3x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// attention: gqa_zero_kv_heads
func.func @attention_gqa_zero_kv_heads(%q: tensor<?x8x256xf32>, %kc: memref<528x0x256xf32>, %vc: memref<528x0x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op query heads (8) must be a multiple of kv heads (0)}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x0x256xf32>, memref<528x0x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// attention: negative_window
func.func @attention_negative_window(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op sliding_window must be >= 0}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = -512 : i64, scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// attention: zero_scale
func.func @attention_zero_scale(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op scale must be positive and finite}}
  %o = gemma4.attention %q, %kc, %vc at %pos {sliding_window = 512 : i64, scale = 0.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// attention: missing_window
func.func @attention_missing_window(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  // expected-error @+1 {{'gemma4.attention' op requires attribute 'sliding_window'}}
  %o = gemma4.attention %q, %kc, %vc at %pos {scale = 1.0 : f32} : (tensor<?x8x256xf32>, memref<528x1x256xf32>, memref<528x1x256xf32>, index) -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: query_rank
func.func @fused_attention_query_rank(%q: tensor<?x2048xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x2048xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op expects query of rank 3, got rank 2}}
  %o = gemma4.fused_attention q(%q : tensor<?x2048xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x2048xf32>
  return %o : tensor<?x2048xf32>
}

// -----

// fused_attention: result_shape
func.func @fused_attention_result_shape(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<1x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op result shape must equal the query shape}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<1x8x256xf32>
  return %o : tensor<1x8x256xf32>
}

// -----

// fused_attention: cache_head_dim
func.func @fused_attention_cache_head_dim(%q: tensor<?x8x512xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x512xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<512xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op cache head_dim is 256, expected 512}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x512xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<512xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x512xf32>
  return %o : tensor<?x8x512xf32>
}

// -----

// fused_attention: gqa_heads
func.func @fused_attention_gqa_heads(%q: tensor<?x8x256xf32>, %k: tensor<?x3x256xf32>, %v: tensor<?x3x256xf32>, %kc: memref<528x3x256xf32>, %vc: memref<528x3x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op query heads (8) must be a multiple of kv heads (3)}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x3x256xf32>) v(%v : tensor<?x3x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x3x256xf32>, memref<528x3x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: negative_window
func.func @fused_attention_negative_window(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op sliding_window must be >= 0}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = -1 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: cache_shapes
func.func @fused_attention_cache_shapes(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<512x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key and value cache shapes differ}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<512x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_without_value
func.func @fused_attention_key_without_value(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key, value and key_norm must be given together (or none, for a KV-shared layer)}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: value_without_key
func.func @fused_attention_value_without_key(%q: tensor<?x8x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key, value and key_norm must be given together (or none, for a KV-shared layer)}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: missing_key_norm
func.func @fused_attention_missing_key_norm(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key, value and key_norm must be given together (or none, for a KV-shared layer)}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_norm_without_kv
func.func @fused_attention_key_norm_without_kv(%q: tensor<?x8x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key, value and key_norm must be given together (or none, for a KV-shared layer)}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_rank
func.func @fused_attention_key_rank(%q: tensor<?x8x256xf32>, %k: tensor<?x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op expects key of rank 3, got rank 2}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_value_shapes
func.func @fused_attention_key_value_shapes(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<4x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key and value shapes differ}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<4x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: cache_kv_heads
func.func @fused_attention_cache_kv_heads(%q: tensor<?x8x256xf32>, %k: tensor<?x2x256xf32>, %v: tensor<?x2x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op cache kv_heads is 1, expected 2}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x2x256xf32>) v(%v : tensor<?x2x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_token_dim
func.func @fused_attention_key_token_dim(%q: tensor<4x8x256xf32>, %k: tensor<5x1x256xf32>, %v: tensor<5x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<4x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key token dimension is 5, expected 4}}
  %o = gemma4.fused_attention q(%q : tensor<4x8x256xf32>) k(%k : tensor<5x1x256xf32>) v(%v : tensor<5x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<4x8x256xf32>
  return %o : tensor<4x8x256xf32>
}

// -----

// fused_attention: key_norm_size
func.func @fused_attention_key_norm_size(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key_norm must be [head_dim]}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<128xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: key_norm_rank
func.func @fused_attention_key_norm_rank(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<1x256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op key_norm must be [head_dim]}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<1x256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: query_norm_size
func.func @fused_attention_query_norm_size(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<512xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op query_norm must be [head_dim]}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<512xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: query_norm_rank
func.func @fused_attention_query_norm_rank(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<8x256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op query_norm must be [head_dim]}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<8x256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: dynamic_head_dim
func.func @fused_attention_dynamic_head_dim(%q: tensor<?x8x?xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x?xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op head_dim must be static and even}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x?xf32>) q_norm(%qn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x?xf32>
  return %o : tensor<?x8x?xf32>
}

// -----

// fused_attention: rotary_dims_too_large
func.func @fused_attention_rotary_dims_too_large(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op rotary_dims 129 exceeds head_dim/2 = 128}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 129>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: sliding_window_zero
func.func @fused_attention_sliding_window_zero(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op sliding layers need sliding_window > 0, full layers 0}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 0 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: full_with_window
func.func @fused_attention_full_with_window(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op sliding layers need sliding_window > 0, full layers 0}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<full>, rope = #gemma4.rope<theta = 1000000.0, rotary_dims = 64>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: zero_scale
func.func @fused_attention_zero_scale(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op scale must be positive and finite}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 0.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: zero_epsilon
func.func @fused_attention_zero_epsilon(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xbf16>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op epsilon must be positive and finite}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xbf16>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 0.0 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// fused_attention: integer_query_norm
func.func @fused_attention_integer_query_norm(%q: tensor<?x8x256xf32>, %k: tensor<?x1x256xf32>, %v: tensor<?x1x256xf32>, %kc: memref<528x1x256xf32>, %vc: memref<528x1x256xf32>, %pos: index) -> tensor<?x8x256xf32> {
  %qn = gemma4.weight "self_attn.q_norm.weight" : tensor<256xi8>
  %kn = gemma4.weight "self_attn.k_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.fused_attention' op operand #3 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<256xi8>'}}
  %o = gemma4.fused_attention q(%q : tensor<?x8x256xf32>) k(%k : tensor<?x1x256xf32>) v(%v : tensor<?x1x256xf32>) q_norm(%qn : tensor<256xi8>) k_norm(%kn : tensor<256xbf16>) cache(%kc, %vc : memref<528x1x256xf32>, memref<528x1x256xf32>) at %pos {layer_type = #gemma4.layer_type<sliding>, rope = #gemma4.rope<theta = 10000.0, rotary_dims = 128>, sliding_window = 512 : i64, scale = 1.0 : f32, epsilon = 1.0e-6 : f32} -> tensor<?x8x256xf32>
  return %o : tensor<?x8x256xf32>
}

// -----

// gelu_mul: operand and result types must agree (generic form)
func.func @gelu_mul_type_mismatch(%g: tensor<?x256xf32>, %u: tensor<?x128xf32>) -> tensor<?x256xf32> {
  // expected-error @+1 {{'gemma4.gelu_mul' op failed to verify that all of {gate, up, result} have same type}}
  %t = "gemma4.gelu_mul"(%g, %u) : (tensor<?x256xf32>, tensor<?x128xf32>) -> tensor<?x256xf32>
  return %t : tensor<?x256xf32>
}

// -----

// gelu_mul: activations are f32
func.func @gelu_mul_bf16(%g: tensor<?x256xbf16>) -> tensor<?x256xbf16> {
  // expected-error @+1 {{'gemma4.gelu_mul' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x256xbf16>'}}
  %t = gemma4.gelu_mul %g, %g : tensor<?x256xbf16>
  return %t : tensor<?x256xbf16>
}

// -----

// add: operand and result types must agree (generic form)
func.func @add_type_mismatch(%a: tensor<?x1536xf32>, %b: tensor<?x2048xf32>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %c = "gemma4.add"(%a, %b) : (tensor<?x1536xf32>, tensor<?x2048xf32>) -> tensor<?x1536xf32>
  return %c : tensor<?x1536xf32>
}

// -----

// add: unranked operands are rejected
func.func @add_unranked(%a: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'gemma4.add' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<*xf32>'}}
  %c = "gemma4.add"(%a, %a) : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %c : tensor<*xf32>
}

// -----

// mlp: input_rank
func.func @mlp_input_rank(%x: tensor<?x1x1536xf32>) -> tensor<?x1x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op expects input of rank 2, got rank 3}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1x1536xf32>
  return %y : tensor<?x1x1536xf32>
}

// -----

// mlp: gate_rank
func.func @mlp_gate_rank(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op expects gate weight of rank 2, got rank 1}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: up_rank
func.func @mlp_up_rank(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<1x6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op expects up weight of rank 2, got rank 3}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<1x6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: down_rank
func.func @mlp_down_rank(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536xbf16>
  // expected-error @+1 {{'gemma4.mlp' op expects down weight of rank 2, got rank 1}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: integer_gate
func.func @mlp_integer_gate(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xi8>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op gate weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xi8>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: integer_up
func.func @mlp_integer_up(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xui8>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op up weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'ui8'}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xui8>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: integer_down
func.func @mlp_integer_down(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xi32>
  // expected-error @+1 {{'gemma4.mlp' op down weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i32'}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xi32>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: gate_up_shapes
func.func @mlp_gate_up_shapes(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<12288x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op gate and up weights must have the same shape}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<12288x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: gate_input_features
func.func @mlp_gate_input_features(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x2048xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x2048xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op gate input features is 2048, expected 1536}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x2048xbf16>, tensor<6144x2048xbf16>, tensor<1536x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: down_input_features
func.func @mlp_down_input_features(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x12288xbf16>
  // expected-error @+1 {{'gemma4.mlp' op down input features is 12288, expected 6144}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x12288xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: down_output_features
func.func @mlp_down_output_features(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<2048x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op down output features is 2048, expected 1536}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<2048x6144xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// mlp: result_shape
func.func @mlp_result_shape(%x: tensor<?x1536xf32>) -> tensor<4x1536xf32> {
  %g = gemma4.weight "mlp.gate_proj.weight" : tensor<6144x1536xbf16>
  %u = gemma4.weight "mlp.up_proj.weight" : tensor<6144x1536xbf16>
  %d = gemma4.weight "mlp.down_proj.weight" : tensor<1536x6144xbf16>
  // expected-error @+1 {{'gemma4.mlp' op result shape must equal the input shape}}
  %y = gemma4.mlp %x, %g, %u, %d : (tensor<?x1536xf32>, tensor<6144x1536xbf16>, tensor<6144x1536xbf16>, tensor<1536x6144xbf16>) -> tensor<4x1536xf32>
  return %y : tensor<4x1536xf32>
}

// -----

// moe: input_shapes
func.func @moe_input_shapes(%r: tensor<?x2816xf32>, %x: tensor<4x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op router and expert inputs must have one shape}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<4x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: input_rank
func.func @moe_input_rank(%r: tensor<?x1x2816xf32>, %x: tensor<?x1x2816xf32>) -> tensor<?x1x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects input of rank 2, got rank 3}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x1x2816xf32>, tensor<?x1x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x1x2816xf32>
  return %y : tensor<?x1x2816xf32>
}

// -----

// moe: router_weight_rank
func.func @moe_router_weight_rank(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects router weight of rank 2, got rank 1}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: router_scale_rank
func.func @moe_router_scale_rank(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<1x2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects router scale of rank 1, got rank 2}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<1x2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: per_expert_scale_rank
func.func @moe_per_expert_scale_rank(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128x1xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects per-expert scale of rank 1, got rank 2}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128x1xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: integer_router_weight
func.func @moe_integer_router_weight(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xi8>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op router weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xi8>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: integer_router_scale
func.func @moe_integer_router_scale(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xi32>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op router scale must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i32'}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xi32>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: integer_per_expert_scale
func.func @moe_integer_per_expert_scale(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xi64>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op per-expert scale must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i64'}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xi64>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: router_input_features
func.func @moe_router_input_features(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2048xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op router input features is 2048, expected 2816}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2048xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: router_scale_size
func.func @moe_router_scale_size(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2048xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op router scale size is 2048, expected 2816}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2048xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: per_expert_scale_size
func.func @moe_per_expert_scale_size(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<64xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op per-expert scale size is 64, expected 128}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<64xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: top_k_zero
func.func @moe_top_k_zero(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op top_k must be in [1, 128], got 0}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 0 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: top_k_negative
func.func @moe_top_k_negative(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op top_k must be in [1, 128], got -1}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = -1 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: top_k_too_large
func.func @moe_top_k_too_large(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op top_k must be in [1, 128], got 129}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 129 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: gate_up_rank
func.func @moe_gate_up_rank(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects gate_up weight of rank 3, got rank 2}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: down_rank
func.func @moe_down_rank(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op expects down weight of rank 3, got rank 2}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: integer_gate_up
func.func @moe_integer_gate_up(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xi8>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op gate_up weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xi8>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: integer_down
func.func @moe_integer_down(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xi8>
  // expected-error @+1 {{'gemma4.moe' op down weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xi8>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: gate_up_experts
func.func @moe_gate_up_experts(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<64x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op gate_up experts is 64, expected 128}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<64x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: down_experts
func.func @moe_down_experts(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<64x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op down experts is 64, expected 128}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<64x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: gate_up_rows
func.func @moe_gate_up_rows(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x704x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op gate_up rows is 704, expected 1408}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x704x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: gate_up_input_features
func.func @moe_gate_up_input_features(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2048xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op gate_up input features is 2048, expected 2816}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2048xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: down_output_features
func.func @moe_down_output_features(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2048x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op down output features is 2048, expected 2816}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2048x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// moe: result_shape
func.func @moe_result_shape(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x1408xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op result shape must equal the input shape}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x1408xf32>
  return %y : tensor<?x1408xf32>
}

// -----

// moe: zero_epsilon
func.func @moe_zero_epsilon(%r: tensor<?x2816xf32>, %x: tensor<?x2816xf32>) -> tensor<?x2816xf32> {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.moe' op epsilon must be positive and finite}}
  %y = gemma4.moe %r, %x, %rw, %rs, %pes, %gu, %dn {top_k = 8 : i64, epsilon = 0.0 : f32} : (tensor<?x2816xf32>, tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// router: input_rank
func.func @router_input_rank(%x: tensor<2816xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op expects input of rank 2, got rank 1}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

// router: router_input_features
func.func @router_router_input_features(%x: tensor<?x2816xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2048xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op router input features is 2048, expected 2816}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2048xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

// router: per_expert_scale_size
func.func @router_per_expert_scale_size(%x: tensor<?x2816xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<8xbf16>
  // expected-error @+1 {{'gemma4.router' op per-expert scale size is 8, expected 128}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<8xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

// router: top_k_too_large
func.func @router_top_k_too_large(%x: tensor<?x2816xf32>) -> (tensor<?x16xi32>, tensor<?x16xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<8x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<8xbf16>
  // expected-error @+1 {{'gemma4.router' op top_k must be in [1, 8], got 16}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 16 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<8x2816xbf16>, tensor<2816xbf16>, tensor<8xbf16>) -> (tensor<?x16xi32>, tensor<?x16xf32>)
  return %e, %w : tensor<?x16xi32>, tensor<?x16xf32>
}

// -----

// router: experts_width
func.func @router_experts_width(%x: tensor<?x2816xf32>) -> (tensor<?x4xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op results must be [tokens, top_k]}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x4xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x4xi32>, tensor<?x8xf32>
}

// -----

// router: weights_width
func.func @router_weights_width(%x: tensor<?x2816xf32>) -> (tensor<?x8xi32>, tensor<?x4xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op results must be [tokens, top_k]}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x4xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<?x4xf32>
}

// -----

// router: experts_rank
func.func @router_experts_rank(%x: tensor<?x2816xf32>) -> (tensor<?xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op results must be [tokens, top_k]}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?xi32>, tensor<?x8xf32>
}

// -----

// router: results_token_dim
func.func @router_results_token_dim(%x: tensor<4x2816xf32>) -> (tensor<?x8xi32>, tensor<5x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op results must be [tokens, top_k]}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<4x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<5x8xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<5x8xf32>
}

// -----

// router: zero_epsilon
func.func @router_zero_epsilon(%x: tensor<?x2816xf32>) -> (tensor<?x8xi32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op epsilon must be positive and finite}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 0.0 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xi32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x8xi32>, tensor<?x8xf32>
}

// -----

// router: f32_experts
func.func @router_f32_experts(%x: tensor<?x2816xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %rw = gemma4.weight "router.proj.weight" : tensor<128x2816xbf16>
  %rs = gemma4.weight "router.scale" : tensor<2816xbf16>
  %pes = gemma4.weight "router.per_expert_scale" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.router' op result #0 must be ranked tensor of 32-bit signless integer values, but got 'tensor<?x8xf32>'}}
  %e, %w = gemma4.router %x, %rw, %rs, %pes {top_k = 8 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x2816xf32>, tensor<128x2816xbf16>, tensor<2816xbf16>, tensor<128xbf16>) -> (tensor<?x8xf32>, tensor<?x8xf32>)
  return %e, %w : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// expert_ffn: input_rank
func.func @expert_ffn_input_rank(%x: tensor<2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op expects input of rank 2, got rank 1}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<2816xf32>
  return %y : tensor<2816xf32>
}

// -----

// expert_ffn: experts_rank
func.func @expert_ffn_experts_rank(%x: tensor<?x2816xf32>, %e: tensor<?xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op expects experts of rank 2, got rank 1}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: experts_weights_shapes
func.func @expert_ffn_experts_weights_shapes(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x4xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op experts and weights must have one shape}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x4xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: experts_token_dim
func.func @expert_ffn_experts_token_dim(%x: tensor<4x2816xf32>, %e: tensor<5x8xi32>, %w: tensor<5x8xf32>) -> tensor<4x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op experts token dimension is 5, expected 4}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<4x2816xf32>, tensor<5x8xi32>, tensor<5x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<4x2816xf32>
  return %y : tensor<4x2816xf32>
}

// -----

// expert_ffn: gate_up_rank
func.func @expert_ffn_gate_up_rank(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op expects gate_up weight of rank 3, got rank 2}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: down_experts
func.func @expert_ffn_down_experts(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<64x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op down experts is 64, expected 128}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<64x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: gate_up_rows
func.func @expert_ffn_gate_up_rows(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x1408xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op gate_up rows is 1408, expected 2816}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x1408xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: gate_up_input_features
func.func @expert_ffn_gate_up_input_features(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x1536xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op gate_up input features is 1536, expected 2816}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x1536xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: down_output_features
func.func @expert_ffn_down_output_features(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x1536x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op down output features is 1536, expected 2816}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x1536x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: integer_down
func.func @expert_ffn_integer_down(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xui8>
  // expected-error @+1 {{'gemma4.expert_ffn' op down weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'ui8'}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xui8>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: more_selected_than_experts
func.func @expert_ffn_more_selected_than_experts(%x: tensor<?x2816xf32>, %e: tensor<?x16xi32>, %w: tensor<?x16xf32>) -> tensor<?x2816xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<8x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<8x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op selects 16 experts per token from 8 experts}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x16xi32>, tensor<?x16xf32>, tensor<8x1408x2816xbf16>, tensor<8x2816x704xbf16>) -> tensor<?x2816xf32>
  return %y : tensor<?x2816xf32>
}

// -----

// expert_ffn: result_shape
func.func @expert_ffn_result_shape(%x: tensor<?x2816xf32>, %e: tensor<?x8xi32>, %w: tensor<?x8xf32>) -> tensor<?x704xf32> {
  %gu = gemma4.weight "experts.gate_up_proj" : tensor<128x1408x2816xbf16>
  %dn = gemma4.weight "experts.down_proj" : tensor<128x2816x704xbf16>
  // expected-error @+1 {{'gemma4.expert_ffn' op result shape must equal the input shape}}
  %y = gemma4.expert_ffn %x, %e, %w, %gu, %dn : (tensor<?x2816xf32>, tensor<?x8xi32>, tensor<?x8xf32>, tensor<128x1408x2816xbf16>, tensor<128x2816x704xbf16>) -> tensor<?x704xf32>
  return %y : tensor<?x704xf32>
}

// -----

// per_layer_inputs: ids_rank
func.func @per_layer_inputs_ids_rank(%ids: tensor<?x1xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects ids of rank 1, got rank 2}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?x1xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: hidden_rank
func.func @per_layer_inputs_hidden_rank(%ids: tensor<?xi32>, %h: tensor<?x1x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects hidden of rank 2, got rank 3}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: table_rank
func.func @per_layer_inputs_table_rank(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x35x256xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects table of rank 2, got rank 3}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x35x256xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: projection_rank
func.func @per_layer_inputs_projection_rank(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<35x256x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects projection weight of rank 2, got rank 3}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<35x256x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: norm_weight_rank
func.func @per_layer_inputs_norm_weight_rank(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<35x256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects norm weight of rank 1, got rank 2}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<35x256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: result_rank
func.func @per_layer_inputs_result_rank(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x8960xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op expects result of rank 3, got rank 2}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x8960xf32>
  return %p : tensor<?x8960xf32>
}

// -----

// per_layer_inputs: integer_table
func.func @per_layer_inputs_integer_table(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xi8>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op table must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xi8>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: integer_projection
func.func @per_layer_inputs_integer_projection(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xi8>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op projection weight must have f32, f16 or bf16 elements or a #gemma4.quant encoding, got 'i8'}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xi8>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: dynamic_layers
func.func @per_layer_inputs_dynamic_layers(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x?x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op layers and width must be static}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x?x256xf32>
  return %p : tensor<?x?x256xf32>
}

// -----

// per_layer_inputs: dynamic_width
func.func @per_layer_inputs_dynamic_width(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x?xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op layers and width must be static}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x?xf32>
  return %p : tensor<?x35x?xf32>
}

// -----

// per_layer_inputs: result_token_dim
func.func @per_layer_inputs_result_token_dim(%ids: tensor<4xi32>, %h: tensor<4x1536xf32>) -> tensor<5x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op result token dimension is 5, expected 4}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<4xi32>, tensor<4x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<5x35x256xf32>
  return %p : tensor<5x35x256xf32>
}

// -----

// per_layer_inputs: hidden_token_dim
func.func @per_layer_inputs_hidden_token_dim(%ids: tensor<4xi32>, %h: tensor<5x1536xf32>) -> tensor<4x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op hidden token dimension is 5, expected 4}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<4xi32>, tensor<5x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<4x35x256xf32>
  return %p : tensor<4x35x256xf32>
}

// -----

// per_layer_inputs: table_width
func.func @per_layer_inputs_table_width(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8704xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op table width is 8704, expected 8960}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8704xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: projection_rows
func.func @per_layer_inputs_projection_rows(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8704x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op projection rows is 8704, expected 8960}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8704x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: projection_input_features
func.func @per_layer_inputs_projection_input_features(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x2048xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op projection input features is 2048, expected 1536}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x2048xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: norm_weight_size
func.func @per_layer_inputs_norm_weight_size(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<128xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op norm weight size is 128, expected 256}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<128xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: zero_table_scale
func.func @per_layer_inputs_zero_table_scale(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op table_scale must be positive and finite}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 0.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: negative_projection_scale
func.func @per_layer_inputs_negative_projection_scale(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op projection_scale must be positive and finite}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = -0.0255155545 : f32, epsilon = 1.0e-6 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// per_layer_inputs: zero_epsilon
func.func @per_layer_inputs_zero_epsilon(%ids: tensor<?xi32>, %h: tensor<?x1536xf32>) -> tensor<?x35x256xf32> {
  %t = gemma4.weight "embed_tokens_per_layer.weight" : tensor<262144x8960xbf16>
  %pw = gemma4.weight "per_layer_model_projection.weight" : tensor<8960x1536xbf16>
  %nw = gemma4.weight "per_layer_projection_norm.weight" : tensor<256xbf16>
  // expected-error @+1 {{'gemma4.per_layer_inputs' op epsilon must be positive and finite}}
  %p = gemma4.per_layer_inputs %ids, %h, %t, %pw, %nw {table_scale = 16.0 : f32, projection_scale = 0.0255155545 : f32, epsilon = 0.0 : f32} : (tensor<?xi32>, tensor<?x1536xf32>, tensor<262144x8960xbf16>, tensor<8960x1536xbf16>, tensor<256xbf16>) -> tensor<?x35x256xf32>
  return %p : tensor<?x35x256xf32>
}

// -----

// output_rows: rank
func.func @output_rows_rank(%h: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{'gemma4.output_rows' op expects input of rank 2, got rank 3}}
  %r = gemma4.output_rows %h : (tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %r : tensor<?x4x8xf32>
}

// -----

// output_rows: static_tokens (a decode entry point has its one row)
func.func @output_rows_static_tokens(%h: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'gemma4.output_rows' op needs a dynamic token dimension (a prefill entry point), got 'tensor<1x8xf32>'}}
  %r = gemma4.output_rows %h : (tensor<1x8xf32>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

// output_rows: result_type
func.func @output_rows_result_type(%h: tensor<?x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'gemma4.output_rows' op result type 'tensor<?x4xf32>' differs from the input's 'tensor<?x8xf32>'}}
  %r = gemma4.output_rows %h : (tensor<?x8xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// layer_slice: input_rank
func.func @layer_slice_input_rank(%p: tensor<?x8960xf32>) -> tensor<?x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op expects input of rank 3, got rank 2}}
  %s = gemma4.layer_slice %p[0] : (tensor<?x8960xf32>) -> tensor<?x256xf32>
  return %s : tensor<?x256xf32>
}

// -----

// layer_slice: result_rank
func.func @layer_slice_result_rank(%p: tensor<?x35x256xf32>) -> tensor<?x1x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op expects result of rank 2, got rank 3}}
  %s = gemma4.layer_slice %p[0] : (tensor<?x35x256xf32>) -> tensor<?x1x256xf32>
  return %s : tensor<?x1x256xf32>
}

// -----

// layer_slice: layer_past_end
func.func @layer_slice_layer_past_end(%p: tensor<?x35x256xf32>) -> tensor<?x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op layer 35 out of range [0, 35)}}
  %s = gemma4.layer_slice %p[35] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
  return %s : tensor<?x256xf32>
}

// -----

// layer_slice: negative_layer
func.func @layer_slice_negative_layer(%p: tensor<?x35x256xf32>) -> tensor<?x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op layer -1 out of range [0, 35)}}
  %s = gemma4.layer_slice %p[-1] : (tensor<?x35x256xf32>) -> tensor<?x256xf32>
  return %s : tensor<?x256xf32>
}

// -----

// layer_slice: negative_layer_dynamic_layers
func.func @layer_slice_negative_layer_dynamic_layers(%p: tensor<?x?x256xf32>) -> tensor<?x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op layer -3 out of range [0, ?)}}
  %s = gemma4.layer_slice %p[-3] : (tensor<?x?x256xf32>) -> tensor<?x256xf32>
  return %s : tensor<?x256xf32>
}

// -----

// layer_slice: result_token_dim
func.func @layer_slice_result_token_dim(%p: tensor<4x35x256xf32>) -> tensor<5x256xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op result token dimension is 5, expected 4}}
  %s = gemma4.layer_slice %p[0] : (tensor<4x35x256xf32>) -> tensor<5x256xf32>
  return %s : tensor<5x256xf32>
}

// -----

// layer_slice: result_width
func.func @layer_slice_result_width(%p: tensor<?x35x256xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'gemma4.layer_slice' op result width is 128, expected 256}}
  %s = gemma4.layer_slice %p[0] : (tensor<?x35x256xf32>) -> tensor<?x128xf32>
  return %s : tensor<?x128xf32>
}

// -----

// scale: result_type
func.func @scale_result_type(%x: tensor<?x1536xf32>, %s: tensor<1xbf16>) -> tensor<4x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op result type must equal the input type}}
  %y = gemma4.scale %x, %s {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<4x1536xf32>
  return %y : tensor<4x1536xf32>
}

// -----

// scale: infinite_factor
func.func @scale_infinite_factor(%x: tensor<?x1536xf32>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op factor must be finite}}
  %y = gemma4.scale %x {factor = 0x7F800000 : f32} : (tensor<?x1536xf32>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// scale: nan_factor
func.func @scale_nan_factor(%x: tensor<?x1536xf32>, %s: tensor<1xbf16>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op factor must be finite}}
  %y = gemma4.scale %x, %s {factor = 0x7FC00000 : f32} : (tensor<?x1536xf32>, tensor<1xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// scale: scalar_two_elements
func.func @scale_scalar_two_elements(%x: tensor<?x1536xf32>, %s: tensor<2xbf16>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op scalar operand must hold exactly one element}}
  %y = gemma4.scale %x, %s {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<2xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// scale: scalar_empty
func.func @scale_scalar_empty(%x: tensor<?x1536xf32>, %s: tensor<0xbf16>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op scalar operand must hold exactly one element}}
  %y = gemma4.scale %x, %s {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<0xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// scale: scalar_dynamic
func.func @scale_scalar_dynamic(%x: tensor<?x1536xf32>, %s: tensor<?xbf16>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op scalar operand must hold exactly one element}}
  %y = gemma4.scale %x, %s {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<?xbf16>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// scale: integer_scalar
func.func @scale_integer_scalar(%x: tensor<?x1536xf32>, %s: tensor<1xi32>) -> tensor<?x1536xf32> {
  // expected-error @+1 {{'gemma4.scale' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1xi32>'}}
  %y = gemma4.scale %x, %s {factor = 1.0 : f32} : (tensor<?x1536xf32>, tensor<1xi32>) -> tensor<?x1536xf32>
  return %y : tensor<?x1536xf32>
}

// -----

// reshape: rank0
func.func @reshape_rank0(%x: tensor<f32>) -> tensor<1xf32> {
  // expected-error @+1 {{'gemma4.reshape' op expects ranked operands of rank >= 1}}
  %y = gemma4.reshape %x : (tensor<f32>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}

// -----

// reshape: result_rank0
func.func @reshape_result_rank0(%x: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'gemma4.reshape' op expects ranked operands of rank >= 1}}
  %y = gemma4.reshape %x : (tensor<1xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// reshape: token_dim
func.func @reshape_token_dim(%x: tensor<4x2048xf32>) -> tensor<8x8x128xf32> {
  // expected-error @+1 {{'gemma4.reshape' op leading (token) dimension must be preserved}}
  %y = gemma4.reshape %x : (tensor<4x2048xf32>) -> tensor<8x8x128xf32>
  return %y : tensor<8x8x128xf32>
}

// -----

// reshape: dynamic_inner_dim
func.func @reshape_dynamic_inner_dim(%x: tensor<?x2048xf32>) -> tensor<?x?x256xf32> {
  // expected-error @+1 {{'gemma4.reshape' op only the leading dimension may be dynamic}}
  %y = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// -----

// reshape: element_count
func.func @reshape_element_count(%x: tensor<?x2048xf32>) -> tensor<?x10x256xf32> {
  // expected-error @+1 {{'gemma4.reshape' op element count per token differs: 2048 vs 2560}}
  %y = gemma4.reshape %x : (tensor<?x2048xf32>) -> tensor<?x10x256xf32>
  return %y : tensor<?x10x256xf32>
}

// -----

// softcap: zero
func.func @softcap_zero(%l: tensor<?x262144xf32>) -> tensor<?x262144xf32> {
  // expected-error @+1 {{'gemma4.softcap' op cap must be positive and finite}}
  %c = gemma4.softcap %l {cap = 0.0 : f32} : tensor<?x262144xf32>
  return %c : tensor<?x262144xf32>
}

// -----

// softcap: negative
func.func @softcap_negative(%l: tensor<?x262144xf32>) -> tensor<?x262144xf32> {
  // expected-error @+1 {{'gemma4.softcap' op cap must be positive and finite}}
  %c = gemma4.softcap %l {cap = -30.0 : f32} : tensor<?x262144xf32>
  return %c : tensor<?x262144xf32>
}

// -----

// softcap: infinite
func.func @softcap_infinite(%l: tensor<?x262144xf32>) -> tensor<?x262144xf32> {
  // expected-error @+1 {{'gemma4.softcap' op cap must be positive and finite}}
  %c = gemma4.softcap %l {cap = 0x7F800000 : f32} : tensor<?x262144xf32>
  return %c : tensor<?x262144xf32>
}

// -----

// softcap: nan
func.func @softcap_nan(%l: tensor<?x262144xf32>) -> tensor<?x262144xf32> {
  // expected-error @+1 {{'gemma4.softcap' op cap must be positive and finite}}
  %c = gemma4.softcap %l {cap = 0x7FC00000 : f32} : tensor<?x262144xf32>
  return %c : tensor<?x262144xf32>
}

// -----

// batch_ids: packed ids are not 3 * B
func.func @batch_ids_size(%p: tensor<20xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{'gemma4.batch_ids' op packed ids must hold 3 * B int32 for B >= 1 tokens, got 20 for 8}}
  %i = gemma4.batch_ids %p : (tensor<20xi32>) -> tensor<8xi32>
  return %i : tensor<8xi32>
}

// -----

// batch_ids: dynamic
func.func @batch_ids_dynamic(%p: tensor<?xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{'gemma4.batch_ids' op packed ids must hold 3 * B int32 for B >= 1 tokens, got ? for 8}}
  %i = gemma4.batch_ids %p : (tensor<?xi32>) -> tensor<8xi32>
  return %i : tensor<8xi32>
}

// -----

// batch_sequence: row out of range
func.func @batch_sequence_row(%p: tensor<24xi32>, %ctx: index) -> index {
  // expected-error @+1 {{'gemma4.batch_sequence' op row 8 out of range [0, 8)}}
  %pos, %base = gemma4.batch_sequence %p[8], %ctx {kv_bytes_fixed = 0, kv_bytes_per_context = 64} : tensor<24xi32>
  return %pos : index
}

// -----

// batch_sequence: packed ids not a multiple of 3
func.func @batch_sequence_packed(%p: tensor<25xi32>, %ctx: index) -> index {
  // expected-error @+1 {{'gemma4.batch_sequence' op packed ids must hold 3 * B int32, got 25}}
  %pos, %base = gemma4.batch_sequence %p[0], %ctx {kv_bytes_fixed = 0, kv_bytes_per_context = 64} : tensor<25xi32>
  return %pos : index
}

// -----

// batch_sequence: negative byte counts
func.func @batch_sequence_bytes(%p: tensor<6xi32>, %ctx: index) -> index {
  // expected-error @+1 {{'gemma4.batch_sequence' op KV byte counts must be non-negative}}
  %pos, %base = gemma4.batch_sequence %p[0], %ctx {kv_bytes_fixed = -64, kv_bytes_per_context = 64} : tensor<6xi32>
  return %pos : index
}

// -----

// take_row: row out of range
func.func @take_row_range(%x: tensor<4x2x8xf32>) -> tensor<1x2x8xf32> {
  // expected-error @+1 {{'gemma4.take_row' op row 4 out of range [0, 4)}}
  %r = gemma4.take_row %x[4] : (tensor<4x2x8xf32>) -> tensor<1x2x8xf32>
  return %r : tensor<1x2x8xf32>
}

// -----

// take_row: dynamic token dimension
func.func @take_row_dynamic(%x: tensor<?x2x8xf32>) -> tensor<1x2x8xf32> {
  // expected-error @+1 {{'gemma4.take_row' op needs a static token dimension (a batched decode entry), got 'tensor<?x2x8xf32>'}}
  %r = gemma4.take_row %x[0] : (tensor<?x2x8xf32>) -> tensor<1x2x8xf32>
  return %r : tensor<1x2x8xf32>
}

// -----

// take_row: result is not one row
func.func @take_row_shape(%x: tensor<4x2x8xf32>) -> tensor<1x2x4xf32> {
  // expected-error @+1 {{'gemma4.take_row' op result type 'tensor<1x2x4xf32>' is not one row of 'tensor<4x2x8xf32>'}}
  %r = gemma4.take_row %x[0] : (tensor<4x2x8xf32>) -> tensor<1x2x4xf32>
  return %r : tensor<1x2x4xf32>
}

// -----

// stack_rows: result token dimension is not the input count
func.func @stack_rows_count(%a: tensor<1x8xf32>, %b: tensor<1x8xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'gemma4.stack_rows' op result token dimension must be the input count 2, got 'tensor<3x8xf32>'}}
  %r = gemma4.stack_rows %a, %b : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<3x8xf32>
  return %r : tensor<3x8xf32>
}

// -----

// stack_rows: an input is not one row
func.func @stack_rows_input(%a: tensor<1x8xf32>, %b: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'gemma4.stack_rows' op input 'tensor<2x8xf32>' is not one row of 'tensor<2x8xf32>'}}
  %r = gemma4.stack_rows %a, %b : (tensor<1x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

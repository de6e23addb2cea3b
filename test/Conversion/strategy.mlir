// convert-gemma4-to-loops: strategy= picks how a target runs the loops
// (targets/<name>/lib/Strategy); what each op computes is the same. The cpu
// strategy (default) sizes thread-pool grains, reads decode rows from equal
// parts of W and prefetches V in the decode attention; the gpu strategy
// makes one parallel iteration per output row with a lane-shared ("reduce")
// K loop, no grains, no prefetch, and ignores the cpu strategy's options.
//
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops | FileCheck %s --check-prefix=CPU
// RUN: gemma4c-opt %s -split-input-file -convert-gemma4-to-loops="strategy=gpu decode-rows=0 int-dot=x86-vnni weight-prefetch=2048" | FileCheck %s --check-prefix=GPU --implicit-check-not=gemma4.grain --implicit-check-not=memref.prefetch --implicit-check-not=llvm.call_intrinsic
// RUN: not gemma4c-opt %s -split-input-file -convert-gemma4-to-loops=strategy=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: convert-gemma4-to-loops: no lowering strategy 'tpu' (registered: cpu, cuda, gpu)

// A decode matrix-vector product over 128 rows: the cpu strategy steps 4
// rows at a time (32 steps, a grain of 16 steps: 16 KB of weights); the gpu
// strategy with decode-rows=0 runs one row per iteration through the
// encoding's 16-element kernel (its default, laneDot's 4-element lane steps,
// is test/Target/GPU/decode-matmul-kernels.mlir).
// CPU-LABEL: func.func @decode_linear
// CPU: %[[C32:.*]] = arith.constant 32 : index
// CPU: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[C32]])
// CPU: } {gemma4.grain = 16 : i64}
// GPU-LABEL: func.func @decode_linear
// GPU: %[[C128:.*]] = arith.constant 128 : index
// GPU: scf.parallel (%[[N:.*]]) = (%{{.*}}) to (%[[C128]])
// GPU: scf.for {{.*}} -> (vector<16xf32>)
// GPU: vector.load %{{.*}}[%[[N]], %{{.*}}] : memref<128x64xf32>, vector<16xf32>
// GPU: } {gemma4.lanes = "reduce"}
// GPU: vector.reduction <add>
// GPU: memref.store
// GPU: scf.reduce
// GPU-NEXT: }
func.func @decode_linear(%ids: tensor<1xi32> {gemma4.arg = "ids"}, %pos: index {gemma4.arg = "position"}, %arena: memref<?xi8> {gemma4.arg = "kv_arena"}, %ctx: index {gemma4.arg = "context"}, %w: memref<?xi8> {gemma4.arg = "weights"}) -> tensor<1x128xf32> {
  %e = gemma4.weight "embed_tokens.weight" {offset = 0 : i64} : tensor<32x64xf32>
  %h = gemma4.embedding_lookup %e[%ids] {scale = 1.0 : f32} : (tensor<32x64xf32>, tensor<1xi32>) -> tensor<1x64xf32>
  %aw = gemma4.weight "a.weight" {offset = 8192 : i64} : tensor<128x64xf32>
  %a = gemma4.linear %h, %aw : (tensor<1x64xf32>, tensor<128x64xf32>) -> tensor<1x128xf32>
  return %a : tensor<1x128xf32>
}

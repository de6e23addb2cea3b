//===- Passes.td - gemma4 passes ---------------------------*- tablegen -*-===//
#ifndef GEMMA4C_TRANSFORMS_PASSES
#define GEMMA4C_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4MoEDispatch : Pass<"gemma4-moe-dispatch", "ModuleOp"> {
  let summary = "split gemma4.moe into router (softmax/top-k/renormalise/"
                "per-expert scale) and selected-experts-only expert_ffn";
  let dependentDialects = ["::mlir::gemma4::Gemma4Dialect"];
}

def Gemma4QuantizeWeights : Pass<"gemma4-quantize-weights", "ModuleOp"> {
  let summary = "give matrix weights the int8/int4 encoding of a --quant scheme";
  let description = [{
    Rewrites the type of each matrix gemma4.weight to its quantized form
    (i8/i4 with a #gemma4.quant encoding) according to the role the weight
    plays (linear, experts, embedding/lm-head, ple table, router) and the
    scheme (see gemma4c/Quant/Scheme.h). The compile driver packs the bytes
    in the encoding's layout when it writes the weight blob; the loop
    lowering dequantises them in registers inside the matmuls. Records the
    scheme on the module as `gemma4.quant`.
  }];
  let options = [
    Option<"schemeName", "scheme", "std::string", "\"bf16\"",
           "bf16 | int8 | int4[-g32|-g128][-sym|-asym][-f16|-bf16] | mixed">,
    Option<"kPanel", "k-panel", "int64_t", "3072",
           "most input features per K panel (QuantLayout.h) of an interleaved "
           "int4 weight of a linear or MLP down projection with more than that "
           "many: the largest multiple of 256 dividing K, up to this; 0 = none">,
    Option<"rowTile", "row-tile", "int64_t", "4",
           "rows per row tile (QuantLayout.h) of a 2-D interleaved int4 weight "
           "without K panels that only linears, MLPs and embedding lookups "
           "read: each tile's rows one stream; 0 = none">,
    Option<"int4Interleave", "int4-interleave", "bool", "true",
           "int4 rows with group 32 and K a multiple of 256 in interleaved "
           "super-blocks (the CPU's integer dot products); false: blocks in "
           "order (`plain`, a GPU's lanes take whole blocks), no panels or tiles">
  ];
  let dependentDialects = ["::mlir::gemma4::Gemma4Dialect"];
}

def Gemma4LayoutWeights : Pass<"gemma4-layout-weights", "ModuleOp"> {
  let summary = "assign every gemma4.weight a byte offset in the weight blob";
  let description = [{
    Weights are laid out in first-use order, each aligned to `alignment`
    bytes, one entry per distinct tensor name. The total size is recorded
    on the module as `gemma4.weights_size`.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "byte alignment of each tensor in the blob">
  ];
}

def Gemma4FuseAttention : Pass<"gemma4-fuse-attention", "ModuleOp"> {
  let summary = "fuse QK-norm, RoPE, KV-cache write and attention into gemma4.fused_attention";
  let dependentDialects = ["::mlir::gemma4::Gemma4Dialect"];
}

def Gemma4ToLoops : Pass<"convert-gemma4-to-loops", "ModuleOp"> {
  let summary = "lower gemma4 entry functions to memref buffers and scf/arith/math loops";
  let description = [{
    Tensor arguments become memrefs and the logits result an out-parameter
    (see runtime/include/gemma4rt/abi.h). Independent output loops are
    scf.parallel; reductions are scf.for with reassociation allowed.
    With bf16-activations, every activation an op produces is rounded to
    bfloat16 (round to nearest even), emulating a model evaluated in bf16
    the way transformers does (f32 accumulation inside matmuls and norms,
    bf16 tensors between ops).

    What each op computes is target-neutral (compiler/lib/Conversion); how
    the loops run (matmul rows and tiles, dot kernels, the decode
    attention's split) is the strategy's that `strategy` names, which a
    target registers (targets/cpu/lib/Strategy, targets/gpu/lib/Strategy).
    The options after `strategy` are the cpu strategy's; others ignore them.
  }];
  let options = [
    Option<"bf16Activations", "bf16-activations", "bool", "false",
           "round every activation tensor to bfloat16 between ops">,
    Option<"strategy", "strategy", "std::string", "\"cpu\"",
           "how the target runs the loops: a registered LoweringStrategy "
           "(cpu: threads, integer dots, row tiles; gpu: loops for "
           "gemma4-map-to-gpu)">,
    Option<"intDot", "int-dot", "std::string", "\"none\"",
           "cpu strategy: integer dot products for quantized weights: none (activations stay "
           "f32, weights are widened in registers), x86-vnni (activations "
           "quantized to int8 per 32-element block, AVX-512 VNNI vpdpbusd), "
           "x86-vnni-512 (the same, interleaved int4 rows read 64 bytes per "
           "load with 512-bit vpdpbusd) or arm-dotprod (the same with AArch64 "
           "NEON sdot)">,
    Option<"bf16Dot", "bf16-dot", "std::string", "\"none\"",
           "cpu strategy: bf16 dot products for bf16 weights when the activations are "
           "bf16 (bf16-activations): none (weights widened to f32, f32 FMAs) or "
           "x86-avx512bf16 (vdpbf16ps: 32 weight x activation pairs a step into 16 f32 "
           "lanes)">,
    Option<"weightPrefetch", "weight-prefetch", "int64_t", "0",
           "cpu strategy: software-prefetch the weight bytes this far ahead of each load of a "
           "one-token matrix-vector product (decode), one prefetch per 64 "
           "bytes; 0 (default): none">,
    Option<"decodeRowTile", "decode-row-tile", "int64_t", "4",
           "cpu strategy: weight rows per step of a one-token matrix-vector product "
           "(decode), taken from equal parts of the matrix so each is its own "
           "sequential stream and the rows share the activation loads; 1: one "
           "row per step">,
    Option<"accumulators", "accumulators", "int64_t", "4",
           "cpu strategy: independent vector accumulators a dot product spreads its K steps "
           "over when it has few rows and tokens (so a CPU's FMA latency does "
           "not bound a memory-bound loop)">,
    Option<"foldUnroll", "fold-unroll", "int64_t", "8",
           "gpu strategy: keys (or chunks) one step of the decode attention's "
           "serial folds loads together">,
    Option<"keyChunk", "key-chunk", "int64_t", "16",
           "gpu strategy: keys per chunk of the decode attention in sliding-"
           "window layers, twice as many in full-attention layers (one "
           "subgroup each; fewer keys: more, shorter chunks)">,
    Option<"decodeRows", "decode-rows", "int64_t", "-1",
           "gpu strategy: output rows a subgroup computes in a one-token "
           "matrix-vector product (decode), the lanes sharing K a few "
           "elements a lane a step, so each lane has that many weight "
           "loads in flight and the rows share the activation loads; fewer "
           "; -1 (default): the strategy's choice (for now 0, until measured "
           "on a GPU); 0: one row a subgroup through the encoding's dot "
           "kernel">,
    Option<"blockTile", "block-tile", "std::string", "\"64x64x32\"",
           "gpu strategy: the prefill products' block tiles in workgroup "
           "memory, TOKENSxROWSxK (outputs of a block, elements of K a "
           "step; 8 x 8 outputs a thread), or 0: none (subgroup tiles)">,
    Option<"attnTile", "attn-tile", "std::string", "\"32x64x32\"",
           "gpu strategy: the prefill attention's tiles in workgroup memory, "
           "QUERIESxKEYS[xSLICE] (query rows a block, keys a step, D "
           "staged SLICE elements at a time), or 0: none (the decode "
           "kernels per token)">,
    Option<"mma", "mma", "std::string", "\"auto\"",
           "cuda strategy: prefill products on the tensor cores (bf16 "
           "mma.sync): auto (with bf16 activations), on (f32 ones rounded "
           "to bf16 too), off">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::func::FuncDialect", "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def Gemma4PlanBuffers : Pass<"gemma4-plan-buffers", "ModuleOp"> {
  let summary = "pack each function's static buffers into one arena, reusing bytes between buffers whose live ranges do not overlap";
  let description = [{
    Runs on loop-level IR (after convert-gemma4-to-loops). Every statically
    shaped memref.alloc at the top level of a function whose uses the pass
    can follow (loads, stores, vector ops, view-like ops, its deallocs)
    becomes a memref.view into one arena allocated on entry and freed before
    the return. A buffer lives from its allocation to the last top-level op
    that uses it or a view of it; buffers with disjoint ranges share bytes
    (first fit, largest first). The arena size is recorded on the function
    as `gemma4.arena_bytes`. One allocation per call instead of one per
    activation, and the bytes a step touches stay few and hot in cache.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64",
           "byte alignment of every buffer in the arena (a power of two)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def Gemma4ApproximateMath : Pass<"gemma4-approximate-math", "ModuleOp"> {
  let summary = "replace tanh/exp/... by vectorisable polynomial approximations";
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif

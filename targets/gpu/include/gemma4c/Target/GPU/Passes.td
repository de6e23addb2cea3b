//===- Passes.td - the GPU lowering every GPU target shares -*- tablegen -*-===//
//
// These passes know the `gpu` dialect and the runtime's launch ABI, nothing
// of NVIDIA or Vulkan: targets/cuda (NVVM -> PTX) and, later, targets/vulkan
// (SPIR-V) start from their output.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4C_TARGET_GPU_PASSES
#define GEMMA4C_TARGET_GPU_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4MapToGPU : Pass<"gemma4-map-to-gpu", "ModuleOp"> {
  let summary = "run an entry function's loop nests as gpu.launch kernels";
  let description = [{
    Runs after convert-gemma4-to-loops (and gemma4-plan-buffers) on the
    entry functions, whose pointers are device memory on a GPU target. The
    host keeps what only computes addresses and sizes (index arithmetic,
    views, allocations); every op that reads or writes memory runs on the
    device:

    * a top-level scf.parallel becomes a gpu.launch. When its body is a
      reduction over a long range (the iterations of a matrix-vector
      product's rows, a norm's sum of squares: an scf.for marked
      `gemma4.lanes = "reduce"` whose carried values are only summed), each
      iteration gets a subgroup of `subgroup-size` lanes: the marked loops'
      steps are dealt out to the lanes (consecutive lanes read consecutive
      vectors, so a warp's loads are coalesced) and the partial sums are
      combined with gpu.subgroup_reduce; loops marked `gemma4.lanes =
      "map"` (independent steps) are dealt out too, everything else runs
      once per iteration on lane 0. Otherwise the iteration space is
      linearised, `block-size` iterations a block, one per thread.
    * a run of other device ops (a decode step's one-row norms, the
      embedding gather, ...) becomes a one-subgroup launch, the same way.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "threads per block of an iteration-per-thread kernel">,
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"32",
           "lanes that cooperate on one iteration of a reduction kernel (0: never)">,
    Option<"subgroupsPerBlock", "subgroups-per-block", "int64_t", /*default=*/"4",
           "subgroups (iterations) per block of a reduction kernel">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def Gemma4GatherGPUKernels : Pass<"gemma4-gather-gpu-kernels", "ModuleOp"> {
  let summary = "one gpu.module @gemma4_kernels with every outlined kernel";
  let description = [{
    After gpu-kernel-outlining (one gpu.module per kernel), moves every
    kernel into one gpu.module @gemma4_kernels, names it `<entry>_k<N>`
    in launch order, keeps one of identical kernels (a layer's kernels
    recur in every layer of its kind: the weights and caches are
    arguments), retargets the launches and records the names, in the
    order the runtime's kernel table uses, as the module attribute
    `gemma4.gpu_kernels`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def Gemma4LowerGPULaunches : Pass<"gemma4-lower-gpu-launches", "ModuleOp"> {
  let summary = "gpu.launch_func -> gemma4rt_gpu_launch calls (the runtime's launch ABI)";
  let description = [{
    Runs on host code already in the LLVM dialect (after gpu-to-llvm), whose
    gpu.launch_func ops carry LLVM-typed kernel operands. Each becomes a
    call gemma4rt_gpu_launch(kernel index in `gemma4.gpu_kernels`, grid,
    block, dynamic shared bytes, an array of pointers to the operands'
    stack slots) (runtime/include/gemma4rt/abi.h). The serialized kernels
    (gpu.binary) are moved to the module attribute `gemma4.gpu_objects`
    ({format = object bytes}) for the driver to embed, and erased.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def Gemma4EmulateGPULaunches : Pass<"gemma4-emulate-gpu-launches", "ModuleOp"> {
  let summary = "run gpu.launch kernels as sequential CPU loops (tests)";
  let description = [{
    For testing the GPU mapping where there is no GPU (the hidden gemma4c
    target gpu-emulator, whose binaries are checked against the goldens):
    each launch of gemma4-map-to-gpu becomes a loop over its blocks; its
    guarded body is split at top-level barriers and subgroup reductions
    into phases, each a loop over the block's threads, with the values
    that cross phases kept per thread and each subgroup's partial sums
    added for all its lanes. Block-cooperative kernels: workgroup
    attributions are stack buffers each block uses in turn, and an scf.for
    at the top level holding syncs (uniform bounds) runs once a block with
    its body split the same way (recursively), its iter_args kept per
    thread.
  }];
  let options = [
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"32",
           "lanes a gpu.subgroup_reduce adds over">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}


def Gemma4AlignVectorAccess : Pass<"gemma4-align-vector-access", "ModuleOp"> {
  let summary = "give vector loads and stores in kernels the alignment their indices prove";
  let description = [{
    A vector.load without an alignment is lowered with its element's (2
    bytes for bf16), and a GPU backend must then split it into one load per
    element: a lane's 16 bf16 weights become 16 two-byte loads instead of
    two 16-byte ones. For every vector.load/store inside a gpu.launch, this
    pass proves the access's byte alignment from its buffer and indices:
    the buffer's base (an entry-function argument or an allocation:
    `alloc-alignment` bytes, device memory; a memref.view adds its byte
    shift), the strides of its identity layout, and each index's known
    power-of-two factor (constants, loop induction variables from their
    lower bound and step, sums and products). The proven alignment, capped
    at the vector's size, becomes the op's `alignment`. Only for targets
    whose allocations are at least `alloc-alignment`-aligned (device
    memory); 0 does nothing.
  }];
  let options = [
    Option<"allocAlignment", "alloc-alignment", "int64_t", /*default=*/"256",
           "bytes every entry argument and allocation is aligned to">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}

def Gemma4UnrollLaneLoops : Pass<"gemma4-unroll-lane-loops", "ModuleOp"> {
  let summary = "unroll a kernel's short constant-trip loops so their loads are issued together";
  let description = [{
    A lane's loop over its share of a row (a decode matrix-vector product's
    dot, a norm's sum of squares) loads, then uses what it loaded, then
    loads again: each warp keeps one step's loads in flight and a
    1536-row product of 12288-long rows leaves the memory system idle. For
    every innermost scf.for inside a gpu.launch whose bounds and step are
    constants, this pass unrolls it by the largest factor up to
    `max-factor` that divides its trip count (a loop of at most
    `max-factor` steps disappears), so the steps' loads are independent
    instructions a GPU issues back to back. The arithmetic and its order
    are unchanged (an accumulator still takes the steps in order). Loops
    with more than `max-body` operations are left alone.
  }];
  let options = [
    Option<"maxFactor", "max-factor", "int64_t", /*default=*/"4",
           "largest unroll factor (1: off)">,
    Option<"maxBody", "max-body", "int64_t", /*default=*/"64",
           "loops with more operations in their body are not unrolled">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def Gemma4MergeGPULaunches : Pass<"gemma4-merge-gpu-launches", "ModuleOp"> {
  let summary = "run consecutive independent kernels as one launch";
  let description = [{
    Two consecutive gpu.launch ops with one-dimensional grids and the same
    constant block size, neither touching a buffer the other writes (the
    buffer analysis gemma4-map-to-gpu uses: roots and constant byte
    ranges), become one launch of gA + gB blocks: blocks below gA run the
    first kernel, the others the second with their block id less gA. Host
    ops between them that touch no memory (index math, views, allocations)
    move above the first. Up to `max-kernels` kernels share a launch. A
    decode step's q, k and v projections become one launch.
  }];
  let options = [
    Option<"maxKernels", "max-kernels", "int64_t", /*default=*/"4",
           "most kernels merged into one launch (1: off)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

#endif

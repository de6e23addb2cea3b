//===- Passes.td - Vulkan (SPIR-V) backend passes -----------*- tablegen -*-===//
#ifndef GEMMA4C_TARGET_VULKAN_PASSES
#define GEMMA4C_TARGET_VULKAN_PASSES

include "mlir/Pass/PassBase.td"

def Gemma4PrepareSPIRVKernels : Pass<"gemma4-prepare-spirv-kernels", "::mlir::ModuleOp"> {
  let summary = "the shared GPU kernels in the form gpu-to-spirv can take";
  let description = [{
    Clones each gpu.module into `<name>_spirv` (marked gemma4.spirv) and
    rewrites the clone's kernels for Vulkan; the original module keeps the
    kernels' signatures for the host's launches, with empty bodies.

    Arguments: a kernel takes one i64, the device address of its parameter
    block, which holds the launch's operands exactly as the host stores them
    (gemma4-lower-gpu-launches: memrefs as their LLVM descriptors, each
    field at its ABI alignment); the runtime copies the block into device
    memory and passes its address as a push constant. The block's size is
    the kernel's gemma4.param_bytes.

    Memory: every memref a kernel gets is device memory reached through
    buffer device addresses (Vulkan 1.2 bufferDeviceAddress): a load or store
    of element i computes aligned + (offset + sum(i_k * stride_k)) * size and
    becomes spirv.ConvertUToPtr + spirv.Load/Store in PhysicalStorageBuffer
    with the element's alignment, so byte views of the weights and the
    scratch arena need no bindings, and nothing limits a buffer's size but
    the device (no maxStorageBufferRange, 64-bit offsets). bf16 moves as i16.

    Workgroup memory: each workgroup attribution of a kernel (which
    gpu-to-spirv's gpu.func conversion would drop) becomes a memref.alloc in
    #spirv.storage_class<Workgroup> at the kernel's entry, a
    spirv.GlobalVariable of Workgroup storage once converted; its loads and
    stores stay memref accesses (vector ones one per lane, bf16/f16 as i16).

    Vectors: SPIR-V has at most 4 lanes for a shader, the kernels use 16;
    every 1-D vector becomes its scalars (a 1:N conversion through scf
    loops and ifs): element-wise ops, fma, reductions, broadcasts, vector
    loads and stores.

    Math as on the CPU and NVIDIA (MLIR's polynomial approximations, rsqrt
    as 1 / sqrt); gpu.subgroup_reduce as a butterfly of gpu.shuffle xor over
    `subgroup-size` lanes (the lanes gemma4-map-to-gpu shares a loop among:
    they stay inside one hardware subgroup of any size that is a multiple);
    gpu.barrier as a control barrier over the workgroup that orders
    workgroup and device memory (AcquireRelease | WorkgroupMemory |
    UniformMemory).
  }];
  let options = [
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"8",
           "lanes of a subgroup reduction (gemma4-map-to-gpu's subgroup-size)">,
  ];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def Gemma4SerializeSPIRVKernels : Pass<"gemma4-serialize-spirv-kernels", "::mlir::ModuleOp"> {
  let summary = "the prepared kernels to one SPIR-V module, serialized";
  let description = [{
    Converts the gpu.module gemma4-prepare-spirv-kernels made to a
    spirv.module (gpu-to-spirv with the scf, arith, math, memref and func
    patterns, 64-bit index, the target environment of `spirv-target-env`),
    the parameter-block argument to a push constant, lowers the ABI
    attributes, deduces the capabilities and extensions, and serializes it:
    module attributes gemma4.spirv (the binary), gemma4.spirv_kernels (per
    kernel of gemma4.gpu_kernels: [param bytes, workgroup x, y, z]).
  }];
  let options = [
    Option<"keep", "keep", "bool", /*default=*/"false",
           "keep the spirv.module in the IR (for tests)">,
  ];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

#endif

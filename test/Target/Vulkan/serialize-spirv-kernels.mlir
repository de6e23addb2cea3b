// gemma4-serialize-spirv-kernels: the prepared kernels as a spirv.module
// (device addresses: PhysicalStorageBuffer64, SPIR-V 1.5), each kernel an
// entry point with its workgroup size whose interface is the push constant
// (the parameter block's address, two 32-bit words) and the builtins; the
// original gpu.module a gpu.binary for the host's launches; the binary and
// the kernels' [param bytes, workgroup, workgroup memory bytes] as module
// attributes.
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --gemma4-serialize-spirv-kernels="keep=true" | FileCheck %s
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --gemma4-serialize-spirv-kernels | FileCheck %s --check-prefix=DROP
// RUN: not gemma4c-opt %s --gemma4-serialize-spirv-kernels 2>&1 | FileCheck %s --check-prefix=UNPREPARED

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k0"]} {
  func.func @entry(%x: memref<?xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @gemma4_kernels::@k0 blocks in (%n, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%x : memref<?xf32>, %n : index)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @k0(%x: memref<?xf32>, %n: index) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %c64 = arith.constant 64 : index
      %i = arith.addi %t, %c64 : index
      %v = memref.load %x[%i] : memref<?xf32>
      %e = math.exp %v : f32
      %s = gpu.subgroup_reduce add %e uniform : (f32) -> f32
      memref.store %s, %x[%b] : memref<?xf32>
      gpu.return
    }
  }
}

// CHECK-LABEL: module attributes
// CHECK-SAME: gemma4.spirv = "
// CHECK-SAME: gemma4.spirv_kernels = [array<i64: 48, 64, 1, 1, 0>]
// CHECK: gpu.binary @gemma4_kernels
// CHECK: spirv.module @__spv__gemma4_kernels_spirv PhysicalStorageBuffer64 GLSL450 requires #spirv.vce<v1.5,
// CHECK-SAME: PhysicalStorageBufferAddresses
// CHECK-SAME: GroupNonUniformShuffle
// CHECK: spirv.GlobalVariable @__push_constant_var__ : !spirv.ptr<!spirv.struct<(!spirv.array<2 x i32, stride=4> [0])>, PushConstant>
// CHECK-LABEL: spirv.func @k0()
// CHECK: spirv.AccessChain %{{.*}} : !spirv.ptr<!spirv.struct<(!spirv.array<2 x i32, stride=4> [0])>, PushConstant>
// CHECK: spirv.ConvertUToPtr %{{.*}} : i64 to !spirv.ptr<i64, PhysicalStorageBuffer>
// CHECK: spirv.Load "PhysicalStorageBuffer" %{{.*}} ["Aligned", 4] : f32
// CHECK: spirv.GroupNonUniformShuffleXor <Subgroup>
// CHECK: spirv.Store "PhysicalStorageBuffer" %{{.*}}, %{{.*}} ["Aligned", 4] : f32
// CHECK: spirv.EntryPoint "GLCompute" @k0, @__push_constant_var__
// CHECK: spirv.ExecutionMode @k0 "LocalSize", 64, 1, 1

// DROP: gpu.binary @gemma4_kernels
// DROP-NOT: spirv.module
// DROP-NOT: gpu.module

// UNPREPARED: error: gemma4-serialize-spirv-kernels: no prepared kernels (run gemma4-prepare-spirv-kernels first)

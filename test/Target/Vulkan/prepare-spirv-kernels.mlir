// gemma4-prepare-spirv-kernels: a Vulkan clone of the kernels whose one
// argument is the parameter block's device address (the operands at the
// offsets gemma4-lower-gpu-launches stores them: the index at 0, the memref
// descriptors after it), device memory through PhysicalStorageBuffer
// pointers (bf16 as i16), vectors as scalars, the subgroup sum as an 8-lane
// shuffle butterfly and the barrier as one that orders device memory. The
// original kernels keep their signature for the host's launch, not their body.
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels | FileCheck %s
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels="subgroup-size=32" | FileCheck %s --check-prefix=SG32

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k0"]} {
  func.func @entry(%n: index, %x: memref<?x16xf32>, %w: memref<16xbf16>) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    gpu.launch_func @gemma4_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%c8, %c1, %c1)
        args(%n : index, %x : memref<?x16xf32>, %w : memref<16xbf16>)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @k0(%n: index, %x: memref<?x16xf32>, %w: memref<16xbf16>) kernel
        attributes {known_block_size = array<i32: 8, 1, 1>} {
      %c0 = arith.constant 0 : index
      %zero = arith.constant dense<0.0> : vector<16xf32>
      %t = gpu.thread_id x
      %a = vector.load %x[%t, %c0] : memref<?x16xf32>, vector<16xf32>
      %wb = vector.load %w[%c0] : memref<16xbf16>, vector<16xbf16>
      %wf = arith.extf %wb : vector<16xbf16> to vector<16xf32>
      %p = vector.fma %a, %wf, %zero : vector<16xf32>
      %s = vector.reduction <add>, %p : vector<16xf32> into f32
      %r = gpu.subgroup_reduce add %s uniform : (f32) -> f32
      gpu.barrier
      memref.store %r, %x[%n, %c0] : memref<?x16xf32>
      gpu.return
    }
  }
}

// CHECK-LABEL: gpu.module @gemma4_kernels {
// CHECK: gpu.func @k0(%{{.*}}: index, %{{.*}}: memref<?x16xf32>, %{{.*}}: memref<16xbf16>) kernel
// CHECK-NEXT: gpu.return
// CHECK-LABEL: gpu.module @gemma4_kernels_spirv attributes {gemma4.spirv}
// CHECK: gpu.func @k0(%[[P:.*]]: i64) kernel attributes {gemma4.param_bytes = 104 : i64
// The index operand at offset 0, the first memref's aligned pointer at 16
// and its dynamic size at 32 (its strides are static), the second's at 72.
// CHECK: %[[N:.*]] = spirv.ConvertUToPtr %[[P]] : i64 to !spirv.ptr<i64, PhysicalStorageBuffer>
// CHECK: spirv.Load "PhysicalStorageBuffer" %[[N]] ["Aligned", 8] : i64
// CHECK: arith.addi %[[P]], %c16_i64
// CHECK: arith.addi %[[P]], %c72_i64
// CHECK: spirv.Load "PhysicalStorageBuffer" %{{.*}} ["Aligned", 4] : f32
// CHECK: spirv.Load "PhysicalStorageBuffer" %{{.*}} ["Aligned", 2] : i16
// CHECK: math.fma %{{.*}} : f32
// CHECK-NOT: vector.
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c8_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c8_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32, %c8_i32 : f32
// CHECK-NOT: gpu.shuffle
// CHECK: spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|UniformMemory|WorkgroupMemory>
// CHECK: spirv.Store "PhysicalStorageBuffer" %{{.*}}, %{{.*}} ["Aligned", 4] : f32
// CHECK: gpu.return

// SG32-LABEL: gpu.module @gemma4_kernels_spirv
// SG32: gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32 : f32

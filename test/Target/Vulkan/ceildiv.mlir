// arith.ceildivui (the attention folds round their key count up to
// fold-unroll) has no SPIR-V op: gemma4-prepare-spirv-kernels expands it
// into a division and a select (n == 0 ? 0 : (n - 1) / d + 1), which
// gpu-to-spirv converts.
// RUN: gemma4c-opt %s --gemma4-prepare-spirv-kernels --canonicalize --cse --gemma4-serialize-spirv-kernels="keep=true" | FileCheck %s

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k"]} {
  func.func @entry(%x: memref<?xi64>, %n: index) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @gemma4_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%x : memref<?xi64>, %n : index)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @k(%x: memref<?xi64>, %n: index) kernel
        attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c8 = arith.constant 8 : index
      %r = arith.ceildivui %n, %c8 : index
      %v = arith.index_cast %r : index to i64
      memref.store %v, %x[%c0] : memref<?xi64>
      gpu.return
    }
  }
}

// CHECK-LABEL: spirv.func @k()
// CHECK-NOT: ceildivui
// CHECK: %[[Z:.*]] = spirv.IEqual %[[N:.*]], %{{.*}} : i64
// CHECK: %[[M:.*]] = spirv.ISub %[[N]], %{{.*}} : i64
// CHECK: %[[Q:.*]] = spirv.UDiv %[[M]], %{{.*}} : i64
// CHECK: %[[Q1:.*]] = spirv.IAdd %[[Q]], %{{.*}} : i64
// CHECK: spirv.Select %[[Z]], %{{.*}}, %[[Q1]] : i1, i64
// CHECK: spirv.Return

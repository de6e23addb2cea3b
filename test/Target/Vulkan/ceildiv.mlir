// arith.ceildivui (lane loops' trip counts, the attention folds rounding
// their key count up to fold-unroll) has no SPIR-V op:
// gemma4-prepare-spirv-kernels writes it (n + d - 1) / d, without arith's
// select (n == 0 ? 0 : (n - 1) / d + 1), a 64-bit select NVIDIA's Vulkan
// compiler got wrong.
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
// CHECK-NOT: spirv.Select
// CHECK: %[[UP:.*]] = spirv.IAdd %{{.*}}, %cst7_i64 : i64
// CHECK-NEXT: spirv.UDiv %[[UP]], %cst8_i64 : i64
// CHECK-NOT: spirv.Select
// CHECK: spirv.Return

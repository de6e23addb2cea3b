// gemma4-lower-gpu-launches: each launch stores its operands at their ABI
// alignment in one parameter buffer (a vector operand takes 64 bytes, not
// an 8-byte slot), points kernelParams at them and calls the runtime.
// RUN: gemma4c-opt %s --pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm{index-bitwidth=64}),gpu-to-llvm,gemma4-lower-gpu-launches)' | FileCheck %s

// CHECK-LABEL: llvm.func @entry
// CHECK: %[[BUF:.*]] = llvm.alloca %{{.*}} x !llvm.array<136 x i8> {alignment = 64 : i64}
// CHECK: %[[PTRS:.*]] = llvm.alloca %{{.*}} x !llvm.array<3 x ptr> {alignment = 16 : i64}
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[BUF]][0, 0]
// CHECK: llvm.store %{{.*}}, %[[S0]] {alignment = 4 : i64} : f32, !llvm.ptr
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[BUF]][0, 64]
// CHECK: llvm.store %{{.*}}, %[[S1]] {alignment = 64 : i64} : vector<16xf32>, !llvm.ptr
// CHECK: %[[S2:.*]] = llvm.getelementptr %[[BUF]][0, 128]
// CHECK-NOT: gpu.launch_func
// CHECK: llvm.call @gemma4rt_gpu_launch(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[PTRS]])
// CHECK-NOT: gpu.module
module attributes {gpu.container_module, gemma4.gpu_kernels = ["k0"]} {
  func.func @entry(%x: f32, %v: vector<16xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @gemma4_kernels::@k0 blocks in (%c1, %c1, %c1) threads in (%n, %c1, %c1)
        args(%x : f32, %v : vector<16xf32>, %n : index)
    return
  }
  gpu.module @gemma4_kernels {
    gpu.func @k0(%x: f32, %v: vector<16xf32>, %n: index) kernel {
      gpu.return
    }
  }
}

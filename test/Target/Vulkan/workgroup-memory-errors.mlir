// What gemma4-prepare-spirv-kernels refuses of workgroup memory: private
// attributions, a dynamic workgroup buffer, a use other than a load or store.
// RUN: not gemma4c-opt %s --split-input-file --gemma4-prepare-spirv-kernels 2>&1 | FileCheck %s

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k"]} {
  gpu.module @gemma4_kernels {
    gpu.func @k() private(%p : memref<4xf32, #gpu.address_space<private>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
  }
}
// CHECK: error: 'gpu.func' op gemma4-prepare-spirv-kernels: private attributions are not supported

// -----

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k"]} {
  gpu.module @gemma4_kernels {
    gpu.func @k() workgroup(%w : memref<4x4xf32, strided<[8, 1]>, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
  }
}
// CHECK: error: 'gpu.func' op gemma4-prepare-spirv-kernels: workgroup attribution of type 'memref<4x4xf32, strided<[8, 1]>, #gpu.address_space<workgroup>>' (a static, identity-layout memref of numbers is supported)

// -----

module attributes {gpu.container_module, gemma4.gpu_kernels = ["k"]} {
  gpu.module @gemma4_kernels {
    gpu.func @k() workgroup(%w : memref<16xf32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %c0 = arith.constant 0 : index
      %v = memref.subview %w[0] [8] [1] : memref<16xf32, #gpu.address_space<workgroup>> to memref<8xf32, strided<[1]>, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}
// CHECK: error: 'memref.subview' op gemma4-prepare-spirv-kernels: unsupported use of a workgroup memref

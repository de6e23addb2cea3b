// gemma4-merge-gpu-launches: consecutive kernels that touch no buffer the
// other writes run as one launch (the first's blocks, then the second's
// with their block id less the first's grid); dependent kernels, other
// block sizes and host work with effects in between keep their launches.
// RUN: gemma4c-opt %s --gemma4-merge-gpu-launches | FileCheck %s
// RUN: gemma4c-opt %s --gemma4-merge-gpu-launches=max-kernels=1 | FileCheck %s --check-prefix=OFF

// q and k projections read x and write two outputs: one launch of gq + gk
// blocks; the index math between them moves above it.
// CHECK-LABEL: func.func @independent
// CHECK: %[[G2:.*]] = arith.addi %arg6, %c1
// CHECK: %[[G:.*]] = arith.addi %arg5, %[[G2]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[G]],
// CHECK: %[[ISQ:.*]] = arith.cmpi ult, %[[BX]], %arg5
// CHECK: scf.if %[[ISQ]]
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}, %[[BX]]]
// CHECK: gpu.barrier
// CHECK: } else {
// CHECK: %[[BK:.*]] = arith.subi %[[BX]], %arg5
// CHECK: memref.store %{{.*}}, %arg4[%{{.*}}, %[[BK]]]
// CHECK: } {gemma4.kernel_loc = "q+k", gemma4.merged}
// CHECK-NOT: gpu.launch
// CHECK: return
// OFF-LABEL: func.func @independent
// OFF-COUNT-2: gpu.launch
func.func @independent(%x: memref<1x64xf32>, %wq: memref<128x64xf32>, %wk: memref<32x64xf32>, %q: memref<1x128xf32>, %k: memref<1x32xf32>, %gq: index, %gk: index) {
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%a, %b, %c) in (%x0 = %gq, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %c0 = arith.constant 0 : index
    %v = memref.load %x[%c0, %d] : memref<1x64xf32>
    %s = gpu.subgroup_reduce add %v uniform : (f32) -> f32
    memref.store %s, %q[%c0, %a] : memref<1x128xf32>
    gpu.barrier
    gpu.terminator
  } {gemma4.kernel_loc = "q"}
  %g2 = arith.addi %gk, %c1 : index
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g2, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %c0 = arith.constant 0 : index
    %v = memref.load %x[%c0, %d] : memref<1x64xf32>
    memref.store %v, %k[%c0, %a] : memref<1x32xf32>
    gpu.terminator
  } {gemma4.kernel_loc = "k"}
  return
}

// The second reads what the first wrote; the third has another block size;
// the fourth follows a host store: four launches.
// CHECK-LABEL: func.func @dependent
// CHECK-COUNT-4: gpu.launch
func.func @dependent(%x: memref<1x64xf32>, %q: memref<1x128xf32>, %k: memref<1x32xf32>, %g: index) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %x[%c0, %d] : memref<1x64xf32>
    memref.store %v, %q[%c0, %a] : memref<1x128xf32>
    gpu.terminator
  }
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %q[%c0, %d] : memref<1x128xf32>
    memref.store %v, %k[%c0, %a] : memref<1x32xf32>
    gpu.terminator
  }
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c64, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %x[%c0, %d] : memref<1x64xf32>
    memref.store %v, %q[%c0, %a] : memref<1x128xf32>
    gpu.terminator
  }
  %z = arith.constant 0.0 : f32
  memref.store %z, %x[%c0, %c0] : memref<1x64xf32>
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c64, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %x[%c0, %d] : memref<1x64xf32>
    memref.store %v, %k[%c0, %a] : memref<1x32xf32>
    gpu.terminator
  }
  return
}

// A free between the two (gemma4-plan-buffers frees a buffer after its last
// use, here the first kernel's input) moves below the merged launch.
// CHECK-LABEL: func.func @free_between
// CHECK: gpu.launch
// CHECK: } {gemma4.kernel_loc = "a+b", gemma4.merged}
// CHECK-NEXT: memref.dealloc %arg0
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @free_between(%x: memref<?xf32>, %y: memref<1x64xf32>, %q: memref<1x128xf32>, %k: memref<1x32xf32>, %g: index) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %x[%d] : memref<?xf32>
    memref.store %v, %q[%c0, %a] : memref<1x128xf32>
    gpu.terminator
  } {gemma4.kernel_loc = "a"}
  memref.dealloc %x : memref<?xf32>
  gpu.launch blocks(%a, %b, %c) in (%x0 = %g, %y0 = %c1, %z0 = %c1) threads(%d, %e, %f) in (%x1 = %c128, %y1 = %c1, %z1 = %c1) {
    %v = memref.load %y[%c0, %d] : memref<1x64xf32>
    memref.store %v, %k[%c0, %a] : memref<1x32xf32>
    gpu.terminator
  } {gemma4.kernel_loc = "b"}
  return
}

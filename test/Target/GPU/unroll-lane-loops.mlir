// gemma4-unroll-lane-loops: a kernel's innermost loops with constant
// bounds are unrolled by the largest factor <= max-factor dividing their
// trip count; loops with a dynamic bound, outside kernels or too large
// stay as they are.
// RUN: gemma4c-opt %s --gemma4-unroll-lane-loops | FileCheck %s
// RUN: gemma4c-opt %s --gemma4-unroll-lane-loops=max-factor=1 | FileCheck %s --check-prefix=OFF
// RUN: gemma4c-opt %s --gemma4-unroll-lane-loops=max-body=2 | FileCheck %s --check-prefix=SMALL

// A lane's dot: 24 steps of 512 (the step a product MapToGPU left
// unfolded) -> 6 steps of 4 loads each; the accumulator still takes them
// in order.
// CHECK-LABEL: func.func @dot
// CHECK: gpu.launch
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-COUNT-4: memref.load
// CHECK-NOT: memref.load
// CHECK: scf.yield
// OFF-LABEL: func.func @dot
// OFF-COUNT-1: memref.load
// OFF-NOT: memref.load
// SMALL-LABEL: func.func @dot
// SMALL-COUNT-1: memref.load
// SMALL-NOT: memref.load
func.func @dot(%m: memref<12288xf32>, %o: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c12288 = arith.constant 12288 : index
  %z = arith.constant 0.0 : f32
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z2 = %c1) threads(%d, %e, %f) in (%x1 = %c32, %y1 = %c1, %z1 = %c1) {
    %st = arith.muli %c16, %c32 : index
    %r = scf.for %i = %c0 to %c12288 step %st iter_args(%acc = %z) -> f32 {
      %j = arith.addi %i, %d : index
      %v = memref.load %m[%j] : memref<12288xf32>
      %s = arith.addf %acc, %v : f32
      scf.yield %s : f32
    }
    memref.store %r, %o[%c0] : memref<1xf32>
    gpu.terminator
  }
  return
}

// A norm's 3 steps: no loop left. A loop to a dynamic bound and one outside
// any kernel stay.
// CHECK-LABEL: func.func @short_and_dynamic
// CHECK: gpu.launch
// CHECK-NOT: scf.for
// CHECK-COUNT-3: memref.load
// CHECK: scf.for %{{.*}} = %{{.*}} to %arg2
// CHECK: gpu.terminator
// CHECK: scf.for
// CHECK: return
// OFF-LABEL: func.func @short_and_dynamic
// SMALL-LABEL: func.func @short_and_dynamic
func.func @short_and_dynamic(%m: memref<1536xf32>, %o: memref<1xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c512 = arith.constant 512 : index
  %c1536 = arith.constant 1536 : index
  %z = arith.constant 0.0 : f32
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %y = %c1, %z2 = %c1) threads(%d, %e, %f) in (%x1 = %c32, %y1 = %c1, %z1 = %c1) {
    %r = scf.for %i = %c0 to %c1536 step %c512 iter_args(%acc = %z) -> f32 {
      %v = memref.load %m[%i] : memref<1536xf32>
      %s = arith.addf %acc, %v : f32
      scf.yield %s : f32
    }
    %q = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %r) -> f32 {
      %v = memref.load %m[%i] : memref<1536xf32>
      %s = arith.addf %acc, %v : f32
      scf.yield %s : f32
    }
    memref.store %q, %o[%c0] : memref<1xf32>
    gpu.terminator
  }
  %h = scf.for %i = %c0 to %c1536 step %c512 iter_args(%acc = %z) -> f32 {
    %v = memref.load %m[%i] : memref<1536xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  memref.store %h, %o[%c0] : memref<1xf32>
  return
}

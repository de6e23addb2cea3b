// gemma4-align-vector-access: vector accesses in kernels get the alignment
// their buffer and indices prove, no more.
// RUN: gemma4c-opt %s --gemma4-align-vector-access=alloc-alignment=256 | FileCheck %s
// RUN: gemma4c-opt %s --gemma4-align-vector-access=alloc-alignment=0 | FileCheck %s --check-prefix=OFF

// A weight row (a view at a 64-byte multiple of the weights argument) read
// 16 bf16 at a time from k = lane * 16 + 512 * i: 32-byte aligned. The
// activation's vector store at an index of unknown factor stays unmarked.
// CHECK-LABEL: func.func @matvec
// CHECK: vector.load %{{.*}} {alignment = 32 : i64} : memref<2048x1536xbf16>, vector<16xbf16>
// CHECK: vector.load %{{.*}} {alignment = 64 : i64} : memref<1x1536xf32>, vector<16xf32>
// CHECK: vector.store %{{.*}} : memref<1x2048xf32>, vector<4xf32>
// CHECK-NOT: alignment
// A view at byte 2 proves only 2.
// CHECK: vector.load %{{.*}} : memref<4x16xbf16>, vector<16xbf16>
// OFF-NOT: alignment
func.func @matvec(%weights: memref<?xi8>, %x: memref<1x1536xf32>, %y: memref<1x2048xf32>, %odd: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c512 = arith.constant 512 : index
  %c1536 = arith.constant 1536 : index
  %off = arith.constant 5530455552 : index
  %two = arith.constant 2 : index
  %w = memref.view %weights[%off][] : memref<?xi8> to memref<2048x1536xbf16>
  %w2 = memref.view %weights[%two][] : memref<?xi8> to memref<4x16xbf16>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c16, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %lane = arith.remui %tx, %c32 : index
    %lb = arith.muli %lane, %c16 : index
    scf.for %k = %lb to %c1536 step %c512 {
      %wv = vector.load %w[%bx, %k] : memref<2048x1536xbf16>, vector<16xbf16>
      %xv = vector.load %x[%c0, %k] : memref<1x1536xf32>, vector<16xf32>
      %v4 = vector.extract_strided_slice %xv {offsets = [0], sizes = [4], strides = [1]} : vector<16xf32> to vector<4xf32>
      vector.store %v4, %y[%c0, %odd] : memref<1x2048xf32>, vector<4xf32>
    }
    %u = vector.load %w2[%c1, %c0] : memref<4x16xbf16>, vector<16xbf16>
    gpu.terminator
  }
  return
}

// A reshaped view (the attention output read by the o projection) has its
// source's base: the rows of a collapse_shape of an aligned buffer are
// aligned too.
// CHECK-LABEL: func.func @reshaped
// CHECK: vector.load %{{.*}} {alignment = 64 : i64} : memref<1x2048xf32>, vector<16xf32>
func.func @reshaped(%arena: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %off = arith.constant 136192 : index
  %a = memref.view %arena[%off][] : memref<?xi8> to memref<1x8x256xf32>
  %x = memref.collapse_shape %a [[0], [1, 2]] : memref<1x8x256xf32> into memref<1x2048xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c16, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %lane = arith.remui %tx, %c32 : index
    %k = arith.muli %lane, %c16 : index
    %xv = vector.load %x[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
    gpu.terminator
  }
  return
}

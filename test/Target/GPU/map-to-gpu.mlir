// gemma4-map-to-gpu: what runs on the host and what in kernels, and how a
// loop nest is mapped (iteration per thread, or per subgroup of lanes).
// RUN: gemma4c-opt %s --gemma4-map-to-gpu --split-input-file | FileCheck %s

// A decode matrix-vector product: one row per subgroup, the marked K loop
// dealt out to 32 lanes, the partial sum added across them and stored once.
// CHECK-LABEL: func.func @matvec
// CHECK-NOT: scf.parallel
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %{{.*}}, %c4
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads({{.*}}) in ({{.*}} = %c128
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK: arith.muli %[[LANE]]
// CHECK: scf.for {{.*}} iter_args
// CHECK: vector.fma
// CHECK: %[[R:.*]] = vector.reduction <add>
// CHECK: %[[S:.*]] = gpu.subgroup_reduce add %[[R]] uniform
// The store writes a buffer the loop does not read: no barrier, so four
// subgroups share a block.
// CHECK-NOT: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: memref.store %[[S]]
// CHECK-NOT: gpu.barrier
// CHECK: gpu.terminator
func.func @matvec(%w: memref<256x512xf32>, %x: memref<512xf32>, %y: memref<256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  %z = arith.constant dense<0.0> : vector<16xf32>
  scf.parallel (%n) = (%c0) to (%c256) step (%c1) {
    %acc = scf.for %k = %c0 to %c512 step %c16 iter_args(%a = %z) -> (vector<16xf32>) {
      %wv = vector.load %w[%n, %k] : memref<256x512xf32>, vector<16xf32>
      %xv = vector.load %x[%k] : memref<512xf32>, vector<16xf32>
      %f = vector.fma %wv, %xv, %a : vector<16xf32>
      scf.yield %f : vector<16xf32>
    } {gemma4.lanes = "reduce"}
    %s = vector.reduction <add>, %acc : vector<16xf32> into f32
    memref.store %s, %y[%n] : memref<256xf32>
    scf.reduce
  }
  return
}

// -----

// An elementwise loop nest: linearised, 256 iterations a block, one a
// thread, guarded against the last block's overhang.
// CHECK-LABEL: func.func @elementwise
// CHECK: gpu.launch
// CHECK: %[[LIN:.*]] = arith.addi
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[LIN]], %{{.*}}
// CHECK: scf.if %[[IN]]
// CHECK: arith.remui %[[LIN]]
// CHECK: arith.divui %[[LIN]]
// CHECK: arith.addf
// CHECK-NOT: gpu.subgroup_reduce
func.func @elementwise(%a: memref<?x300xf32>, %b: memref<?x300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c300 = arith.constant 300 : index
  %s = memref.dim %a, %c0 : memref<?x300xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%s, %c300) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<?x300xf32>
    %y = memref.load %b[%i, %j] : memref<?x300xf32>
    %z = arith.addf %x, %y : f32
    memref.store %z, %b[%i, %j] : memref<?x300xf32>
    scf.reduce
  }
  return
}

// -----

// Top-level device work (a one-token RMS norm: a sum of squares, then a
// scaling loop) becomes one single-iteration launch whose lanes share both
// loops; the write loop is followed by no read, the scale is computed on
// every lane. Index math and views stay on the host.
// CHECK-LABEL: func.func @serial_norm
// CHECK: memref.view
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} iter_args
// CHECK: gpu.subgroup_reduce add
// CHECK: math.rsqrt
// CHECK: scf.for
// CHECK: vector.store
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @serial_norm(%arena: memref<8192xi8>, %x: memref<1x2048xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c2048 = arith.constant 2048 : index
  %z = arith.constant dense<0.0> : vector<16xf32>
  %n = arith.constant 2048.0 : f32
  %y = memref.view %arena[%c0][] : memref<8192xi8> to memref<1x2048xf32>
  %acc = scf.for %k = %c0 to %c2048 step %c16 iter_args(%a = %z) -> (vector<16xf32>) {
    %v = vector.load %x[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
    %f = vector.fma %v, %v, %a : vector<16xf32>
    scf.yield %f : vector<16xf32>
  } {gemma4.lanes = "reduce"}
  %s = vector.reduction <add>, %acc : vector<16xf32> into f32
  %m = arith.divf %s, %n : f32
  %r = math.rsqrt %m : f32
  %rv = vector.broadcast %r : f32 to vector<16xf32>
  scf.for %k = %c0 to %c2048 step %c16 {
    %v = vector.load %x[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
    %o = arith.mulf %v, %rv : vector<16xf32>
    vector.store %o, %y[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
  } {gemma4.lanes = "map"}
  return
}

// -----

// In place: lane 0 writes what the lanes' shares of the reduction read, so a
// barrier separates them (and a block holds one subgroup).
// CHECK-LABEL: func.func @inplace_norm
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c32
// CHECK: gpu.subgroup_reduce add
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: memref.store
func.func @inplace_norm(%x: memref<4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    %ss = scf.for %k = %c0 to %c64 step %c1 iter_args(%a = %zero) -> (f32) {
      %v = memref.load %x[%r, %k] : memref<4x64xf32>
      %sq = arith.mulf %v, %v : f32
      %n = arith.addf %a, %sq : f32
      scf.yield %n : f32
    } {gemma4.lanes = "reduce"}
    scf.for %k = %c0 to %c64 step %c1 {
      %v = memref.load %x[%r, %k] : memref<4x64xf32>
      %y = arith.mulf %v, %ss : f32
      memref.store %y, %x[%r, %k] : memref<4x64xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A loop whose carried value is not a plain sum (a running maximum) is not
// shared among lanes: the body runs on one thread per iteration.
// CHECK-LABEL: func.func @running_max
// CHECK: gpu.launch
// CHECK-NOT: gpu.subgroup_reduce
// CHECK: arith.maximumf
func.func @running_max(%x: memref<64x512xf32>, %y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c512 = arith.constant 512 : index
  %lo = arith.constant -1.0e30 : f32
  scf.parallel (%n) = (%c0) to (%c64) step (%c1) {
    %m = scf.for %k = %c0 to %c512 step %c1 iter_args(%a = %lo) -> (f32) {
      %v = memref.load %x[%n, %k] : memref<64x512xf32>
      %mx = arith.maximumf %a, %v : f32
      scf.yield %mx : f32
    } {gemma4.lanes = "reduce"}
    memref.store %m, %y[%n] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// A weight scalar read at the top level (layer_scalar) is re-read inside the
// kernel that uses it instead of making the host wait for the device.
// CHECK-LABEL: func.func @weight_scalar
// CHECK-NOT: memref.load
// CHECK: gpu.launch
// CHECK: memref.load %{{.*}}[%c0{{.*}}] : memref<1xbf16>
// CHECK: arith.extf
func.func @weight_scalar(%w: memref<?xi8> {gemma4.arg = "weights"}, %x: memref<1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %sv = memref.view %w[%c0][] : memref<?xi8> to memref<1xbf16>
  %s = memref.load %sv[%c0] : memref<1xbf16>
  %f = arith.extf %s : bf16 to f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%c0, %i] : memref<1x64xf32>
    %m = arith.mulf %v, %f : f32
    memref.store %m, %x[%c0, %i] : memref<1x64xf32>
    scf.reduce
  }
  return
}


// -----

// A serial loop whose iterations touch disjoint elements (a decode step's
// vector activation pass) runs as a parallel loop: an iteration per thread.
// CHECK-LABEL: func.func @independent_loop
// CHECK: %[[N:.*]] = arith.ceildivui %{{.*}}, %c256
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[N]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256
// CHECK-NOT: scf.for
// CHECK: math.tanh {{.*}} : vector<16xf32>
// CHECK: vector.store
// CHECK: gpu.terminator
func.func @independent_loop(%g: memref<1x2048xf32>, %u: memref<1x2048xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  scf.for %i = %c0 to %c128 step %c1 {
    %k = arith.muli %i, %c16 : index
    %x = vector.load %g[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
    %y = vector.load %u[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
    %t = math.tanh %x : vector<16xf32>
    %p = arith.mulf %t, %y : vector<16xf32>
    vector.store %p, %g[%c0, %k] : memref<1x2048xf32>, vector<16xf32>
  }
  return
}

// -----

// In a run of device ops, such a loop (a copy) is shared by the run's
// lanes, with a barrier before the reduction that reads what other lanes
// wrote; a loop reading what an earlier iteration wrote stays serial.
// CHECK-LABEL: func.func @independent_in_run
// CHECK: gpu.launch
// CHECK: arith.remui %{{.*}}, %c32
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64{{.*}} step %
// CHECK: memref.store
// CHECK: gpu.barrier
// CHECK: gpu.subgroup_reduce
// CHECK: scf.for %{{.*}} = %c1{{.*}} to %c64{{.*}} step %c1
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @independent_in_run(%a: memref<64xf32>, %b: memref<64xf32>, %s: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %z = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<64xf32>
  }
  %sum = scf.for %i = %c0 to %c64 step %c1 iter_args(%acc = %z) -> (f32) {
    %v = memref.load %b[%i] : memref<64xf32>
    %n = arith.addf %acc, %v : f32
    scf.yield %n : f32
  } {gemma4.lanes = "reduce"}
  memref.store %sum, %s[%c0] : memref<1xf32>
  scf.for %i = %c1 to %c64 step %c1 {
    %im1 = arith.subi %i, %c1 : index
    %v = memref.load %a[%im1] : memref<64xf32>
    memref.store %v, %a[%i] : memref<64xf32>
  }
  return
}

// -----

// A max the lanes share (the decode attention's chunk max): every lane
// starts from the init (no lane-0 select), a subgroup max combines them.
// CHECK-LABEL: func.func @lane_max
// CHECK: gpu.launch
// CHECK: %[[INIT:.*]] = arith.constant -1.000000e+30 : f32
// CHECK: %[[M:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32)
// CHECK: arith.maximumf %[[ACC]]
// CHECK: gpu.subgroup_reduce maximumf %[[M]] uniform
func.func @lane_max(%x: memref<8x64xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %init = arith.constant -1.0e30 : f32
  scf.parallel (%r) = (%c0) to (%c8) step (%c1) {
    %m = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (f32) {
      %v = memref.load %x[%r, %k] : memref<8x64xf32>
      %n = arith.maximumf %acc, %v : f32
      scf.yield %n : f32
    } {gemma4.lanes = "reduce"}
    memref.store %m, %y[%r] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A block-tiled product (gemma4.block_threads): a block per tile, the last
// dimension the block's 64 threads, the workgroup allocas the launch's
// workgroup buffers, the barriers inside the K loop kept.
// CHECK-LABEL: func.func @block_tiles
// CHECK-NOT: scf.parallel
// CHECK: arith.ceildivui %{{.*}}, %{{.*}}
// CHECK: arith.ceildivui %{{.*}}, %{{.*}}
// CHECK-NEXT: %[[TILES:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %c1_{{.*}} = arith.constant 1
// CHECK-NEXT: %[[C64:.*]] = arith.constant 64
// CHECK-NEXT: gpu.launch blocks(%{{[^,]*}}, %{{[^,]*}}, %{{[^)]*}}) in (%{{[^ ]*}} = %[[TILES]], {{.*}}) threads(%[[TX:[^,]*]], %{{[^,]*}}, %{{[^)]*}}) in (%{{[^ ]*}} = %[[C64]]
// CHECK-SAME: workgroup(%[[XS:.*]] : memref<16x36xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: memref.alloca
// CHECK: scf.for
// CHECK: vector.store %{{.*}}, %[[XS]][%[[TX]], %{{.*}}]
// CHECK: gpu.barrier
// CHECK: vector.load %[[XS]]
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: gpu.terminator
func.func @block_tiles(%x: memref<?x64xf32>, %y: memref<?x4xf32>, %tiles: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%r, %t, %tid) = (%c0, %c0, %c0) to (%c4, %tiles, %c64) step (%c1, %c1, %c1) {
    %xs = memref.alloca() : memref<16x36xf32, #gpu.address_space<workgroup>>
    %s = scf.for %k0 = %c0 to %c64 step %c32 iter_args(%a = %z) -> (f32) {
      %v = vector.load %x[%t, %k0] : memref<?x64xf32>, vector<4xf32>
      vector.store %v, %xs[%tid, %c0] : memref<16x36xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      gpu.barrier
      %w = vector.load %xs[%c0, %c0] : memref<16x36xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %e = vector.extract %w[0] : f32 from vector<4xf32>
      %n = arith.addf %a, %e : f32
      gpu.barrier
      scf.yield %n : f32
    }
    memref.store %s, %y[%t, %r] : memref<?x4xf32>
    scf.reduce
  } {gemma4.block_threads = 64 : i64}
  return
}
